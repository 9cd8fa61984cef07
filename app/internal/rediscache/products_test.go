package rediscache

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

func TestMarkerLSN(t *testing.T) {
	tests := []struct {
		give string
		want consistency.LSN
	}{
		{"", 0},
		{"garbage", 0},
		{"12345 ab12", 12345},
		{"12345", 12345},
	}
	for _, tt := range tests {
		if got := markerLSN(tt.give); got != tt.want {
			t.Errorf("markerLSN(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestJitterStaysInRange(t *testing.T) {
	for range 1000 {
		got := jitter(100*time.Second, 0.1)
		if got < 90*time.Second || got > 100*time.Second {
			t.Fatalf("jitter = %s, want within [90s, 100s]", got)
		}
	}
	if got := jitter(time.Minute, 0); got != time.Minute {
		t.Errorf("jitter without spread = %s", got)
	}
}

func TestEarlyRefresh(t *testing.T) {
	now := time.Now()
	far := entry{DeltaMS: 5, Expiry: now.Add(time.Hour).UnixMilli()}
	due := entry{DeltaMS: 5, Expiry: now.Add(-time.Millisecond).UnixMilli()}
	var farHits, dueHits int
	for range 1000 {
		if earlyRefresh(far, now) {
			farHits++
		}
		if earlyRefresh(due, now) {
			dueHits++
		}
	}
	if farHits != 0 {
		t.Errorf("an entry an hour from expiry was refreshed %d times out of 1000", farHits)
	}
	if dueHits != 1000 {
		t.Errorf("an expired entry was refreshed %d times out of 1000, want all", dueHits)
	}
}

// TestFillErrorCountedOnce: a failing fill trips the breaker, which counts the
// error; load must not count it a second time.
func TestFillErrorCountedOnce(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	c, err := NewProducts(oneProduct{}, rdb, ProductOptions{TTL: time.Minute, NegativeTTL: time.Second, Timeout: 100 * time.Millisecond,
		FreshnessWindow: time.Second, FallbackConcurrency: 1}, slog.New(slog.NewJSONHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.load(context.Background(), 1, "", false); err != nil {
		t.Fatalf("load: %v (a failed fill is not the caller's error)", err)
	}
	var m dto.Metric
	if err := c.ops.WithLabelValues("product", "error").Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 1 {
		t.Errorf("cache_operations_total{result=error} = %v after one failed fill, want 1", got)
	}
}

// oneProduct is a store that holds product 1.
type oneProduct struct{ ProductStore }

func (oneProduct) Product(_ context.Context, id int64) (shop.Product, error) {
	return shop.Product{ID: id, Name: "one", Version: 1}, nil
}
