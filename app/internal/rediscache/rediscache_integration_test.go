//go:build integration

package rediscache_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/scalestack/scalestack/app/internal/postgres"
	"github.com/scalestack/scalestack/app/internal/rediscache"
	"github.com/scalestack/scalestack/app/internal/shop"
	"github.com/scalestack/scalestack/app/internal/testenv"
)

// counting wraps the PostgreSQL store and counts product loads. With gate
// set, a load reads the row, then waits for the gate before returning.
type counting struct {
	rediscache.ProductStore
	loads atomic.Int64
	delay time.Duration
	gate  chan struct{}
}

func (c *counting) Product(ctx context.Context, id int64) (shop.Product, error) {
	c.loads.Add(1)
	p, err := c.ProductStore.Product(ctx, id)
	time.Sleep(c.delay)
	if c.gate != nil {
		<-c.gate
	}
	return p, err
}

type fixture struct {
	env   testenv.Env
	db    *postgres.DB
	rdb   *redis.Client
	store *counting
	cache *rediscache.Products
	reg   *prometheus.Registry
	t     testing.TB
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	env := testenv.Load(t)
	reg := prometheus.NewRegistry()
	db := env.OpenDB(t, env.Options(), reg)
	f := &fixture{env: env, db: db, rdb: env.Redis(t), reg: reg, store: &counting{ProductStore: db.Products()}, t: t}
	var err error
	f.cache, err = rediscache.NewProducts(f.store, f.rdb, rediscache.ProductOptions{
		TTL: time.Minute, Jitter: 0.1, NegativeTTL: 5 * time.Second, Timeout: 200 * time.Millisecond,
		FreshnessWindow: 3 * time.Second, FallbackConcurrency: 4,
	}, testenv.Logger(), reg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// coldProduct inserts a product behind the cache's back: its key was never cached.
func (f *fixture) coldProduct(t testing.TB, name string) shop.Product {
	t.Helper()
	p, _, err := f.db.Products().CreateProduct(context.Background(), shop.ProductInput{Name: name, PriceCents: 100, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) ops(result string) float64 {
	return testenv.Counter(f.t, f.reg, "cache_operations_total", map[string]string{"cache": "product", "result": result})
}

func TestStampedeOneLoad(t *testing.T) {
	f := newFixture(t)
	f.store.delay = 50 * time.Millisecond // a slow query widens the stampede window
	p := f.coldProduct(t, "stampede")

	const n = 100
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, err := f.cache.Product(context.Background(), p.ID)
			if err == nil && got.Name != "stampede" {
				err = errors.New("wrong product " + got.Name)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.store.loads.Load(); got != 1 {
		t.Errorf("%d concurrent misses on one cold key made %d database loads, want 1", n, got)
	}
	// Warm now: more reads are hits.
	for range 10 {
		if _, err := f.cache.Product(context.Background(), p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.store.loads.Load(); got != 1 {
		t.Errorf("warm reads made %d loads in all, want 1", got)
	}
}

func TestEarlyRefreshBeforeExpiry(t *testing.T) {
	env := testenv.Load(t)
	reg := prometheus.NewRegistry()
	db := env.OpenDB(t, env.Options(), reg)
	store := &counting{ProductStore: db.Products(), delay: 100 * time.Millisecond} // slow loads refresh earlier
	cache, err := rediscache.NewProducts(store, env.Redis(t), rediscache.ProductOptions{
		TTL: time.Second, NegativeTTL: time.Second, Timeout: 200 * time.Millisecond,
		FreshnessWindow: 3 * time.Second, FallbackConcurrency: 4,
	}, testenv.Logger(), reg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, reg: reg, t: t}
	p := f.coldProduct(t, "xfetch")
	ctx := context.Background()
	deadline := time.Now().Add(3 * time.Second)
	for f.ops("early_refresh") == 0 && time.Now().Before(deadline) {
		if _, err := cache.Product(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if f.ops("early_refresh") == 0 {
		t.Fatal("no early refresh within 3s of a 1s TTL")
	}
	testenv.Eventually(t, 2*time.Second, "the background refresh to load", func() bool { return store.loads.Load() == 2 })
	// The refresh replaced the entry before it expired: readers never missed again.
	if got := f.ops("miss"); got != 1 {
		t.Errorf("misses = %v, want only the first cold read", got)
	}
}

func TestNegativeCachingAndInvalidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const missing = 1 << 40
	for range 5 {
		if _, err := f.cache.Product(ctx, missing); !errors.Is(err, shop.ErrNotFound) {
			t.Fatalf("missing product: %v", err)
		}
	}
	if got := f.store.loads.Load(); got != 1 {
		t.Errorf("5 reads of a missing product made %d loads, want 1 (negative caching)", got)
	}

	p, _, err := f.cache.CreateProduct(ctx, shop.ProductInput{Name: "v1", PriceCents: 1, Stock: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := f.cache.Product(ctx, p.ID); err != nil || got.Name != "v1" {
		t.Fatalf("read after create: %+v, %v", got, err)
	}
	if _, _, err := f.cache.UpdateProduct(ctx, p.ID, shop.ProductInput{Name: "v2", PriceCents: 1, Stock: 1}); err != nil {
		t.Fatal(err)
	}
	// The next read must see v2 at once, although it may be served by a
	// replica: the invalidation marker carries the commit LSN.
	if got, err := f.cache.Product(ctx, p.ID); err != nil || got.Name != "v2" || got.Version != 2 {
		t.Errorf("read after update: %+v, %v; want v2", got, err)
	}
}

func TestFillThatRacedAnInvalidationIsDropped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.coldProduct(t, "old")
	f.store.gate = make(chan struct{})

	done := make(chan shop.Product)
	go func() {
		got, _ := f.cache.Product(ctx, p.ID) // reads "old", then waits at the gate
		done <- got
	}()
	testenv.Eventually(t, 5*time.Second, "the load to start", func() bool { return f.store.loads.Load() == 1 })
	// The write commits and invalidates while the stale load is in flight.
	_, lsn, err := f.db.Products().UpdateProduct(ctx, p.ID, shop.ProductInput{Name: "new", Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	f.cache.Invalidate(ctx, lsn, p.ID)
	close(f.store.gate)
	if got := <-done; got.Name != "old" {
		t.Fatalf("the racing load returned %q; the test needs it to have read the old row", got.Name)
	}
	if f.ops("fill_skipped") != 1 {
		t.Errorf("fill_skipped = %v, want 1", f.ops("fill_skipped"))
	}
	f.store.gate = nil
	if got, err := f.cache.Product(ctx, p.ID); err != nil || got.Name != "new" {
		t.Errorf("read after the race: %+v, %v; want the new row, not a stale cached one", got, err)
	}
}

func TestCarts(t *testing.T) {
	env := testenv.Load(t)
	rdb := env.Redis(t)
	carts := rediscache.NewCarts(rdb, time.Hour, 200*time.Millisecond)
	ctx := context.Background()
	user := time.Now().UnixNano()
	if items, err := carts.Cart(ctx, user); err != nil || len(items) != 0 {
		t.Fatalf("empty cart: %v, %v", items, err)
	}
	if _, err := carts.SetItem(ctx, user, 20, 1); err != nil {
		t.Fatal(err)
	}
	items, err := carts.SetItem(ctx, user, 3, 2)
	if err != nil || len(items) != 2 || items[0] != (shop.CartItem{ProductID: 3, Quantity: 2}) {
		t.Fatalf("cart: %v, %v", items, err)
	}
	if ttl := rdb.PTTL(ctx, "cart:{"+itoa(user)+"}").Val(); ttl <= 59*time.Minute {
		t.Errorf("cart TTL %s, want about 1h", ttl)
	}
	if items, err := carts.RemoveItem(ctx, user, 20); err != nil || len(items) != 1 {
		t.Errorf("after remove: %v, %v", items, err)
	}
	for i := int64(100); i < 100+rediscache.MaxCartLines-1; i++ {
		if _, err := carts.SetItem(ctx, user, i, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := carts.SetItem(ctx, user, 5000, 1); !errors.Is(err, shop.ErrInvalid) {
		t.Errorf("line %d: %v, want ErrInvalid", rediscache.MaxCartLines+1, err)
	}
	if _, err := carts.SetItem(ctx, user, 3, 7); err != nil {
		t.Errorf("changing an existing line of a full cart: %v", err)
	}
}

// TestSlowRedisFallsThrough freezes Redis (CLIENT PAUSE) for longer than the
// cache's timeout: reads must come from the database, quickly.
func TestSlowRedisFallsThrough(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	warm := f.coldProduct(t, "slow-warm")
	if _, err := f.cache.Product(ctx, warm.ID); err != nil {
		t.Fatal(err)
	}
	admin := f.env.Redis(t)
	if err := admin.Do(ctx, "CLIENT", "PAUSE", 1500, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	pausedUntil := time.Now().Add(1500 * time.Millisecond)
	for i := 0; time.Now().Add(300 * time.Millisecond).Before(pausedUntil); i++ {
		start := time.Now()
		got, err := f.cache.Product(ctx, warm.ID)
		if err != nil || got.ID != warm.ID {
			t.Fatalf("read %d with Redis paused: %+v, %v", i, got, err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("read %d took %s with Redis paused; want the 200ms timeout, then the database", i, d)
		}
	}
	if f.ops("fallback") == 0 || f.ops("error") == 0 {
		t.Errorf("fallback %v, error %v; want both counted", f.ops("fallback"), f.ops("error"))
	}
	time.Sleep(time.Until(pausedUntil))
}

// TestZRedisDownFallsThrough stops Redis (last in this package; restarted after).
func TestZRedisDownFallsThrough(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	warm := f.coldProduct(t, "warm")
	if _, err := f.cache.Product(ctx, warm.ID); err != nil {
		t.Fatal(err)
	}
	cold := f.coldProduct(t, "cold")

	f.env.Services(t, "stop-redis")
	t.Cleanup(func() { f.env.Services(t, "start-redis") })
	for i := range 20 {
		for _, p := range []shop.Product{warm, cold} {
			start := time.Now()
			got, err := f.cache.Product(ctx, p.ID)
			if err != nil || got.ID != p.ID {
				t.Fatalf("read %d of %s with Redis down: %+v, %v", i, p.Name, got, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("read took %s with Redis down", d)
			}
		}
	}
	if f.ops("fallback") < 40 {
		t.Errorf("fallback reads = %v, want 40", f.ops("fallback"))
	}
	carts := rediscache.NewCarts(f.rdb, time.Hour, 200*time.Millisecond)
	if _, err := carts.Cart(ctx, 1); !errors.Is(err, shop.ErrUnavailable) {
		t.Errorf("cart with Redis down: %v, want ErrUnavailable", err)
	}

	f.env.Services(t, "start-redis")
	testenv.Eventually(t, 10*time.Second, "reads to use Redis again", func() bool {
		before := f.ops("hit") + f.ops("miss")
		_, err := f.cache.Product(ctx, warm.ID)
		return err == nil && f.ops("hit")+f.ops("miss") > before
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
