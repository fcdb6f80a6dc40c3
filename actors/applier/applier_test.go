package applier_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

const self = 1 // the applier's node id

// fixture is an applier whose raftnode (the sender of Apply), proposer and
// snapshot actor are probes.
type fixture struct {
	t           *testing.T
	system      *actor.ActorSystem
	pid         *actor.PID
	raftnode    *testkit.Probe
	proposer    *testkit.Probe
	snapshotter *testkit.Probe
	watcher     *testkit.Probe
	lessor      *testkit.Probe
	seq         uint64
}

// newFixture spawns an applier with cfg, its collaborators replaced by
// probes; opts configure its props (a supervisor, for the fatal cases).
func newFixture(t *testing.T, cfg applier.Config, opts ...actor.PropsOption) *fixture {
	t.Helper()
	if cfg.StoreDir == "" {
		cfg.StoreDir = t.TempDir() // before the system: removed after it stops
	}
	system := testkit.NewSystem(t)
	f := &fixture{
		t: t, system: system,
		raftnode: testkit.NewProbe(t, system), proposer: testkit.NewProbe(t, system), snapshotter: testkit.NewProbe(t, system),
		watcher: testkit.NewProbe(t, system), lessor: testkit.NewProbe(t, system),
	}
	if cfg.ID == 0 {
		cfg.ID = self
	}
	if cfg.Store == nil {
		cfg.Store = store.New()
	}
	cfg.Proposer = f.proposer.PID()
	cfg.Snapshotter = f.snapshotter.PID()
	cfg.Watcher = f.watcher.PID()
	cfg.Lessor = f.lessor.PID()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	f.pid = testkit.Spawn(t, system, applier.Props(cfg).Configure(opts...))
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

// barrierKey is never written: the answer of the barrier read is a
// ReadReply without keys.
const barrierKey = "\x00barrier"

// barrier checks that the applier has sent p nothing that p has not taken
// yet. It sends the applier a read due at once (index 0), to be answered to
// p, and expects that answer as p's next message: the applier handles its
// messages in order, and a mailbox keeps the messages of one sender in
// order, so whatever the applier sent p while handling what was sent to it
// before the read is ahead of the answer.
func (f *fixture) barrier(p *testkit.Probe) {
	f.t.Helper()
	f.system.Root.Send(f.pid, &messages.ReadBatch{Reads: []messages.Read{{Op: getOp(barrierKey), ReplyTo: p.PID()}}})
	p.ExpectMsgWhere("the answer of the barrier read (a ReadReply without keys)", func(m any) bool {
		r, ok := m.(*messages.ReadReply)
		return ok && r.Err == nil && len(r.Result.KVs) == 0
	})
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

// state reads every key through the applier, as dump renders them.
func (f *fixture) state() string {
	f.t.Helper()
	client := testkit.NewProbe(f.t, f.system)
	f.system.Root.Send(f.pid, &messages.ReadBatch{Reads: []messages.Read{{Op: allOp, ReplyTo: client.PID()}}})
	r := testkit.ExpectMsg[*messages.ReadReply](client)
	return dumpKVs(r.Result.KVs, r.Revision)
}

var allOp = messages.Op{Type: messages.OpGet, End: []byte{0}}

// dump renders every key of s with its revisions, and s's revision.
func dump(s *store.Store) string {
	res, rev := s.Range(allOp)
	return dumpKVs(res.KVs, rev)
}

func dumpKVs(kvs []messages.KeyValue, rev int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "revision %d:", rev)
	for _, kv := range kvs {
		fmt.Fprintf(&b, " %q=%q(c%d m%d v%d)", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
	}
	return b.String()
}

func getOp(key string) messages.Op { return messages.Op{Type: messages.OpGet, Key: []byte(key)} }

func putTxn(key, value string) messages.Txn {
	return messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}}}
}

func deleteTxn(key string) messages.Txn {
	return messages.Txn{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte(key)}}}
}

func entry(index uint64, typ raftpb.EntryType, data []byte) *raftpb.Entry {
	return entryAt(index, 1, typ, data)
}

func entryAt(index, term uint64, typ raftpb.EntryType, data []byte) *raftpb.Entry {
	return &raftpb.Entry{Term: new(term), Index: new(index), Type: typ.Enum(), Data: data}
}

// txnEntry is a normal entry at index of term carrying txn, proposed by
// node's proposer as request seq.
func txnEntry(index, term, node, seq uint64, txn messages.Txn) *raftpb.Entry {
	data, err := messages.EncodeCommand(messages.Command{ID: messages.RequestID{Node: node, Seq: seq}, Txn: txn})
	if err != nil {
		panic(err)
	}
	return entryAt(index, term, raftpb.EntryNormal, data)
}

// put is a normal entry at index (of term 1) putting key=value, proposed by
// node's proposer as request seq.
func put(index, node, seq uint64, key, value string) *raftpb.Entry {
	return txnEntry(index, 1, node, seq, putTxn(key, value))
}

// confChange is a membership change entry at index, of request req, as the
// leader proposes it (ConfChangeV2 with a ConfChangeContext); v1 makes it an
// EntryConfChange instead.
func confChange(index uint64, req messages.RequestID, change messages.MemberChange, v1 bool) *raftpb.Entry {
	c, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{ID: req, Change: change})
	if err != nil {
		panic(err)
	}
	typ := raftpb.ConfChangeAddNode
	switch change.Type {
	case messages.AddLearner:
		typ = raftpb.ConfChangeAddLearnerNode
	case messages.Remove:
		typ = raftpb.ConfChangeRemoveNode
	}
	var data []byte
	if v1 {
		data, err = proto.Marshal(&raftpb.ConfChange{Type: typ.Enum(), NodeId: new(change.Member.ID), Context: c})
	} else {
		data, err = proto.Marshal(&raftpb.ConfChangeV2{
			Changes: []*raftpb.ConfChangeSingle{{Type: typ.Enum(), NodeId: new(change.Member.ID)}}, Context: c,
		})
	}
	if err != nil {
		panic(err)
	}
	if v1 {
		return entry(index, raftpb.EntryConfChange, data)
	}
	return entry(index, raftpb.EntryConfChangeV2, data)
}

func add(id uint64, addr string) messages.MemberChange {
	return messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: id, PeerAddress: addr}}
}

func remove(id uint64) messages.MemberChange {
	return messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: id}}
}

func value(r messages.OpResult) string {
	if len(r.KVs) != 1 {
		return fmt.Sprintf("<%d kvs>", len(r.KVs))
	}
	return string(r.KVs[0].Value)
}

// readStream reads s to its end with Next, part by part (max bytes each).
func readStream(s messages.SnapshotStream, max int) ([]byte, error) {
	var out []byte
	for parts := 0; ; parts++ {
		if parts > 1<<20 {
			return out, errors.New("the stream never ends")
		}
		var done bool
		var err error
		out, done, err = s.Next(out, max)
		if err != nil {
			return out, err
		}
		if done {
			return out, nil
		}
	}
}

// streamState reads s to its end and decodes it as a store (the format of
// the store files), rendered by dump.
func streamState(t *testing.T, s messages.SnapshotStream) string {
	t.Helper()
	if s == nil {
		t.Fatal("no snapshot stream")
	}
	data, err := readStream(s, 100)
	if err != nil {
		t.Fatalf("read the snapshot stream: %v", err)
	}
	st, err := store.ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("store.ReadSnapshot of the stream: %v", err)
	}
	return dump(st)
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
	if got.Seq != 1 || got.Index != 4 || got.Revision != 3 {
		t.Errorf("Applied %+v, want index 4 at revision 3", got)
	}
	for _, want := range []messages.RequestID{{Node: self, Seq: 10}, {Node: self, Seq: 11}} {
		r := testkit.ExpectMsg[*messages.Result](f.proposer)
		if r.ID != want || r.Err != nil || !r.Result.Succeeded || len(r.Result.Responses) != 1 {
			t.Errorf("Result %+v, want a successful put for %v", r, want)
		}
	}
	f.barrier(f.proposer)
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
	f.barrier(f.proposer)
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
	f.barrier(f.proposer)
	got = f.applyEntries(put(6, self, 3, "new", "again"))
	if got.Index != 6 || got.Revision != 1 {
		t.Errorf("replayed entry: Applied %+v, want still index 6 at revision 1", got)
	}
	f.barrier(f.proposer)
}

// A command in the log twice — proposed again after a leader change, or a
// proposal delivered twice — applies once: the second copy changes nothing
// and answers nothing, and a snapshot carries which ids applied, so a
// member restored from it skips them too.
func TestCommandInTheLogTwiceAppliesOnce(t *testing.T) {
	f := newFixture(t, applier.Config{SnapshotCount: 4})
	cas := messages.Txn{
		Compares: []messages.Compare{{Key: []byte("n"), Target: messages.TargetVersion, Result: messages.Equal, Revision: 1}},
		Success:  []messages.Op{{Type: messages.OpPut, Key: []byte("n"), Value: []byte("2")}},
	}
	got := f.applyEntries(
		put(1, self, 10, "n", "1"),
		txnEntry(2, 1, self, 11, cas),
		put(3, 2, 10, "other", "x"), // another member's counter 10 is another request
		txnEntry(4, 2, self, 11, cas),
		put(5, self, 10, "n", "1"),
	)
	if got.Index != 5 || got.Revision != 3 {
		t.Errorf("Applied %+v, want index 5 at revision 3: the copies changed nothing", got)
	}
	for _, seq := range []uint64{10, 11} {
		if r := testkit.ExpectMsg[*messages.Result](f.proposer); r.ID.Seq != seq || !r.Result.Succeeded {
			t.Errorf("Result %+v, want request %d, succeeded", r, seq)
		}
	}
	f.barrier(f.proposer)
	if res, _ := f.get("n"); value(res) != "2" {
		t.Errorf("n = %s, want 2: the compare-and-swap applied once", value(res))
	}
	w := testkit.ExpectMsg[*messages.WriteSnapshot](f.snapshotter)
	restored := newFixture(t, applier.Config{Applied: w.Index, Requests: w.Requests})
	got = restored.applyEntries(txnEntry(w.Index+1, 2, self, 11, cas), put(w.Index+2, self, 12, "m", "1"))
	if got.Revision != 1 {
		t.Errorf("a member restored from the snapshot: Applied %+v, want revision 1 (only the new request)", got)
	}
	if r := testkit.ExpectMsg[*messages.Result](restored.proposer); r.ID.Seq != 12 {
		t.Errorf("Result %+v, want only request 12", r)
	}
}

// alarm is the entry of a command that raises or clears member's alarm.
func alarm(t *testing.T, index, seq, member uint64, active bool) *raftpb.Entry {
	t.Helper()
	data, err := messages.EncodeCommand(messages.Command{ID: messages.RequestID{Node: self, Seq: seq},
		Alarm: &messages.AlarmChange{Member: member, Active: active}})
	if err != nil {
		t.Fatal(err)
	}
	return entry(index, raftpb.EntryNormal, data)
}

// While a member's NOSPACE alarm is raised, every member's state machine
// refuses the writes that would put a key (ErrNoSpace, nothing changed),
// and takes the rest; raftnode hears of the alarms with Applied, the
// proposer with Alarms, and snapshots carry them.
func TestNoSpaceAlarmRefusesPuts(t *testing.T) {
	f := newFixture(t, applier.Config{SnapshotCount: 6})
	got := f.applyEntries(put(1, self, 1, "a", "1"), alarm(t, 2, 2, 3, true))
	if !slices.Equal(got.Alarms, []uint64{3}) {
		t.Errorf("Applied %+v, want the raised alarm of member 3", got)
	}
	testkit.FishForMsg(f.proposer, func(a *messages.Alarms) bool { return slices.Equal(a.Members, []uint64{3}) })
	got = f.applyEntries(put(3, self, 3, "b", "2"), txnEntry(4, 1, self, 4, deleteTxn("a")))
	if got.Revision != 2 || got.Alarms != nil {
		t.Errorf("Applied %+v, want revision 2 (the delete, not the put) and no change of alarms", got)
	}
	if r := testkit.FishForMsg[*messages.Result](f.proposer, func(r *messages.Result) bool { return r.ID.Seq == 3 }); !errors.Is(r.Err, messages.ErrNoSpace) {
		t.Errorf("the put during the alarm: %+v, want ErrNoSpace", r)
	}
	got = f.applyEntries(alarm(t, 5, 5, 3, false), put(6, self, 6, "b", "2"))
	if got.Revision != 3 || got.Alarms == nil || len(got.Alarms) != 0 {
		t.Errorf("Applied %+v, want the put applied at revision 3 once the alarm is cleared", got)
	}
	w := testkit.FishForMsg[*messages.WriteSnapshot](f.snapshotter, nil)
	if len(w.Alarms) != 0 {
		t.Errorf("snapshot alarms %v, want none", w.Alarms)
	}
	restored := newFixture(t, applier.Config{Applied: 10, Alarms: []uint64{2}})
	if got := restored.applyEntries(put(11, self, 11, "c", "3")); got.Revision != 0 || !slices.Equal(got.Alarms, []uint64{2}) {
		t.Errorf("a member restored with an alarm: Applied %+v, want the put refused and the alarm told", got)
	}
	testkit.FishForMsg(restored.proposer, func(a *messages.Alarms) bool { return slices.Equal(a.Members, []uint64{2}) })
}

// The outcome of a membership change is what raftnode decided (ConfResults):
// the applier answers a request of this node with it when it reaches the
// entry, in log order with the normal entries around it. Requests of other
// nodes, bootstrap entries and entries already applied get nothing.
func TestConfChangeResults(t *testing.T) {
	f := newFixture(t, applier.Config{})
	req := func(node, seq uint64) messages.RequestID { return messages.RequestID{Node: node, Seq: seq} }
	exists := fmt.Errorf("add member 4: %w", messages.ErrMemberExists)
	unsafe := fmt.Errorf("remove member 1: %w", messages.ErrUnsafeChange)

	got := f.apply(&messages.Apply{
		Entries: []*raftpb.Entry{
			put(1, self, 1, "a", "1"),
			confChange(2, req(self, 2), add(4, "n4:1"), false), // refused
			put(3, 2, 1, "b", "2"),
			confChange(4, req(self, 3), add(5, "n5:1"), true), // applied (an EntryConfChange)
			confChange(5, req(2, 2), remove(1), false),        // another node's, refused
			confChange(6, messages.RequestID{}, add(6, "n6:1"), false),
			put(7, self, 4, "c", "3"),
		},
		ConfState:  &raftpb.ConfState{Voters: []uint64{1, 2, 5, 6}},
		Membership: &messages.MembershipState{ClusterID: 1},
		// Not in log order: the applier answers in log order all the same.
		ConfResults: []messages.ConfResult{
			{Index: 6},
			{Index: 4, ID: req(self, 3)},
			{Index: 5, ID: req(2, 2), Err: unsafe},
			{Index: 2, ID: req(self, 2), Err: exists},
		},
	})
	if got.Index != 7 || got.Revision != 3 {
		t.Errorf("Applied %+v, want index 7 at revision 3 (conf changes move the index, not the revision)", got)
	}
	want := []struct {
		id  messages.RequestID
		err error
		put bool
	}{
		{req(self, 1), nil, true},
		{req(self, 2), exists, false},
		{req(self, 3), nil, false},
		{req(self, 4), nil, true},
	}
	for i, w := range want {
		r := testkit.ExpectMsg[*messages.Result](f.proposer)
		if r.ID != w.id {
			t.Fatalf("%d: Result for %v, want %v (log order)", i, r.ID, w.id)
		}
		if r.Err != w.err {
			t.Errorf("%d: Result error %v, want %v", i, r.Err, w.err)
		}
		if w.err != nil && !errors.Is(r.Err, messages.ErrMemberExists) {
			t.Errorf("%d: Result error %v is not ErrMemberExists", i, r.Err)
		}
		if w.put != r.Result.Succeeded {
			t.Errorf("%d: Result %+v, want a put's result: %v", i, r.Result, w.put)
		}
		if !w.put && !emptyTxnResult(r.Result) {
			t.Errorf("%d: Result of a conf change carries a txn result %+v", i, r.Result)
		}
	}
	f.barrier(f.proposer)

	// A replayed entry is not answered again, even with its result; a result
	// of an entry that the Apply does not carry answers nothing.
	got = f.apply(&messages.Apply{
		Entries: []*raftpb.Entry{
			confChange(6, messages.RequestID{}, add(6, "n6:1"), false),
			confChange(7, req(self, 9), remove(6), false),
			confChange(8, req(self, 5), remove(9), false),
		},
		ConfResults: []messages.ConfResult{
			{Index: 2, ID: req(self, 2), Err: exists},
			{Index: 8, ID: req(self, 5), Err: messages.ErrMemberNotFound},
			{Index: 9, ID: req(self, 6)},
		},
	})
	if got.Index != 8 || got.Revision != 3 {
		t.Errorf("Applied %+v, want index 8 at revision 3", got)
	}
	if r := testkit.ExpectMsg[*messages.Result](f.proposer); r.ID != req(self, 5) || !errors.Is(r.Err, messages.ErrMemberNotFound) {
		t.Errorf("Result %+v, want ErrMemberNotFound for %v", r, req(self, 5))
	}
	f.barrier(f.proposer)
}

func emptyTxnResult(r messages.TxnResult) bool {
	return !r.Succeeded && r.Revision == 0 && len(r.Responses) == 0
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
		f.barrier(c)
	}
	f.applyEntries(put(2, self, 2, "k", "v2"))
	for _, c := range []*testkit.Probe{clients[2], clients[3], clients[3]} {
		if r := testkit.ExpectMsg[*messages.ReadReply](c); value(r.Result) != "v2" || r.Revision != 2 {
			t.Errorf("read at index 2 = %s@%d, want v2@2", value(r.Result), r.Revision)
		}
	}
	f.barrier(clients[1])
	f.applyEntries(put(3, self, 3, "k", "v3"), put(4, self, 4, "k", "v4"))
	// A read waiting for index 3 sees at least index 3: here the whole batch.
	if r := testkit.ExpectMsg[*messages.ReadReply](clients[1]); value(r.Result) != "v4" || r.Revision != 4 {
		t.Errorf("read at index 3 = %s@%d, want v4@4", value(r.Result), r.Revision)
	}
	for _, c := range clients {
		f.barrier(c)
	}
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

// A snapshot does not stall the member (issue #8, defect 3): the applier
// hands the snapshot actor a copy-on-write view of the store and goes on at
// once. While that write is under way — here it never ends — the applier
// applies and answers every further entry and read, and the view keeps the
// state at the snapshot's index whatever is written after it.
func TestApplyGoesOnWhileASnapshotIsWritten(t *testing.T) {
	f := newFixture(t, applier.Config{SnapshotCount: 2})
	f.applyEntries(put(1, self, 1, "a", "1"), put(2, self, 2, "b", "1"))
	w := testkit.ExpectMsg[*messages.WriteSnapshot](f.snapshotter)
	if w.Index != 2 {
		t.Fatalf("WriteSnapshot at %d, want 2", w.Index)
	}
	for i := uint64(3); i <= 200; i += 2 {
		got := f.applyEntries(put(i, self, i, "a", fmt.Sprint(i)), put(i+1, self, i+1, fmt.Sprintf("k%03d", i), "x"))
		if got.Index != i+1 {
			t.Fatalf("Applied %+v while the snapshot is written, want index %d", got, i+1)
		}
	}
	if res, _ := f.get("a"); value(res) != "199" {
		t.Errorf("a = %s while the snapshot is written, want 199", value(res))
	}
	if got, want := streamState(t, w.Stream), `revision 2: "a"="1"(c1 m1 v1) "b"="1"(c2 m2 v1)`; got != want {
		t.Errorf("the snapshot's view after 198 more writes:\n got %s\nwant %s", got, want)
	}
}
