package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// ProductStore is both what Products wraps (the PostgreSQL store) and what it
// offers (to httpapi).
type ProductStore interface {
	Product(ctx context.Context, id int64) (shop.Product, error)
	Products(ctx context.Context, after int64, limit int) (shop.ProductPage, error)
	CreateProduct(ctx context.Context, in shop.ProductInput) (shop.Product, consistency.LSN, error)
	UpdateProduct(ctx context.Context, id int64, in shop.ProductInput) (shop.Product, consistency.LSN, error)
}

// ProductOptions tunes the product cache.
type ProductOptions struct {
	TTL         time.Duration // lifetime of a cached product, spread by Jitter
	Jitter      float64       // fraction in [0, 1)
	NegativeTTL time.Duration // lifetime of a cached "not found"
	Timeout     time.Duration // per Redis call
	// FreshnessWindow is how long an invalidation marker lives: long enough
	// for every replica in rotation to replay the write (2 × max lag + check interval).
	FreshnessWindow time.Duration
	// FallbackConcurrency bounds database loads while Redis is failing.
	FallbackConcurrency int
}

// breakerCooldown is how long Redis is skipped after an error, so that an
// outage costs one timeout per second rather than one per request.
const breakerCooldown = time.Second

// Products is a cache-aside decorator over a ProductStore.
//
// Reads: Redis GET; a miss loads through singleflight (one load per key per
// instance at a time, the cache re-checked inside the flight), fills with a
// jittered TTL, caches "not found" briefly, and refreshes a hot key early with
// probability rising towards its expiry (XFetch). Writes: after the inner
// store commits, the entry is deleted and a freshness marker holding the
// commit LSN is set; a later fill reads at or after that LSN, and a fill that
// raced with an invalidation (marker changed meanwhile) is dropped. When Redis
// fails, reads go to the store behind a concurrency limit.
type Products struct {
	next      ProductStore
	rdb       redis.UniversalClient
	o         ProductOptions
	group     singleflight.Group
	fallback  chan struct{}
	downUntil atomic.Int64 // unix nanoseconds
	log       *slog.Logger
	ops       *prometheus.CounterVec
}

// NewProducts wraps next. reg receives cache_operations_total.
func NewProducts(next ProductStore, rdb redis.UniversalClient, o ProductOptions, log *slog.Logger, reg prometheus.Registerer) (*Products, error) {
	ops := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cache_operations_total",
		Help: "Product cache lookups and writes by result: hit, negative_hit, miss, early_refresh, error, fallback, overloaded, fill_skipped, invalidate, invalidate_error.",
	}, []string{"cache", "result"})
	if err := reg.Register(ops); err != nil {
		return nil, err
	}
	return &Products{next: next, rdb: rdb, o: o, fallback: make(chan struct{}, o.FallbackConcurrency), log: log, ops: ops}, nil
}

func (c *Products) count(result string) { c.ops.WithLabelValues("product", result).Inc() }

// keys share the hash tag {id}, so they live in one cluster slot.
func keys(id int64) (entry, marker string) {
	s := strconv.FormatInt(id, 10)
	return "product:{" + s + "}", "product:{" + s + "}:fresh"
}

// entry is what a cache value holds: a product, or nothing for "not found".
type entry struct {
	P       *cachedProduct `json:"p,omitempty"`
	DeltaMS int64          `json:"d"` // how long the load took
	Expiry  int64          `json:"x"` // unix milliseconds, for early refresh
}

type cachedProduct struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceCents  int64  `json:"price_cents"`
	Stock       int64  `json:"stock"`
	Version     int64  `json:"version"`
}

func (e entry) result(id int64) (shop.Product, error) {
	if e.P == nil {
		return shop.Product{}, shop.Errorf(shop.ErrNotFound, "product %d not found", id)
	}
	return shop.Product(*e.P), nil
}

// Product returns the product from Redis, or loads and caches it.
func (c *Products) Product(ctx context.Context, id int64) (shop.Product, error) {
	if c.redisDown() {
		return c.fallbackLoad(ctx, id)
	}
	key, marker := keys(id)
	e, m, found, err := c.lookup(ctx, key, marker)
	if err != nil {
		if ctx.Err() != nil {
			return shop.Product{}, ctx.Err() // the caller gave up; Redis is not to blame
		}
		c.trip(err)
		return c.fallbackLoad(ctx, id)
	}
	if found {
		if e.P == nil {
			c.count("negative_hit")
		} else {
			c.count("hit")
			if earlyRefresh(e, time.Now()) {
				c.count("early_refresh")
				c.group.DoChan(key+"|refresh", func() (any, error) {
					ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					defer cancel()
					return c.load(ctx, id, m, false)
				})
			}
		}
		return e.result(id)
	}
	c.count("miss")
	// Callers that must see a given LSN do not share a flight with those that need less.
	flight := key + "|" + strconv.FormatUint(uint64(consistency.MinLSN(ctx)), 10)
	v, err, _ := c.group.Do(flight, func() (any, error) {
		// The flight outlives any one caller: detach from its cancellation,
		// keep its values (the consistency token).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return c.load(ctx, id, m, true)
	})
	if err != nil {
		return shop.Product{}, err
	}
	return v.(entry).result(id)
}

// lookup reads the entry and the freshness marker in one round trip.
func (c *Products) lookup(ctx context.Context, key, marker string) (entry, string, bool, error) {
	rctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	vals, err := c.rdb.MGet(rctx, key, marker).Result()
	if err != nil {
		return entry{}, "", false, err
	}
	m, _ := vals[1].(string)
	s, ok := vals[0].(string)
	if !ok {
		return entry{}, m, false, nil
	}
	var e entry
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		// A value this code cannot read is a miss; the fill replaces it.
		return entry{}, m, false, nil
	}
	return e, m, true, nil
}

// load reads the store at or after the marker's LSN and fills the cache
// unless an invalidation happened meanwhile. With recheck it first looks at
// the cache again: a flight that just ended may have filled it.
func (c *Products) load(ctx context.Context, id int64, m string, recheck bool) (entry, error) {
	key, marker := keys(id)
	if recheck {
		e, m2, found, err := c.lookup(ctx, key, marker)
		if err == nil && found {
			return e, nil
		}
		if err == nil {
			m = m2
		}
	}
	ctx = consistency.WithMinLSN(ctx, markerLSN(m))
	start := time.Now()
	p, err := c.next.Product(ctx, id)
	took := time.Since(start)
	if err != nil && !errors.Is(err, shop.ErrNotFound) {
		return entry{}, err
	}
	ttl := c.o.NegativeTTL
	e := entry{DeltaMS: max(took.Milliseconds(), 1)}
	if err == nil {
		cp := cachedProduct(p)
		e.P = &cp
		ttl = jitter(c.o.TTL, c.o.Jitter)
	}
	e.Expiry = time.Now().Add(ttl).UnixMilli()
	val, merr := json.Marshal(e)
	if merr != nil {
		return entry{}, merr
	}
	rctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	filled, ferr := fillScript.Run(rctx, c.rdb, []string{key, marker}, m, val, ttl.Milliseconds()).Int()
	switch {
	case ferr != nil:
		c.trip(ferr) // counts the error
	case filled == 0:
		c.count("fill_skipped")
	}
	return e, nil
}

// fillScript sets the entry only if the marker is still what the reader saw.
var fillScript = redis.NewScript(`
local m = redis.call('GET', KEYS[2])
if (m or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`)

// invalidateScript deletes the entry and sets the marker to the larger of its
// LSN and the new one, with a fresh nonce so that in-flight fills notice.
var invalidateScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
local lsn = ARGV[1]
local cur = redis.call('GET', KEYS[2])
if cur then
  local curLSN = string.match(cur, '^(%d+)')
  if curLSN and tonumber(curLSN) > tonumber(lsn) then lsn = curLSN end
end
redis.call('SET', KEYS[2], lsn .. ' ' .. ARGV[2], 'PX', ARGV[3])
return 1`)

// markerLSN reads the LSN of a marker "lsn nonce"; empty or bad is zero.
func markerLSN(m string) consistency.LSN {
	s, _, _ := strings.Cut(m, " ")
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return consistency.LSN(n)
}

// earlyRefresh is XFetch (Vattani et al.): refresh before expiry with a
// probability that grows as expiry nears and with how long a load takes.
func earlyRefresh(e entry, now time.Time) bool {
	gap := -float64(e.DeltaMS) * math.Log(1-mrand.Float64()) // β = 1
	return float64(now.UnixMilli())+gap >= float64(e.Expiry)
}

func jitter(ttl time.Duration, frac float64) time.Duration {
	if frac <= 0 {
		return ttl
	}
	return ttl - time.Duration(mrand.Float64()*frac*float64(ttl))
}

func (c *Products) redisDown() bool { return time.Now().UnixNano() < c.downUntil.Load() }

func (c *Products) trip(err error) {
	c.count("error")
	if c.downUntil.Swap(time.Now().Add(breakerCooldown).UnixNano()) < time.Now().UnixNano() {
		c.log.Warn("redis failing; product reads go to the database for a while", "error", err.Error(), "cooldown", breakerCooldown)
	}
}

// fallbackLoad reads the store directly, one load per key, at most
// FallbackConcurrency at once; beyond that the caller gets ErrOverloaded (503).
func (c *Products) fallbackLoad(ctx context.Context, id int64) (shop.Product, error) {
	c.count("fallback")
	key, _ := keys(id)
	flight := "db|" + key + "|" + strconv.FormatUint(uint64(consistency.MinLSN(ctx)), 10)
	v, err, _ := c.group.Do(flight, func() (any, error) {
		t := time.NewTimer(50 * time.Millisecond)
		defer t.Stop()
		select {
		case c.fallback <- struct{}{}:
			defer func() { <-c.fallback }()
		case <-t.C:
			c.count("overloaded")
			return nil, shop.Errorf(shop.ErrOverloaded, "too many cache-less reads; retry shortly")
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return c.next.Product(ctx, id)
	})
	if err != nil {
		return shop.Product{}, err
	}
	return v.(shop.Product), nil
}

// Products is not cached: pages change with every insert.
func (c *Products) Products(ctx context.Context, after int64, limit int) (shop.ProductPage, error) {
	return c.next.Products(ctx, after, limit)
}

// CreateProduct creates through the store, then invalidates (a 404 may be cached).
func (c *Products) CreateProduct(ctx context.Context, in shop.ProductInput) (shop.Product, consistency.LSN, error) {
	p, lsn, err := c.next.CreateProduct(ctx, in)
	if err == nil {
		c.Invalidate(ctx, lsn, p.ID)
	}
	return p, lsn, err
}

// UpdateProduct updates through the store, then invalidates after the commit.
func (c *Products) UpdateProduct(ctx context.Context, id int64, in shop.ProductInput) (shop.Product, consistency.LSN, error) {
	p, lsn, err := c.next.UpdateProduct(ctx, id, in)
	if err == nil {
		c.Invalidate(ctx, lsn, id)
	}
	return p, lsn, err
}

// Invalidate removes the cached products written by a transaction that
// committed at lsn. Failures are logged and counted, not returned: the write
// has committed and the entry expires by TTL.
func (c *Products) Invalidate(ctx context.Context, lsn consistency.LSN, ids ...int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*c.o.Timeout)
	defer cancel()
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	// One round trip for all of them: an order touches up to 100 products. Eval rather than EvalSha, because a
	// pipeline cannot fall back when the script is not loaded yet.
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(ids))
	for i, id := range ids {
		key, marker := keys(id)
		cmds[i] = invalidateScript.Eval(ctx, pipe, []string{key, marker},
			strconv.FormatUint(uint64(lsn), 10), hex.EncodeToString(nonce), c.o.FreshnessWindow.Milliseconds())
	}
	_, _ = pipe.Exec(ctx) // each command's own error is checked below
	for i, id := range ids {
		if err := cmds[i].Err(); err != nil {
			c.count("invalidate_error")
			c.log.Error("product cache invalidation failed; the entry lives until its TTL", "product_id", id, "error", err.Error())
			continue
		}
		c.count("invalidate")
	}
}
