// Package postgres is the PostgreSQL adapter: a writer pool for the primary,
// one pool per read replica, read routing with read-your-writes, the stores of
// users, products and orders, and the embedded migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// Options configures Open.
type Options struct {
	WriterURL     string
	ReaderURLs    []string
	Password      string // set on every pool; the URLs carry none
	MaxConns      int
	QueryTimeout  time.Duration // deadline of one store call
	MaxLag        time.Duration // a replica further behind is skipped
	CheckInterval time.Duration // how often replicas are checked
}

// querier is what both a pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// DB routes statements: writes and transactions to the primary, reads
// round-robin to healthy replicas that have replayed the caller's consistency
// token, else to the primary.
type DB struct {
	writer       *pgxpool.Pool
	replicas     []*replica
	next         atomic.Uint64
	queryTimeout time.Duration
	maxLag       time.Duration
	interval     time.Duration
	log          *slog.Logger
	reads        *prometheus.CounterVec

	mu      sync.Mutex
	samples []lsnSample // recent primary WAL positions, oldest first
}

type replica struct {
	name    string // host:port, for logs and metrics
	pool    *pgxpool.Pool
	healthy atomic.Bool
	replay  atomic.Uint64 // last seen replay LSN
	healthG prometheus.Gauge
	lagG    prometheus.Gauge
}

// Open creates the pools (pgx connects lazily), pings the primary and checks
// the replicas once. A replica that is down is skipped, not fatal.
func Open(ctx context.Context, o Options, log *slog.Logger, reg prometheus.Registerer) (*DB, error) {
	db := &DB{
		queryTimeout: o.QueryTimeout,
		maxLag:       o.MaxLag,
		interval:     o.CheckInterval,
		log:          log,
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "db_reads_total",
			Help: "Read queries by the server that answered them (primary or replica).",
		}, []string{"target"}),
	}
	var err error
	if db.writer, err = newPool(ctx, o.WriterURL, o.Password, o.MaxConns); err != nil {
		return nil, fmt.Errorf("DATABASE_WRITER_URL: %w", err)
	}
	health := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "db_replica_healthy", Help: "1 while the replica receives reads.",
	}, []string{"replica"})
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "db_replica_lag_seconds", Help: "Age of the oldest primary WAL position the replica has not replayed.",
	}, []string{"replica"})
	collector := &poolCollector{pools: map[string]*pgxpool.Pool{"primary": db.writer}}
	for i, u := range o.ReaderURLs {
		p, err := newPool(ctx, u, o.Password, o.MaxConns)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("DATABASE_READER_URLS[%d]: %w", i, err)
		}
		name := fmt.Sprintf("replica-%d", i+1)
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			name = pu.Host
		}
		db.replicas = append(db.replicas, &replica{name: name, pool: p,
			healthG: health.WithLabelValues(name), lagG: lag.WithLabelValues(name)})
		collector.pools[name] = p
	}
	for _, c := range []prometheus.Collector{db.reads, health, lag, collector} {
		if err := reg.Register(c); err != nil {
			db.Close()
			return nil, err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.writer.Ping(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("ping primary: %w", err)
	}
	db.checkReplicas(ctx)
	return db, nil
}

func newPool(ctx context.Context, rawURL, password string, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, err
	}
	if password != "" {
		cfg.ConnConfig.Password = password
	}
	cfg.MaxConns = int32(maxConns)
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 3*time.Second {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	cfg.HealthCheckPeriod = 15 * time.Second
	return pgxpool.NewWithConfig(ctx, cfg)
}

// Close closes every pool.
func (db *DB) Close() {
	if db.writer != nil {
		db.writer.Close()
	}
	for _, r := range db.replicas {
		r.pool.Close()
	}
}

// Ping checks the primary; readiness depends on it.
func (db *DB) Ping(ctx context.Context) error { return db.writer.Ping(ctx) }

// read runs fn against a replica chosen by pickReplica, or the primary. A
// replica that fails with a connection-level error is taken out of rotation
// and the read is retried once on the primary, so a replica outage costs no
// failed request.
func (db *DB) read(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	ctx, cancel := context.WithTimeout(ctx, db.queryTimeout)
	defer cancel()
	if r := db.pickReplica(ctx); r != nil {
		err := fn(ctx, r.pool)
		if err == nil || !replicaFault(err) || ctx.Err() != nil {
			db.reads.WithLabelValues("replica").Inc()
			return err
		}
		if r.healthy.Swap(false) {
			r.healthG.Set(0)
			db.log.Warn("replica out of rotation", "replica", r.name, "reason", err.Error())
		}
	}
	db.reads.WithLabelValues("primary").Inc()
	return fn(ctx, db.writer)
}

// replicaFault tells errors of the server or the connection (worth retrying on
// the primary) from answers (no rows, constraint, domain errors).
func replicaFault(err error) bool {
	if errors.Is(err, pgx.ErrNoRows) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "57", "40", "53", "58": // connection, shutdown, recovery conflict, resources, system
			return true
		}
		return false
	}
	var domain *shop.Error
	return !errors.As(err, &domain)
}

// write runs fn in a transaction on the primary and returns the WAL position
// after the commit: the consistency token of this write.
func (db *DB) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) (consistency.LSN, error) {
	ctx, cancel := context.WithTimeout(ctx, db.queryTimeout)
	defer cancel()
	conn, err := db.writer.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return fn(ctx, tx) }); err != nil {
		return 0, err
	}
	// The transaction has committed: reading its token must not fail because the request's deadline ran out
	// in the meantime, or the caller would report a write that happened as failed (and skip its invalidation).
	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), db.queryTimeout)
	defer lcancel()
	var lsn consistency.LSN
	if err := scanLSN(conn.QueryRow(lctx, "SELECT pg_current_wal_lsn()::text"), &lsn); err != nil {
		return 0, fmt.Errorf("commit LSN: %w", err)
	}
	return lsn, nil
}

func scanLSN(row pgx.Row, dst *consistency.LSN) error {
	var s string
	if err := row.Scan(&s); err != nil {
		return err
	}
	l, err := consistency.ParseLSN(s)
	if err != nil {
		return err
	}
	*dst = l
	return nil
}
