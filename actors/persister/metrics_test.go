package persister_test

import (
	"bytes"
	"testing"

	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/metrics/metricstest"
	"github.com/raftkv/raftkv/testkit"
)

// The persister times the Readies that fsync (not a commit-only change),
// and measures its directories at start, after a snapshot, and once
// enough was written to the WAL that it may have cut a segment: it records
// the bytes in its metrics and tells raftnode in its answer.
func TestFsyncTimesAndDiskUsage(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	m := metrics.New()
	reg := m.Registry()
	n := spawn(t, d, persister.WithMetrics(m), persister.WithMeasureEvery(16<<10))
	persist := func(msg *messages.Persist) *messages.DiskUsage {
		t.Helper()
		got := testkit.Request[*messages.Persisted](n.probe, n.pid, msg, replyTimeout)
		if got.Seq != msg.Seq {
			t.Fatalf("Persist %d: reply %#v", msg.Seq, got)
		}
		return got.Usage
	}
	fsyncs := func() float64 { return metricstest.Value(t, reg, "raftkv_wal_fsync_duration_seconds", nil) }

	// Measured at start: the WAL's first segment, preallocated.
	testkit.AwaitCondition(t, "the WAL is measured at start", func() bool {
		return metricstest.Value(t, reg, "raftkv_disk_wal_bytes", nil) > 0
	}, replyTimeout)

	if u := persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 3), Entries: ents(1, 5, 1), MustSync: true}); u != nil {
		t.Errorf("a small Ready was measured: %+v", u)
	}
	if got := fsyncs(); got != 1 {
		t.Errorf("%v fsyncs timed after a Ready with entries, want 1", got)
	}
	persist(&messages.Persist{Seq: 2, HardState: hs(1, 1, 5)}) // commit only: written, not fsynced
	if got := fsyncs(); got != 1 {
		t.Errorf("%v fsyncs timed after a commit-only Ready, want 1", got)
	}
	persist(&messages.Persist{Seq: 3, HardState: hs(2, 0, 5), MustSync: true}) // a new term: fsynced
	if got := fsyncs(); got != 2 {
		t.Errorf("%v fsyncs timed after a new term, want 2", got)
	}

	big := ents(6, 25, 2)
	for _, e := range big {
		e.Data = append(e.Data, bytes.Repeat([]byte{'x'}, 1024)...)
	}
	u := persist(&messages.Persist{Seq: 4, HardState: hs(2, 0, 25), Entries: big, MustSync: true})
	if u == nil || u.WAL <= 0 {
		t.Fatalf("20 KiB written (more than the 16 KiB between measures) and no measure: %+v", u)
	}
	if got := metricstest.Value(t, reg, "raftkv_disk_wal_bytes", nil); got != float64(u.WAL) {
		t.Errorf("raftkv_disk_wal_bytes = %v, the answer says %d", got, u.WAL)
	}
	if u := persist(&messages.Persist{Seq: 5, HardState: hs(2, 0, 26), Entries: ents(26, 26, 2), MustSync: true}); u != nil {
		t.Errorf("measured again right after a measure: %+v", u)
	}

	snap := persister.MakeSnapshot(t, dir, 20, 2)
	saved := testkit.Request[*messages.SnapshotSaved](n.probe, n.pid, &messages.SaveSnapshot{Snapshot: snap}, replyTimeout)
	if saved.Usage == nil || saved.Usage.Snapshot <= 0 || saved.Usage.WAL <= 0 {
		t.Fatalf("after a snapshot: %+v, want both directories measured", saved.Usage)
	}
	if got := metricstest.Value(t, reg, "raftkv_disk_snapshot_bytes", nil); got != float64(saved.Usage.Snapshot) {
		t.Errorf("raftkv_disk_snapshot_bytes = %v, the answer says %d", got, saved.Usage.Snapshot)
	}
	if got := metricstest.Value(t, reg, "raftkv_snapshot_save_duration_seconds", nil); got != 1 {
		t.Errorf("%v snapshot saves timed, want 1", got)
	}

	// A snapshot from the leader, in a Ready: measured too.
	leaderSnap := persister.MakeSnapshot(t, dir, 40, 3)
	u = persist(&messages.Persist{Seq: 6, Snapshot: leaderSnap, HardState: hs(3, 0, 40)})
	if u == nil || u.Snapshot <= saved.Usage.Snapshot {
		t.Errorf("after a snapshot from the leader: %+v, want more snapshot bytes than %d", u, saved.Usage.Snapshot)
	}
	if got := metricstest.Value(t, reg, "raftkv_snapshot_save_duration_seconds", nil); got != 2 {
		t.Errorf("%v snapshot saves timed, want 2", got)
	}
	n.stop()
}
