package httpapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/shop"
)

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
