// Package shop holds the domain of the scalestack app: users, products, carts
// and orders, their validation rules and the errors the adapters report.
// Stores are declared as interfaces where they are used (httpapi, rediscache);
// this package depends on nothing but the standard library.
package shop

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error kinds. Adapters wrap them (see Errorf) and httpapi maps them to a
// status in one place.
var (
	ErrInvalid             = errors.New("invalid input")
	ErrNotFound            = errors.New("not found")
	ErrConflict            = errors.New("conflict")
	ErrUnauthorized        = errors.New("unauthorized")
	ErrForbidden           = errors.New("forbidden")
	ErrIdempotencyMismatch = errors.New("idempotency key reused with another request")
	ErrUnavailable         = errors.New("dependency unavailable")
	ErrOverloaded          = errors.New("overloaded")
)

// Error is a domain error with a message meant for the client.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Role is what a user may do.
type Role string

// Roles.
const (
	RoleCustomer Role = "customer"
	RoleAdmin    Role = "admin"
)

// User is a registered account.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	Role         Role
	CreatedAt    time.Time
}

// Credentials is what a client sends to register or to log in.
type Credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Normalize lower-cases and trims the email.
func (c *Credentials) Normalize() { c.Email = strings.ToLower(strings.TrimSpace(c.Email)) }

// ValidEmail reports whether s looks like name@domain, is at most 254 bytes
// long and holds no blanks or control characters (PostgreSQL text cannot
// store NUL). Every registered email passes it, so a login whose email does
// not cannot match an account.
func ValidEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at >= 1 && at < len(s)-1 && len(s) <= 254 &&
		!strings.ContainsFunc(s, func(r rune) bool { return r == ' ' || unicode.IsControl(r) })
}

// Validate checks a registration; login only needs non-empty fields.
func (c Credentials) Validate() error {
	if !ValidEmail(c.Email) {
		return Errorf(ErrInvalid, "email must look like name@domain and be at most 254 characters")
	}
	if n := utf8.RuneCountInString(c.Password); n < 8 || len(c.Password) > 256 {
		return Errorf(ErrInvalid, "password must be at least 8 characters and at most 256 bytes long")
	}
	return nil
}

// Product is an item of the catalog. Version grows by one on every change of
// the row (stock included) and makes the ETag.
type Product struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceCents  int64  `json:"price_cents"`
	Stock       int64  `json:"stock"`
	Version     int64  `json:"-"`
}

// ETag is the strong entity tag of this version of the product.
func (p Product) ETag() string { return fmt.Sprintf(`"p%d-v%d"`, p.ID, p.Version) }

// ProductInput is the writable part of a product.
type ProductInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceCents  int64  `json:"price_cents"`
	Stock       int64  `json:"stock"`
}

// Validate checks the bounds of every field.
func (p ProductInput) Validate() error {
	var msgs []string
	if n := utf8.RuneCountInString(strings.TrimSpace(p.Name)); n < 1 || n > 200 {
		msgs = append(msgs, "name must be 1 to 200 characters")
	}
	if utf8.RuneCountInString(p.Description) > 4000 {
		msgs = append(msgs, "description must be at most 4000 characters")
	}
	if strings.IndexByte(p.Name, 0) >= 0 || strings.IndexByte(p.Description, 0) >= 0 {
		msgs = append(msgs, "name and description must not contain NUL characters")
	}
	if p.PriceCents < 0 || p.PriceCents > 100_000_000 {
		msgs = append(msgs, "price_cents must be in [0, 100000000]")
	}
	if p.Stock < 0 || p.Stock > 1_000_000_000 {
		msgs = append(msgs, "stock must be in [0, 1000000000]")
	}
	if len(msgs) > 0 {
		return Errorf(ErrInvalid, "%s", strings.Join(msgs, "; "))
	}
	return nil
}

// ProductPage is one page of the catalog, ordered by id.
type ProductPage struct {
	Items []Product
	// NextAfter is the id to continue after, 0 on the last page.
	NextAfter int64
}

// CartItem is one line of a cart.
type CartItem struct {
	ProductID int64 `json:"product_id"`
	Quantity  int64 `json:"quantity"`
}

// MaxCartQuantity bounds the quantity of one cart line and of one order line.
const MaxCartQuantity = 1000

// ValidateQuantity checks one cart or order line's quantity.
func ValidateQuantity(q int64) error {
	if q < 1 || q > MaxCartQuantity {
		return Errorf(ErrInvalid, "quantity must be in [1, %d]", MaxCartQuantity)
	}
	return nil
}

// OrderRequest is the body of POST /v1/orders.
type OrderRequest struct {
	Items []CartItem `json:"items"`
}

// MaxOrderLines bounds the lines of one order.
const MaxOrderLines = 100

// Validate checks the lines: at least one, each product once, quantities in range.
func (o OrderRequest) Validate() error {
	if len(o.Items) == 0 || len(o.Items) > MaxOrderLines {
		return Errorf(ErrInvalid, "items must hold 1 to %d lines", MaxOrderLines)
	}
	seen := make(map[int64]bool, len(o.Items))
	for _, it := range o.Items {
		if it.ProductID < 1 {
			return Errorf(ErrInvalid, "product_id must be a positive id")
		}
		if seen[it.ProductID] {
			return Errorf(ErrInvalid, "product %d is listed twice", it.ProductID)
		}
		seen[it.ProductID] = true
		if err := ValidateQuantity(it.Quantity); err != nil {
			return err
		}
	}
	return nil
}

// Order statuses. Confirmation is sent later by the worker.
const (
	OrderPending = "pending"
)

// OrderLine is one line of a placed order, at the price paid.
type OrderLine struct {
	ProductID  int64 `json:"product_id"`
	Quantity   int64 `json:"quantity"`
	PriceCents int64 `json:"price_cents"`
}

// Order is a placed order.
type Order struct {
	ID                 int64       `json:"id"`
	UserID             int64       `json:"-"`
	Status             string      `json:"status"`
	TotalCents         int64       `json:"total_cents"`
	Items              []OrderLine `json:"items"`
	CreatedAt          time.Time   `json:"created_at"`
	ConfirmationSentAt *time.Time  `json:"confirmation_sent_at"`
}

// PlacedOrder is the stored outcome of POST /v1/orders: the response replayed
// for a repeated Idempotency-Key.
type PlacedOrder struct {
	OrderID int64
	// Response is the exact JSON body returned the first time.
	Response []byte
	// Replayed is true when the key had been used before.
	Replayed bool
	// TouchedProducts are the products whose stock changed (for cache invalidation).
	TouchedProducts []int64
}
