package applier_test

import (
	"errors"
	"testing"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/metrics/metricstest"
	"github.com/raftkv/raftkv/testkit"
)

// Applied tells raftnode the number of keys after the entries (for the
// status); the metrics count the keys, each Apply's time, and the
// snapshots written or not, and whether one is being written.
func TestAppliedKeysAndMetrics(t *testing.T) {
	m := metrics.New()
	reg := m.Registry()
	f := newFixture(t, applier.Config{SnapshotCount: 3, Metrics: m})
	got := f.applyEntries(put(1, 2, 1, "a", "1"), put(2, 2, 2, "b", "1"))
	if got.Keys != 2 {
		t.Errorf("Applied %+v, want 2 keys", got)
	}
	got = f.applyEntries(txnEntry(3, 1, 2, 3, deleteTxn("a")))
	if got.Keys != 1 {
		t.Errorf("Applied %+v after a delete, want 1 key", got)
	}
	for name, want := range map[string]float64{"raftkv_store_keys": 1, "raftkv_apply_duration_seconds": 2} {
		if v := metricstest.Value(t, reg, name, nil); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}

	testkit.ExpectMsg[*messages.WriteSnapshot](f.snapshotter)
	if v := metricstest.Value(t, reg, "raftkv_snapshot_writing", nil); v != 1 {
		t.Errorf("raftkv_snapshot_writing = %v while a snapshot is written, want 1", v)
	}
	f.system.Root.Send(f.pid, &messages.SnapshotWritten{Index: 3})
	f.barrier(f.proposer)
	if v := metricstest.Value(t, reg, "raftkv_snapshot_writing", nil); v != 0 {
		t.Errorf("raftkv_snapshot_writing = %v once written, want 0", v)
	}
	f.applyEntries(put(4, 2, 4, "c", "1"), put(5, 2, 5, "d", "1"), put(6, 2, 6, "e", "1"))
	testkit.ExpectMsg[*messages.WriteSnapshot](f.snapshotter)
	f.system.Root.Send(f.pid, &messages.SnapshotWritten{Index: 6, Err: errors.New("no space left on device")})
	f.barrier(f.proposer) // both answers handled
	if v := metricstest.Value(t, reg, "raftkv_snapshot_write_duration_seconds", nil); v != 1 {
		t.Errorf("%v snapshot writes timed, want 1", v)
	}
	if v := metricstest.Value(t, reg, "raftkv_snapshot_write_failures_total", nil); v != 1 {
		t.Errorf("%v snapshot write failures, want 1", v)
	}
}
