// Package rediscache is the Redis adapter: a cache-aside decorator over the
// product store, the order-store decorator that invalidates products whose
// stock changed, and the carts (session state kept outside the instances).
package rediscache

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewClient returns a client for the REDIS_URL (rediss:// turns TLS on) with
// the AUTH token set and every socket operation bounded by timeout. Retries
// are off: a slow cache must cost one timeout, not four.
func NewClient(rawURL, authToken string, timeout time.Duration) (*redis.Client, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	if authToken != "" {
		opt.Password = authToken
	}
	opt.DialTimeout = max(4*timeout, 250*time.Millisecond)
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.MaxRetries = -1 // go-redis: -1 disables retries
	opt.ContextTimeoutEnabled = true
	return redis.NewClient(opt), nil
}

// SetLogger routes go-redis's own messages (pool dial failures, ...) to log
// as structured warnings. go-redis keeps one logger per process.
func SetLogger(log *slog.Logger) { redis.SetLogger(redisLogger{log}) }

type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
