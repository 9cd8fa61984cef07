package httpapi

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkGetProductHandler measures the handler and middleware alone over
// an in-memory store (no cache, no network): the floor under the cached path.
func BenchmarkGetProductHandler(b *testing.B) {
	f := newFixture(b, 1000)
	req := httptest.NewRequest("GET", "/v1/products/1", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
