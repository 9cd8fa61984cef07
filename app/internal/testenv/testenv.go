//go:build integration

// Package testenv gives integration tests the servers started by
// scripts/app-services.sh. A missing variable fails the test (never skips
// it): run the tests through scripts/app-integration-test.sh.
package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/scalestack/scalestack/app/internal/postgres"
	"github.com/scalestack/scalestack/app/internal/rediscache"
)

// Env is what scripts/app-services.sh env prints.
type Env struct {
	WriterURL       string
	ReaderURLs      []string
	Password        string
	AdminPrimaryURL string
	AdminReplicaURL string
	RedisURL        string
	RedisToken      string
	Script          string
	HAProxy         string
}

// Load reads the TEST_* variables and fails the test if any is missing.
func Load(t testing.TB) Env {
	t.Helper()
	var missing []string
	get := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			missing = append(missing, k)
		}
		return v
	}
	e := Env{
		WriterURL:       get("TEST_DATABASE_WRITER_URL"),
		ReaderURLs:      strings.Split(get("TEST_DATABASE_READER_URLS"), ","),
		Password:        get("TEST_DATABASE_PASSWORD"),
		AdminPrimaryURL: get("TEST_DATABASE_ADMIN_PRIMARY_URL"),
		AdminReplicaURL: get("TEST_DATABASE_ADMIN_REPLICA_URL"),
		RedisURL:        get("TEST_REDIS_URL"),
		RedisToken:      get("TEST_REDIS_AUTH_TOKEN"),
		Script:          get("TEST_SERVICES_SCRIPT"),
		HAProxy:         get("TEST_HAPROXY_BIN"),
	}
	if len(missing) > 0 {
		t.Fatalf("integration test environment missing %v: run scripts/app-integration-test.sh (or eval \"$(scripts/app-services.sh env)\" after start)", missing)
	}
	migrateOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		migrateErr = postgres.Migrate(ctx, e.WriterURL, e.Password, Logger())
	})
	if migrateErr != nil {
		t.Fatalf("migrate: %v", migrateErr)
	}
	return e
}

var (
	migrateOnce sync.Once
	migrateErr  error
)

// Logger discards logs unless TEST_LOG=1.
func Logger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("TEST_LOG") == "1" {
		w = os.Stderr
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Options are DB options fit for tests: a short lag bound and fast checks.
func (e Env) Options() postgres.Options {
	return postgres.Options{
		WriterURL: e.WriterURL, ReaderURLs: e.ReaderURLs, Password: e.Password,
		MaxConns: 20, QueryTimeout: 5 * time.Second,
		MaxLag: time.Second, CheckInterval: 100 * time.Millisecond,
	}
}

// OpenDB opens the pools with the health checks running until the test ends.
func (e Env) OpenDB(t testing.TB, o postgres.Options, reg *prometheus.Registry) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := postgres.Open(ctx, o, Logger(), reg)
	if err != nil {
		cancel()
		t.Fatalf("open database: %v", err)
	}
	go db.Run(ctx)
	t.Cleanup(func() { cancel(); db.Close() })
	return db
}

// Redis returns a client of the test Redis.
func (e Env) Redis(t testing.TB) *redis.Client {
	t.Helper()
	c, err := rediscache.NewClient(e.RedisURL, e.RedisToken, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Services runs scripts/app-services.sh with cmd (stop-replica, start-redis, ...).
func (e Env) Services(t testing.TB, cmd string) {
	t.Helper()
	out, err := exec.Command("bash", e.Script, cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("app-services.sh %s: %v\n%s", cmd, err, out)
	}
}

// Admin runs SQL as the superuser on the server of url.
func Admin(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// PauseReplay pauses WAL replay on the replica until the test ends.
func (e Env) PauseReplay(t testing.TB) {
	t.Helper()
	Admin(t, e.AdminReplicaURL, "SELECT pg_wal_replay_pause()")
	t.Cleanup(func() { Admin(t, e.AdminReplicaURL, "SELECT pg_wal_replay_resume()") })
}

// Counter returns the value of a counter in reg with the given labels (0 if absent).
func Counter(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	return metric(t, reg, name, labels).GetCounter().GetValue()
}

// Gauge returns the value of a gauge in reg with the given labels (0 if absent).
func Gauge(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	return metric(t, reg, name, labels).GetGauge().GetValue()
}

// metric finds a metric by name and labels; nil (whose getters return zero) if absent.
func metric(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matches(m, labels) {
				return m
			}
		}
	}
	return nil
}

func matches(m *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := labels[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}

// Eventually polls cond every 50ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var seq atomic.Int64

// Unique returns a name unique to this run, for emails and keys.
func Unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), seq.Add(1))
}
