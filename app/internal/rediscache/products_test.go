package rediscache

import (
	"testing"
	"time"

	"github.com/scalestack/scalestack/app/internal/consistency"
)

func TestMarkerLSN(t *testing.T) {
	tests := []struct {
		give string
		want consistency.LSN
	}{
		{"", 0},
		{"garbage", 0},
		{"12345 ab12", 12345},
		{"12345", 12345},
	}
	for _, tt := range tests {
		if got := markerLSN(tt.give); got != tt.want {
			t.Errorf("markerLSN(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestJitterStaysInRange(t *testing.T) {
	for range 1000 {
		got := jitter(100*time.Second, 0.1)
		if got < 90*time.Second || got > 100*time.Second {
			t.Fatalf("jitter = %s, want within [90s, 100s]", got)
		}
	}
	if got := jitter(time.Minute, 0); got != time.Minute {
		t.Errorf("jitter without spread = %s", got)
	}
}

func TestEarlyRefresh(t *testing.T) {
	now := time.Now()
	far := entry{DeltaMS: 5, Expiry: now.Add(time.Hour).UnixMilli()}
	due := entry{DeltaMS: 5, Expiry: now.Add(-time.Millisecond).UnixMilli()}
	var farHits, dueHits int
	for range 1000 {
		if earlyRefresh(far, now) {
			farHits++
		}
		if earlyRefresh(due, now) {
			dueHits++
		}
	}
	if farHits != 0 {
		t.Errorf("an entry an hour from expiry was refreshed %d times out of 1000", farHits)
	}
	if dueHits != 1000 {
		t.Errorf("an expired entry was refreshed %d times out of 1000, want all", dueHits)
	}
}
