package httpapi

import (
	"net/http"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/shop"
)

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
