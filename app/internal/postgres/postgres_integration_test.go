//go:build integration

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/postgres"
	"github.com/scalestack/scalestack/app/internal/shop"
	"github.com/scalestack/scalestack/app/internal/testenv"
)

var (
	replicaReads = map[string]string{"target": "replica"}
	primaryReads = map[string]string{"target": "primary"}
)

func newProduct(t *testing.T, db *postgres.DB, name string, stock int64) (shop.Product, consistency.LSN) {
	t.Helper()
	p, lsn, err := db.Products().CreateProduct(context.Background(), shop.ProductInput{Name: name, PriceCents: 250, Stock: stock})
	if err != nil {
		t.Fatal(err)
	}
	return p, lsn
}

// caughtUp waits until a read carrying lsn is served by the replica.
func caughtUp(t *testing.T, db *postgres.DB, reg *prometheus.Registry, id int64, lsn consistency.LSN) {
	t.Helper()
	testenv.Eventually(t, 10*time.Second, "the replica to replay the write", func() bool {
		before := testenv.Counter(t, reg, "db_reads_total", replicaReads)
		_, err := db.Products().Product(consistency.WithMinLSN(context.Background(), lsn), id)
		return err == nil && testenv.Counter(t, reg, "db_reads_total", replicaReads) == before+1
	})
}

func TestMigrateConcurrently(t *testing.T) {
	env := testenv.Load(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = postgres.Migrate(context.Background(), env.WriterURL, env.Password, testenv.Logger())
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestReadsServedByReplica(t *testing.T) {
	env := testenv.Load(t)
	reg := prometheus.NewRegistry()
	db := env.OpenDB(t, env.Options(), reg)
	p, lsn := newProduct(t, db, "replica-read", 5)
	caughtUp(t, db, reg, p.ID, lsn)

	beforeReplica := testenv.Counter(t, reg, "db_reads_total", replicaReads)
	beforePrimary := testenv.Counter(t, reg, "db_reads_total", primaryReads)
	for range 20 {
		got, err := db.Products().Product(context.Background(), p.ID)
		if err != nil || got.Name != "replica-read" {
			t.Fatalf("read: %+v, %v", got, err)
		}
	}
	if _, err := db.Products().Products(context.Background(), 0, 10); err != nil {
		t.Fatal(err)
	}
	if got := testenv.Counter(t, reg, "db_reads_total", replicaReads) - beforeReplica; got != 21 {
		t.Errorf("replica served %v of 21 reads", got)
	}
	if got := testenv.Counter(t, reg, "db_reads_total", primaryReads) - beforePrimary; got != 0 {
		t.Errorf("primary served %v reads, want 0", got)
	}
}

func TestReadYourWritesWithReplayPaused(t *testing.T) {
	env := testenv.Load(t)
	reg := prometheus.NewRegistry()
	o := env.Options()
	o.MaxLag = time.Minute // keep the paused replica in rotation: the token alone must route
	db := env.OpenDB(t, o, reg)
	p, lsn := newProduct(t, db, "before", 5)
	caughtUp(t, db, reg, p.ID, lsn)

	env.PauseReplay(t)
	updated, lsn, err := db.Products().UpdateProduct(context.Background(), p.ID, shop.ProductInput{Name: "after", PriceCents: 300, Stock: 5})
	if err != nil || updated.Name != "after" || lsn == 0 {
		t.Fatalf("update: %+v, %v, lsn %v", updated, err, lsn)
	}

	// Without the token the read goes to the paused replica and is stale:
	// this shows the replica really lags, so the next check means something.
	stale, err := db.Products().Product(context.Background(), p.ID)
	if err != nil || stale.Name != "before" {
		t.Fatalf("read without token: %+v, %v; want the replica's stale copy", stale, err)
	}
	beforePrimary := testenv.Counter(t, reg, "db_reads_total", primaryReads)
	got, err := db.Products().Product(consistency.WithMinLSN(context.Background(), lsn), p.ID)
	if err != nil || got.Name != "after" {
		t.Fatalf("read with the write's token: %+v, %v; want the write", got, err)
	}
	if testenv.Counter(t, reg, "db_reads_total", primaryReads) != beforePrimary+1 {
		t.Error("the read with a token was not sent to the primary")
	}

	// Orders: a fresh order is visible to its owner's next read.
	u := newUser(t, db)
	po, lsn, err := db.Orders().PlaceOrder(context.Background(), u.ID, "ryw", shop.OrderRequest{Items: []shop.CartItem{{ProductID: p.ID, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Orders().Order(context.Background(), u.ID, po.OrderID); !errors.Is(err, shop.ErrNotFound) {
		t.Errorf("order read from the paused replica: %v, want not found", err)
	}
	o2, err := db.Orders().Order(consistency.WithMinLSN(context.Background(), lsn), u.ID, po.OrderID)
	if err != nil || o2.ID != po.OrderID || o2.ConfirmationSentAt != nil {
		t.Errorf("order read with token: %+v, %v", o2, err)
	}
}

func TestLaggingReplicaSkipped(t *testing.T) {
	env := testenv.Load(t)
	reg := prometheus.NewRegistry()
	o := env.Options()
	o.MaxLag = 500 * time.Millisecond
	db := env.OpenDB(t, o, reg)
	p, lsn := newProduct(t, db, "lag-before", 5)
	caughtUp(t, db, reg, p.ID, lsn)

	env.PauseReplay(t)
	if _, _, err := db.Products().UpdateProduct(context.Background(), p.ID, shop.ProductInput{Name: "lag-after", Stock: 5}); err != nil {
		t.Fatal(err)
	}
	replica := map[string]string{"replica": "127.0.0.1:55433"}
	testenv.Eventually(t, 10*time.Second, "the lagging replica to leave rotation", func() bool {
		return testenv.Gauge(t, reg, "db_replica_healthy", replica) == 0
	})
	// Without any token, reads now go to the primary and are fresh.
	got, err := db.Products().Product(context.Background(), p.ID)
	if err != nil || got.Name != "lag-after" {
		t.Errorf("read while the replica lags: %+v, %v; want the primary's fresh copy", got, err)
	}
	testenv.Admin(t, env.AdminReplicaURL, "SELECT pg_wal_replay_resume()")
	testenv.Eventually(t, 10*time.Second, "the replica to rejoin rotation", func() bool {
		return testenv.Gauge(t, reg, "db_replica_healthy", replica) == 1
	})
}

func newUser(t *testing.T, db *postgres.DB) shop.User {
	t.Helper()
	hash, _ := auth.HashPassword("password-123")
	u, _, err := db.Users().CreateUser(context.Background(), shop.User{Email: testenv.Unique("u") + "@example.com", PasswordHash: hash, Role: shop.RoleCustomer})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsers(t *testing.T) {
	env := testenv.Load(t)
	db := env.OpenDB(t, env.Options(), prometheus.NewRegistry())
	u := newUser(t, db)
	_, _, err := db.Users().CreateUser(context.Background(), shop.User{Email: u.Email, PasswordHash: "x", Role: shop.RoleCustomer})
	if !errors.Is(err, shop.ErrConflict) {
		t.Errorf("duplicate email: %v, want ErrConflict", err)
	}
	got, err := db.Users().UserByEmail(context.Background(), u.Email)
	if err != nil || got.ID != u.ID {
		t.Errorf("by email: %+v, %v", got, err)
	}
	if _, err := db.Users().UserByEmail(context.Background(), "nobody@example.com"); !errors.Is(err, shop.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}
}

func TestConcurrentDuplicateOrders(t *testing.T) {
	env := testenv.Load(t)
	db := env.OpenDB(t, env.Options(), prometheus.NewRegistry())
	p, _ := newProduct(t, db, "dup", 100)
	u := newUser(t, db)
	req := shop.OrderRequest{Items: []shop.CartItem{{ProductID: p.ID, Quantity: 3}}}

	const n = 20
	var wg sync.WaitGroup
	results := make([]shop.PlacedOrder, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], _, errs[i] = db.Orders().PlaceOrder(context.Background(), u.ID, "same-key", req)
		}()
	}
	close(start)
	wg.Wait()
	replayed := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(string(results[0].Response), string(results[i].Response)); diff != "" {
			t.Errorf("response %d differs (-first +this):\n%s", i, diff)
		}
		if results[i].Replayed {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Errorf("%d of %d requests replayed, want %d", replayed, n, n-1)
	}
	var orders, stock int64
	conn, err := pgx.Connect(context.Background(), env.AdminPrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM orders WHERE user_id = $1", u.ID).Scan(&orders); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), "SELECT stock FROM products WHERE id = $1", p.ID).Scan(&stock); err != nil {
		t.Fatal(err)
	}
	if orders != 1 || stock != 97 {
		t.Errorf("%d orders and stock %d after %d duplicates; want 1 order and stock 97", orders, stock, n)
	}
	other := shop.OrderRequest{Items: []shop.CartItem{{ProductID: p.ID, Quantity: 4}}}
	if _, _, err := db.Orders().PlaceOrder(context.Background(), u.ID, "same-key", other); !errors.Is(err, shop.ErrIdempotencyMismatch) {
		t.Errorf("same key, other body: %v, want ErrIdempotencyMismatch", err)
	}
}

func TestOrderStockAndOwnership(t *testing.T) {
	env := testenv.Load(t)
	db := env.OpenDB(t, env.Options(), prometheus.NewRegistry())
	a, _ := newProduct(t, db, "a", 2)
	b, _ := newProduct(t, db, "b", 10)
	u, other := newUser(t, db), newUser(t, db)
	ctx := context.Background()
	_, _, err := db.Orders().PlaceOrder(ctx, u.ID, "k1", shop.OrderRequest{Items: []shop.CartItem{{ProductID: b.ID, Quantity: 1}, {ProductID: a.ID, Quantity: 3}}})
	if !errors.Is(err, shop.ErrConflict) {
		t.Fatalf("order beyond stock: %v, want ErrConflict", err)
	}
	// The failed order left nothing behind: b's stock is intact and the key is free.
	po, lsn, err := db.Orders().PlaceOrder(ctx, u.ID, "k1", shop.OrderRequest{Items: []shop.CartItem{{ProductID: b.ID, Quantity: 10}, {ProductID: a.ID, Quantity: 2}}})
	if err != nil {
		t.Fatalf("order within stock after a failed one: %v", err)
	}
	if diff := cmp.Diff([]int64{a.ID, b.ID}, po.TouchedProducts); diff != "" {
		t.Errorf("touched products (-want +got):\n%s", diff)
	}
	if want := fmt.Sprintf(`{"id":%d,"status":"pending","total_cents":3000}`, po.OrderID); string(po.Response) != want {
		t.Errorf("response %s, want %s", po.Response, want)
	}
	_, _, err = db.Orders().PlaceOrder(ctx, u.ID, "k-unknown", shop.OrderRequest{Items: []shop.CartItem{{ProductID: 1 << 50, Quantity: 1}}})
	if !errors.Is(err, shop.ErrInvalid) {
		t.Errorf("unknown product: %v, want ErrInvalid", err)
	}
	rctx := consistency.WithMinLSN(ctx, lsn)
	if _, err := db.Orders().Order(rctx, other.ID, po.OrderID); !errors.Is(err, shop.ErrNotFound) {
		t.Errorf("another user's order: %v, want ErrNotFound", err)
	}
	o, err := db.Orders().Order(rctx, u.ID, po.OrderID)
	if err != nil || o.TotalCents != 3000 || len(o.Items) != 2 {
		t.Errorf("own order: %+v, %v", o, err)
	}
}

// TestZReplicaDownFallsBack stops the replica (it runs last in this package,
// and restarts the replica when done).
func TestZReplicaDownFallsBack(t *testing.T) {
	env := testenv.Load(t)
	reg := prometheus.NewRegistry()
	db := env.OpenDB(t, env.Options(), reg)
	p, lsn := newProduct(t, db, "fallback", 5)
	caughtUp(t, db, reg, p.ID, lsn)

	env.Services(t, "stop-replica")
	t.Cleanup(func() { env.Services(t, "start-replica") })
	before := testenv.Counter(t, reg, "db_reads_total", primaryReads)
	// The first reads may still pick the replica (the health check has not
	// run yet): they must fail over to the primary, not fail.
	for i := range 20 {
		got, err := db.Products().Product(context.Background(), p.ID)
		if err != nil || got.ID != p.ID {
			t.Fatalf("read %d with the replica down: %+v, %v", i, got, err)
		}
	}
	if got := testenv.Counter(t, reg, "db_reads_total", primaryReads) - before; got != 20 {
		t.Errorf("primary served %v of 20 reads with the replica down", got)
	}
	replica := map[string]string{"replica": "127.0.0.1:55433"}
	if g := testenv.Gauge(t, reg, "db_replica_healthy", replica); g != 0 {
		t.Errorf("db_replica_healthy = %v with the replica down", g)
	}

	env.Services(t, "start-replica")
	testenv.Eventually(t, 15*time.Second, "the restarted replica to rejoin rotation", func() bool {
		return testenv.Gauge(t, reg, "db_replica_healthy", replica) == 1
	})
	caughtUp(t, db, reg, p.ID, lsn)
}
