package rediscache

import (
	"context"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// OrderStore is the order store Orders wraps and offers.
type OrderStore interface {
	PlaceOrder(ctx context.Context, userID int64, key string, req shop.OrderRequest) (shop.PlacedOrder, consistency.LSN, error)
	Order(ctx context.Context, userID, id int64) (shop.Order, error)
}

// Orders decorates an OrderStore: a placed order changes stock, so the cached
// products it touched are invalidated after the commit.
type Orders struct {
	OrderStore
	Products *Products
}

// PlaceOrder places the order, then invalidates the touched products.
func (o Orders) PlaceOrder(ctx context.Context, userID int64, key string, req shop.OrderRequest) (shop.PlacedOrder, consistency.LSN, error) {
	po, lsn, err := o.OrderStore.PlaceOrder(ctx, userID, key, req)
	if err == nil && len(po.TouchedProducts) > 0 {
		o.Products.Invalidate(ctx, lsn, po.TouchedProducts...)
	}
	return po, lsn, err
}
