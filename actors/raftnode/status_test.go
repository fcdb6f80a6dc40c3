package raftnode_test

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/raftnode"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/metrics/metricstest"
	"github.com/raftkv/raftkv/testkit"
)

// A restarted node's status shows, before anything is applied, its name,
// the term and commit of its hard state, and the revision, keys and disk
// usage it was started with; its metrics show the term and commit at once.
func TestRestartedStatusAndGauges(t *testing.T) {
	m := metrics.New()
	n := newTestNode(t, raftnode.Config{
		ID: 1, Name: "alpha", Restart: true,
		HardState: &raftpb.HardState{Term: new(uint64(5)), Vote: new(uint64(1)), Commit: new(uint64(1))},
		Entries:   []*raftpb.Entry{bootstrapEntry(1, 1)},
		Revision:  9, Keys: 4, Disk: messages.DiskUsage{WAL: 64 << 20, Snapshot: 1000},
		Metrics: m,
	})
	st := n.status()
	if st.Name != "alpha" || st.Term != 5 || st.Revision != 9 || st.Keys != 4 ||
		st.Disk != (messages.DiskUsage{WAL: 64 << 20, Snapshot: 1000}) || st.Disk.Total() != 64<<20+1000 {
		t.Errorf("status %+v, want name alpha, term 5, revision 9, 4 keys, the disk usage given", st)
	}
	reg := m.Registry()
	for name, want := range map[string]float64{
		"raftkv_raft_term": 5, "raftkv_raft_commit_index": 1, "raftkv_raft_leader": 0, "raftkv_raft_has_leader": 0,
	} {
		if got := metricstest.Value(t, reg, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// The status and the gauges follow what the applier and the persister
// report, and raft's state after each Ready.
func TestStatusAndGaugesFollowTheNode(t *testing.T) {
	m := metrics.New()
	reg := m.Registry()
	n, st := newLeader(t, raftnode.Config{Metrics: m})
	for name, want := range map[string]float64{
		"raftkv_raft_term": float64(st.Term), "raftkv_raft_commit_index": float64(st.Commit),
		"raftkv_raft_applied_index": float64(st.Applied), "raftkv_raft_leader": 1, "raftkv_raft_is_leader": 1,
		"raftkv_raft_has_leader": 1, "raftkv_raft_leader_changes_total": 1,
	} {
		if got := metricstest.Value(t, reg, name, nil); got != want {
			t.Errorf("as leader: %s = %v, want %v", name, got, want)
		}
	}
	readies := metricstest.Value(t, reg, "raftkv_raft_ready_entries", nil)
	if readies < 2 {
		t.Errorf("%v Readies observed by the leader, want the bootstrap's and the election's", readies)
	}

	n.send(propose(1, "a"))
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	usage := messages.DiskUsage{WAL: 128 << 20, Snapshot: 77}
	n.send(&messages.Persisted{Seq: p.Seq, Usage: &usage})
	a := testkit.ExpectMsg[*messages.Apply](n.applier)
	ack := applied(a)
	ack.Keys = 1
	n.send(ack)
	got := n.settle("the write applied", func(s *messages.Status) bool { return s.Applied == ack.Index })
	if got.Keys != 1 || got.Disk != usage {
		t.Errorf("status %+v, want 1 key and disk usage %+v", got, usage)
	}
	if got := metricstest.Value(t, reg, "raftkv_raft_applied_index", nil); got != float64(ack.Index) {
		t.Errorf("raftkv_raft_applied_index = %v, want %d", got, ack.Index)
	}
	if got := metricstest.Value(t, reg, "raftkv_raft_ready_entries", nil); got <= readies {
		t.Errorf("%v Readies observed after a write, want more than %v", got, readies)
	}

	// A Persisted without a measure leaves the last one.
	n.send(propose(2, "b"))
	n.settle("the second write applied", func(s *messages.Status) bool { return s.Applied > ack.Index })
	if got := n.status(); got.Disk != usage {
		t.Errorf("disk usage %+v after a Persisted without one, want %+v", got.Disk, usage)
	}
	n.send(&messages.SnapshotSaved{Index: 1, Usage: &messages.DiskUsage{WAL: 1, Snapshot: 2}})
	if got := n.status(); got.Disk != (messages.DiskUsage{WAL: 1, Snapshot: 2}) {
		t.Errorf("disk usage %+v after a SnapshotSaved with one, want {1 2}", got.Disk)
	}
}

// The outcomes of snapshot sends are counted per member and result.
func TestSnapshotSendsCounted(t *testing.T) {
	m := metrics.New()
	n, _ := newLeader(t, raftnode.Config{Metrics: m})
	n.send(&messages.SnapshotStatus{ID: 2, Failed: true})
	n.send(&messages.SnapshotStatus{ID: 2})
	n.send(&messages.SnapshotStatus{ID: 2})
	n.status() // both handled
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "raftkv_peer_snapshot_sends_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := ""
			for _, l := range s.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + " "
			}
			got[labels] = s.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"peer=2 result=failed ": 1, "peer=2 result=succeeded ": 2}
	if len(got) != len(want) || got["peer=2 result=failed "] != 1 || got["peer=2 result=succeeded "] != 2 {
		t.Errorf("snapshot sends %v, want %v", got, want)
	}
}
