package bench

import (
	"slices"
	"testing"
	"time"
)

func TestSplitBySnapshots(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	op := func(startMS, tookMS int) timedOp {
		return timedOp{start: at(startMS), took: time.Duration(tookMS) * time.Millisecond}
	}
	windows := []window{{at(100), at(200)}, {at(500), at(600)}}
	ops := []timedOp{
		op(0, 10),    // before
		op(90, 20),   // runs into the first window
		op(150, 1),   // inside it
		op(195, 50),  // runs out of it
		op(200, 10),  // starts as it ends: between
		op(300, 250), // spans into the second
		op(700, 5),   // after
	}
	during, between := splitBySnapshots(ops, windows)
	ms := func(ds []time.Duration) []int {
		var out []int
		for _, d := range ds {
			out = append(out, int(d/time.Millisecond))
		}
		return out
	}
	if got, want := ms(during), []int{20, 1, 50, 250}; !slices.Equal(got, want) {
		t.Errorf("during = %v, want %v", got, want)
	}
	if got, want := ms(between), []int{10, 10, 5}; !slices.Equal(got, want) {
		t.Errorf("between = %v, want %v", got, want)
	}
}
