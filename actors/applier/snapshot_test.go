package applier_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

func membership(cluster uint64, ids ...uint64) *messages.MembershipState {
	m := &messages.MembershipState{ClusterID: cluster}
	for _, id := range ids {
		m.Members = append(m.Members, messages.Member{ID: id, PeerAddress: "n" + string(rune('0'+id)) + ":2380"})
	}
	return m
}

// expectWriteSnapshot takes the next message of the snapshot actor, a
// WriteSnapshot, and checks what it asks for.
func (f *fixture) expectWriteSnapshot(index, term uint64, cs *raftpb.ConfState, ms *messages.MembershipState) *messages.WriteSnapshot {
	f.t.Helper()
	w := testkit.ExpectMsg[*messages.WriteSnapshot](f.snapshotter)
	if w.Index != index || w.Term != term {
		f.t.Errorf("WriteSnapshot at index %d term %d, want index %d term %d", w.Index, w.Term, index, term)
	}
	if !proto.Equal(w.ConfState, cs) {
		f.t.Errorf("WriteSnapshot with ConfState %v, want %v", w.ConfState, cs)
	}
	if w.Membership == nil || !reflect.DeepEqual(*w.Membership, *ms) {
		f.t.Errorf("WriteSnapshot with membership %+v, want %+v", w.Membership, ms)
	}
	if w.Stream == nil {
		f.t.Errorf("WriteSnapshot without a stream")
	}
	return w
}

// Every SnapshotCount applied entries the applier asks the snapshot actor
// to write a snapshot at the applied index, with the membership of the
// last Apply, and answers Applied without waiting for it. It asks for no
// other until the snapshot actor says the last one is written.
func TestSnapshotEverySnapshotCount(t *testing.T) {
	f := newFixture(t, applier.Config{SnapshotCount: 3})
	cs1, ms1 := &raftpb.ConfState{Voters: []uint64{1}}, membership(7, 1)
	cs2, ms2 := &raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}, membership(7, 1, 2, 3)

	a := f.apply(&messages.Apply{ConfState: cs1, Membership: ms1, Entries: []*raftpb.Entry{
		put(1, self, 1, "a", "1"),
		put(2, self, 2, "b", "1"),
	}})
	if a.Index != 2 {
		t.Fatalf("Applied %+v, want index 2", a)
	}
	f.barrier(f.snapshotter) // 2 < 3: no snapshot yet

	// The third entry (a membership change, of term 1) makes one at index 3
	// with the membership of its Apply. The snapshot actor does not answer:
	// Applied comes all the same.
	a = f.apply(&messages.Apply{ConfState: cs2, Membership: ms2, Entries: []*raftpb.Entry{
		confChange(3, messages.RequestID{}, add(2, "n2:2380"), false),
	}})
	if a.Index != 3 {
		t.Errorf("Applied %+v, want index 3", a)
	}
	f.expectWriteSnapshot(3, 1, cs2, ms2)
	f.barrier(f.snapshotter)

	// While that one is being written, no other is asked for, however many
	// entries are applied.
	for i := uint64(4); i <= 10; i++ {
		f.apply(&messages.Apply{ConfState: cs2, Membership: ms2, Entries: []*raftpb.Entry{txnEntry(i, 2, 2, i, putTxn("k", "v"))}})
	}
	f.barrier(f.snapshotter)

	// Once it is written the next is due: it is asked for with the next
	// Apply, at its index, with the membership that Apply carries.
	f.snapshotter.Send(f.pid, &messages.SnapshotWritten{Index: 3})
	f.barrier(f.snapshotter) // not without an Apply
	f.apply(&messages.Apply{ConfState: cs1, Membership: ms1, Entries: []*raftpb.Entry{txnEntry(11, 3, 2, 11, putTxn("k", "w"))}})
	f.expectWriteSnapshot(11, 3, cs1, ms1)

	// Written quickly, the next one waits for SnapshotCount more entries.
	f.snapshotter.Send(f.pid, &messages.SnapshotWritten{Index: 11})
	f.apply(&messages.Apply{ConfState: cs1, Membership: ms1, Entries: []*raftpb.Entry{txnEntry(12, 3, 2, 12, putTxn("k", "x"))}})
	f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(13, 3, 2, 13, putTxn("k", "y"))}})
	f.barrier(f.snapshotter)
	// An Apply without ConfState and Membership keeps the last ones.
	f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(14, 4, 2, 14, putTxn("k", "z"))}})
	f.expectWriteSnapshot(14, 4, cs1, ms1)
	f.barrier(f.snapshotter)
	f.barrier(f.raftnode) // the snapshot actor answers raftnode, not the applier
}

// The count starts at the index the applier starts from.
func TestSnapshotCountStartsAtConfigApplied(t *testing.T) {
	st := store.New()
	st.Apply(putTxn("old", "1"))
	cs, ms := &raftpb.ConfState{Voters: []uint64{1, 2}}, membership(3, 1, 2)
	f := newFixture(t, applier.Config{Store: st, Applied: 10, AppliedTerm: 4, ConfState: cs, Membership: ms, SnapshotCount: 2})
	f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(11, 4, 2, 1, putTxn("a", "1"))}})
	f.barrier(f.snapshotter)
	f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(12, 5, 2, 2, putTxn("a", "2"))}})
	w := f.expectWriteSnapshot(12, 5, cs, ms)
	want := store.New()
	want.Apply(putTxn("old", "1"))
	want.Apply(putTxn("a", "1"))
	want.Apply(putTxn("a", "2"))
	if got := streamState(t, w.Stream); got != dump(want) {
		t.Errorf("snapshot stream holds\n %s\nwant\n %s", got, dump(want))
	}
}

// A member recovered from a big snapshot does not rewrite it every
// SnapshotCount small entries, nor every five times as many (it did: a
// store of big values that takes small writes was rewritten every 50,000
// of them by default): it waits until the log since holds a quarter of
// the snapshot's size, each entry counted with what raft keeps of it.
func TestBigStoreSnapshotsLessOften(t *testing.T) {
	cs, ms := &raftpb.ConfState{Voters: []uint64{1}}, membership(3, 1)
	f := newFixture(t, applier.Config{Applied: 10, AppliedTerm: 2, ConfState: cs, Membership: ms,
		SnapshotCount: 2, SnapshotSize: 32 << 20})
	i := uint64(11)
	for ; i <= 30; i++ { // ten times SnapshotCount entries of a few bytes
		f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(i, 2, 2, i, putTxn("k", "v"))}})
	}
	big := strings.Repeat("v", store.MaxValueSize)
	for ; i <= 37; i++ { // and 7 MiB of values: still under a quarter of 32 MiB
		f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(i, 2, 2, i, putTxn("k", big))}})
	}
	f.barrier(f.snapshotter)
	f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(38, 2, 2, 38, putTxn("k", big))}}) // 8 MiB
	f.expectWriteSnapshot(38, 2, cs, ms)
}

// The stream of a WriteSnapshot is the store's state at the snapshot's
// index, read while the applier goes on applying entries that change it.
func TestWriteSnapshotStreamIsPointInTime(t *testing.T) {
	const count = 40
	f := newFixture(t, applier.Config{SnapshotCount: count})
	ref := store.New() // the state the applier should have, entry by entry
	var es []*raftpb.Entry
	for i := uint64(1); i <= count; i++ {
		txn := putTxn("key-"+string(rune('a'+i%26))+strings.Repeat("x", int(i)), strings.Repeat("v", int(i)))
		ref.Apply(txn)
		es = append(es, txnEntry(i, 1, 2, i, txn))
	}
	f.applyEntries(es...)
	w := f.expectWriteSnapshot(count, 1, &raftpb.ConfState{Voters: []uint64{1}}, &messages.MembershipState{})
	want := dump(ref)

	// Read the stream in small parts on another goroutine, as the snapshot
	// actor does, while the applier overwrites, deletes and adds keys.
	type result struct {
		data []byte
		err  error
	}
	read := make(chan result, 1)
	go func() {
		data, err := readStream(w.Stream, 16)
		read <- result{data, err}
	}()
	res, _ := ref.Range(allOp)
	i := uint64(count)
	for n, kv := range res.KVs {
		i++
		txn := putTxn(string(kv.Key), "changed")
		if n%2 == 1 {
			txn = deleteTxn(string(kv.Key))
		}
		f.applyEntries(txnEntry(i, 2, 2, i, txn))
		i++
		f.applyEntries(txnEntry(i, 2, 2, i, putTxn("new-"+string(kv.Key), "new")))
	}
	r := <-read
	if r.err != nil {
		t.Fatalf("read the stream: %v", r.err)
	}
	st, err := store.ReadSnapshot(bytes.NewReader(r.data))
	if err != nil {
		t.Fatalf("store.ReadSnapshot of the stream: %v", err)
	}
	if got := dump(st); got != want {
		t.Errorf("the stream of the snapshot at %d holds\n %s\nwant the state at %d\n %s", count, got, count, want)
	}
	if now := f.state(); now == want {
		t.Errorf("the applier's state did not change after the snapshot: %s", now)
	}
}

// SnapshotNeeded (raft wants to send member To a snapshot) is answered with
// a SendSnapshot of the current state to the snapshot actor: a MsgSnap for
// To with the applied index and term and the last membership, and a stream
// of the store at that index.
func TestSnapshotNeededSendsCurrentState(t *testing.T) {
	f := newFixture(t, applier.Config{})
	cs := &raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}
	ms := membership(9, 1, 2, 3, 4)
	ms.Members[3].Learner = true
	ms.Removed = []messages.RemovedMember{{ID: 5, PeerAddress: "n5:2380"}}
	f.apply(&messages.Apply{ConfState: &raftpb.ConfState{Voters: []uint64{1}}, Membership: membership(9, 1), Entries: []*raftpb.Entry{
		txnEntry(1, 2, 2, 1, putTxn("a", "1")),
		txnEntry(2, 2, 2, 2, putTxn("b", "1")),
	}})
	f.apply(&messages.Apply{ConfState: cs, Membership: ms, Entries: []*raftpb.Entry{
		txnEntry(3, 3, 2, 3, putTxn("a", "2")),
		txnEntry(4, 3, 2, 4, deleteTxn("b")),
		confChange(5, messages.RequestID{}, messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: 4, PeerAddress: "n4:2380", Learner: true}}, false),
	}})
	// Entry 5, the last applied, is of term 1 (see confChange).
	want := f.state()

	// raft's own MsgSnap carries its (older) snapshot.
	raftMsg := &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(), From: new(uint64(self)), To: new(uint64(4)), Term: new(uint64(6)),
		Snapshot: &raftpb.Snapshot{Data: []byte("old"), Metadata: &raftpb.SnapshotMetadata{
			Index: new(uint64(1)), Term: new(uint64(2)), ConfState: &raftpb.ConfState{Voters: []uint64{1}},
		}},
	}
	f.raftnode.Send(f.pid, &messages.SnapshotNeeded{Message: raftMsg, Address: "n4:2380"})
	s := testkit.ExpectMsg[*messages.SendSnapshot](f.snapshotter)
	if s.To != 4 || s.Address != "n4:2380" {
		t.Errorf("SendSnapshot to %d at %q, want 4 at n4:2380", s.To, s.Address)
	}
	m := s.Message
	if m.GetType() != raftpb.MessageType_MsgSnap || m.GetFrom() != self || m.GetTo() != 4 || m.GetTerm() != 6 {
		t.Errorf("SendSnapshot message %v, want a MsgSnap from %d to 4 of term 6", m, self)
	}
	md := m.GetSnapshot().GetMetadata()
	if md.GetIndex() != 5 || md.GetTerm() != 1 || !proto.Equal(md.GetConfState(), cs) {
		t.Errorf("snapshot metadata %v, want index 5 term 1 with %v", md, cs)
	}
	meta, err := messages.DecodeSnapshotMeta(m.GetSnapshot().GetData())
	if err != nil {
		t.Fatalf("the snapshot's Data: %v", err)
	}
	if !reflect.DeepEqual(meta.Membership, *ms) || meta.DBSize != 0 || meta.DBCRC != 0 {
		t.Errorf("snapshot meta %+v, want the membership %+v and no DB fields", meta, *ms)
	}

	// The stream is of the state at index 5, even read after more entries.
	f.applyEntries(txnEntry(6, 6, 2, 6, putTxn("a", "3")), txnEntry(7, 6, 2, 7, putTxn("c", "1")))
	if got := streamState(t, s.Stream); got != want {
		t.Errorf("the stream holds\n %s\nwant the state at index 5\n %s", got, want)
	}
	f.barrier(f.snapshotter)

	// The next one describes the state then.
	f.raftnode.Send(f.pid, &messages.SnapshotNeeded{Message: raftMsg, Address: "n4:2380"})
	s = testkit.ExpectMsg[*messages.SendSnapshot](f.snapshotter)
	if md := s.Message.GetSnapshot().GetMetadata(); md.GetIndex() != 7 || md.GetTerm() != 6 {
		t.Errorf("second snapshot at index %d term %d, want 7 and 6", md.GetIndex(), md.GetTerm())
	}
	if got, want := streamState(t, s.Stream), f.state(); got != want {
		t.Errorf("the second stream holds\n %s\nwant\n %s", got, want)
	}
	f.barrier(f.raftnode) // raft hears of the transfer from the snapshot actor
}

// A node that starts from a snapshot answers SnapshotNeeded with the
// snapshot's index, term and membership until it applies more.
func TestSnapshotNeededAfterStart(t *testing.T) {
	st := store.New()
	st.Apply(putTxn("a", "1"))
	cs, ms := &raftpb.ConfState{Voters: []uint64{1, 2}}, membership(3, 1, 2)
	f := newFixture(t, applier.Config{Store: st, Applied: 20, AppliedTerm: 4, ConfState: cs, Membership: ms})
	want := f.state()
	f.raftnode.Send(f.pid, &messages.SnapshotNeeded{Address: "n2:2380", Message: &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(), From: new(uint64(self)), To: new(uint64(2)), Term: new(uint64(5)),
	}})
	s := testkit.ExpectMsg[*messages.SendSnapshot](f.snapshotter)
	md := s.Message.GetSnapshot().GetMetadata()
	if s.To != 2 || md.GetIndex() != 20 || md.GetTerm() != 4 || !proto.Equal(md.GetConfState(), cs) {
		t.Errorf("SendSnapshot to %d with %v, want to 2 at index 20 term 4 with %v", s.To, md, cs)
	}
	meta, err := messages.DecodeSnapshotMeta(s.Message.GetSnapshot().GetData())
	if err != nil || !reflect.DeepEqual(meta.Membership, *ms) {
		t.Errorf("snapshot meta %+v, %v; want the membership %+v", meta, err, *ms)
	}
	if got := streamState(t, s.Stream); got != want {
		t.Errorf("the stream holds\n %s\nwant\n %s", got, want)
	}
}

// writeStoreFile writes the store file of the snapshot at term, index in
// dir, holding st, as the snapshot actor does, and returns its size and CRC.
func writeStoreFile(t *testing.T, dir string, term, index uint64, st *store.Store) (uint64, uint32) {
	t.Helper()
	w, err := snapfile.Create(dir, term, index)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.WriteSnapshot(w, st.View()); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	size, crc, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return size, crc
}

func snapshotMeta(t *testing.T, size uint64, crc uint32, ms *messages.MembershipState) []byte {
	t.Helper()
	data, err := messages.EncodeSnapshotMeta(messages.SnapshotMeta{DBSize: size, DBCRC: crc, Membership: *ms})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func raftSnapshot(index, term uint64, cs *raftpb.ConfState, data []byte) *raftpb.Snapshot {
	return &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{Index: new(index), Term: new(term), ConfState: cs}}
}

// snapshotSource is the state of a snapshot at index 10 of term 2.
func snapshotSource() *store.Store {
	src := store.New()
	src.Apply(putTxn("a", "from snapshot"))
	src.Apply(putTxn("b", "gone"))
	src.Apply(deleteTxn("b"))
	src.Apply(putTxn("d", "kept"))
	return src
}

// An Apply that carries a snapshot replaces the store with the one in the
// snapshot's store file, before the entries after it; the applier goes on
// from the snapshot's index, term and membership.
func TestApplySnapshotRestoresStore(t *testing.T) {
	dir := t.TempDir()
	src := snapshotSource()
	snapRev := src.Revision()
	size, crc := writeStoreFile(t, dir, 2, 10, src)
	cs := &raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}
	ms := membership(5, 1, 2, 3)
	ms.Members[2].Learner = true
	snap := raftSnapshot(10, 2, cs, snapshotMeta(t, size, crc, ms))

	f := newFixture(t, applier.Config{StoreDir: dir, SnapshotCount: 3})
	f.applyEntries(put(1, self, 1, "local", "x"), put(2, self, 2, "a", "local"))
	for range 2 {
		testkit.ExpectMsg[*messages.Result](f.proposer)
	}
	// A read that waits for index 10 is served once the snapshot is in.
	client := testkit.NewProbe(t, f.system)
	f.system.Root.Send(f.pid, &messages.ReadBatch{Index: 10, Reads: []messages.Read{{Op: getOp("a"), ReplyTo: client.PID()}}})
	f.barrier(client)

	got := f.apply(&messages.Apply{Snapshot: snap})
	if got.Index != 10 || got.Revision != snapRev {
		t.Errorf("Applied %+v, want the snapshot's index 10 at its revision %d", got, snapRev)
	}
	if r := testkit.ExpectMsg[*messages.ReadReply](client); value(r.Result) != "from snapshot" {
		t.Errorf("the read waiting for index 10 got a = %s", value(r.Result))
	}
	if got, want := f.state(), dump(snapshotSource()); got != want {
		t.Errorf("state after the restore\n %s\nwant the snapshot's\n %s", got, want)
	}

	// Entries go on from the snapshot's index.
	got = f.apply(&messages.Apply{Entries: []*raftpb.Entry{
		put(10, self, 3, "covered", "by the snapshot"), // at the snapshot's index: skipped
		txnEntry(11, 3, 2, 1, putTxn("c", "after")),
	}})
	if got.Index != 11 || got.Revision != snapRev+1 {
		t.Errorf("Applied %+v, want index 11 at revision %d", got, snapRev+1)
	}
	f.barrier(f.proposer) // no Result for the skipped entry 10
	want := snapshotSource()
	want.Apply(putTxn("c", "after"))
	if got, want := f.state(), dump(want); got != want {
		t.Errorf("state after entry 11\n %s\nwant\n %s", got, want)
	}

	// The applier goes on from the snapshot: its membership, index and term
	// are those a snapshot sent now describes, and the count of entries to
	// the next snapshot starts at its index.
	f.raftnode.Send(f.pid, &messages.SnapshotNeeded{Address: "n3:2380", Message: &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(), From: new(uint64(self)), To: new(uint64(3)), Term: new(uint64(3)),
	}})
	s := testkit.ExpectMsg[*messages.SendSnapshot](f.snapshotter)
	md := s.Message.GetSnapshot().GetMetadata()
	if md.GetIndex() != 11 || md.GetTerm() != 3 || !proto.Equal(md.GetConfState(), cs) {
		t.Errorf("snapshot sent after the restore: %v, want index 11 term 3 with the snapshot's %v", md, cs)
	}
	if meta, err := messages.DecodeSnapshotMeta(s.Message.GetSnapshot().GetData()); err != nil || !reflect.DeepEqual(meta.Membership, *ms) {
		t.Errorf("snapshot sent after the restore: meta %+v, %v; want the snapshot's membership %+v", meta, err, *ms)
	}
	if got, want := streamState(t, s.Stream), dump(want); got != want {
		t.Errorf("the stream after the restore holds\n %s\nwant\n %s", got, want)
	}
	f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(12, 3, 2, 2, putTxn("c", "12"))}})
	f.barrier(f.snapshotter)
	f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(13, 3, 2, 3, putTxn("c", "13"))}})
	f.expectWriteSnapshot(13, 3, cs, ms)

	// A snapshot the applier is already past is not restored again: its
	// file is not even read.
	if err := os.Remove(filepath.Join(dir, snapfile.Name(2, 10))); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	got = f.apply(&messages.Apply{Snapshot: snap})
	if got.Index != 13 || got.Revision != snapRev+3 {
		t.Errorf("stale snapshot: Applied %+v, want index 13, revision unchanged", got)
	}
	if after := f.state(); after != before {
		t.Errorf("a stale snapshot changed the state\n %s\nto\n %s", before, after)
	}
}

// One Apply may carry a snapshot and the entries after it: the snapshot is
// restored first, the entries it covers are skipped, the others applied.
func TestApplySnapshotAndEntriesInOneApply(t *testing.T) {
	dir := t.TempDir()
	src := snapshotSource()
	snapRev := src.Revision()
	size, crc := writeStoreFile(t, dir, 2, 10, src)
	f := newFixture(t, applier.Config{StoreDir: dir})
	got := f.apply(&messages.Apply{
		Snapshot: raftSnapshot(10, 2, &raftpb.ConfState{Voters: []uint64{1}}, snapshotMeta(t, size, crc, membership(5, 1))),
		Entries: []*raftpb.Entry{
			put(9, self, 1, "covered", "x"),
			put(10, self, 2, "covered", "y"),
			txnEntry(11, 2, self, 3, putTxn("a", "after")),
			txnEntry(12, 2, 2, 1, deleteTxn("d")),
		},
	})
	if got.Index != 12 || got.Revision != snapRev+2 {
		t.Errorf("Applied %+v, want index 12 at revision %d", got, snapRev+2)
	}
	if r := testkit.ExpectMsg[*messages.Result](f.proposer); r.ID.Seq != 3 || !r.Result.Succeeded {
		t.Errorf("Result %+v, want only the one of entry 11", r)
	}
	f.barrier(f.proposer)
	want := snapshotSource()
	want.Apply(putTxn("a", "after"))
	want.Apply(deleteTxn("d"))
	if got, want := f.state(), dump(want); got != want {
		t.Errorf("state\n %s\nwant\n %s", got, want)
	}
}

// version1Data is a raft snapshot's Data as an earlier raftkv wrote it:
// the whole store, a msgpack map of version 1.
func version1Data(t *testing.T) []byte {
	t.Helper()
	type kv struct {
		Key            []byte `msgpack:"key"`
		Value          []byte `msgpack:"value"`
		CreateRevision int64  `msgpack:"create_revision"`
		ModRevision    int64  `msgpack:"mod_revision"`
		Version        int64  `msgpack:"version"`
	}
	type member struct {
		ID      uint64 `msgpack:"id"`
		Address string `msgpack:"address"`
	}
	data, err := messages.Encode(&struct {
		Version  uint8    `msgpack:"version"`
		Revision int64    `msgpack:"revision"`
		KVs      []kv     `msgpack:"kvs"`
		Members  []member `msgpack:"members"`
	}{1, 1, []kv{{[]byte("a"), []byte("1"), 1, 1, 1}}, []member{{1, "n1:2380"}}})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// flushed is sent by a probe to itself: any message already in the probe's
// mailbox is taken before it.
type flushed struct{}

// A snapshot whose store file is missing or does not match is fatal: the
// applier fails (its supervisor stops the node) rather than go on from a
// state it cannot vouch for, and answers nothing for that Apply.
func TestBadSnapshotIsFatal(t *testing.T) {
	src := snapshotSource()
	cs := &raftpb.ConfState{Voters: []uint64{1, 2}}
	ms := membership(5, 1, 2)
	tests := []struct {
		name string
		// prepare writes what it needs into dir and returns the snapshot.
		prepare func(t *testing.T, dir string) *raftpb.Snapshot
		wraps   error // the failure's reason must wrap it, if set
	}{
		{"store file missing", func(t *testing.T, dir string) *raftpb.Snapshot {
			return raftSnapshot(10, 2, cs, snapshotMeta(t, 100, 1, ms))
		}, fs.ErrNotExist},
		{"store file of another snapshot", func(t *testing.T, dir string) *raftpb.Snapshot {
			size, crc := writeStoreFile(t, dir, 1, 10, src)
			return raftSnapshot(10, 2, cs, snapshotMeta(t, size, crc, ms))
		}, fs.ErrNotExist},
		{"CRC does not match", func(t *testing.T, dir string) *raftpb.Snapshot {
			size, crc := writeStoreFile(t, dir, 2, 10, src)
			return raftSnapshot(10, 2, cs, snapshotMeta(t, size, crc^1, ms))
		}, snapfile.ErrMismatch},
		{"size does not match", func(t *testing.T, dir string) *raftpb.Snapshot {
			size, crc := writeStoreFile(t, dir, 2, 10, src)
			return raftSnapshot(10, 2, cs, snapshotMeta(t, size+1, crc, ms))
		}, snapfile.ErrMismatch},
		{"store file damaged", func(t *testing.T, dir string) *raftpb.Snapshot {
			size, crc := writeStoreFile(t, dir, 2, 10, src)
			name := filepath.Join(dir, snapfile.Name(2, 10))
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(data, []byte("from snapshot"))
			if i < 0 {
				t.Fatal("value not found in the store file")
			}
			data[i] = 'F' // still a valid stream: only the CRC tells
			if err := os.WriteFile(name, data, 0o600); err != nil {
				t.Fatal(err)
			}
			return raftSnapshot(10, 2, cs, snapshotMeta(t, size, crc, ms))
		}, snapfile.ErrMismatch},
		{"data of an earlier raftkv (the whole store, version 1)", func(t *testing.T, dir string) *raftpb.Snapshot {
			return raftSnapshot(10, 2, cs, version1Data(t))
		}, messages.ErrVersion},
		{"data not a snapshot meta", func(t *testing.T, dir string) *raftpb.Snapshot {
			return raftSnapshot(10, 2, cs, []byte("not a snapshot"))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			snap := tt.prepare(t, dir)
			// As the node's fatal actors are: stopped, never restarted.
			stop := actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })
			f := newFixture(t, applier.Config{StoreDir: dir}, actor.WithGuardian(stop))
			events := testkit.WatchSupervision(t, f.system)
			f.raftnode.Watch(f.pid)
			f.applyEntries(put(1, self, 1, "local", "x"))
			testkit.ExpectMsg[*messages.Result](f.proposer)

			f.raftnode.Send(f.pid, &messages.Apply{Seq: 2, Snapshot: snap, Entries: []*raftpb.Entry{put(11, self, 2, "c", "after")}})
			ev := events.ExpectFailure(f.pid)
			if ev.Directive != actor.StopDirective {
				t.Fatalf("directive %v, want a stop", ev.Directive)
			}
			err, ok := ev.Reason.(error)
			if !ok || !strings.Contains(err.Error(), "restore snapshot 10") {
				t.Fatalf("failure reason %v, want an error about restoring snapshot 10", ev.Reason)
			}
			if tt.wraps != nil && !errors.Is(err, tt.wraps) {
				t.Errorf("failure reason %q does not wrap %q", err, tt.wraps)
			}
			f.raftnode.ExpectTerminated(f.pid)
			// Terminated is a system message and may overtake an answer; what
			// the applier sent before it stopped is ahead of flushed.
			for _, p := range []*testkit.Probe{f.raftnode, f.proposer, f.snapshotter} {
				p.Send(p.PID(), flushed{})
				testkit.ExpectMsg[flushed](p)
			}
		})
	}
}

// A failed restore changes nothing: under a supervisor that lets the
// applier go on (the node's stops it), its store, applied index and
// membership are those from before the snapshot, never part of it.
func TestFailedRestoreLeavesStateUnchanged(t *testing.T) {
	dir := t.TempDir()
	src := snapshotSource()
	size, crc := writeStoreFile(t, dir, 2, 10, src)
	resume := actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.ResumeDirective })
	f := newFixture(t, applier.Config{StoreDir: dir}, actor.WithGuardian(resume))
	events := testkit.WatchSupervision(t, f.system)
	cs, ms := &raftpb.ConfState{Voters: []uint64{1}}, membership(1, 1)
	f.apply(&messages.Apply{ConfState: cs, Membership: ms, Entries: []*raftpb.Entry{
		txnEntry(1, 1, 2, 1, putTxn("local", "x")),
		txnEntry(2, 1, 2, 2, putTxn("a", "local")),
	}})
	before := f.state()

	bad := raftSnapshot(10, 2, &raftpb.ConfState{Voters: []uint64{1, 2}}, snapshotMeta(t, size, crc^1, membership(5, 1, 2)))
	f.raftnode.Send(f.pid, &messages.Apply{Seq: 2, Snapshot: bad, Entries: []*raftpb.Entry{txnEntry(11, 2, 2, 3, putTxn("c", "after"))}})
	if ev := events.ExpectFailure(f.pid); ev.Directive != actor.ResumeDirective {
		t.Fatalf("directive %v, want a resume", ev.Directive)
	}
	f.barrier(f.raftnode) // no Applied for the failed Apply
	if after := f.state(); after != before {
		t.Errorf("a failed restore changed the state\n %s\nto\n %s", before, after)
	}
	f.raftnode.Send(f.pid, &messages.SnapshotNeeded{Address: "n2:2380", Message: &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(), From: new(uint64(self)), To: new(uint64(2)), Term: new(uint64(2)),
	}})
	s := testkit.ExpectMsg[*messages.SendSnapshot](f.snapshotter)
	md := s.Message.GetSnapshot().GetMetadata()
	meta, err := messages.DecodeSnapshotMeta(s.Message.GetSnapshot().GetData())
	if md.GetIndex() != 2 || md.GetTerm() != 1 || !proto.Equal(md.GetConfState(), cs) || err != nil || !reflect.DeepEqual(meta.Membership, *ms) {
		t.Errorf("after a failed restore the applier describes index %d term %d, %v, %+v (%v); want index 2 term 1, %v, %+v",
			md.GetIndex(), md.GetTerm(), md.GetConfState(), meta.Membership, err, cs, *ms)
	}
	if got := f.apply(&messages.Apply{Entries: []*raftpb.Entry{txnEntry(3, 1, 2, 3, putTxn("a", "3"))}}); got.Index != 3 || got.Revision != 3 {
		t.Errorf("Applied %+v after the failed restore, want index 3 at revision 3", got)
	}
}
