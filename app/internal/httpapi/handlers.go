package httpapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// bearerToken extracts the token of an "Authorization: Bearer <token>" header.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func (s *Server) authenticate(r *http.Request) (auth.Claims, error) {
	tok, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return auth.Claims{}, shop.Errorf(shop.ErrUnauthorized, "missing bearer token")
	}
	return s.d.Keys.Verify(tok)
}

// user requires a valid session.
func (s *Server) user(h func(w http.ResponseWriter, r *http.Request, c auth.Claims) error) errorHandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, c)
	}
}

// admin requires a valid session of an admin.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, c auth.Claims) error) errorHandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
		if c.Role != shop.RoleAdmin {
			return shop.Errorf(shop.ErrForbidden, "admins only")
		}
		return h(w, r, c)
	})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in shop.Credentials
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	in.Normalize()
	if err := in.Validate(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return err
	}
	role := shop.RoleCustomer
	if s.isAdminEmail(in.Email) {
		role = shop.RoleAdmin
	}
	u, lsn, err := s.d.Users.CreateUser(r.Context(), shop.User{Email: in.Email, PasswordHash: hash, Role: role})
	if err != nil {
		return err
	}
	setToken(w, r, lsn)
	return writeJSON(w, http.StatusCreated, struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	}{u.ID, u.Email})
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	var in shop.Credentials
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	in.Normalize()
	bad := shop.Errorf(shop.ErrUnauthorized, "wrong email or password")
	u, err := s.d.Users.UserByEmail(r.Context(), in.Email)
	if errors.Is(err, shop.ErrNotFound) {
		auth.CheckDummy(in.Password) // same time as a known email
		return bad
	}
	if err != nil {
		return err
	}
	if ok, err := auth.CheckPassword(u.PasswordHash, in.Password); err != nil || !ok {
		return bad
	}
	tok, exp, err := s.d.Keys.Issue(u.ID, u.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}{tok, exp.UTC().Format(time.RFC3339)})
}

const (
	defaultPageSize = 20
	maxPageSize     = 100
)

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := defaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return shop.Errorf(shop.ErrInvalid, "limit must be an integer in [1, %d]", maxPageSize)
		}
		limit = n
	}
	var after int64
	if v := q.Get("cursor"); v != "" {
		var err error
		if after, err = decodeCursor(v); err != nil {
			return err
		}
	}
	page, err := s.d.Products.Products(r.Context(), after, limit)
	if err != nil {
		return err
	}
	var next *string
	if page.NextAfter > 0 {
		c := encodeCursor(page.NextAfter)
		next = &c
	}
	return writeJSON(w, http.StatusOK, struct {
		Items      []shop.Product `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}{page.Items, next})
}

// Cursors are opaque to clients: base64url of the last id seen.
func encodeCursor(after int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(after, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, shop.Errorf(shop.ErrInvalid, "cursor is not one this API returned")
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.d.Products.Product(r.Context(), id)
	if err != nil {
		return err
	}
	etag := p.ETag()
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", s.productCacheControl)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return writeJSON(w, http.StatusOK, p)
}

// etagMatch implements If-None-Match's weak comparison over a list.
func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func (s *Server) createProduct(w http.ResponseWriter, r *http.Request, _ auth.Claims) error {
	var in shop.ProductInput
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	p, lsn, err := s.d.Products.CreateProduct(r.Context(), in)
	if err != nil {
		return err
	}
	setToken(w, r, lsn)
	w.Header().Set("Location", fmt.Sprintf("/v1/products/%d", p.ID))
	w.Header().Set("ETag", p.ETag())
	return writeJSON(w, http.StatusCreated, p)
}

func (s *Server) updateProduct(w http.ResponseWriter, r *http.Request, _ auth.Claims) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in shop.ProductInput
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	p, lsn, err := s.d.Products.UpdateProduct(r.Context(), id, in)
	if err != nil {
		return err
	}
	setToken(w, r, lsn)
	w.Header().Set("ETag", p.ETag())
	return writeJSON(w, http.StatusOK, p)
}

type cartBody struct {
	Items []shop.CartItem `json:"items"`
}

func (s *Server) getCart(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	items, err := s.d.Carts.Cart(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cartBody{items})
}

func (s *Server) putCartItem(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	pid, err := pathID(r, "product_id")
	if err != nil {
		return err
	}
	var in struct {
		Quantity int64 `json:"quantity"`
	}
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	if err := shop.ValidateQuantity(in.Quantity); err != nil {
		return err
	}
	if _, err := s.d.Products.Product(r.Context(), pid); err != nil {
		return err // 404 for an unknown product
	}
	items, err := s.d.Carts.SetItem(r.Context(), c.UserID, pid, in.Quantity)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cartBody{items})
}

func (s *Server) deleteCartItem(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	pid, err := pathID(r, "product_id")
	if err != nil {
		return err
	}
	items, err := s.d.Carts.RemoveItem(r.Context(), c.UserID, pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cartBody{items})
}

// validIdempotencyKey accepts 1 to 255 printable ASCII characters.
func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for _, c := range []byte(k) {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	key := r.Header.Get("Idempotency-Key")
	if !validIdempotencyKey(key) {
		return shop.Errorf(shop.ErrInvalid, "Idempotency-Key header required: 1 to 255 printable ASCII characters")
	}
	var in shop.OrderRequest
	if err := decode(w, r, s.d.MaxBodyBytes, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	po, lsn, err := s.d.Orders.PlaceOrder(r.Context(), c.UserID, key, in)
	if err != nil {
		return err
	}
	setToken(w, r, lsn)
	w.Header().Set("Location", fmt.Sprintf("/v1/orders/%d", po.OrderID))
	if po.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return writeRaw(w, http.StatusCreated, po.Response)
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request, c auth.Claims) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.d.Orders.Order(r.Context(), c.UserID, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return writeJSON(w, http.StatusOK, o)
}
