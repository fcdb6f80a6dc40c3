package snapshot_test

import (
	"io"
	"log/slog"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/snapshot"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// BenchmarkLocalSnapshot has the actor write the local snapshot of a store
// of 100k keys with 100-byte values to a real file (synced and renamed),
// until the applier hears SnapshotWritten: bytes/s and what the write
// allocates (issue #10: snapshot stalls and memory).
func BenchmarkLocalSnapshot(b *testing.B) {
	st := newStore(100_000, 100)
	size, err := store.WriteSnapshot(io.Discard, st.View())
	if err != nil {
		b.Fatal(err)
	}
	system := testkit.NewSystem(b)
	raftnode, applier := testkit.NewProbe(b, system), testkit.NewProbe(b, system)
	pid := testkit.Spawn(b, system, snapshot.Props(snapshot.Config{ID: 1, Address: addr(1), StoreDir: b.TempDir(),
		Raftnode: raftnode.PID(), Applier: applier.PID(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	b.SetBytes(size)
	b.ReportAllocs()
	for i := uint64(1); b.Loop(); i++ {
		system.Root.Send(pid, &messages.WriteSnapshot{Index: i, Term: 1, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
			Membership: &testMembership, Stream: store.NewSnapshotEncoder(st.View())})
		testkit.ExpectMsg[*messages.SnapshotCreated](raftnode, replyTimeout)
		if w := testkit.ExpectMsg[*messages.SnapshotWritten](applier, replyTimeout); w.Err != nil {
			b.Fatal(w.Err)
		}
	}
}
