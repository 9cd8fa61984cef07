package httpapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/scalestack/scalestack/app/internal/shop"
)

// FuzzOrderBody sends arbitrary bodies to POST /v1/orders: bad input must
// never reach a 500.
func FuzzOrderBody(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"product_id":1,"quantity":2}]}`,
		`{"items":[{"product_id":1,"quantity":2},{"product_id":1,"quantity":1}]}`,
		`{"items":[]}`, `{"items":null}`, `{}`, `[]`, `null`, ``, `{"items":[{"product_id":1e400}]}`,
		`{"items":[{"product_id":-1,"quantity":1}]}`, `{"items":[{"product_id":1,"quantity":1,"x":1}]}`,
		`{"items":[{"product_id":999,"quantity":1}]}`, "{\"items\":[{\"product_id\":1,\"quantity\":1}]}\x00",
		strings.Repeat(`{"items":[`, 100),
	} {
		f.Add(s)
	}
	fx := newFixture(f, 100)
	user := "Bearer " + fx.token(f, 1, shop.RoleCustomer)
	key := 0
	f.Fuzz(func(t *testing.T, body string) {
		key++
		w := fx.do("POST", "/v1/orders", body, "Authorization", user, "Idempotency-Key", "fuzz-"+strings.Repeat("k", key%200))
		switch w.Code {
		case 201, 400, 409, 413, 422:
		default:
			t.Fatalf("body %q: status %d %s", body, w.Code, w.Body)
		}
	})
}

// FuzzAuthorization feeds arbitrary Authorization headers: only a token the
// keyring issued may authenticate, and nothing panics.
func FuzzAuthorization(f *testing.F) {
	fx := newFixture(f, 100)
	valid := fx.token(f, 7, shop.RoleCustomer)
	for _, s := range []string{"Bearer " + valid, "bearer " + valid, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "", "Bearer a.b.c", "Bearer " + valid + "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		w := fx.do("GET", "/v1/cart", "", "Authorization", header)
		if w.Code != 200 && w.Code != 401 {
			t.Fatalf("header %q: status %d", header, w.Code)
		}
		tok, ok := bearerToken(header)
		if !ok {
			return
		}
		c, err := fx.keys.Verify(tok)
		if err != nil {
			if !errors.Is(err, shop.ErrUnauthorized) {
				t.Fatalf("Verify(%q) error %v is not ErrUnauthorized", tok, err)
			}
			return
		}
		if c.UserID != 7 || w.Code != 200 {
			t.Fatalf("header %q authenticated as %+v", header, c)
		}
	})
}
