package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/scalestack/scalestack/app/internal/consistency"
	"github.com/scalestack/scalestack/app/internal/shop"
)

type routeKey struct{}

// routeInfo lets the outer middleware learn the matched pattern (for metric
// labels) from inside the mux.
type routeInfo struct{ pattern string }

type logKey struct{}

// logger returns the request's logger (with its request id).
func (s *Server) logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok {
		return l
	}
	return s.d.Log
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe is the outermost middleware: X-Served-By, request id, panic
// recovery, an access log line and the request metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("X-Served-By", s.d.InstanceID)
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		log := s.d.Log.With("request_id", id)
		ri := &routeInfo{}
		ctx := context.WithValue(context.WithValue(r.Context(), logKey{}, log), routeKey{}, ri)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "panic", fmt.Sprint(p))
				if rec.status == 0 {
					s.writeError(rec, r, fmt.Errorf("panic: %v", p))
				}
			}
			route := ri.pattern
			if route == "" {
				route = "unmatched"
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			d := time.Since(start)
			method := methodLabel(r.Method)
			s.m.requests.WithLabelValues(route, method, strconv.Itoa(rec.status)).Inc()
			s.m.duration.WithLabelValues(route, method).Observe(d.Seconds())
			log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
				slog.Int("status", rec.status), slog.Int("bytes", rec.bytes), slog.Duration("duration", d))
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// methodLabel bounds the method label: net/http accepts any token as a
// method, and one series per made-up method would grow without limit.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// limit applies the in-flight limit (a fast 503, never a queue), closes
// connections while draining, bounds the request's time and reads the
// consistency token. Health and metrics bypass the limit: a busy instance
// must still answer its load balancer.
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			next.ServeHTTP(w, r)
			return
		}
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
		default:
			s.m.rejected.Inc()
			s.writeError(w, r, shop.Errorf(shop.ErrOverloaded, "too many requests in flight; retry shortly"))
			return
		}
		s.m.inFlight.Inc()
		defer s.m.inFlight.Dec()

		ctx, cancel := context.WithTimeout(r.Context(), s.d.RequestTimeout)
		defer cancel()
		lsn, err := readToken(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(consistency.WithMinLSN(ctx, lsn)))
	})
}

// readToken takes the consistency token from the header, else the cookie. A
// malformed header is a 400; a malformed cookie is ignored.
func readToken(r *http.Request) (consistency.LSN, error) {
	if h := r.Header.Get(consistency.Header); h != "" {
		lsn, err := consistency.ParseLSN(h)
		if err != nil {
			return 0, shop.Errorf(shop.ErrInvalid, "%s: %v", consistency.Header, err)
		}
		return lsn, nil
	}
	if c, err := r.Cookie(consistency.Cookie); err == nil {
		if lsn, err := consistency.ParseLSN(c.Value); err == nil {
			return lsn, nil
		}
	}
	return 0, nil
}

// tokenCookieAge is how long the browser returns the token: far longer than
// any replica in rotation may lag.
const tokenCookieAge = 60

// setToken hands the client the consistency token of its write. The cookie
// is Secure when the client reached us over TLS (directly or at the ALB/CDN).
func setToken(w http.ResponseWriter, r *http.Request, lsn consistency.LSN) {
	if lsn == 0 {
		return
	}
	v := lsn.String()
	w.Header().Set(consistency.Header, v)
	http.SetCookie(w, &http.Cookie{Name: consistency.Cookie, Value: v, Path: "/", MaxAge: tokenCookieAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"})
}
