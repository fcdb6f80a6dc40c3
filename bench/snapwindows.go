package bench

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"time"
)

// window is a span of time in which a member was writing a snapshot.
type window struct{ from, to time.Time }

// timedOp is one write: when it started and how long it took.
type timedOp struct {
	start time.Time
	took  time.Duration
}

// splitBySnapshots returns the latencies of the ops that overlapped one
// of windows (sorted by from, not overlapping) and of the others.
func splitBySnapshots(ops []timedOp, windows []window) (during, between []time.Duration) {
	for _, op := range ops {
		end := op.start.Add(op.took)
		overlaps := false
		for _, w := range windows {
			if op.start.Before(w.to) && end.After(w.from) {
				overlaps = true
				break
			}
		}
		if overlaps {
			during = append(during, op.took)
		} else {
			between = append(between, op.took)
		}
	}
	return during, between
}

// snapshotMetric is the gauge a member sets to 1 while it writes a
// snapshot of its store.
const snapshotMetric = "raftkv_snapshot_writing"

// watchSnapshots polls the metrics of the member at base every interval
// until ctx ends, and returns the windows in which it was writing a
// snapshot (to within an interval; one still open ends at ctx's end).
func watchSnapshots(ctx context.Context, base string, interval time.Duration) []window {
	hc := &http.Client{Timeout: time.Second}
	var ws []window
	open := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if open {
				ws[len(ws)-1].to = time.Now()
			}
			return ws
		case <-t.C:
		}
		writing, ok := snapshotWriting(ctx, hc, base)
		now := time.Now()
		switch {
		case !ok:
		case writing && !open:
			ws, open = append(ws, window{from: now.Add(-interval)}), true
		case !writing && open:
			ws[len(ws)-1].to, open = now, false
		}
	}
}

// snapshotWriting reads the snapshot gauge of the member at base; ok is
// false if it could not.
func snapshotWriting(ctx context.Context, hc *http.Client, base string) (writing, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return false, false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), snapshotMetric+" "); found {
			return v == "1", true
		}
	}
	return false, false
}
