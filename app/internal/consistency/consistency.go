// Package consistency carries read-your-writes tokens: the PostgreSQL WAL
// position (LSN) of a client's last write. A read that carries one may only be
// served by a replica that has replayed at least that far.
package consistency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Header is the request and response header that carries the token. The same
// value is also set in the cookie named Cookie, for browsers.
const (
	Header = "X-Consistency-Token"
	Cookie = "consistency_token"
)

// LSN is a PostgreSQL write-ahead-log position. Zero means "no requirement".
type LSN uint64

// String formats the LSN the way PostgreSQL does ("16/B374D848").
func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint32(l)) }

var errSyntax = errors.New("consistency token: want an LSN such as 16/B374D848")

// ParseLSN parses PostgreSQL's text form of an LSN: two hexadecimal numbers of
// at most 8 digits each, separated by a slash.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || len(hi) == 0 || len(hi) > 8 || len(lo) == 0 || len(lo) > 8 {
		return 0, errSyntax
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, errSyntax
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, errSyntax
	}
	return LSN(h<<32 | l), nil
}

type ctxKey struct{}

// WithMinLSN returns a context whose reads must see at least lsn. A smaller
// LSN than one already present is ignored.
func WithMinLSN(ctx context.Context, lsn LSN) context.Context {
	if lsn == 0 || lsn <= MinLSN(ctx) {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, lsn)
}

// MinLSN returns the position reads in ctx must have reached, or zero.
func MinLSN(ctx context.Context) LSN {
	l, _ := ctx.Value(ctxKey{}).(LSN)
	return l
}
