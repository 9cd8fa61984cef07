// Command api serves the scalestack HTTP API. "api migrate" applies the
// database migrations and exits; it is safe to run from several instances at
// once.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/config"
	"github.com/scalestack/scalestack/app/internal/httpapi"
	"github.com/scalestack/scalestack/app/internal/postgres"
	"github.com/scalestack/scalestack/app/internal/rediscache"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		err = migrate(context.Background(), os.Getenv, os.Stdout)
	} else if len(os.Args) > 1 {
		err = fmt.Errorf("unknown command %q; want no argument (serve) or migrate", os.Args[1])
	} else {
		err = run(context.Background(), os.Getenv, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func newLogger(cfg config.Config, stdout io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel})).
		With("service", "api", "instance", cfg.InstanceID)
}

// migrate applies the embedded migrations to the primary.
func migrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.LoadMigrate(getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	return postgres.Migrate(ctx, cfg.DatabaseWriterURL, cfg.DatabasePassword, newLogger(cfg, stdout))
}

// run serves until SIGTERM/SIGINT (or ctx ends), then drains: /readyz turns
// 503 at once, the load balancer stops routing within its check interval,
// in-flight requests finish during DrainDelay, and Shutdown closes the rest
// within ShutdownTimeout.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log := newLogger(cfg, stdout)
	log.Info("starting", "config", cfg)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	db, err := postgres.Open(ctx, postgres.Options{
		WriterURL:     cfg.DatabaseWriterURL,
		ReaderURLs:    cfg.DatabaseReaderURLs,
		Password:      cfg.DatabasePassword,
		MaxConns:      cfg.DatabaseMaxConns,
		QueryTimeout:  cfg.DatabaseQueryTimeout,
		MaxLag:        cfg.DatabaseReplicaMaxLag,
		CheckInterval: cfg.DatabaseReplicaCheckInterval,
	}, log, reg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()

	rediscache.SetLogger(log)
	rdb, err := rediscache.NewClient(cfg.RedisURL, cfg.RedisAuthToken, cfg.RedisTimeout)
	if err != nil {
		return err
	}
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	if err := rdb.Ping(pctx).Err(); err != nil {
		// Not fatal: product reads fail open to the database; readiness reports it.
		log.Warn("redis unreachable at start", "error", err.Error())
	}
	cancel()

	keys, err := auth.NewKeyring(cfg.JWTSigningKeys, cfg.JWTIssuer, cfg.JWTTTL)
	if err != nil {
		return err
	}
	products, err := rediscache.NewProducts(db.Products(), rdb, rediscache.ProductOptions{
		TTL:                 cfg.CacheProductTTL,
		Jitter:              cfg.CacheTTLJitter,
		NegativeTTL:         cfg.CacheNegativeTTL,
		Timeout:             cfg.RedisTimeout,
		FreshnessWindow:     2*cfg.DatabaseReplicaMaxLag + cfg.DatabaseReplicaCheckInterval,
		FallbackConcurrency: cfg.CacheFallbackMaxConcurrency,
	}, log, reg)
	if err != nil {
		return err
	}
	api, err := httpapi.New(httpapi.Deps{
		InstanceID:  cfg.InstanceID,
		Users:       db.Users(),
		Products:    products,
		Orders:      rediscache.Orders{OrderStore: db.Orders(), Products: products},
		Carts:       rediscache.NewCarts(rdb, cfg.CartTTL, cfg.RedisTimeout),
		Keys:        keys,
		AdminEmails: cfg.AdminEmails,
		Ready: func(ctx context.Context) error {
			g, ctx := errgroup.WithContext(ctx)
			g.Go(func() error {
				if err := db.Ping(ctx); err != nil {
					return fmt.Errorf("database: %w", err)
				}
				return nil
			})
			g.Go(func() error {
				if err := rdb.Ping(ctx).Err(); err != nil {
					return fmt.Errorf("redis: %w", err)
				}
				return nil
			})
			return g.Wait()
		},
		MaxInFlight:    cfg.MaxInFlight,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		RequestTimeout: cfg.RequestTimeout,
		ProductMaxAge:  cfg.ProductMaxAge,
		Log:            log,
		Registerer:     reg,
		Gatherer:       reg,
	})
	if err != nil {
		return err
	}

	// The replica checks run until run returns, and end before the pools
	// close (the deferred db.Close runs after this).
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	checksDone := make(chan struct{})
	go func() { defer close(checksDone); db.Run(bg) }()
	defer func() { stopBG(); <-checksDone }()

	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	sig, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-sig.Done():
	}

	log.Info("draining", "drain_delay", cfg.DrainDelay)
	api.StartDraining()
	select {
	case <-time.After(cfg.DrainDelay):
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}
