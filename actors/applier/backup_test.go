package applier_test

import (
	"bytes"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

var backupOp = messages.Op{Type: messages.OpBackup}

// backupState writes the store stream of a BackupReply and decodes it,
// rendered by dump.
func backupState(t *testing.T, r *messages.BackupReply) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	n, err := r.WriteStore(&buf)
	if err != nil {
		t.Fatalf("WriteStore: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteStore says %d bytes, wrote %d", n, buf.Len())
	}
	st, err := store.ReadSnapshot(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the backup's store stream does not read: %v", err)
	}
	return dump(st), buf.Bytes()
}

// A backup read is served as a read: once the applied index reaches the
// read index of its round, never before, so the backup holds every write
// acknowledged before it was asked. It is the state at the index it
// reports, whatever is applied after it.
func TestBackupReadWaitsForReadIndex(t *testing.T) {
	f := newFixture(t, applier.Config{Membership: &messages.MembershipState{ClusterID: 0xc1}})
	f.applyEntries(put(1, self, 1, "a", "1"))

	client := testkit.NewProbe(t, f.system)
	f.system.Root.Send(f.pid, &messages.ReadBatch{Index: 3, Reads: []messages.Read{{Op: backupOp, ReplyTo: client.PID()}}})
	f.barrier(client) // index 1 applied, the read waits for 3
	f.applyEntries(put(2, self, 2, "a", "2"))
	f.barrier(client)                                      // index 2: still waiting
	f.applyEntries(entryAt(3, 2, raftpb.EntryNormal, nil)) // a new leader's empty entry, of term 2

	r := testkit.ExpectMsg[*messages.BackupReply](client)
	if r.Index != 3 || r.Term != 2 || r.Revision != 2 || r.Keys != 1 || r.ClusterID != 0xc1 || r.Member != self {
		t.Errorf("BackupReply %+v, want index 3 of term 2, revision 2, 1 key, cluster c1, member %d", r, self)
	}
	want := `revision 2: "a"="2"(c1 m2 v2)`

	// Applying goes on; the backup stays the state at index 3, and every
	// WriteStore writes the same bytes.
	f.applyEntries(put(4, self, 3, "a", "3"), put(5, self, 4, "b", "1"), txnEntry(6, 2, self, 5, deleteTxn("a")))
	got, first := backupState(t, r)
	if got != want {
		t.Errorf("the backup holds\n%s\nwant\n%s", got, want)
	}
	if _, again := backupState(t, r); !bytes.Equal(first, again) {
		t.Error("a second WriteStore wrote other bytes")
	}
	if got := f.state(); got != `revision 5: "b"="1"(c4 m4 v1)` {
		t.Errorf("the applier's own state after the backup: %s", got)
	}
}

// A backup read due at once (index 0, or an index applied already) is
// answered at once, with the current state.
func TestBackupReadAtAnAppliedIndex(t *testing.T) {
	f := newFixture(t, applier.Config{})
	f.applyEntries(put(1, self, 1, "a", "1"), put(2, self, 2, "b", "2"))
	for _, index := range []uint64{0, 1, 2} {
		client := testkit.NewProbe(t, f.system)
		f.system.Root.Send(f.pid, &messages.ReadBatch{Index: index, Reads: []messages.Read{
			{Op: getOp("a"), ReplyTo: client.PID()}, {Op: backupOp, ReplyTo: client.PID()},
		}})
		if r := testkit.ExpectMsg[*messages.ReadReply](client); value(r.Result) != "1" {
			t.Errorf("read of a in the batch at %d: %s", index, value(r.Result))
		}
		r := testkit.ExpectMsg[*messages.BackupReply](client)
		if r.Index != 2 || r.Revision != 2 || r.Keys != 2 {
			t.Errorf("BackupReply at %d: %+v, want index 2, revision 2, 2 keys", index, r)
		}
		if got, _ := backupState(t, r); got != `revision 2: "a"="1"(c1 m1 v1) "b"="2"(c2 m2 v1)` {
			t.Errorf("the backup at %d holds %s", index, got)
		}
	}
}
