package postgres

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// Orders stores orders and their idempotency keys.
type Orders struct{ db *DB }

// Orders returns the order store.
func (db *DB) Orders() *Orders { return &Orders{db} }

// placedResponse is the body of 201 Created, stored for replays.
type placedResponse struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	TotalCents int64  `json:"total_cents"`
}

// PlaceOrder creates the order in one transaction on the primary: it claims
// the (user, key) row first, so that a concurrent duplicate blocks on it and
// then finds the stored response; stock is decremented row by row in product
// order (no deadlocks between orders) and never below zero.
func (s *Orders) PlaceOrder(ctx context.Context, userID int64, key string, req shop.OrderRequest) (shop.PlacedOrder, consistency.LSN, error) {
	canonical, err := json.Marshal(req)
	if err != nil {
		return shop.PlacedOrder{}, 0, err
	}
	hash := sha256.Sum256(canonical)
	lines := slices.Clone(req.Items)
	slices.SortFunc(lines, func(a, b shop.CartItem) int { return cmp.Compare(a.ProductID, b.ProductID) })

	var out shop.PlacedOrder
	lsn, err := s.db.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx,
			`INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			userID, key, hash[:])
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// The key was used before (its transaction has committed, or we
			// waited for it above): replay or refuse.
			var storedHash, response []byte
			var orderID *int64
			if err := tx.QueryRow(ctx,
				`SELECT request_hash, response, order_id FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
				userID, key).Scan(&storedHash, &response, &orderID); err != nil {
				return err
			}
			if !bytes.Equal(storedHash, hash[:]) {
				return shop.Errorf(shop.ErrIdempotencyMismatch, "Idempotency-Key was already used with another request body")
			}
			if orderID == nil || response == nil {
				return errors.New("idempotency key without a stored response")
			}
			out = shop.PlacedOrder{OrderID: *orderID, Response: response, Replayed: true}
			return nil
		}

		var total int64
		prices := make([]int64, len(lines))
		for i, it := range lines {
			err := tx.QueryRow(ctx,
				`UPDATE products SET stock = stock - $2, version = version + 1, updated_at = now()
				 WHERE id = $1 AND stock >= $2 RETURNING price_cents`, it.ProductID, it.Quantity).Scan(&prices[i])
			if errors.Is(err, pgx.ErrNoRows) {
				var exists bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)`, it.ProductID).Scan(&exists); err != nil {
					return err
				}
				if !exists {
					return shop.Errorf(shop.ErrInvalid, "product %d does not exist", it.ProductID)
				}
				return shop.Errorf(shop.ErrConflict, "not enough stock of product %d", it.ProductID)
			}
			if err != nil {
				return err
			}
			total += prices[i] * it.Quantity
		}
		var orderID int64
		if err := tx.QueryRow(ctx,
			`INSERT INTO orders (user_id, status, total_cents) VALUES ($1, $2, $3) RETURNING id`,
			userID, shop.OrderPending, total).Scan(&orderID); err != nil {
			return err
		}
		for i, it := range lines {
			if _, err := tx.Exec(ctx,
				`INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES ($1, $2, $3, $4)`,
				orderID, it.ProductID, it.Quantity, prices[i]); err != nil {
				return err
			}
		}
		response, err := json.Marshal(placedResponse{ID: orderID, Status: shop.OrderPending, TotalCents: total})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`UPDATE idempotency_keys SET order_id = $3, response = $4 WHERE user_id = $1 AND key = $2`,
			userID, key, orderID, response); err != nil {
			return err
		}
		touched := make([]int64, len(lines))
		for i, it := range lines {
			touched[i] = it.ProductID
		}
		out = shop.PlacedOrder{OrderID: orderID, Response: response, TouchedProducts: touched}
		return nil
	})
	return out, lsn, err
}

// Order returns the user's order; another user's order is shop.ErrNotFound.
// It is a routed read: with the caller's consistency token it sees the
// caller's own fresh order.
func (s *Orders) Order(ctx context.Context, userID, id int64) (shop.Order, error) {
	var o shop.Order
	err := s.db.read(ctx, func(ctx context.Context, q querier) error {
		var sent *time.Time
		if err := q.QueryRow(ctx,
			`SELECT id, user_id, status, total_cents, created_at, confirmation_sent_at FROM orders WHERE id = $1 AND user_id = $2`,
			id, userID).Scan(&o.ID, &o.UserID, &o.Status, &o.TotalCents, &o.CreatedAt, &sent); err != nil {
			return err
		}
		o.ConfirmationSentAt = sent
		rows, err := q.Query(ctx,
			`SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = $1 ORDER BY product_id`, id)
		if err != nil {
			return err
		}
		o.Items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[shop.OrderLine])
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return shop.Order{}, shop.Errorf(shop.ErrNotFound, "order %d not found", id)
	}
	return o, err
}
