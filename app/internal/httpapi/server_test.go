package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

func TestServedByOnEveryResponse(t *testing.T) {
	f := newFixture(t, 10)
	for _, target := range []string{"/healthz", "/readyz", "/v1/products/1", "/v1/products/42", "/nope", "/v1/cart"} {
		w := f.do("GET", target, "")
		if got := w.Header().Get("X-Served-By"); got != "test-1" {
			t.Errorf("GET %s: X-Served-By = %q (status %d)", target, got, w.Code)
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Errorf("GET %s: no X-Request-Id", target)
		}
	}
}

func TestUnmatchedRoutes(t *testing.T) {
	f := newFixture(t, 10)
	w := f.do("DELETE", "/v1/products/1", "")
	if w.Code != 405 || errCode(t, w) != "method_not_allowed" || !strings.Contains(w.Header().Get("Allow"), "GET") {
		t.Errorf("DELETE /v1/products/1: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if w := f.do("GET", "/v2/nothing", ""); w.Code != 404 || errCode(t, w) != "not_found" {
		t.Errorf("GET /v2/nothing: %d %s", w.Code, w.Body)
	}
	if w := f.do("GET", "/v1/orders/abc", ""); w.Code != 401 {
		t.Errorf("GET /v1/orders/abc without a token: %d, want 401", w.Code)
	}
}

func TestHealthAndDrain(t *testing.T) {
	f := newFixture(t, 10)
	if w := f.do("GET", "/readyz", ""); w.Code != 200 {
		t.Fatalf("readyz = %d, want 200", w.Code)
	}
	f.ready = errors.New("dial tcp db-primary.internal:5432: connection refused")
	if w := f.do("GET", "/readyz", ""); w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("readyz with a dependency down = %d, want 503 with Retry-After", w.Code)
	} else if strings.Contains(w.Body.String(), "db-primary") {
		t.Errorf("readyz tells the public which host is down: %s", w.Body)
	}
	f.ready = nil
	f.srv.StartDraining()
	w := f.do("GET", "/readyz", "")
	if w.Code != 503 || !strings.Contains(w.Body.String(), "draining") {
		t.Errorf("readyz while draining = %d %s, want 503 draining", w.Code, w.Body)
	}
	if w := f.do("GET", "/healthz", ""); w.Code != 200 {
		t.Errorf("healthz while draining = %d, want 200 (no dependency checks)", w.Code)
	}
	if w := f.do("GET", "/v1/products/1", ""); w.Code != 200 || w.Header().Get("Connection") != "close" {
		t.Errorf("request while draining: %d, Connection %q; want 200 and close", w.Code, w.Header().Get("Connection"))
	}
}

func TestUsersAndSessions(t *testing.T) {
	f := newFixture(t, 10)
	w := f.do("POST", "/v1/users", `{"email":" Boss@Example.com ","password":"secret-pass"}`)
	if w.Code != 201 {
		t.Fatalf("register = %d %s", w.Code, w.Body)
	}
	var created map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &created)
	if diff := cmp.Diff(map[string]any{"id": 1.0, "email": "boss@example.com"}, created); diff != "" {
		t.Errorf("register body (-want +got):\n%s", diff)
	}
	if w.Header().Get(consistency.Header) != "1/10" || !strings.Contains(w.Header().Get("Set-Cookie"), "consistency_token=1/10") {
		t.Errorf("write's token: header %q, cookie %q; want 1/10 in both", w.Header().Get(consistency.Header), w.Header().Get("Set-Cookie"))
	}
	if w.Header().Get("Set-Cookie") != "" && strings.Contains(w.Header().Get("Set-Cookie"), "Secure") {
		t.Error("cookie marked Secure on a plain-HTTP request")
	}
	w = f.do("POST", "/v1/users", `{"email":"tls@example.com","password":"secret-pass"}`, "X-Forwarded-Proto", "https")
	if !strings.Contains(w.Header().Get("Set-Cookie"), "Secure") {
		t.Errorf("cookie behind TLS not Secure: %q", w.Header().Get("Set-Cookie"))
	}
	if w := f.do("POST", "/v1/users", `{"email":"boss@example.com","password":"other-pass"}`); w.Code != 409 {
		t.Errorf("second registration = %d, want 409", w.Code)
	}
	if w := f.do("POST", "/v1/users", `{"email":"nope","password":"secret-pass"}`); w.Code != 400 {
		t.Errorf("bad email = %d, want 400", w.Code)
	}
	if w := f.do("POST", "/v1/users", `{"email":"a@b.c","password":"short"}`); w.Code != 400 {
		t.Errorf("short password = %d, want 400", w.Code)
	}
	// PostgreSQL text cannot hold NUL: refused before it reaches the database.
	if w := f.do("POST", "/v1/users", `{"email":"a\u0000b@example.com","password":"secret-pass"}`); w.Code != 400 {
		t.Errorf("NUL in email = %d, want 400", w.Code)
	}

	w = f.do("POST", "/v1/sessions", `{"email":"boss@example.com","password":"secret-pass"}`)
	if w.Code != 200 {
		t.Fatalf("login = %d %s", w.Code, w.Body)
	}
	var sess struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &sess)
	c, err := f.keys.Verify(sess.Token)
	if err != nil || c.Role != shop.RoleAdmin || sess.ExpiresAt == "" {
		t.Errorf("session token: %+v, %v, expires %q; want an admin token", c, err, sess.ExpiresAt)
	}
	for _, body := range []string{`{"email":"boss@example.com","password":"wrong-pass"}`, `{"email":"who@example.com","password":"secret-pass"}`,
		`{"email":"boss\u0000@example.com","password":"secret-pass"}`, `{}`} {
		if w := f.do("POST", "/v1/sessions", body); w.Code != 401 || errCode(t, w) != "unauthorized" {
			t.Errorf("login %s = %d, want 401", body, w.Code)
		}
	}
}

func TestGetProduct(t *testing.T) {
	f := newFixture(t, 10)
	w := f.do("GET", "/v1/products/1", "")
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	want := `{"id":1,"name":"Lamp","description":"A lamp","price_cents":1999,"stock":5}` + "\n"
	if diff := cmp.Diff(want, w.Body.String()); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	etag := w.Header().Get("ETag")
	if etag != `"p1-v3"` || !strings.HasPrefix(w.Header().Get("Cache-Control"), "public, max-age=") {
		t.Errorf("ETag %q, Cache-Control %q", etag, w.Header().Get("Cache-Control"))
	}
	for _, inm := range []string{etag, `W/"p1-v3"`, `"x", "p1-v3"`, "*"} {
		if w := f.do("GET", "/v1/products/1", "", "If-None-Match", inm); w.Code != 304 || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d, body %q", inm, w.Code, w.Body)
		}
	}
	if w := f.do("GET", "/v1/products/1", "", "If-None-Match", `"p1-v2"`); w.Code != 200 {
		t.Errorf("stale If-None-Match: %d, want 200", w.Code)
	}
	if w := f.do("GET", "/v1/products/42", ""); w.Code != 404 || errCode(t, w) != "not_found" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("missing product: %d %s", w.Code, w.Body)
	}
	if w := f.do("GET", "/v1/products/abc", ""); w.Code != 400 {
		t.Errorf("bad id: %d", w.Code)
	}
}

func TestConsistencyToken(t *testing.T) {
	f := newFixture(t, 10)
	f.do("GET", "/v1/products/1", "", consistency.Header, "2/20")
	if f.products.lastLSN != 0x2_00000020 {
		t.Errorf("store saw MinLSN %v, want 2/20", f.products.lastLSN)
	}
	req := httptest.NewRequest("GET", "/v1/products/1", nil)
	req.AddCookie(&http.Cookie{Name: consistency.Cookie, Value: "3/30"})
	f.srv.ServeHTTP(httptest.NewRecorder(), req)
	if f.products.lastLSN != 0x3_00000030 {
		t.Errorf("store saw MinLSN %v from the cookie, want 3/30", f.products.lastLSN)
	}
	if w := f.do("GET", "/v1/products/1", "", consistency.Header, "not-an-lsn"); w.Code != 400 {
		t.Errorf("malformed token: %d, want 400", w.Code)
	}
}

func TestProductWritesNeedAdmin(t *testing.T) {
	f := newFixture(t, 10)
	body := `{"name":"Shelf","description":"","price_cents":500,"stock":3}`
	if w := f.do("POST", "/v1/products", body); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", w.Code)
	}
	if w := f.do("POST", "/v1/products", body, "Authorization", "Bearer "+f.token(t, 5, shop.RoleCustomer)); w.Code != 403 {
		t.Errorf("customer: %d, want 403", w.Code)
	}
	admin := "Bearer " + f.token(t, 1, shop.RoleAdmin)
	w := f.do("POST", "/v1/products", body, "Authorization", admin)
	if w.Code != 201 || w.Header().Get("Location") != "/v1/products/4" || w.Header().Get(consistency.Header) != "2/20" {
		t.Errorf("admin create: %d %s %v", w.Code, w.Body, w.Header())
	}
	if w := f.do("PUT", "/v1/products/4", `{"name":"Shelf","price_cents":600,"stock":3}`, "Authorization", admin); w.Code != 200 || !strings.Contains(w.Body.String(), `"price_cents":600`) {
		t.Errorf("admin update: %d %s", w.Code, w.Body)
	}
	if w := f.do("PUT", "/v1/products/77", body, "Authorization", admin); w.Code != 404 {
		t.Errorf("update of a missing product: %d, want 404", w.Code)
	}
}

func TestBadInputIsNever500(t *testing.T) {
	f := newFixture(t, 10)
	admin := "Bearer " + f.token(t, 1, shop.RoleAdmin)
	tests := []struct {
		name, body string
		want       int
	}{
		{"malformed", `{"name":`, 400},
		{"not json", `hello`, 400},
		{"empty", ``, 400},
		{"unknown field", `{"name":"x","price_cents":1,"stock":1,"color":"red"}`, 400},
		{"wrong type", `{"name":"x","price_cents":"1","stock":1}`, 400},
		{"trailing data", `{"name":"x","price_cents":1,"stock":1} {}`, 400},
		{"invalid value", `{"name":"","price_cents":-1,"stock":1}`, 400},
		{"NUL in name", `{"name":"a\u0000b","price_cents":1,"stock":1}`, 400},
		{"oversized", `{"name":"` + strings.Repeat("x", 2000) + `","price_cents":1,"stock":1}`, 413},
		{"oversized and not JSON", strings.Repeat("x", 2000), 413},
	}
	for _, tt := range tests {
		w := f.do("POST", "/v1/products", tt.body, "Authorization", admin)
		if w.Code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, w.Code, w.Body, tt.want)
		}
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=!!!", "cursor=bm9wZQ"} {
		if w := f.do("GET", "/v1/products?"+q, ""); w.Code != 400 {
			t.Errorf("list %s: %d, want 400", q, w.Code)
		}
	}
}

func TestListProductsPages(t *testing.T) {
	f := newFixture(t, 10)
	var ids []int64
	target := "/v1/products?limit=2"
	for range 5 {
		w := f.do("GET", target, "")
		if w.Code != 200 {
			t.Fatalf("%s: %d", target, w.Code)
		}
		var page struct {
			Items []shop.Product `json:"items"`
			Next  *string        `json:"next_cursor"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &page)
		for _, p := range page.Items {
			ids = append(ids, p.ID)
		}
		if page.Next == nil {
			break
		}
		target = "/v1/products?limit=2&cursor=" + *page.Next
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, ids); diff != "" {
		t.Errorf("ids over all pages (-want +got):\n%s", diff)
	}
}

func TestCart(t *testing.T) {
	f := newFixture(t, 10)
	user := "Bearer " + f.token(t, 9, shop.RoleCustomer)
	if w := f.do("GET", "/v1/cart", ""); w.Code != 401 {
		t.Errorf("anonymous cart: %d", w.Code)
	}
	if w := f.do("PUT", "/v1/cart/items/1", `{"quantity":2}`, "Authorization", user); w.Code != 200 || w.Body.String() != `{"items":[{"product_id":1,"quantity":2}]}`+"\n" {
		t.Errorf("put: %d %s", w.Code, w.Body)
	}
	if w := f.do("PUT", "/v1/cart/items/42", `{"quantity":2}`, "Authorization", user); w.Code != 404 {
		t.Errorf("unknown product: %d, want 404", w.Code)
	}
	if w := f.do("PUT", "/v1/cart/items/1", `{"quantity":0}`, "Authorization", user); w.Code != 400 {
		t.Errorf("zero quantity: %d, want 400", w.Code)
	}
	if w := f.do("DELETE", "/v1/cart/items/1", "", "Authorization", user); w.Code != 200 || w.Body.String() != `{"items":[]}`+"\n" {
		t.Errorf("delete: %d %s", w.Code, w.Body)
	}
}

func TestOrders(t *testing.T) {
	f := newFixture(t, 10)
	alice := "Bearer " + f.token(t, 1, shop.RoleCustomer)
	bob := "Bearer " + f.token(t, 2, shop.RoleCustomer)
	body := `{"items":[{"product_id":1,"quantity":2}]}`
	if w := f.do("POST", "/v1/orders", body, "Authorization", alice); w.Code != 400 {
		t.Errorf("no Idempotency-Key: %d, want 400", w.Code)
	}
	w := f.do("POST", "/v1/orders", body, "Authorization", alice, "Idempotency-Key", "k-1")
	if w.Code != 201 || w.Header().Get(consistency.Header) == "" {
		t.Fatalf("place: %d %s", w.Code, w.Body)
	}
	first := w.Body.String()
	again := f.do("POST", "/v1/orders", body, "Authorization", alice, "Idempotency-Key", "k-1")
	if again.Code != 201 || again.Body.String() != first || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %s, want the first response %s", again.Code, again.Body, first)
	}
	if w := f.do("POST", "/v1/orders", `{"items":[{"product_id":2,"quantity":1}]}`, "Authorization", alice, "Idempotency-Key", "k-1"); w.Code != 422 {
		t.Errorf("same key, other body: %d, want 422", w.Code)
	}
	if w := f.do("POST", "/v1/orders", `{"items":[{"product_id":999,"quantity":1}]}`, "Authorization", alice, "Idempotency-Key", "k-2"); w.Code != 409 {
		t.Errorf("out of stock: %d, want 409", w.Code)
	}
	if w := f.do("POST", "/v1/orders", `{"items":[]}`, "Authorization", alice, "Idempotency-Key", "k-3"); w.Code != 400 {
		t.Errorf("no lines: %d, want 400", w.Code)
	}
	w = f.do("GET", "/v1/orders/1", "", "Authorization", alice)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"confirmation_sent_at":null`) {
		t.Errorf("get own order: %d %s", w.Code, w.Body)
	}
	if w := f.do("GET", "/v1/orders/1", "", "Authorization", bob); w.Code != 404 {
		t.Errorf("another user's order: %d, want 404", w.Code)
	}
}

func TestInFlightLimit(t *testing.T) {
	f := newFixture(t, 1)
	f.products.block = make(chan struct{})
	done := make(chan int)
	go func() { done <- f.do("GET", "/v1/products/1", "").Code }()
	// Wait until the first request holds the only slot.
	for len(f.srv.inFlight) == 0 {
		// spin; the goroutine gets there at once
	}
	w := f.do("GET", "/v1/products/2", "")
	if w.Code != 503 || w.Header().Get("Retry-After") != "1" || errCode(t, w) != "overloaded" {
		t.Errorf("over the limit: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if w := f.do("GET", "/healthz", ""); w.Code != 200 {
		t.Errorf("healthz over the limit: %d, want 200", w.Code)
	}
	close(f.products.block)
	if code := <-done; code != 200 {
		t.Errorf("the request in flight got %d", code)
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		give error
		want int
	}{
		{shop.Errorf(shop.ErrInvalid, "x"), 400},
		{shop.Errorf(shop.ErrUnauthorized, "x"), 401},
		{shop.Errorf(shop.ErrForbidden, "x"), 403},
		{shop.Errorf(shop.ErrNotFound, "x"), 404},
		{shop.Errorf(shop.ErrConflict, "x"), 409},
		{errTooLarge, 413},
		{shop.Errorf(shop.ErrIdempotencyMismatch, "x"), 422},
		{shop.Errorf(shop.ErrOverloaded, "x"), 503},
		{shop.Errorf(shop.ErrUnavailable, "x"), 503},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), 503},
		{fmt.Errorf("query: %w", context.Canceled), 499},
		{errors.New("boom"), 500},
	}
	for _, tt := range tests {
		if got, _ := status(tt.give); got != tt.want {
			t.Errorf("status(%v) = %d, want %d", tt.give, got, tt.want)
		}
	}
}

func TestErrorBodyHidesCauses(t *testing.T) {
	f := newFixture(t, 10)
	cause := errors.New("failed to connect to `user=app database=shop`: 10.0.3.4:5432: dial error")
	tests := []struct {
		give     error
		wantCode int
		wantMsg  string
	}{
		{fmt.Errorf("%w: %w", cause, context.DeadlineExceeded), 503, "the request timed out; retry shortly"},
		{fmt.Errorf("%w: %w", cause, context.Canceled), 499, "request canceled"},
		{cause, 500, "internal error"},
		{fmt.Errorf("%w: %w", shop.Errorf(shop.ErrUnavailable, "cart store unavailable"), cause), 503, "cart store unavailable"},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		f.srv.writeError(w, httptest.NewRequest("GET", "/v1/cart", nil), tt.give)
		var b errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		if w.Code != tt.wantCode || b.Error.Message != tt.wantMsg {
			t.Errorf("writeError(%v) = %d %q, want %d %q", tt.give, w.Code, b.Error.Message, tt.wantCode, tt.wantMsg)
		}
	}
}

func TestMetricsByRoute(t *testing.T) {
	f := newFixture(t, 10)
	f.do("GET", "/v1/products/1", "")
	f.do("GET", "/v1/products/42", "")
	f.do("POST", "/metrics", "")
	f.do("MADEUP1", "/v1/products/1", "")
	f.do("MADEUP2", "/v1/products/1", "")
	f.do("GET", "/metrics", "")
	w := f.do("GET", "/metrics", "")
	for _, want := range []string{
		`http_requests_total{method="GET",route="GET /metrics",status="200"} 1`,
		`http_requests_total{method="POST",route="unmatched",status="405"} 1`,
		`http_requests_total{method="other",route="unmatched",status="405"} 2`, // one series for made-up methods
		`http_requests_total{method="GET",route="GET /v1/products/{id}",status="200"} 1`,
		`http_requests_total{method="GET",route="GET /v1/products/{id}",status="404"} 1`,
		`http_request_duration_seconds_count{method="GET",route="GET /v1/products/{id}"} 2`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t, 1000)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w := f.do("GET", fmt.Sprintf("/v1/products/%d", i%3+1), ""); w.Code != 200 {
				t.Errorf("status %d", w.Code)
			}
		}()
	}
	wg.Wait()
}
