// Package httpapi serves the v1 HTTP API of DESIGN.md: routing, middleware
// (request ids, X-Served-By, logs, metrics, in-flight limit, drain), strict
// JSON decoding and the one mapping of domain errors to HTTP statuses.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scalestack/scalestack/app/internal/auth"
	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

// UserStore keeps accounts.
type UserStore interface {
	CreateUser(ctx context.Context, u shop.User) (shop.User, consistency.LSN, error)
	UserByEmail(ctx context.Context, email string) (shop.User, error)
}

// ProductStore keeps the catalog (the Redis decorator over PostgreSQL).
type ProductStore interface {
	Product(ctx context.Context, id int64) (shop.Product, error)
	Products(ctx context.Context, after int64, limit int) (shop.ProductPage, error)
	CreateProduct(ctx context.Context, in shop.ProductInput) (shop.Product, consistency.LSN, error)
	UpdateProduct(ctx context.Context, id int64, in shop.ProductInput) (shop.Product, consistency.LSN, error)
}

// OrderStore places and reads orders.
type OrderStore interface {
	PlaceOrder(ctx context.Context, userID int64, key string, req shop.OrderRequest) (shop.PlacedOrder, consistency.LSN, error)
	Order(ctx context.Context, userID, id int64) (shop.Order, error)
}

// CartStore keeps carts outside the process.
type CartStore interface {
	Cart(ctx context.Context, userID int64) ([]shop.CartItem, error)
	SetItem(ctx context.Context, userID, productID, quantity int64) ([]shop.CartItem, error)
	RemoveItem(ctx context.Context, userID, productID int64) ([]shop.CartItem, error)
}

// Deps is what the server needs.
type Deps struct {
	InstanceID     string
	Users          UserStore
	Products       ProductStore
	Orders         OrderStore
	Carts          CartStore
	Keys           *auth.Keyring
	AdminEmails    []string                        // lower-case
	Ready          func(ctx context.Context) error // DB and Redis checks for /readyz
	MaxInFlight    int
	MaxBodyBytes   int64
	RequestTimeout time.Duration
	// ProductMaxAge is the Cache-Control max-age of product reads (CDN). Default: 10s.
	ProductMaxAge time.Duration
	Log           *slog.Logger
	Registerer    prometheus.Registerer
	Gatherer      prometheus.Gatherer
}

// Server is the API's http.Handler.
type Server struct {
	d        Deps
	draining atomic.Bool
	inFlight chan struct{}
	handler  http.Handler
	m        httpMetrics

	productCacheControl string
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	rejected prometheus.Counter
}

// New builds the server and registers its metrics.
func New(d Deps) (*Server, error) {
	if d.ProductMaxAge == 0 {
		d.ProductMaxAge = 10 * time.Second
	}
	s := &Server{d: d, inFlight: make(chan struct{}, d.MaxInFlight)}
	// Shared caches (the CDN) may keep a product briefly and serve it stale
	// while they revalidate with If-None-Match.
	s.productCacheControl = fmt.Sprintf("public, max-age=%d, stale-while-revalidate=%d",
		int(d.ProductMaxAge.Seconds()), 3*int(d.ProductMaxAge.Seconds()))
	s.m = httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "Requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "Request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "http_in_flight_requests", Help: "Requests being served."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "http_overload_rejections_total", Help: "Requests refused with 503 by the in-flight limit."}),
	}
	for _, c := range []prometheus.Collector{s.m.requests, s.m.duration, s.m.inFlight, s.m.rejected} {
		if err := d.Registerer.Register(c); err != nil {
			return nil, err
		}
	}

	mux := http.NewServeMux()
	s.route(mux, "GET /healthz", s.healthz)
	s.route(mux, "GET /readyz", s.readyz)
	metrics := promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})
	s.route(mux, "GET /metrics", func(w http.ResponseWriter, r *http.Request) error { metrics.ServeHTTP(w, r); return nil })
	s.route(mux, "POST /v1/users", s.createUser)
	s.route(mux, "POST /v1/sessions", s.createSession)
	s.route(mux, "GET /v1/products", s.listProducts)
	s.route(mux, "GET /v1/products/{id}", s.getProduct)
	s.route(mux, "POST /v1/products", s.admin(s.createProduct))
	s.route(mux, "PUT /v1/products/{id}", s.admin(s.updateProduct))
	s.route(mux, "GET /v1/cart", s.user(s.getCart))
	s.route(mux, "PUT /v1/cart/items/{product_id}", s.user(s.putCartItem))
	s.route(mux, "DELETE /v1/cart/items/{product_id}", s.user(s.deleteCartItem))
	s.route(mux, "POST /v1/orders", s.user(s.createOrder))
	s.route(mux, "GET /v1/orders/{id}", s.user(s.getOrder))
	s.handler = s.observe(s.limit(s.unmatched(mux)))
	return s, nil
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// StartDraining makes /readyz answer 503 and every further response close
// its connection, so the load balancer moves traffic away before Shutdown.
func (s *Server) StartDraining() { s.draining.Store(true) }

// errorHandlerFunc is a handler that returns its error to the one mapping.
type errorHandlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) route(mux *http.ServeMux, pattern string, h errorHandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if ri, ok := r.Context().Value(routeKey{}).(*routeInfo); ok {
			ri.pattern = r.Pattern
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// unmatched turns the mux's plain-text 404 and 405 (with its Allow header)
// into the API's JSON errors.
func (s *Server) unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.header.Get("Allow"))
			s.writeError(w, r, errMethodNotAllowed)
			return
		}
		s.writeError(w, r, shop.Errorf(shop.ErrNotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
}

// headerProbe records what the mux's own error handler would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return shop.Errorf(shop.ErrUnavailable, "draining")
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := s.d.Ready(ctx); err != nil {
		// The cause names hosts and users: it goes to the log, not to whoever asked (the path is public).
		s.logger(r.Context()).Warn("not ready", "error", err.Error())
		return shop.Errorf(shop.ErrUnavailable, "a dependency is not answering")
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) isAdminEmail(email string) bool { return slices.Contains(s.d.AdminEmails, email) }
