// Package config loads the app's settings from the environment. It is the only
// place in the app that reads environment variables: everything else receives a
// Config.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// ALBDeregistrationDelay is the load balancer's deregistration delay set by the
// infrastructure. DrainDelay must be shorter, so that an instance stops
// answering before the ALB stops waiting for it.
const ALBDeregistrationDelay = 30 * time.Second

// SigningKey is one JWT signing secret and the key id published in tokens.
type SigningKey struct {
	ID     string
	Secret []byte
}

// Config is every setting of the api process. Durations are Go durations
// ("250ms", "10s") in the environment.
type Config struct {
	// The infra → app contract of DESIGN.md.
	DatabaseWriterURL  string   // DATABASE_WRITER_URL, required; carries no password
	DatabaseReaderURLs []string // DATABASE_READER_URLS, comma-separated; none: reads go to the writer
	RedisURL           string   // REDIS_URL, required; rediss:// turns TLS on
	AdminEmails        []string // ADMIN_EMAILS, comma-separated, compared case-insensitively

	// Secrets; LogValue masks them.
	DatabasePassword string       // DATABASE_PASSWORD
	RedisAuthToken   string       // REDIS_AUTH_TOKEN, optional
	JWTSigningKeys   []SigningKey // JWT_SIGNING_KEYS, required: "kid:base64secret,..."; the first signs, all verify

	HTTPAddr   string     // HTTP_ADDR
	InstanceID string     // INSTANCE_ID, sent as X-Served-By; default: the host name
	LogLevel   slog.Level // LOG_LEVEL: debug, info, warn, error

	HTTPReadHeaderTimeout time.Duration // HTTP_READ_HEADER_TIMEOUT
	HTTPReadTimeout       time.Duration // HTTP_READ_TIMEOUT
	HTTPWriteTimeout      time.Duration // HTTP_WRITE_TIMEOUT
	HTTPIdleTimeout       time.Duration // HTTP_IDLE_TIMEOUT
	RequestTimeout        time.Duration // REQUEST_TIMEOUT: deadline of one request's work, outbound calls included
	MaxInFlight           int           // MAX_IN_FLIGHT: requests served at once; more get a fast 503
	MaxBodyBytes          int64         // MAX_BODY_BYTES: larger request bodies get 413

	DrainDelay      time.Duration // DRAIN_DELAY: /readyz fails this long before the server stops accepting
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: in-flight requests get this long after the drain delay

	DatabaseMaxConns             int           // DATABASE_MAX_CONNS, per pool
	DatabaseQueryTimeout         time.Duration // DATABASE_QUERY_TIMEOUT, per store call
	DatabaseReplicaMaxLag        time.Duration // DATABASE_REPLICA_MAX_LAG: a replica further behind is skipped
	DatabaseReplicaCheckInterval time.Duration // DATABASE_REPLICA_CHECK_INTERVAL

	RedisTimeout                time.Duration // REDIS_TIMEOUT: dial (×4), read and write timeout of every Redis call
	CacheProductTTL             time.Duration // CACHE_PRODUCT_TTL
	CacheTTLJitter              float64       // CACHE_TTL_JITTER: TTLs are shortened by up to this fraction
	CacheNegativeTTL            time.Duration // CACHE_NEGATIVE_TTL: how long a 404 is cached
	CacheFallbackMaxConcurrency int           // CACHE_FALLBACK_MAX_CONCURRENCY: database loads at once while Redis fails
	ProductMaxAge               time.Duration // PRODUCT_CACHE_MAX_AGE: Cache-Control max-age of product reads (CDN)

	CartTTL   time.Duration // CART_TTL: a cart expires this long after its last change
	JWTTTL    time.Duration // JWT_TTL: session lifetime
	JWTIssuer string        // JWT_ISSUER
}

// Defaults returns every default in one place.
func Defaults() Config {
	host, _ := os.Hostname()
	return Config{
		HTTPAddr:   ":8080",
		InstanceID: host,
		LogLevel:   slog.LevelInfo,

		HTTPReadHeaderTimeout: 5 * time.Second,
		HTTPReadTimeout:       10 * time.Second,
		HTTPWriteTimeout:      15 * time.Second,
		HTTPIdleTimeout:       60 * time.Second,
		RequestTimeout:        10 * time.Second,
		MaxInFlight:           512,
		MaxBodyBytes:          1 << 20,

		DrainDelay:      10 * time.Second,
		ShutdownTimeout: 15 * time.Second,

		DatabaseMaxConns:             10,
		DatabaseQueryTimeout:         3 * time.Second,
		DatabaseReplicaMaxLag:        5 * time.Second,
		DatabaseReplicaCheckInterval: time.Second,

		RedisTimeout:                100 * time.Millisecond,
		CacheProductTTL:             5 * time.Minute,
		CacheTTLJitter:              0.1,
		CacheNegativeTTL:            10 * time.Second,
		CacheFallbackMaxConcurrency: 16,
		ProductMaxAge:               10 * time.Second,

		CartTTL:   7 * 24 * time.Hour,
		JWTTTL:    time.Hour,
		JWTIssuer: "scalestack",
	}
}

// Load reads the environment through getenv over Defaults and validates the
// result. Every problem is reported at once.
func Load(getenv func(string) string) (Config, error) {
	c, err := parse(getenv)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// LoadMigrate reads the environment for "api migrate", which needs only the
// primary (DATABASE_WRITER_URL, DATABASE_PASSWORD): a migration job need not
// hold the Redis or JWT secrets.
func LoadMigrate(getenv func(string) string) (Config, error) {
	c, err := parse(getenv)
	if err != nil {
		return c, err
	}
	if c.DatabaseWriterURL == "" {
		return c, errors.New("DATABASE_WRITER_URL: required")
	}
	return c, nil
}

// parse overlays the environment on Defaults, reporting malformed values.
func parse(getenv func(string) string) (Config, error) {
	c := Defaults()
	var errs []error
	str := func(key string, dst *string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	dur := func(key string, dst *time.Duration) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: want a duration such as 250ms or 10s, got %q", key, v))
				return
			}
			*dst = d
		}
	}
	integer := func(key string, set func(int64)) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: want an integer, got %q", key, v))
				return
			}
			set(n)
		}
	}

	str("DATABASE_WRITER_URL", &c.DatabaseWriterURL)
	c.DatabaseReaderURLs = list(getenv("DATABASE_READER_URLS"))
	str("REDIS_URL", &c.RedisURL)
	c.AdminEmails = list(strings.ToLower(getenv("ADMIN_EMAILS")))
	c.DatabasePassword = getenv("DATABASE_PASSWORD")
	c.RedisAuthToken = getenv("REDIS_AUTH_TOKEN")
	keys, err := ParseSigningKeys(getenv("JWT_SIGNING_KEYS"))
	if err != nil {
		errs = append(errs, fmt.Errorf("JWT_SIGNING_KEYS: %w", err))
	}
	c.JWTSigningKeys = keys

	str("HTTP_ADDR", &c.HTTPAddr)
	str("INSTANCE_ID", &c.InstanceID)
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error, got %q", v))
		}
	}
	dur("HTTP_READ_HEADER_TIMEOUT", &c.HTTPReadHeaderTimeout)
	dur("HTTP_READ_TIMEOUT", &c.HTTPReadTimeout)
	dur("HTTP_WRITE_TIMEOUT", &c.HTTPWriteTimeout)
	dur("HTTP_IDLE_TIMEOUT", &c.HTTPIdleTimeout)
	dur("REQUEST_TIMEOUT", &c.RequestTimeout)
	integer("MAX_IN_FLIGHT", func(n int64) { c.MaxInFlight = int(n) })
	integer("MAX_BODY_BYTES", func(n int64) { c.MaxBodyBytes = n })
	dur("DRAIN_DELAY", &c.DrainDelay)
	dur("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	integer("DATABASE_MAX_CONNS", func(n int64) { c.DatabaseMaxConns = int(n) })
	dur("DATABASE_QUERY_TIMEOUT", &c.DatabaseQueryTimeout)
	dur("DATABASE_REPLICA_MAX_LAG", &c.DatabaseReplicaMaxLag)
	dur("DATABASE_REPLICA_CHECK_INTERVAL", &c.DatabaseReplicaCheckInterval)
	dur("REDIS_TIMEOUT", &c.RedisTimeout)
	dur("CACHE_PRODUCT_TTL", &c.CacheProductTTL)
	if v := strings.TrimSpace(getenv("CACHE_TTL_JITTER")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("CACHE_TTL_JITTER: want a fraction such as 0.1, got %q", v))
		} else {
			c.CacheTTLJitter = f
		}
	}
	dur("CACHE_NEGATIVE_TTL", &c.CacheNegativeTTL)
	integer("CACHE_FALLBACK_MAX_CONCURRENCY", func(n int64) { c.CacheFallbackMaxConcurrency = int(n) })
	dur("PRODUCT_CACHE_MAX_AGE", &c.ProductMaxAge)
	dur("CART_TTL", &c.CartTTL)
	dur("JWT_TTL", &c.JWTTTL)
	str("JWT_ISSUER", &c.JWTIssuer)

	return c, errors.Join(errs...)
}

// Validate reports every setting out of range, naming the variable, the
// allowed range and the value given.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.DatabaseWriterURL == "" {
		bad("DATABASE_WRITER_URL: required")
	}
	if c.RedisURL == "" {
		bad("REDIS_URL: required")
	}
	if len(c.JWTSigningKeys) == 0 {
		bad("JWT_SIGNING_KEYS: required, at least one kid:base64secret")
	}
	if c.InstanceID == "" {
		bad("INSTANCE_ID: required when the host name is unknown")
	}
	positive := []struct {
		key string
		d   time.Duration
	}{
		{"HTTP_READ_HEADER_TIMEOUT", c.HTTPReadHeaderTimeout},
		{"HTTP_READ_TIMEOUT", c.HTTPReadTimeout},
		{"HTTP_WRITE_TIMEOUT", c.HTTPWriteTimeout},
		{"HTTP_IDLE_TIMEOUT", c.HTTPIdleTimeout},
		{"REQUEST_TIMEOUT", c.RequestTimeout},
		{"SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"DATABASE_QUERY_TIMEOUT", c.DatabaseQueryTimeout},
		{"DATABASE_REPLICA_MAX_LAG", c.DatabaseReplicaMaxLag},
		{"DATABASE_REPLICA_CHECK_INTERVAL", c.DatabaseReplicaCheckInterval},
		{"REDIS_TIMEOUT", c.RedisTimeout},
		{"CACHE_PRODUCT_TTL", c.CacheProductTTL},
		{"CACHE_NEGATIVE_TTL", c.CacheNegativeTTL},
		{"CART_TTL", c.CartTTL},
		{"PRODUCT_CACHE_MAX_AGE", c.ProductMaxAge},
		{"JWT_TTL", c.JWTTTL},
	}
	for _, p := range positive {
		if p.d <= 0 {
			bad("%s: must be more than 0, but %s was provided", p.key, p.d)
		}
	}
	if c.DrainDelay < 0 || c.DrainDelay >= ALBDeregistrationDelay {
		bad("DRAIN_DELAY: must be at least 0 and shorter than the ALB deregistration delay (%s), but %s was provided", ALBDeregistrationDelay, c.DrainDelay)
	}
	if c.MaxInFlight < 1 {
		bad("MAX_IN_FLIGHT: must be 1 or more, but %d was provided", c.MaxInFlight)
	}
	if c.MaxBodyBytes < 1 {
		bad("MAX_BODY_BYTES: must be 1 or more, but %d was provided", c.MaxBodyBytes)
	}
	if c.DatabaseMaxConns < 1 || c.DatabaseMaxConns > 10000 {
		bad("DATABASE_MAX_CONNS: must be in [1, 10000], but %d was provided", c.DatabaseMaxConns)
	}
	if c.CacheTTLJitter < 0 || c.CacheTTLJitter >= 1 {
		bad("CACHE_TTL_JITTER: must be in [0, 1), but %g was provided", c.CacheTTLJitter)
	}
	if c.CacheFallbackMaxConcurrency < 1 {
		bad("CACHE_FALLBACK_MAX_CONCURRENCY: must be 1 or more, but %d was provided", c.CacheFallbackMaxConcurrency)
	}
	return errors.Join(errs...)
}

// ParseSigningKeys parses "kid:base64secret,kid2:base64secret". Key ids must be
// unique and secrets at least 32 bytes long (HS256).
func ParseSigningKeys(s string) ([]SigningKey, error) {
	var keys []SigningKey
	seen := map[string]bool{}
	for _, item := range list(s) {
		id, b64, ok := strings.Cut(item, ":")
		if !ok || id == "" {
			return nil, fmt.Errorf("want kid:base64secret, got an entry without a kid")
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("key %q: secret is not standard base64", id)
		}
		if len(secret) < 32 {
			return nil, fmt.Errorf("key %q: secret must be at least 32 bytes, but %d were provided", id, len(secret))
		}
		if seen[id] {
			return nil, fmt.Errorf("key %q: listed twice", id)
		}
		seen[id] = true
		keys = append(keys, SigningKey{ID: id, Secret: secret})
	}
	return keys, nil
}

// LogValue logs the settings with secrets masked.
func (c Config) LogValue() slog.Value {
	kids := make([]string, len(c.JWTSigningKeys))
	for i, k := range c.JWTSigningKeys {
		kids[i] = k.ID
	}
	return slog.GroupValue(
		slog.String("database_writer_url", c.DatabaseWriterURL),
		slog.Any("database_reader_urls", c.DatabaseReaderURLs),
		slog.String("redis_url", c.RedisURL),
		slog.Any("admin_emails", c.AdminEmails),
		slog.String("database_password", mask(c.DatabasePassword)),
		slog.String("redis_auth_token", mask(c.RedisAuthToken)),
		slog.Any("jwt_signing_key_ids", kids),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("instance_id", c.InstanceID),
		slog.String("log_level", c.LogLevel.String()),
		slog.Duration("request_timeout", c.RequestTimeout),
		slog.Int("max_in_flight", c.MaxInFlight),
		slog.Int64("max_body_bytes", c.MaxBodyBytes),
		slog.Duration("drain_delay", c.DrainDelay),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int("database_max_conns", c.DatabaseMaxConns),
		slog.Duration("database_replica_max_lag", c.DatabaseReplicaMaxLag),
		slog.Duration("redis_timeout", c.RedisTimeout),
		slog.Duration("cache_product_ttl", c.CacheProductTTL),
		slog.Duration("product_cache_max_age", c.ProductMaxAge),
		slog.Duration("cart_ttl", c.CartTTL),
		slog.Duration("jwt_ttl", c.JWTTTL),
	)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}

// list splits a comma-separated value, trimming blanks and dropping empties.
func list(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
