// Package gcpace paces Go's garbage collector by the size of the live heap.
//
// With GOGC=100, Go's default, the heap grows to twice what is live before
// it is collected, so a member holding 200 MB of keys would use 400 MB. The
// store's keys are pointer-free (the collector marks the tree, not the
// bytes), so collecting a big heap more often costs little: Run lets the
// heap grow by 32 MiB or an eighth of what is live, whichever is more.
package gcpace

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// minHeadroom is how much the heap may always grow between collections.
const minHeadroom = 32 << 20

// minPercent is the least GOGC percentage set: an eighth of the live heap.
const minPercent = 12

// liveMetric is the runtime metric of the heap's live bytes at the end of
// the last collection.
const liveMetric = "/gc/heap/live:bytes"

// Percent returns the GOGC percentage that lets a heap of live bytes grow
// by max(32 MiB, live/8) before the next collection: 100, Go's default,
// while live is at most 32 MiB, falling to 12 at about 256 MiB.
func Percent(live uint64) int {
	if live <= minHeadroom {
		return 100
	}
	return max(minPercent, int(100*minHeadroom/live))
}

// Run sets the GOGC percentage from the live heap every interval until ctx
// is done, then puts back the percentage it found.
func Run(ctx context.Context, interval time.Duration) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	sample := []metrics.Sample{{Name: liveMetric}}
	t := time.NewTicker(interval)
	defer t.Stop()
	set := 100
	for {
		metrics.Read(sample)
		if p := Percent(sample[0].Value.Uint64()); p != set {
			debug.SetGCPercent(p)
			set = p
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
