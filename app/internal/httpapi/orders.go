package httpapi

import (
	"fmt"
	"net/http"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/shop"
)

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
