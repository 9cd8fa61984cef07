package shop

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		give interface{ Validate() error }
		ok   bool
	}{
		{"credentials", Credentials{Email: "a@b.c", Password: "12345678"}, true},
		{"no at", Credentials{Email: "ab.c", Password: "12345678"}, false},
		{"at at end", Credentials{Email: "ab@", Password: "12345678"}, false},
		{"NUL in email", Credentials{Email: "a\x00b@c.d", Password: "12345678"}, false},
		{"control character in email", Credentials{Email: "a\x01b@c.d", Password: "12345678"}, false},
		{"short password", Credentials{Email: "a@b.c", Password: "1234567"}, false},
		{"long password", Credentials{Email: "a@b.c", Password: strings.Repeat("x", 257)}, false},
		{"8 characters, 16 bytes", Credentials{Email: "a@b.c", Password: strings.Repeat("é", 8)}, true},
		{"4 characters, 8 bytes", Credentials{Email: "a@b.c", Password: strings.Repeat("é", 4)}, false},
		{"product", ProductInput{Name: "Lamp", PriceCents: 0, Stock: 0}, true},
		{"blank name", ProductInput{Name: "  ", PriceCents: 1, Stock: 1}, false},
		{"NUL in name", ProductInput{Name: "a\x00b", PriceCents: 1, Stock: 1}, false},
		{"NUL in description", ProductInput{Name: "a", Description: "b\x00", PriceCents: 1, Stock: 1}, false},
		{"negative price", ProductInput{Name: "x", PriceCents: -1}, false},
		{"negative stock", ProductInput{Name: "x", Stock: -1}, false},
		{"order", OrderRequest{Items: []CartItem{{ProductID: 1, Quantity: 1}, {ProductID: 2, Quantity: MaxCartQuantity}}}, true},
		{"empty order", OrderRequest{}, false},
		{"duplicate line", OrderRequest{Items: []CartItem{{ProductID: 1, Quantity: 1}, {ProductID: 1, Quantity: 2}}}, false},
		{"zero quantity", OrderRequest{Items: []CartItem{{ProductID: 1, Quantity: 0}}}, false},
		{"huge quantity", OrderRequest{Items: []CartItem{{ProductID: 1, Quantity: MaxCartQuantity + 1}}}, false},
		{"bad product id", OrderRequest{Items: []CartItem{{ProductID: 0, Quantity: 1}}}, false},
	}
	for _, tt := range tests {
		err := tt.give.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v is not ErrInvalid", tt.name, err)
		}
	}
}

func TestCredentialsNormalize(t *testing.T) {
	c := Credentials{Email: "  Bob@Example.COM "}
	c.Normalize()
	if c.Email != "bob@example.com" {
		t.Errorf("Normalize: %q", c.Email)
	}
}

func TestETagChangesWithVersion(t *testing.T) {
	a, b := Product{ID: 7, Version: 1}, Product{ID: 7, Version: 2}
	if a.ETag() == b.ETag() || a.ETag() != `"p7-v1"` {
		t.Errorf("ETags %s %s", a.ETag(), b.ETag())
	}
}
