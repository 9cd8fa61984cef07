package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/scalestack/scalestack/app/internal/shop"
)

// statusClientClosed is recorded when the client cancelled the request.
const statusClientClosed = 499

var (
	// errTooLarge is a body over MaxBodyBytes.
	errTooLarge = errors.New("request body too large")
	// errMethodNotAllowed is a known path with a method it does not serve.
	errMethodNotAllowed = errors.New("method not allowed")
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// status maps an error to its HTTP status and code. It is the only place
// that knows the mapping.
func status(err error) (int, string) {
	switch {
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, "method_not_allowed"
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, shop.ErrInvalid):
		return http.StatusBadRequest, "invalid"
	case errors.Is(err, shop.ErrUnauthorized):
		return http.StatusUnauthorized, "unauthorized"
	case errors.Is(err, shop.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, shop.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, shop.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, shop.ErrIdempotencyMismatch):
		return http.StatusUnprocessableEntity, "idempotency_mismatch"
	case errors.Is(err, shop.ErrOverloaded):
		return http.StatusServiceUnavailable, "overloaded"
	case errors.Is(err, shop.ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timeout"
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer, but metrics and
		// logs should not count it as a server error (nginx's 499).
		return statusClientClosed, "canceled"
	}
	return http.StatusInternalServerError, "internal"
}

// writeError writes the JSON error. Only unexpected errors (500, timeouts)
// are logged: the others are the client's or expected. The client reads a
// domain error's message, never the text of an unexpected cause (a timed-out
// database dial names the user, database and host).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, name := status(err)
	msg := err.Error()
	var de *shop.Error
	switch {
	case errors.As(err, &de):
		msg = de.Message
	case code == http.StatusInternalServerError:
		msg = "internal error"
	case code == http.StatusServiceUnavailable:
		msg = "the request timed out; retry shortly"
	case code == statusClientClosed:
		msg = "request canceled"
	}
	switch code {
	case http.StatusInternalServerError, http.StatusServiceUnavailable:
		if name != "overloaded" && r.URL.Path != "/readyz" {
			s.logger(r.Context()).Error("request failed", "status", code, "error", err.Error())
		}
	}
	h := w.Header()
	if code == http.StatusServiceUnavailable {
		h.Set("Retry-After", "1")
	}
	if code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="scalestack"`)
	}
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(errorBody{errorDetail{Code: name, Message: msg}})
}
