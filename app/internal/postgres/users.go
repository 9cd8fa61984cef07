package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// Users stores accounts.
type Users struct{ db *DB }

// Users returns the user store.
func (db *DB) Users() *Users { return &Users{db} }

// CreateUser inserts a user; an email already taken is shop.ErrConflict.
func (s *Users) CreateUser(ctx context.Context, u shop.User) (shop.User, consistency.LSN, error) {
	lsn, err := s.db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx,
			`INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING id, created_at`,
			u.Email, u.PasswordHash, string(u.Role)).Scan(&u.ID, &u.CreatedAt)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return shop.User{}, 0, shop.Errorf(shop.ErrConflict, "email is already registered")
	}
	return u, lsn, err
}

// UserByEmail reads from the primary: a login right after registering must
// find the account whatever the replicas' lag.
func (s *Users) UserByEmail(ctx context.Context, email string) (shop.User, error) {
	ctx, cancel := context.WithTimeout(ctx, s.db.queryTimeout)
	defer cancel()
	var u shop.User
	var role string
	err := s.db.writer.QueryRow(ctx,
		`SELECT id, email, password_hash, role, created_at FROM users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &role, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return shop.User{}, shop.Errorf(shop.ErrNotFound, "no such user")
	}
	u.Role = shop.Role(role)
	return u, err
}
