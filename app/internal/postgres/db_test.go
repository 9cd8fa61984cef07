package postgres

import (
	"errors"
	"github.com/scalestack/scalestack/app/internal/consistency"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scalestack/scalestack/app/internal/shop"
)

func TestLagOf(t *testing.T) {
	t0 := time.Unix(1000, 0)
	samples := []lsnSample{{t0, 100}, {t0.Add(time.Second), 200}, {t0.Add(2 * time.Second), 300}}
	now := t0.Add(3 * time.Second)
	tests := []struct {
		replay consistency.LSN
		want   time.Duration
	}{
		{300, 0},
		{400, 0},
		{250, time.Second},     // has not replayed what the primary wrote 1s ago
		{150, 2 * time.Second}, // nor what it wrote 2s ago
		{50, 3 * time.Second},  // nor the oldest sample
	}
	for _, tt := range tests {
		if got := lagOf(samples, tt.replay, now); got != tt.want {
			t.Errorf("lagOf(replay %d) = %s, want %s", tt.replay, got, tt.want)
		}
	}
}

func TestReplicaFault(t *testing.T) {
	tests := []struct {
		name string
		give error
		want bool
	}{
		{"no rows", pgx.ErrNoRows, false},
		{"domain", shop.Errorf(shop.ErrNotFound, "x"), false},
		{"syntax", &pgconn.PgError{Code: "42601"}, false},
		{"shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"recovery conflict", &pgconn.PgError{Code: "40001"}, true},
		{"network", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), true},
	}
	for _, tt := range tests {
		if got := replicaFault(tt.give); got != tt.want {
			t.Errorf("%s: replicaFault = %v, want %v", tt.name, got, tt.want)
		}
	}
}
