package gcpace

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live uint64
		want int
	}{
		{0, 100},
		{10 * mib, 100},
		{32 * mib, 100},
		{64 * mib, 50},
		{200 * mib, 16},
		{256 * mib, 12},
		{4096 * mib, 12},
	}
	for _, tt := range tests {
		if got := Percent(tt.live); got != tt.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tt.live/mib, got, tt.want)
		}
	}
}

// The live-heap metric exists in this Go, and Run gives the percentage
// back when it stops.
func TestRunRestoresPercent(t *testing.T) {
	old := debug.SetGCPercent(77)
	defer debug.SetGCPercent(old)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, time.Millisecond)
	}()
	cancel()
	<-done
	if p := debug.SetGCPercent(old); p != 77 {
		t.Errorf("after Run the percentage is %d, want 77 back", p)
	}
}
