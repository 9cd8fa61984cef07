package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/scalestack/scalestack/app/internal/shop"
)

// decode reads exactly one JSON value of dst's type from a body of at most
// maxBytes: unknown fields, trailing data and malformed JSON are 400, a larger
// body 413 (at once when Content-Length says so, before reading anything).
func decode(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) error {
	if r.ContentLength > maxBytes {
		return errTooLarge
	}
	body := http.MaxBytesReader(w, r.Body, maxBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return shop.Errorf(shop.ErrInvalid, "body must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errTooLarge
	case errors.Is(err, io.EOF):
		return shop.Errorf(shop.ErrInvalid, "body is empty; want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &se):
		return shop.Errorf(shop.ErrInvalid, "body is not valid JSON")
	case errors.As(err, &te):
		return shop.Errorf(shop.ErrInvalid, "field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return shop.Errorf(shop.ErrInvalid, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return shop.Errorf(shop.ErrInvalid, "body cannot be decoded")
}

// pathID parses a positive integer path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, shop.Errorf(shop.ErrInvalid, "%s must be a positive integer", name)
	}
	return id, nil
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err := w.Write(append(b, '\n'))
	return err
}
