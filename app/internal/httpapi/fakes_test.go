package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/config"
	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// The fakes keep state in memory so that handler tests need no server.

// errNUL is what PostgreSQL answers for a text value holding NUL; the fakes
// answer it too, so that such input must be refused before the store.
var errNUL = errors.New(`ERROR: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)`)

func hasNUL(s ...string) bool {
	for _, v := range s {
		if strings.IndexByte(v, 0) >= 0 {
			return true
		}
	}
	return false
}

type fakeUsers struct {
	mu    sync.Mutex
	users map[string]shop.User
}

func (f *fakeUsers) CreateUser(_ context.Context, u shop.User) (shop.User, consistency.LSN, error) {
	if hasNUL(u.Email) {
		return shop.User{}, 0, errNUL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[u.Email]; ok {
		return shop.User{}, 0, shop.Errorf(shop.ErrConflict, "email is already registered")
	}
	u.ID = int64(len(f.users) + 1)
	f.users[u.Email] = u
	return u, 0x1_00000010, nil
}

func (f *fakeUsers) UserByEmail(_ context.Context, email string) (shop.User, error) {
	if hasNUL(email) {
		return shop.User{}, errNUL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[email]
	if !ok {
		return shop.User{}, shop.Errorf(shop.ErrNotFound, "no such user")
	}
	return u, nil
}

type fakeProducts struct {
	mu       sync.Mutex
	products map[int64]shop.Product
	lastLSN  consistency.LSN // MinLSN seen by the last read
	block    chan struct{}   // when set, reads wait on it
}

func (f *fakeProducts) Product(ctx context.Context, id int64) (shop.Product, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastLSN = consistency.MinLSN(ctx)
	p, ok := f.products[id]
	if !ok {
		return shop.Product{}, shop.Errorf(shop.ErrNotFound, "product %d not found", id)
	}
	return p, nil
}

func (f *fakeProducts) Products(_ context.Context, after int64, limit int) (shop.ProductPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var page shop.ProductPage
	for id := after + 1; id <= int64(len(f.products)); id++ {
		if len(page.Items) == limit {
			page.NextAfter = page.Items[limit-1].ID
			break
		}
		page.Items = append(page.Items, f.products[id])
	}
	return page, nil
}

func (f *fakeProducts) CreateProduct(_ context.Context, in shop.ProductInput) (shop.Product, consistency.LSN, error) {
	if hasNUL(in.Name, in.Description) {
		return shop.Product{}, 0, errNUL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := int64(len(f.products) + 1)
	p := shop.Product{ID: id, Name: in.Name, Description: in.Description, PriceCents: in.PriceCents, Stock: in.Stock, Version: 1}
	f.products[id] = p
	return p, 0x2_00000020, nil
}

func (f *fakeProducts) UpdateProduct(_ context.Context, id int64, in shop.ProductInput) (shop.Product, consistency.LSN, error) {
	if hasNUL(in.Name, in.Description) {
		return shop.Product{}, 0, errNUL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.products[id]
	if !ok {
		return shop.Product{}, 0, shop.Errorf(shop.ErrNotFound, "product %d not found", id)
	}
	p := shop.Product{ID: id, Name: in.Name, Description: in.Description, PriceCents: in.PriceCents, Stock: in.Stock, Version: old.Version + 1}
	f.products[id] = p
	return p, 0x2_00000030, nil
}

type fakeOrders struct {
	mu     sync.Mutex
	orders map[int64]shop.Order
	keys   map[string]string // user/key -> body
	resp   map[string]shop.PlacedOrder
}

func (f *fakeOrders) PlaceOrder(_ context.Context, userID int64, key string, req shop.OrderRequest) (shop.PlacedOrder, consistency.LSN, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(req)
	k := string(rune(userID)) + "/" + key
	if prev, ok := f.keys[k]; ok {
		if prev != string(b) {
			return shop.PlacedOrder{}, 0, shop.Errorf(shop.ErrIdempotencyMismatch, "other body")
		}
		po := f.resp[k]
		po.Replayed = true
		return po, 0x3_00000000, nil
	}
	if req.Items[0].ProductID == 999 {
		return shop.PlacedOrder{}, 0, shop.Errorf(shop.ErrConflict, "not enough stock of product 999")
	}
	id := int64(len(f.orders) + 1)
	f.orders[id] = shop.Order{ID: id, UserID: userID, Status: shop.OrderPending, TotalCents: 100}
	body, _ := json.Marshal(map[string]any{"id": id, "status": shop.OrderPending, "total_cents": 100})
	po := shop.PlacedOrder{OrderID: id, Response: body}
	f.keys[k] = string(b)
	f.resp[k] = po
	return po, 0x3_00000000, nil
}

func (f *fakeOrders) Order(_ context.Context, userID, id int64) (shop.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok || o.UserID != userID {
		return shop.Order{}, shop.Errorf(shop.ErrNotFound, "order %d not found", id)
	}
	return o, nil
}

type fakeCarts struct {
	mu    sync.Mutex
	carts map[int64]map[int64]int64
}

func (f *fakeCarts) list(userID int64) []shop.CartItem {
	out := []shop.CartItem{}
	for pid := int64(1); pid < 1000; pid++ {
		if q, ok := f.carts[userID][pid]; ok {
			out = append(out, shop.CartItem{ProductID: pid, Quantity: q})
		}
	}
	return out
}

func (f *fakeCarts) Cart(_ context.Context, userID int64) ([]shop.CartItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list(userID), nil
}

func (f *fakeCarts) SetItem(_ context.Context, userID, productID, quantity int64) ([]shop.CartItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.carts[userID] == nil {
		f.carts[userID] = map[int64]int64{}
	}
	f.carts[userID][productID] = quantity
	return f.list(userID), nil
}

func (f *fakeCarts) RemoveItem(_ context.Context, userID, productID int64) ([]shop.CartItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.carts[userID], productID)
	return f.list(userID), nil
}

type fixture struct {
	srv      *Server
	products *fakeProducts
	keys     *auth.Keyring
	reg      *prometheus.Registry
	ready    error
}

func newFixture(t testing.TB, maxInFlight int) *fixture {
	t.Helper()
	keys, err := auth.NewKeyring([]config.SigningKey{{ID: "k1", Secret: bytes.Repeat([]byte("s"), 32)}}, "scalestack", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		products: &fakeProducts{products: map[int64]shop.Product{
			1: {ID: 1, Name: "Lamp", Description: "A lamp", PriceCents: 1999, Stock: 5, Version: 3},
			2: {ID: 2, Name: "Desk", PriceCents: 9999, Stock: 1, Version: 1},
			3: {ID: 3, Name: "Chair", PriceCents: 4999, Stock: 0, Version: 1},
		}},
		keys: keys,
		reg:  prometheus.NewRegistry(),
	}
	f.srv, err = New(Deps{
		InstanceID:     "test-1",
		Users:          &fakeUsers{users: map[string]shop.User{}},
		Products:       f.products,
		Orders:         &fakeOrders{orders: map[int64]shop.Order{}, keys: map[string]string{}, resp: map[string]shop.PlacedOrder{}},
		Carts:          &fakeCarts{carts: map[int64]map[int64]int64{}},
		Keys:           keys,
		AdminEmails:    []string{"boss@example.com"},
		Ready:          func(context.Context) error { return f.ready },
		MaxInFlight:    maxInFlight,
		MaxBodyBytes:   1024,
		RequestTimeout: 5 * time.Second,
		Log:            slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registerer:     f.reg,
		Gatherer:       f.reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) token(t testing.TB, userID int64, role shop.Role) string {
	t.Helper()
	tok, _, err := f.keys.Issue(userID, role)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends one request; headers alternate name, value.
func (f *fixture) do(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.ServeHTTP(w, req)
	return w
}

// errCode returns the error code of a JSON error body.
func errCode(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body.String(), err)
	}
	return b.Error.Code
}

var _ http.Handler = (*Server)(nil)
