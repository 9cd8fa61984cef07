package rediscache

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scalestack/scalestack/app/internal/shop"
)

// MaxCartLines bounds the distinct products in one cart.
const MaxCartLines = 100

// Carts keeps each user's cart in a Redis hash (product id → quantity) that
// expires TTL after its last change, so any instance serves any cart.
type Carts struct {
	rdb     redis.UniversalClient
	ttl     time.Duration
	timeout time.Duration
}

// NewCarts returns the cart store.
func NewCarts(rdb redis.UniversalClient, ttl, timeout time.Duration) *Carts {
	return &Carts{rdb: rdb, ttl: ttl, timeout: timeout}
}

func cartKey(userID int64) string { return "cart:{" + strconv.FormatInt(userID, 10) + "}" }

var setItemScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.error_reply('CARTFULL')
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('HGETALL', KEYS[1])`)

var removeItemScript = redis.NewScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('HGETALL', KEYS[1])`)

// Cart returns the user's cart, by product id.
func (c *Carts) Cart(ctx context.Context, userID int64) ([]shop.CartItem, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	m, err := c.rdb.HGetAll(ctx, cartKey(userID)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	flat := make([]any, 0, 2*len(m))
	for k, v := range m {
		flat = append(flat, k, v)
	}
	return items(flat)
}

// SetItem sets the quantity of one product and returns the cart.
func (c *Carts) SetItem(ctx context.Context, userID, productID, quantity int64) ([]shop.CartItem, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := setItemScript.Run(ctx, c.rdb, []string{cartKey(userID)},
		productID, quantity, MaxCartLines, c.ttl.Milliseconds()).Slice()
	if err != nil {
		if strings.Contains(err.Error(), "CARTFULL") {
			return nil, shop.Errorf(shop.ErrInvalid, "a cart holds at most %d products", MaxCartLines)
		}
		return nil, unavailable(err)
	}
	return items(v)
}

// RemoveItem removes one product (absent is fine) and returns the cart.
func (c *Carts) RemoveItem(ctx context.Context, userID, productID int64) ([]shop.CartItem, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := removeItemScript.Run(ctx, c.rdb, []string{cartKey(userID)}, productID, c.ttl.Milliseconds()).Slice()
	if err != nil {
		return nil, unavailable(err)
	}
	return items(v)
}

// unavailable reports a Redis failure: the client reads "cart store
// unavailable", the log (err.Error()) also the cause.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", shop.Errorf(shop.ErrUnavailable, "cart store unavailable"), err)
}

// items turns a flat [field, value, ...] reply into cart lines, by product id.
func items(flat []any) ([]shop.CartItem, error) {
	out := make([]shop.CartItem, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		f, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		id, err1 := strconv.ParseInt(f, 10, 64)
		q, err2 := strconv.ParseInt(v, 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("cart: bad entry %q=%q", f, v)
		}
		out = append(out, shop.CartItem{ProductID: id, Quantity: q})
	}
	slices.SortFunc(out, func(a, b shop.CartItem) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return out, nil
}
