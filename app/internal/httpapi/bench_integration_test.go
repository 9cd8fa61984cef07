//go:build integration

package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/httpapi"
	"github.com/scalestack/scalestack/app/internal/rediscache"
	"github.com/scalestack/scalestack/app/internal/shop"
	"github.com/scalestack/scalestack/app/internal/testenv"
)

// cachedPath builds the production read path: handler → Redis cache-aside
// decorator → PostgreSQL store, with the product already cached.
func cachedPath(b *testing.B) (*httpapi.Server, *rediscache.Products, int64) {
	env := testenv.Load(b)
	reg := prometheus.NewRegistry()
	db := env.OpenDB(b, env.Options(), reg)
	p, lsn, err := db.Products().CreateProduct(context.Background(), shop.ProductInput{Name: "bench", Description: "a product of average size for the benchmark", PriceCents: 1999, Stock: 100})
	if err != nil {
		b.Fatal(err)
	}
	cache, err := rediscache.NewProducts(db.Products(), env.Redis(b), rediscache.ProductOptions{
		TTL: time.Hour, NegativeTTL: time.Second, Timeout: 200 * time.Millisecond,
		FreshnessWindow: 3 * time.Second, FallbackConcurrency: 4,
	}, slog.New(slog.NewJSONHandler(io.Discard, nil)), reg)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Deps{
		InstanceID: "bench", Products: cache, MaxInFlight: 1000, MaxBodyBytes: 1 << 20, RequestTimeout: 5 * time.Second,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Registerer: reg, Gatherer: reg,
	})
	if err != nil {
		b.Fatal(err)
	}
	// Warm the cache with the write's consistency token, so the fill cannot hit a replica that has not yet
	// replayed the new product (or, on fresh servers, the migrations).
	if _, err := cache.Product(consistency.WithMinLSN(context.Background(), lsn), p.ID); err != nil {
		b.Fatal(err)
	}
	return srv, cache, p.ID
}

// BenchmarkCachedProductRead is GET /v1/products/{id} served from Redis.
func BenchmarkCachedProductRead(b *testing.B) {
	srv, _, id := cachedPath(b)
	req := httptest.NewRequest("GET", "/v1/products/"+strconv.FormatInt(id, 10), nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkCachedProductReadParallel is the same from GOMAXPROCS goroutines.
func BenchmarkCachedProductReadParallel(b *testing.B) {
	srv, _, id := cachedPath(b)
	target := "/v1/products/" + strconv.FormatInt(id, 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", target, nil)
		for pb.Next() {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
}

// BenchmarkCacheHit is the decorator alone (one Redis MGET and a decode).
func BenchmarkCacheHit(b *testing.B) {
	_, cache, id := cachedPath(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cache.Product(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
