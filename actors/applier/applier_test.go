package applier_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// quiet is how long a test watches a probe to see that nothing arrives.
const quiet = 100 * time.Millisecond

const self = 1 // the applier's node id

// fixture is an applier whose raftnode (the sender of Apply) and proposer
// are probes.
type fixture struct {
	t        *testing.T
	system   *actor.ActorSystem
	pid      *actor.PID
	raftnode *testkit.Probe
	proposer *testkit.Probe
	seq      uint64
}

func newFixture(t *testing.T, cfg applier.Config) *fixture {
	t.Helper()
	system := testkit.NewSystem(t)
	f := &fixture{t: t, system: system, raftnode: testkit.NewProbe(t, system), proposer: testkit.NewProbe(t, system)}
	if cfg.ID == 0 {
		cfg.ID = self
	}
	if cfg.Store == nil {
		cfg.Store = store.New()
	}
	cfg.Proposer = f.proposer.PID()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	f.pid = testkit.Spawn(t, system, applier.Props(cfg))
	return f
}

// apply sends an Apply as raftnode does and returns the Applied answer.
func (f *fixture) apply(a *messages.Apply) *messages.Applied {
	f.t.Helper()
	f.seq++
	a.Seq = f.seq
	got := testkit.Request[*messages.Applied](f.raftnode, f.pid, a)
	if got.Seq != a.Seq {
		f.t.Fatalf("Applied for seq %d, want %d", got.Seq, a.Seq)
	}
	return got
}

func (f *fixture) applyEntries(es ...*raftpb.Entry) *messages.Applied {
	f.t.Helper()
	return f.apply(&messages.Apply{Entries: es, ConfState: &raftpb.ConfState{Voters: []uint64{1}}})
}

// get reads key through a ReadBatch that is due at once.
func (f *fixture) get(key string) (messages.OpResult, int64) {
	f.t.Helper()
	client := testkit.NewProbe(f.t, f.system)
	f.system.Root.Send(f.pid, &messages.ReadBatch{Reads: []messages.Read{{Op: getOp(key), ReplyTo: client.PID()}}})
	r := testkit.ExpectMsg[*messages.ReadReply](client)
	if r.Err != nil {
		f.t.Fatalf("read %q: %v", key, r.Err)
	}
	return r.Result, r.Revision
}

func getOp(key string) messages.Op { return messages.Op{Type: messages.OpGet, Key: []byte(key)} }

func putTxn(key, value string) messages.Txn {
	return messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}}}
}

func entry(index uint64, typ raftpb.EntryType, data []byte) *raftpb.Entry {
	return &raftpb.Entry{Term: new(uint64(1)), Index: new(index), Type: typ.Enum(), Data: data}
}

// put is a normal entry at index putting key=value, proposed by node's
// proposer as request seq.
func put(index, node, seq uint64, key, value string) *raftpb.Entry {
	data, err := messages.EncodeCommand(messages.Command{ID: messages.RequestID{Node: node, Seq: seq}, Txn: putTxn(key, value)})
	if err != nil {
		panic(err)
	}
	return entry(index, raftpb.EntryNormal, data)
}

func confChange(index uint64, typ raftpb.ConfChangeType, id uint64, req messages.RequestID, address string) *raftpb.Entry {
	cc := &raftpb.ConfChange{Type: typ.Enum(), NodeId: new(id)}
	if req != (messages.RequestID{}) || address != "" {
		c, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{ID: req, Address: address})
		if err != nil {
			panic(err)
		}
		cc.Context = c
	}
	data, err := proto.Marshal(cc)
	if err != nil {
		panic(err)
	}
	return entry(index, raftpb.EntryConfChange, data)
}

func value(r messages.OpResult) string {
	if len(r.KVs) != 1 {
		return fmt.Sprintf("<%d kvs>", len(r.KVs))
	}
	return string(r.KVs[0].Value)
}

// Applied answers the sender with the applied index and store revision; the
// proposer gets a Result only for the requests of its own node.
func TestApplyAnswersAppliedAndOwnResults(t *testing.T) {
	f := newFixture(t, applier.Config{})
	got := f.applyEntries(
		put(1, self, 10, "a", "1"),
		put(2, 2, 10, "b", "2"),           // proposed through node 2
		entry(3, raftpb.EntryNormal, nil), // a new leader's empty entry
		put(4, self, 11, "a", "3"),
	)
	if got.Seq != 1 || got.Index != 4 || got.Revision != 3 || got.Members != nil {
		t.Errorf("Applied %+v, want index 4 at revision 3", got)
	}
	for _, want := range []messages.RequestID{{Node: self, Seq: 10}, {Node: self, Seq: 11}} {
		r := testkit.ExpectMsg[*messages.Result](f.proposer)
		if r.ID != want || r.Err != nil || !r.Result.Succeeded || len(r.Result.Responses) != 1 {
			t.Errorf("Result %+v, want a successful put for %v", r, want)
		}
	}
	f.proposer.ExpectNoMsg(quiet)
	if res, rev := f.get("a"); value(res) != "3" || rev != 3 {
		t.Errorf("a = %s at revision %d, want 3 at 3", value(res), rev)
	}
}

// An entry that does not decode is skipped alike on every node: no crash,
// no change, and the applied index still moves past it.
func TestUndecodableEntryIsSkipped(t *testing.T) {
	f := newFixture(t, applier.Config{})
	events := testkit.WatchSupervision(t, f.system)
	future, err := messages.Encode(&messages.Command{Version: messages.FormatVersion + 1, ID: messages.RequestID{Node: self, Seq: 1}, Txn: putTxn("x", "y")})
	if err != nil {
		t.Fatal(err)
	}
	got := f.applyEntries(
		entry(1, raftpb.EntryNormal, []byte("\xc1 not msgpack")),
		entry(2, raftpb.EntryNormal, future),
		entry(3, raftpb.EntryNormal, []byte{0xdd, 0xff, 0xff, 0xff, 0xff}),
		put(4, self, 2, "a", "1"),
	)
	if got.Index != 4 || got.Revision != 1 {
		t.Errorf("Applied %+v, want index 4 at revision 1 (only the valid entry)", got)
	}
	if r := testkit.ExpectMsg[*messages.Result](f.proposer); r.ID.Seq != 2 {
		t.Errorf("Result %+v, want only the one for the valid entry", r)
	}
	f.proposer.ExpectNoMsg(quiet)
	if res, _ := f.get("x"); len(res.KVs) != 0 {
		t.Errorf("the entry of an unknown version wrote x: %+v", res)
	}
	events.ExpectNone(0)
}

// Entries at or below the applied index (a replay after a snapshot) are
// not applied twice.
func TestAlreadyAppliedEntriesAreSkipped(t *testing.T) {
	f := newFixture(t, applier.Config{Applied: 5})
	got := f.applyEntries(put(4, self, 1, "old", "x"), put(5, self, 2, "old", "y"), put(6, self, 3, "new", "z"))
	if got.Index != 6 || got.Revision != 1 {
		t.Errorf("Applied %+v, want index 6 at revision 1", got)
	}
	if r := testkit.ExpectMsg[*messages.Result](f.proposer); r.ID.Seq != 3 {
		t.Errorf("Result %+v, want only the one of entry 6", r)
	}
	f.proposer.ExpectNoMsg(quiet)
	got = f.applyEntries(put(6, self, 3, "new", "again"))
	if got.Index != 6 || got.Revision != 1 {
		t.Errorf("replayed entry: Applied %+v, want still index 6 at revision 1", got)
	}
}

// Membership changes are recorded in the store and answered: adding a
// member twice or removing a stranger is an error for the client, not for
// the node.
func TestConfChangeResults(t *testing.T) {
	f := newFixture(t, applier.Config{SnapshotCount: 10})
	req := func(seq uint64) messages.RequestID { return messages.RequestID{Node: self, Seq: seq} }
	tests := []struct {
		entry *raftpb.Entry
		want  error // nil: success
	}{
		{confChange(1, raftpb.ConfChangeAddNode, 4, req(1), "n4:1"), nil},
		{confChange(2, raftpb.ConfChangeAddNode, 4, req(2), "n4:2"), messages.ErrMemberExists},
		{confChange(3, raftpb.ConfChangeRemoveNode, 9, req(3), ""), messages.ErrMemberNotFound},
		{confChange(4, raftpb.ConfChangeAddLearnerNode, 5, req(4), "n5:1"), nil},
		{confChange(5, raftpb.ConfChangeRemoveNode, 4, req(5), ""), nil},
		{confChange(6, raftpb.ConfChangeRemoveNode, 4, req(6), ""), messages.ErrMemberNotFound},
	}
	for i, tt := range tests {
		got := f.applyEntries(tt.entry)
		if got.Index != uint64(i+1) || got.Members != nil {
			t.Errorf("%d: Applied %+v, want index %d and no members (no snapshot restored)", i, got, i+1)
		}
		r := testkit.ExpectMsg[*messages.Result](f.proposer)
		if r.ID != req(uint64(i+1)) {
			t.Fatalf("%d: Result for %v, want %v", i, r.ID, req(uint64(i+1)))
		}
		if tt.want == nil && r.Err != nil || tt.want != nil && !errors.Is(r.Err, tt.want) {
			t.Errorf("%d: Result error %v, want %v", i, r.Err, tt.want)
		}
	}
	// Changes of other nodes' proposers and the bootstrap ones (no request)
	// are applied but answered by nobody here. Entry 10 makes a snapshot.
	f.raftnode.Send(f.pid, &messages.Apply{Seq: 100, ConfState: &raftpb.ConfState{Voters: []uint64{1}}, Entries: []*raftpb.Entry{
		confChange(7, raftpb.ConfChangeAddNode, 6, messages.RequestID{Node: 2, Seq: 1}, "n6:1"),
		confChange(8, raftpb.ConfChangeAddNode, 7, messages.RequestID{}, "n7:1"),
		confChange(9, raftpb.ConfChangeAddNode, 8, messages.RequestID{}, ""),
		entry(10, raftpb.EntryConfChange, []byte("\xff garbage")),
	}})
	sc := testkit.ExpectMsg[*messages.SnapshotCreated](f.raftnode)
	if a := testkit.ExpectMsg[*messages.Applied](f.raftnode); a.Index != 10 {
		t.Errorf("Applied %+v, want index 10", a)
	}
	f.proposer.ExpectNoMsg(quiet)

	// The membership travels in snapshots.
	s := store.New()
	if err := s.Restore(sc.Data); err != nil {
		t.Fatalf("restore the applier's snapshot: %v", err)
	}
	want := map[uint64]string{5: "n5:1", 6: "n6:1", 7: "n7:1", 8: ""}
	if got := s.Members(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("members %v, want %v", got, want)
	}
}

// ReadBatches are served once the applied index reaches their index: at
// once when it already has, otherwise right after the Apply that gets there.
func TestReadBatchWaitsForIndex(t *testing.T) {
	f := newFixture(t, applier.Config{})
	clients := make([]*testkit.Probe, 4)
	for i := range clients {
		clients[i] = testkit.NewProbe(t, f.system)
	}
	read := func(c *testkit.Probe, index uint64) {
		f.system.Root.Send(f.pid, &messages.ReadBatch{Index: index, Reads: []messages.Read{{Op: getOp("k"), ReplyTo: c.PID()}}})
	}
	f.applyEntries(put(1, self, 1, "k", "v1"))

	read(clients[0], 1)
	if r := testkit.ExpectMsg[*messages.ReadReply](clients[0]); value(r.Result) != "v1" || r.Revision != 1 {
		t.Errorf("read at index 1 = %s@%d, want v1@1", value(r.Result), r.Revision)
	}
	read(clients[1], 3)
	read(clients[2], 2)
	// Two reads in one batch share its index.
	f.system.Root.Send(f.pid, &messages.ReadBatch{Index: 2, Reads: []messages.Read{
		{Op: getOp("k"), ReplyTo: clients[3].PID()}, {Op: getOp("k"), ReplyTo: clients[3].PID()},
	}})
	for _, c := range clients[1:] {
		c.ExpectNoMsg(quiet)
	}
	f.applyEntries(put(2, self, 2, "k", "v2"))
	for _, c := range []*testkit.Probe{clients[2], clients[3], clients[3]} {
		if r := testkit.ExpectMsg[*messages.ReadReply](c); value(r.Result) != "v2" || r.Revision != 2 {
			t.Errorf("read at index 2 = %s@%d, want v2@2", value(r.Result), r.Revision)
		}
	}
	clients[1].ExpectNoMsg(quiet)
	f.applyEntries(put(3, self, 3, "k", "v3"), put(4, self, 4, "k", "v4"))
	// A read waiting for index 3 sees at least index 3: here the whole batch.
	if r := testkit.ExpectMsg[*messages.ReadReply](clients[1]); value(r.Result) != "v4" || r.Revision != 4 {
		t.Errorf("read at index 3 = %s@%d, want v4@4", value(r.Result), r.Revision)
	}
	for _, c := range clients {
		c.ExpectNoMsg(0)
	}
}

// Every SnapshotCount applied entries the applier serializes the store for
// raftnode, with the membership it was told, at an index where every entry
// before it is applied.
func TestSnapshotEverySnapshotCount(t *testing.T) {
	f := newFixture(t, applier.Config{SnapshotCount: 3})
	cs := &raftpb.ConfState{Voters: []uint64{1, 2}, Learners: []uint64{3}}
	f.seq++
	f.raftnode.Send(f.pid, &messages.Apply{Seq: f.seq, ConfState: cs, Entries: []*raftpb.Entry{
		put(1, self, 1, "a", "1"),
		confChange(2, raftpb.ConfChangeAddNode, 2, messages.RequestID{}, "n2:1"),
		put(3, 2, 1, "b", "2"),
	}})
	sc := testkit.ExpectMsg[*messages.SnapshotCreated](f.raftnode)
	if sc.Index != 3 || !proto.Equal(sc.ConfState, cs) {
		t.Errorf("SnapshotCreated at %d with %v, want index 3 with %v", sc.Index, sc.ConfState, cs)
	}
	if a := testkit.ExpectMsg[*messages.Applied](f.raftnode); a.Seq != f.seq || a.Index != 3 {
		t.Errorf("Applied %+v after the snapshot, want seq %d index 3", a, f.seq)
	}
	s := store.New()
	if err := s.Restore(sc.Data); err != nil {
		t.Fatalf("store.Restore of the snapshot data: %v", err)
	}
	if s.Revision() != 2 || s.Len() != 2 || fmt.Sprint(s.Members()) != fmt.Sprint(map[uint64]string{2: "n2:1"}) {
		t.Errorf("restored store: revision %d, %d keys, members %v; want 2, 2, map[2:n2:1]", s.Revision(), s.Len(), s.Members())
	}

	// Two more entries: no snapshot yet; the third makes one at index 6.
	f.applyEntries(put(4, self, 2, "c", "3"), put(5, self, 3, "d", "4"))
	f.seq++
	f.raftnode.Send(f.pid, &messages.Apply{Seq: f.seq, ConfState: cs, Entries: []*raftpb.Entry{put(6, self, 4, "e", "5")}})
	if sc := testkit.ExpectMsg[*messages.SnapshotCreated](f.raftnode); sc.Index != 6 {
		t.Errorf("second SnapshotCreated at %d, want 6", sc.Index)
	}
	testkit.ExpectMsg[*messages.Applied](f.raftnode)
	f.raftnode.ExpectNoMsg(quiet)
}

// An Apply that carries a snapshot restores the store from it before the
// entries after it, and reports the members the snapshot carried.
func TestApplySnapshotRestoresStore(t *testing.T) {
	src := store.New()
	src.Apply(putTxn("a", "from snapshot"))
	src.Apply(putTxn("b", "gone"))
	src.SetMember(1, "n1:1")
	src.SetMember(2, "n2:1")
	data, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	snap := func(index uint64) *raftpb.Snapshot {
		return &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
			Index: new(index), Term: new(uint64(2)), ConfState: &raftpb.ConfState{Voters: []uint64{1, 2}},
		}}
	}

	f := newFixture(t, applier.Config{})
	f.applyEntries(put(1, self, 1, "local", "x"))
	got := f.apply(&messages.Apply{Snapshot: snap(10), Entries: []*raftpb.Entry{put(11, 2, 1, "c", "after")}})
	if got.Index != 11 || got.Revision != src.Revision()+1 {
		t.Errorf("Applied %+v, want index 11 at revision %d", got, src.Revision()+1)
	}
	if fmt.Sprint(got.Members) != fmt.Sprint(src.Members()) {
		t.Errorf("Applied members %v, want the snapshot's %v", got.Members, src.Members())
	}
	for key, want := range map[string]string{"a": "from snapshot", "c": "after"} {
		if res, _ := f.get(key); value(res) != want {
			t.Errorf("%s = %s, want %q", key, value(res), want)
		}
	}
	if res, _ := f.get("local"); len(res.KVs) != 0 {
		t.Errorf("a key written before the snapshot survived the restore: %+v", res)
	}

	// A snapshot the applier is already past is not restored again.
	got = f.apply(&messages.Apply{Snapshot: snap(10)})
	if got.Index != 11 || got.Members != nil || got.Revision != src.Revision()+1 {
		t.Errorf("stale snapshot: Applied %+v, want index 11, no members, revision unchanged", got)
	}
	if res, _ := f.get("c"); value(res) != "after" {
		t.Errorf("a stale snapshot undid entry 11: c = %s", value(res))
	}
}

// A snapshot that does not restore is fatal: the applier fails rather than
// go on from a state it cannot vouch for.
func TestCorruptSnapshotIsFatal(t *testing.T) {
	f := newFixture(t, applier.Config{})
	events := testkit.WatchSupervision(t, f.system)
	f.system.Root.Send(f.pid, &messages.Apply{Seq: 1, Snapshot: &raftpb.Snapshot{
		Data:     []byte("not a snapshot"),
		Metadata: &raftpb.SnapshotMetadata{Index: new(uint64(5)), Term: new(uint64(1))},
	}})
	events.ExpectFailure(f.pid)
}

func TestSerializableReadBatchIsServedAtOnce(t *testing.T) {
	f := newFixture(t, applier.Config{})
	f.applyEntries(put(1, self, 1, "a", "1"), put(2, self, 2, "b", "2"))
	client := testkit.NewProbe(t, f.system)
	f.system.Root.Send(f.pid, &messages.ReadBatch{Reads: []messages.Read{
		{Op: messages.Op{Type: messages.OpGet, Key: []byte("a"), End: []byte{0}}, ReplyTo: client.PID()},
	}})
	r := testkit.ExpectMsg[*messages.ReadReply](client)
	var keys []string
	for _, kv := range r.Result.KVs {
		keys = append(keys, string(kv.Key))
	}
	if !slices.Equal(keys, []string{"a", "b"}) || r.Revision != 2 {
		t.Errorf("range read got %v at %d, want [a b] at 2", keys, r.Revision)
	}
}
