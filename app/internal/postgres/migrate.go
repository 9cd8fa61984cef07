package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the embedded migrations to the primary with goose. A
// PostgreSQL session-level advisory lock serializes concurrent runs, so every
// instance may run it at boot: the first applies, the others find nothing to do.
func Migrate(ctx context.Context, writerURL, password string, log *slog.Logger) error {
	cc, err := pgx.ParseConfig(writerURL)
	if err != nil {
		return fmt.Errorf("migrate: DATABASE_WRITER_URL: %w", err)
	}
	if password != "" {
		cc.Password = password
	}
	// As for the pools: an unreachable primary fails the dial in seconds,
	// not after the kernel's TCP timeout.
	if cc.ConnectTimeout == 0 || cc.ConnectTimeout > 10*time.Second {
		cc.ConnectTimeout = 10 * time.Second
	}
	db := stdlib.OpenDB(*cc)
	defer db.Close()

	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// Retry the lock every second for up to 5 minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	log.Info("database schema up to date", "version", v, "applied_now", len(results))
	return nil
}
