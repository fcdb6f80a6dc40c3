package raftnode_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/actors/raftnode"
	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
)

// quiet is how long a test watches a probe to see that nothing arrives.
const quiet = 100 * time.Millisecond

// testNode is a raftnode actor whose collaborators are probes: the
// persister, the applier, the proposer, the network (every peer link
// forwards what it gets to net), the route of raftkv's own peer messages
// (peers) and a client that asks for Status.
type testNode struct {
	t      *testing.T
	id     uint64
	system *actor.ActorSystem
	pid    *actor.PID

	persister, applier, proposer, net, peers, client *testkit.Probe
	// parent receives what raftnode sends to its parent (Removed), when the
	// node was started with underParent.
	parent *testkit.Probe

	markers int
}

type nodeOption func(*nodeOptions)

type nodeOptions struct{ underParent bool }

// underParent spawns raftnode as the child of an actor that passes every
// message it gets on to the probe testNode.parent.
func underParent(o *nodeOptions) { o.underParent = true }

func newTestNode(t *testing.T, cfg raftnode.Config, opts ...nodeOption) *testNode {
	t.Helper()
	var o nodeOptions
	for _, opt := range opts {
		opt(&o)
	}
	system := testkit.NewSystem(t)
	n := &testNode{
		t:         t,
		id:        cfg.ID,
		system:    system,
		persister: testkit.NewProbe(t, system),
		applier:   testkit.NewProbe(t, system),
		proposer:  testkit.NewProbe(t, system),
		net:       testkit.NewProbe(t, system),
		peers:     testkit.NewProbe(t, system),
		client:    testkit.NewProbe(t, system),
	}
	cfg.Persister, cfg.Applier, cfg.Proposer = n.persister.PID(), n.applier.PID(), n.proposer.PID()
	cfg.Link = func(id uint64, address string, _ uint64) *actor.Props {
		return actor.PropsFromFunc(func(ctx actor.Context) {
			switch m := ctx.Message().(type) {
			case *raftpb.Message, *messages.LinkChecked, *messages.ClusterIDKnown:
				ctx.Send(n.net.PID(), m)
			}
		})
	}
	cfg.Route = func(uint64, string) *actor.PID { return n.peers.PID() }
	cfg.Logger = testLogger(t)
	props, err := raftnode.Props(cfg)
	if err != nil {
		t.Fatalf("raftnode.Props: %v", err)
	}
	if !o.underParent {
		n.pid = testkit.Spawn(t, system, props)
		return n
	}
	n.parent = testkit.NewProbe(t, system)
	child := make(chan *actor.PID, 1)
	out := n.parent.PID()
	testkit.Spawn(t, system, actor.PropsFromFunc(func(ctx actor.Context) {
		switch msg := ctx.Message().(type) {
		case *actor.Started:
			child <- ctx.Spawn(props)
		case *actor.Stopping, *actor.Stopped, *actor.Restarting, *actor.Terminated:
		default:
			ctx.Send(out, msg)
		}
	}))
	select {
	case n.pid = <-child:
	case <-time.After(testkit.Dilated(testkit.DefaultTimeout)):
		t.Fatal("the parent did not spawn raftnode")
	}
	return n
}

// testLogger logs to t until the test ends.
func testLogger(t *testing.T) *slog.Logger {
	w := &tbWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tbWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *tbWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func (w *tbWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

func (n *testNode) send(msg any) { n.system.Root.Send(n.pid, msg) }

// persisted acknowledges p as the persister does once it is durable: it
// sends the messages p carries to their links, then Persisted.
func (n *testNode) persisted(p *messages.Persist) {
	for _, o := range p.Then {
		n.system.Root.Send(o.To, o.Message)
	}
	n.send(&messages.Persisted{Seq: p.Seq})
}

func (n *testNode) tick(count int) {
	for range count {
		n.send(&messages.Tick{})
	}
}

func (n *testNode) status() *messages.Status {
	n.t.Helper()
	return testkit.Request[*messages.Status](n.client, n.pid, &messages.ClientStatus{})
}

// marker is sent to a probe to find the end of what it received so far.
type marker struct{ n int }

// flush returns the messages p has received up to now. Called right after
// a status request, it returns everything raftnode sent p before it
// answered: those messages are in p's mailbox before the marker.
func (n *testNode) flush(p *testkit.Probe) []any {
	n.t.Helper()
	n.markers++
	m := &marker{n.markers}
	n.system.Root.Send(p.PID(), m)
	var got []any
	for {
		e := p.ReceiveN(1)[0]
		if e.Message == m {
			return got
		}
		got = append(got, e.Message)
	}
}

// settle acknowledges every Persist, Apply and SaveSnapshot as a healthy
// persister and applier would, until raftnode is idle and its status
// satisfies cond. It fails the test if raftnode goes idle without that.
func (n *testNode) settle(desc string, cond func(*messages.Status) bool) *messages.Status {
	n.t.Helper()
	for range 200 {
		// Two barriers: a write that raftnode took before the first one
		// it hands raft at a marker it sent itself meanwhile (batch.go),
		// which the second one follows.
		n.status()
		st := n.status()
		ps, as := n.flush(n.persister), n.flush(n.applier)
		if len(ps) == 0 && len(as) == 0 {
			if cond(st) {
				return st
			}
			n.t.Fatalf("raftnode is idle but not %s: status %+v", desc, st)
		}
		for _, m := range ps {
			switch m := m.(type) {
			case *messages.Persist:
				n.persisted(m)
			case *messages.SaveSnapshot:
				n.send(&messages.SnapshotSaved{Index: m.Snapshot.GetMetadata().GetIndex()})
			default:
				n.t.Fatalf("persister got %T %+v", m, m)
			}
		}
		for _, m := range as {
			a, ok := m.(*messages.Apply)
			if !ok {
				n.t.Fatalf("applier got %T %+v", m, m)
			}
			n.send(applied(a))
		}
	}
	n.t.Fatalf("raftnode did not settle (%s)", desc)
	return nil
}

// applied is the applier's answer to a: everything in it is applied.
func applied(a *messages.Apply) *messages.Applied {
	return &messages.Applied{Seq: a.Seq, Index: applyIndex(a), Revision: int64(applyIndex(a))}
}

func applyIndex(a *messages.Apply) uint64 {
	if k := len(a.Entries); k > 0 {
		return a.Entries[k-1].GetIndex()
	}
	return a.Snapshot.GetMetadata().GetIndex()
}

// newLeader starts a single-member cluster and ticks it until it leads,
// with every Ready acknowledged.
func newLeader(t *testing.T, cfg raftnode.Config) (*testNode, *messages.Status) {
	t.Helper()
	cfg.ID, cfg.Bootstrap = 1, peers(1)
	n := newTestNode(t, cfg)
	// Raft does not campaign before the bootstrap membership is applied.
	n.settle("the bootstrap applied", func(st *messages.Status) bool { return st.Applied >= 1 })
	n.tick(2 * raftnode.DefaultElectionTick)
	st := n.settle("the leader with everything applied", func(st *messages.Status) bool {
		return st.Leader == 1 && st.Applied == st.Commit
	})
	return n, st
}

func command(seq uint64, key string) []byte {
	data, err := messages.EncodeCommand(messages.Command{
		ID:  messages.RequestID{Node: 1, Seq: seq},
		Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte("v")}}},
	})
	if err != nil {
		panic(err)
	}
	return data
}

func propose(seq uint64, key string) *messages.Propose {
	return &messages.Propose{ID: messages.RequestID{Node: 1, Seq: seq}, Data: command(seq, key)}
}

func entryData(es []*raftpb.Entry) [][]byte {
	var out [][]byte
	for _, e := range es {
		out = append(out, e.GetData())
	}
	return out
}

// testClusterID is the cluster id of the test's bootstrap entries.
const testClusterID = 7

// peers are the bootstrap entries of a new cluster of members ids, at
// addresses "n<id>:1".
func peers(ids ...uint64) []raft.Peer {
	var out []raft.Peer
	for _, id := range ids {
		c, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{
			Change:    messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: id, PeerAddress: addr(id)}},
			ClusterID: testClusterID,
		})
		if err != nil {
			panic(err)
		}
		out = append(out, raft.Peer{ID: id, Context: c})
	}
	return out
}

func addr(id uint64) string { return fmt.Sprintf("n%d:1", id) }

// confChangeEntry is the committed entry of a membership change.
func confChangeEntry(term, index uint64, req messages.RequestID, ch messages.MemberChange) *raftpb.Entry {
	cc, err := membership.ConfChange(req, ch)
	if err != nil {
		panic(err)
	}
	data, err := proto.Marshal(cc)
	if err != nil {
		panic(err)
	}
	return &raftpb.Entry{Term: new(term), Index: new(index), Type: raftpb.EntryConfChangeV2.Enum(), Data: data}
}

// bootstrapEntry is entry index of a bootstrap, adding member id.
func bootstrapEntry(index, id uint64) *raftpb.Entry {
	p := peers(id)[0]
	cc := &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(id), Context: p.Context}
	data, err := proto.Marshal(cc)
	if err != nil {
		panic(err)
	}
	return &raftpb.Entry{Term: new(uint64(1)), Index: new(index), Type: raftpb.EntryConfChange.Enum(), Data: data}
}

func addVoter(id uint64) messages.MemberChange {
	return messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: id, PeerAddress: addr(id)}}
}

func members(st *messages.Status) map[uint64]string {
	out := map[uint64]string{}
	for _, m := range st.Members {
		out[m.ID] = m.PeerAddress
	}
	return out
}

// A brand-new single-member cluster persists its bootstrap entries before
// applying them, elects itself when ticked, and tells the proposer.
func TestSingleMemberBootstrapsAndLeads(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 1, Bootstrap: peers(1)})

	if rs := testkit.ExpectMsg[*messages.RaftState](n.proposer); *rs != (messages.RaftState{}) {
		t.Errorf("first RaftState %+v, want no leader and not serving (not a member before the bootstrap applies)", rs)
	}
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	if p.Seq != 1 || len(p.Entries) != 1 || p.Entries[0].GetType() != raftpb.EntryConfChange || p.HardState.GetCommit() != 1 {
		t.Fatalf("first Persist %+v, want seq 1 with the bootstrap conf change, committed", p)
	}
	// Committed but not yet durable here: it must not be applied before the fsync.
	n.applier.ExpectNoMsg(quiet)
	n.persisted(p)
	a := testkit.ExpectMsg[*messages.Apply](n.applier)
	if a.Seq != 1 || len(a.Entries) != 1 || !slices.Equal(a.ConfState.GetVoters(), []uint64{1}) {
		t.Fatalf("first Apply %+v, want seq 1 with the bootstrap entry and voters [1]", a)
	}
	n.send(&messages.Applied{Seq: 1, Index: 1, Revision: 0})
	testkit.FishForMsg(n.proposer, func(rs *messages.RaftState) bool { return *rs == messages.RaftState{Term: 1, Serving: true} })

	n.tick(2 * raftnode.DefaultElectionTick)
	st := n.settle("leader", func(st *messages.Status) bool { return st.Leader == 1 && st.Applied == st.Commit })
	want := messages.RaftState{Leader: 1, Term: st.Term, Serving: true}
	testkit.FishForMsg(n.proposer, func(rs *messages.RaftState) bool { return *rs == want })
	if st.ID != 1 || st.Term < 2 || st.Commit < 2 || !st.Serving || st.State != "leader" || st.ClusterID != testClusterID {
		t.Errorf("status %+v, want member 1 leading at term >= 2 with its empty entry committed, of cluster %d", st, testClusterID)
	}
	if got := members(st); fmt.Sprint(got) != fmt.Sprint(map[uint64]string{1: addr(1)}) {
		t.Errorf("status members %v, want member 1 at %s", got, addr(1))
	}
}

// The key property of raftnode: the next Ready leaves only once both the
// persister and the applier acknowledged the one in flight; proposals that
// arrive in the meantime leave together in the next Ready (group commit).
func TestNextReadyOnlyAfterBothAcks(t *testing.T) {
	n, _ := newLeader(t, raftnode.Config{})

	n.send(propose(1, "a"))
	p1 := testkit.ExpectMsg[*messages.Persist](n.persister)
	if got := entryData(p1.Entries); len(got) != 1 || !bytes.Equal(got[0], command(1, "a")) {
		t.Fatalf("Persist %d carries %d entries, want the proposal", p1.Seq, len(got))
	}
	n.applier.ExpectNoMsg(quiet) // not committed before the leader's own fsync
	n.persisted(p1)

	// The entry commits: its hard state goes to the persister and the
	// entry, durable already, to the applier at the same time.
	p2 := testkit.ExpectMsg[*messages.Persist](n.persister)
	a2 := testkit.ExpectMsg[*messages.Apply](n.applier)
	if p2.Seq != p1.Seq+1 || a2.Seq != p2.Seq {
		t.Fatalf("Persist seq %d and Apply seq %d after Persist %d, want both %d", p2.Seq, a2.Seq, p1.Seq, p1.Seq+1)
	}
	if len(a2.Entries) != 1 || !bytes.Equal(a2.Entries[0].GetData(), command(1, "a")) {
		t.Fatalf("Apply %d carries %v, want the committed proposal", a2.Seq, entryData(a2.Entries))
	}

	// Three proposals while that Ready is out: nothing leaves.
	for i, key := range []string{"b", "c", "d"} {
		n.send(propose(uint64(2+i), key))
	}
	n.persister.ExpectNoMsg(quiet)

	// The persister's ack alone, or acks of other Readys, do not advance.
	n.persisted(p2)
	n.send(&messages.Persisted{Seq: 999})
	n.send(&messages.Applied{Seq: 998, Index: 100})
	n.persister.ExpectNoMsg(quiet)
	n.applier.ExpectNoMsg(quiet)
	if st := n.status(); st.Applied == 100 {
		t.Errorf("an Applied ack for a Ready not in flight moved the applied index: %+v", st)
	}

	n.send(&messages.Applied{Seq: a2.Seq, Index: a2.Entries[0].GetIndex()})
	p3 := testkit.ExpectMsg[*messages.Persist](n.persister)
	want := [][]byte{command(2, "b"), command(3, "c"), command(4, "d")}
	if got := entryData(p3.Entries); p3.Seq != p2.Seq+1 || !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("Persist %d carries %d entries, want seq %d with the 3 proposals in one batch", p3.Seq, len(got), p2.Seq+1)
	}

	// The other order: the applier answers first.
	n.persisted(p3)
	p4 := testkit.ExpectMsg[*messages.Persist](n.persister)
	a4 := testkit.ExpectMsg[*messages.Apply](n.applier)
	if got := entryData(a4.Entries); a4.Seq != p4.Seq || !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("Apply %d carries %d entries, want seq %d with the batch", a4.Seq, len(got), p4.Seq)
	}
	n.send(applied(a4))
	n.send(propose(5, "e"))
	n.persister.ExpectNoMsg(quiet)
	n.persisted(p4)
	p5 := testkit.ExpectMsg[*messages.Persist](n.persister)
	if got := entryData(p5.Entries); p5.Seq != p4.Seq+1 || len(got) != 1 || !bytes.Equal(got[0], command(5, "e")) {
		t.Fatalf("Persist %d carries %d entries, want seq %d with the last proposal", p5.Seq, len(got), p4.Seq+1)
	}
	if st := n.status(); st.Applied != applyIndex(a4) || st.Revision != int64(applyIndex(a4)) {
		t.Errorf("status %+v, want applied index and revision of the last Applied (%d)", st, applyIndex(a4))
	}
}

// Without a leader raft refuses proposals at once: the proposer hears of it
// and may propose again. A read index request is not answered.
func TestNoLeaderDropsProposals(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 1, Bootstrap: peers(1, 2, 3)})
	id := messages.RequestID{Node: 1, Seq: 7}
	n.send(&messages.Propose{ID: id, Data: command(7, "a")})
	d := testkit.FishForMsg[*messages.ProposalDropped](n.proposer, nil)
	if d.ID != id || !errors.Is(d.Err, raft.ErrProposalDropped) {
		t.Errorf("ProposalDropped %+v, want id %v and raft.ErrProposalDropped", d, id)
	}
	cid := messages.RequestID{Node: 1, Seq: 8}
	n.send(&messages.ProposeConfChange{ID: cid, Change: addVoter(4)})
	if d := testkit.ExpectMsg[*messages.ProposalDropped](n.proposer); d.ID != cid || !errors.Is(d.Err, messages.ErrNoLeader) {
		t.Errorf("ProposalDropped %+v, want id %v with ErrNoLeader", d, cid)
	}
	n.send(&messages.ReadIndex{Ctx: 1})
	n.proposer.ExpectNoMsg(quiet)
}

// A leader answers a read index request with its commit index.
func TestReadIndexYieldsReadState(t *testing.T) {
	n, st := newLeader(t, raftnode.Config{})
	n.send(&messages.ReadIndex{Ctx: 42})
	rs := testkit.FishForMsg[*messages.ReadState](n.proposer, nil)
	if *rs != (messages.ReadState{Ctx: 42, Index: st.Commit}) {
		t.Errorf("ReadState %+v, want ctx 42 at the commit index %d", rs, st.Commit)
	}

	n.send(propose(1, "a"))
	st = n.settle("the write applied", func(s *messages.Status) bool { return s.Applied > st.Applied && s.Applied == s.Commit })
	n.send(&messages.ReadIndex{Ctx: 1 << 60})
	rs = testkit.FishForMsg[*messages.ReadState](n.proposer, nil)
	if *rs != (messages.ReadState{Ctx: 1 << 60, Index: st.Commit}) {
		t.Errorf("ReadState %+v, want ctx 2^60 at the commit index %d", rs, st.Commit)
	}
}

// A restarted node serves only once the applier has applied everything the
// node had committed before it stopped.
func TestServingOnlyAfterReplay(t *testing.T) {
	big := func(term, index uint64) *raftpb.Entry {
		// Two of them exceed what raft hands out in one Ready (1 MiB).
		return &raftpb.Entry{Term: new(term), Index: new(index), Type: raftpb.EntryNormal.Enum(),
			Data: bytes.Repeat([]byte{byte(index)}, 600<<10)}
	}
	entries := []*raftpb.Entry{
		bootstrapEntry(1, 1),
		big(1, 2), big(1, 3),
	}
	n := newTestNode(t, raftnode.Config{
		ID: 1, Restart: true,
		HardState: &raftpb.HardState{Term: new(uint64(1)), Vote: new(uint64(1)), Commit: new(uint64(3))},
		Entries:   entries,
	})
	if rs := testkit.ExpectMsg[*messages.RaftState](n.proposer); rs.Serving {
		t.Fatalf("first RaftState %+v, want not serving before the replay", rs)
	}

	a1 := testkit.ExpectMsg[*messages.Apply](n.applier)
	if applyIndex(a1) >= 3 {
		t.Fatalf("raft handed out the whole replay in one Ready (up to %d); the test needs two", applyIndex(a1))
	}
	n.send(applied(a1))
	if st := n.status(); st.Serving || st.Applied != applyIndex(a1) {
		t.Errorf("status %+v after applying up to %d of 3, want not serving", st, applyIndex(a1))
	}
	a2 := testkit.ExpectMsg[*messages.Apply](n.applier)
	if applyIndex(a2) != 3 {
		t.Fatalf("second Apply ends at %d, want 3", applyIndex(a2))
	}
	n.proposer.ExpectNoMsg(quiet) // still not serving
	// The replay never touched the persister: the entries were on disk.
	// (Once serving, a lone voter campaigns, and persists its vote.)
	if s := n.persister.Stats(); s.Received != 0 {
		t.Errorf("the persister got %d messages during the replay", s.Received)
	}
	n.send(applied(a2))
	if rs := testkit.ExpectMsg[*messages.RaftState](n.proposer); !rs.Serving {
		t.Errorf("RaftState %+v after the replay, want serving", rs)
	}
	if st := n.status(); !st.Serving || st.Applied != 3 {
		t.Errorf("status %+v, want serving at applied 3", st)
	}
}

// A snapshot the snapshot actor made is saved by the persister; once it is
// saved, the log before it is compacted, so a member that needs those
// entries gets a snapshot instead: raftnode asks the applier for one of
// its current state (SnapshotNeeded), and raft waits for the outcome. The
// entries kept behind the snapshot are bounded by count and by bytes.
func TestSnapshotSavedCompactsLog(t *testing.T) {
	for name, cfg := range map[string]raftnode.Config{
		"by count": {CatchUpEntries: 1},
		"by bytes": {CatchUpEntries: 1000, CatchUpBytes: 1},
	} {
		t.Run(name, func(t *testing.T) { testSnapshotSavedCompactsLog(t, cfg) })
	}
}

func testSnapshotSavedCompactsLog(t *testing.T, cfg raftnode.Config) {
	n, st := newLeader(t, cfg)
	for i := range 3 {
		n.send(propose(uint64(i+1), fmt.Sprint(i)))
	}
	st = n.settle("the writes applied", func(s *messages.Status) bool { return s.Applied >= st.Applied+3 && s.Applied == s.Commit })

	cs := &raftpb.ConfState{Voters: []uint64{1}}
	data := snapshotData(t, messages.MembershipState{ClusterID: testClusterID, Members: []messages.Member{{ID: 1, PeerAddress: addr(1)}}})
	n.send(&messages.SnapshotCreated{Index: st.Applied, ConfState: cs, Data: data})
	save := testkit.ExpectMsg[*messages.SaveSnapshot](n.persister)
	md := save.Snapshot.GetMetadata()
	if md.GetIndex() != st.Applied || md.GetTerm() != st.Term || !proto.Equal(md.GetConfState(), cs) ||
		!bytes.Equal(save.Snapshot.GetData(), data) {
		t.Fatalf("SaveSnapshot %v, want index %d, term %d, voters [1] and the snapshot actor's data", save.Snapshot, st.Applied, st.Term)
	}
	// An older snapshot than the one already made is ignored.
	n.send(&messages.SnapshotCreated{Index: st.Applied - 1, ConfState: cs, Data: data})
	n.send(&messages.SnapshotSaved{Index: st.Applied})

	// Member 2 joins. Played by the test, it has no log at all.
	cid := messages.RequestID{Node: 1, Seq: 10}
	n.send(&messages.ProposeConfChange{ID: cid, Change: addVoter(2)})
	// The persister got nothing but the change's Ready: the old snapshot
	// was ignored.
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	if len(p.Entries) != 1 || p.Entries[0].GetType() != raftpb.EntryConfChangeV2 {
		t.Fatalf("Persist %+v, want the conf change entry", p)
	}
	n.persisted(p)
	st = n.settle("member 2 added", func(s *messages.Status) bool { return members(s)[2] == addr(2) && s.Applied == s.Commit })
	n.tick(1) // a heartbeat
	snapped := false
	for range 20 {
		var m *raftpb.Message
		if !snapped {
			n.status() // raftnode handled what the test sent it
			e := n.flush(n.applier)
			for _, a := range e {
				if need, ok := a.(*messages.SnapshotNeeded); ok {
					if need.Message.GetTo() != 2 || need.Address != addr(2) || need.Message.GetType() != raftpb.MsgSnap {
						t.Fatalf("SnapshotNeeded %+v, want a MsgSnap for member 2 at %s", need, addr(2))
					}
					// The snapshot actor reports the snapshot sent; raft
					// then probes member 2 from it on.
					snapped = true
					n.send(&messages.SnapshotStatus{ID: 2})
					n.tick(1)
				}
			}
		}
		m = testkit.ExpectMsg[*raftpb.Message](n.net)
		if m.GetTo() != 2 {
			t.Fatalf("message to member %d, want 2", m.GetTo())
		}
		switch m.GetType() {
		case raftpb.MsgHeartbeat:
			n.send(&raftpb.Message{Type: raftpb.MsgHeartbeatResp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(m.GetTerm())})
		case raftpb.MsgApp:
			if snapped {
				if m.GetIndex() < md.GetIndex() {
					t.Fatalf("after the snapshot, MsgApp from index %d, want at least %d", m.GetIndex(), md.GetIndex())
				}
				return
			}
			n.send(&raftpb.Message{Type: raftpb.MsgAppResp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(m.GetTerm()),
				Index: new(m.GetIndex()), Reject: new(true), RejectHint: new(uint64(0)), LogTerm: new(uint64(0))})
		default:
			t.Fatalf("unexpected message to member 2: %v", m)
		}
	}
	t.Fatalf("member 2 never got a snapshot and then the entries after it (snapshot asked for: %v)", snapped)
}

// snapshotData is the Data of a raft snapshot with membership st.
func snapshotData(t *testing.T, st messages.MembershipState) []byte {
	t.Helper()
	data, err := messages.EncodeSnapshotMeta(messages.SnapshotMeta{Membership: st})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A follower sends nothing that depends on a Ready's entries before the
// persister has them (rule 2); when it applies its own removal, it tells
// its parent.
func TestFollowerHoldsMessagesAndReportsRemoval(t *testing.T) {
	n := newTestNode(t, raftnode.Config{
		ID: 1, Bootstrap: peers(1, 2),
	}, underParent)
	n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 2 })

	// Member 2, played by the test, leads term 2 and appends the removal of
	// member 1, already committed.
	removal := confChangeEntry(2, 3, messages.RequestID{Node: 2, Seq: 1}, messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: 1}})
	n.send(&raftpb.Message{
		Type: raftpb.MsgApp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(2)),
		LogTerm: new(uint64(1)), Index: new(uint64(2)), Commit: new(uint64(3)),
		Entries: []*raftpb.Entry{removal},
	})
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	if len(p.Entries) != 1 || p.Entries[0].GetIndex() != 3 {
		t.Fatalf("Persist %+v, want the appended entry 3", p)
	}
	n.net.ExpectNoMsg(quiet)     // the append response waits for the fsync
	n.applier.ExpectNoMsg(quiet) // and so does the apply of entry 3
	n.parent.ExpectNoMsg(0)
	// It rides with the Persist, for the persister to send once durable.
	if len(p.Then) != 1 || p.Then[0].To == nil {
		t.Fatalf("Persist carries %+v, want the append response and its link", p.Then)
	}

	n.persisted(p)
	resp := testkit.ExpectMsg[*raftpb.Message](n.net)
	if resp.GetType() != raftpb.MsgAppResp || resp.GetTo() != 2 || resp.GetIndex() != 3 || resp.GetReject() {
		t.Errorf("after the fsync the follower sent %v, want an accepting MsgAppResp for index 3", resp)
	}
	a := testkit.ExpectMsg[*messages.Apply](n.applier)
	if applyIndex(a) != 3 || len(a.ConfState.GetVoters()) != 1 || a.ConfState.GetVoters()[0] != 2 {
		t.Errorf("Apply %+v, want entry 3 with voters [2]", a)
	}
	if r := testkit.ExpectMsg[*messages.Removed](n.parent); r.ID != 1 || r.Reason == "" {
		t.Errorf("Removed %+v, want member 1", r)
	}
	n.send(applied(a))
	if st := n.status(); st.Leader != 2 || len(st.Members) != 1 {
		t.Errorf("status %+v, want leader 2 and member 2 alone", st)
	}
}

// A learner removed while it was cut off never learns it from raft: the
// leader stops sending to it, and a learner never campaigns. Without a
// word from a leader, it says hello to the members once per election
// timeout, and the answer of one that knows of its removal stops it.
func TestCutOffLearnerLearnsItWasRemoved(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 3, Addresses: map[uint64]string{1: addr(1)}}, underParent)
	learner := messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: 3, PeerAddress: addr(3)}}
	n.send(&raftpb.Message{
		Type: raftpb.MsgApp.Enum(), From: new(uint64(1)), To: new(uint64(3)), Term: new(uint64(2)),
		LogTerm: new(uint64(0)), Index: new(uint64(0)), Commit: new(uint64(3)),
		Entries: []*raftpb.Entry{bootstrapEntry(1, 1), bootstrapEntry(2, 2), confChangeEntry(2, 3, messages.RequestID{Node: 1, Seq: 1}, learner)},
	})
	n.settle("the learner applied its addition", func(s *messages.Status) bool { return s.Applied == 3 && s.Serving })
	n.flush(n.peers)

	// The leader goes quiet: it removed the learner, and told nobody.
	n.tick(2*raftnode.DefaultElectionTick + 1)
	hellos := map[uint64]bool{}
	for len(hellos) < 2 {
		m := peerMessage(t, n.peers)
		if m.Kind != messages.PeerHello || m.From != 3 {
			t.Fatalf("the leaderless learner sent %+v, want hellos to the members", m)
		}
		hellos[m.To] = true
	}
	if !hellos[1] || !hellos[2] {
		t.Fatalf("hellos to %v, want members 1 and 2", hellos)
	}
	n.send(&messages.PeerMessage{Kind: messages.PeerRemoved, From: 1, To: 3})
	if r := testkit.ExpectMsg[*messages.Removed](n.parent); r.ID != 3 {
		t.Errorf("Removed %+v, want member 3", r)
	}
}

// A leader replicates before its own fsync; a candidate asks for votes
// only once its own vote is durable.
func TestLeaderSendsBeforePersistCandidateAfter(t *testing.T) {
	n := newTestNode(t, raftnode.Config{
		ID: 1, Bootstrap: peers(1, 2),
	})
	n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 2 })

	// Enough ticks for exactly one election timeout ([10, 20) ticks).
	n.tick(2*raftnode.DefaultElectionTick - 1)
	pre := testkit.ExpectMsg[*raftpb.Message](n.net)
	if pre.GetType() != raftpb.MsgPreVote {
		t.Fatalf("first message %v, want MsgPreVote", pre)
	}
	n.send(&raftpb.Message{Type: raftpb.MsgPreVoteResp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(pre.GetTerm())})
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	if p.HardState.GetVote() != 1 || p.HardState.GetTerm() != pre.GetTerm() {
		t.Fatalf("Persist %+v, want the vote for itself at term %d", p, pre.GetTerm())
	}
	n.net.ExpectNoMsg(quiet)
	n.persisted(p)
	vote := testkit.ExpectMsg[*raftpb.Message](n.net)
	if vote.GetType() != raftpb.MsgVote {
		t.Fatalf("after the fsync the candidate sent %v, want MsgVote", vote)
	}
	n.send(&raftpb.Message{Type: raftpb.MsgVoteResp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(vote.GetTerm())})

	// Leader: its empty entry goes to member 2 while its own fsync is pending.
	p = testkit.ExpectMsg[*messages.Persist](n.persister)
	app := testkit.ExpectMsg[*raftpb.Message](n.net)
	if app.GetType() != raftpb.MsgApp || len(app.GetEntries()) != 1 || len(p.Entries) != 1 ||
		app.GetEntries()[0].GetIndex() != p.Entries[0].GetIndex() {
		t.Fatalf("leader sent %v with Persist %+v pending, want MsgApp of the persisted entry", app, p)
	}
	testkit.FishForMsg(n.proposer, func(rs *messages.RaftState) bool { return rs.Leader == 1 })
}

// deliver takes the next message that from sent and hands it to to, as
// the network between them would. It must be of type typ.
func deliver(from, to *testNode, typ raftpb.MessageType) *raftpb.Message {
	from.t.Helper()
	m := testkit.ExpectMsg[*raftpb.Message](from.net)
	if m.GetType() != typ || m.GetFrom() != from.id || m.GetTo() != to.id {
		from.t.Fatalf("member %d sent %v, want %v to member %d", from.id, m, typ, to.id)
	}
	to.send(m)
	return m
}

// Two real raftnodes, with the test as the network between them: a vote
// and an append are acknowledged only once they are durable on the voter
// or follower, while the leader replicates before its own fsync.
func TestTwoMembersElectAndReplicate(t *testing.T) {
	cfg := func(id uint64) raftnode.Config {
		return raftnode.Config{
			ID: id, Bootstrap: peers(1, 2),
		}
	}
	n1, n2 := newTestNode(t, cfg(1)), newTestNode(t, cfg(2))
	for _, n := range []*testNode{n1, n2} {
		n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 2 })
	}

	n1.tick(2*raftnode.DefaultElectionTick - 1) // one election timeout
	deliver(n1, n2, raftpb.MsgPreVote)
	deliver(n2, n1, raftpb.MsgPreVoteResp) // a pre-vote changes nothing durable
	p1 := testkit.ExpectMsg[*messages.Persist](n1.persister)
	n1.persisted(p1)
	deliver(n1, n2, raftpb.MsgVote)

	p2 := testkit.ExpectMsg[*messages.Persist](n2.persister)
	if p2.HardState.GetVote() != 1 {
		t.Fatalf("member 2 persists %v, want its vote for member 1", p2.HardState)
	}
	n2.net.ExpectNoMsg(quiet) // the vote is granted only once it is durable
	n2.persisted(p2)
	deliver(n2, n1, raftpb.MsgVoteResp)

	// Member 1 leads: it replicates its first entry while writing it.
	p1 = testkit.ExpectMsg[*messages.Persist](n1.persister)
	app := deliver(n1, n2, raftpb.MsgApp)
	p2 = testkit.ExpectMsg[*messages.Persist](n2.persister)
	if len(p2.Entries) != 1 || !proto.Equal(p2.Entries[0], app.GetEntries()[0]) {
		t.Fatalf("member 2 persists %v, want the entry it received", p2.Entries)
	}
	n2.net.ExpectNoMsg(quiet) // the append is acknowledged only once durable
	n2.persisted(p2)
	deliver(n2, n1, raftpb.MsgAppResp)
	n1.persisted(p1)
	last := p1.Entries[len(p1.Entries)-1].GetIndex()
	n1.settle("the first entry applied on the leader", func(s *messages.Status) bool {
		return s.Leader == 1 && s.Applied == last
	})

	// The commit reaches member 2 with the next append; a proposal made
	// there goes to the leader.
	deliver(n1, n2, raftpb.MsgApp)
	n2.settle("the first entry applied on the follower", func(s *messages.Status) bool {
		return s.Leader == 1 && s.Applied == last
	})
	deliver(n2, n1, raftpb.MsgAppResp)
	n2.send(propose(1, "via follower"))
	prop := deliver(n2, n1, raftpb.MsgProp)
	if len(prop.GetEntries()) != 1 || !bytes.Equal(prop.GetEntries()[0].GetData(), command(1, "via follower")) {
		t.Fatalf("member 2 forwarded %v, want the proposal", prop)
	}
	p1 = testkit.ExpectMsg[*messages.Persist](n1.persister)
	if got := entryData(p1.Entries); len(got) != 1 || !bytes.Equal(got[0], command(1, "via follower")) {
		t.Errorf("the leader persists %d entries, want the forwarded proposal", len(got))
	}
}

// Raft turns a membership change proposed while another one is not applied
// into an empty entry; the leader queues the second change and proposes it
// once the first is applied, so neither is lost.
func TestConfChangesAreProposedOneAtATime(t *testing.T) {
	n, _ := newLeader(t, raftnode.Config{})
	first, second := messages.RequestID{Node: 1, Seq: 1}, messages.RequestID{Node: 1, Seq: 2}
	learner := func(id uint64) messages.MemberChange {
		return messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: id, PeerAddress: addr(id)}}
	}
	n.send(&messages.ProposeConfChange{ID: first, Change: learner(2)})
	n.send(&messages.ProposeConfChange{ID: second, Change: learner(3)})
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	if len(p.Entries) != 1 {
		t.Fatalf("Persist with %d entries, want the first change alone", len(p.Entries))
	}
	n.persisted(p)
	// The first change commits and goes to the applier with its outcome;
	// only once it is applied does the second leave.
	p = testkit.ExpectMsg[*messages.Persist](n.persister)
	a := testkit.ExpectMsg[*messages.Apply](n.applier)
	if len(p.Entries) != 0 {
		t.Fatalf("the second change left before the first was applied: %+v", p)
	}
	if len(a.ConfResults) != 1 || a.ConfResults[0].ID != first || a.ConfResults[0].Err != nil {
		t.Fatalf("Apply ConfResults %+v, want the first change applied", a.ConfResults)
	}
	n.persisted(p)
	n.send(applied(a))
	st := n.settle("both changes applied", func(s *messages.Status) bool { return len(s.Members) == 3 && s.Applied == s.Commit })
	for _, m := range st.Members[1:] {
		if !m.Learner {
			t.Errorf("member %+v, want a learner", m)
		}
	}
	for _, m := range n.flush(n.proposer) {
		if d, ok := m.(*messages.ProposalDropped); ok {
			t.Errorf("a change was dropped: %+v", d)
		}
	}
}

// Status answers with what raftnode knows; it reaches raftnode through
// the proposer, and here straight from the client. The leader knows its
// members' progress.
func TestClientStatus(t *testing.T) {
	n, st := newLeader(t, raftnode.Config{})
	got := n.status()
	if got.ID != 1 || got.Leader != 1 || got.Term != st.Term || got.Commit != st.Commit || got.Applied != st.Commit ||
		!got.Serving || got.Revision != int64(st.Commit) || got.State != "leader" || len(got.Members) != 1 {
		t.Fatalf("status %+v, want member 1 leading term %d, commit and applied %d, serving, one member", got, st.Term, st.Commit)
	}
	m := got.Members[0]
	if m.ID != 1 || m.PeerAddress != addr(1) || m.Learner || m.Progress == nil || m.Progress.Match != st.Commit || !m.Progress.Reachable {
		t.Errorf("member %+v (progress %+v), want voter 1 at %s, matching %d, reachable", m, m.Progress, addr(1), st.Commit)
	}
}

// A restarted node reports the term of its hard state at once, not 0
// until the next election.
func TestRestartReportsTermAtOnce(t *testing.T) {
	n := newTestNode(t, raftnode.Config{
		ID: 1, Restart: true,
		HardState: &raftpb.HardState{Term: new(uint64(5)), Vote: new(uint64(1)), Commit: new(uint64(1))},
		Entries:   []*raftpb.Entry{bootstrapEntry(1, 1)},
	})
	if rs := testkit.ExpectMsg[*messages.RaftState](n.proposer); rs.Term != 5 {
		t.Errorf("first RaftState %+v, want term 5", rs)
	}
	if st := n.status(); st.Term != 5 {
		t.Errorf("status %+v, want term 5", st)
	}
}

// A node that joins with an empty log serves only once the log made it a
// member: before, it knows no member at all.
func TestJoiningNodeServesOnlyAsMember(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 2, Addresses: map[uint64]string{1: addr(1)}})
	if st := n.status(); st.Serving || len(st.Members) != 0 {
		t.Fatalf("status %+v before it learned the log, want not serving and no members", st)
	}
	// The leader, played by the test, sends the log: the bootstrap of member
	// 1 and the addition of member 2.
	n.send(&raftpb.Message{
		Type: raftpb.MsgApp.Enum(), From: new(uint64(1)), To: new(uint64(2)), Term: new(uint64(2)),
		LogTerm: new(uint64(0)), Index: new(uint64(0)), Commit: new(uint64(2)),
		Entries: []*raftpb.Entry{bootstrapEntry(1, 1), confChangeEntry(2, 2, messages.RequestID{Node: 1, Seq: 1}, addVoter(2))},
	})
	st := n.settle("member 2 applied its addition", func(s *messages.Status) bool { return s.Applied == 2 })
	if !st.Serving || len(st.Members) != 2 || st.ClusterID != testClusterID {
		t.Errorf("status %+v, want serving as one of two members of cluster %d", st, testClusterID)
	}
	testkit.FishForMsg(n.proposer, func(rs *messages.RaftState) bool { return rs.Serving })
}

// A committed change that the membership refuses changes nothing, on the
// membership nor in raft, and its request learns why: here a member added
// again under a new address, and the removal of the last voter (which raft
// would refuse by panicking, "removed all voters").
func TestCommittedChangeThatIsRefusedChangesNothing(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 1, Bootstrap: peers(1, 2)})
	n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 2 })
	again := messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 2, PeerAddress: "elsewhere:1"}}
	removeAll := []messages.MemberChange{
		{Type: messages.Remove, Member: messages.Member{ID: 2}},
		{Type: messages.Remove, Member: messages.Member{ID: 1}},
	}
	req := func(seq uint64) messages.RequestID { return messages.RequestID{Node: 2, Seq: seq} }
	n.send(&raftpb.Message{
		Type: raftpb.MsgApp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(2)),
		LogTerm: new(uint64(1)), Index: new(uint64(2)), Commit: new(uint64(5)),
		Entries: []*raftpb.Entry{
			confChangeEntry(2, 3, req(1), again),
			confChangeEntry(2, 4, req(2), removeAll[0]),
			confChangeEntry(2, 5, req(3), removeAll[1]),
		},
	})
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	n.persisted(p)
	a := testkit.ExpectMsg[*messages.Apply](n.applier)
	want := []error{messages.ErrMemberExists, nil, messages.ErrUnsafeChange}
	if len(a.ConfResults) != len(want) {
		t.Fatalf("ConfResults %+v, want %d outcomes", a.ConfResults, len(want))
	}
	for i, r := range a.ConfResults {
		if r.ID != req(uint64(i+1)) || r.Index != uint64(i+3) || !errors.Is(r.Err, want[i]) || (want[i] == nil) != (r.Err == nil) {
			t.Errorf("%d: outcome %+v, want request %v at %d with %v", i, r, req(uint64(i+1)), i+3, want[i])
		}
	}
	if !slices.Equal(a.ConfState.GetVoters(), []uint64{1}) {
		t.Errorf("voters after the changes %v, want [1]: member 2 removed, member 1 kept", a.ConfState.GetVoters())
	}
	n.send(applied(a))
	st := n.status()
	if got := members(st); fmt.Sprint(got) != fmt.Sprint(map[uint64]string{1: addr(1)}) || !st.Serving {
		t.Errorf("members %v (serving %v), want member 1 alone at its address, serving", got, st.Serving)
	}
}

// A follower forwards a membership change to its leader; the leader's
// refusal comes back to the follower's proposer as the request's result,
// or as a dropped proposal when the leader had none to take it.
func TestFollowerForwardsConfChangeToLeader(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 1, Bootstrap: peers(1, 2)})
	n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 2 })
	// Member 2 leads term 2.
	n.send(&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(2)), Commit: new(uint64(2))})
	n.settle("member 2 leads", func(s *messages.Status) bool { return s.Leader == 2 })

	id := messages.RequestID{Node: 1, Seq: 9}
	n.send(&messages.ProposeConfChange{ID: id, Change: addVoter(3)})
	fwd := peerMessage(t, n.peers)
	if fwd.Kind != messages.PeerConfChange || fwd.To != 2 || fwd.From != 1 || *fwd.Request != id || *fwd.Change != addVoter(3) {
		t.Fatalf("forwarded %+v, want the change to member 2", fwd)
	}
	n.send(&messages.PeerMessage{Kind: messages.PeerConfChangeRefused, From: 2, To: 1, Request: &id,
		Code: "unsafe_change", Error: "too few voters respond"})
	r := testkit.FishForMsg[*messages.Result](n.proposer, nil)
	if r.ID != id || !errors.Is(r.Err, messages.ErrUnsafeChange) || r.Err.Error() != "too few voters respond" {
		t.Errorf("Result %+v, want the leader's refusal", r)
	}
	n.send(&messages.PeerMessage{Kind: messages.PeerConfChangeRefused, From: 2, To: 1, Request: &id, Code: "no_leader", Error: "lost it"})
	if d := testkit.FishForMsg[*messages.ProposalDropped](n.proposer, nil); d.ID != id || !errors.Is(d.Err, messages.ErrNoLeader) {
		t.Errorf("ProposalDropped %+v, want the request to be asked again", d)
	}
}

// The leader refuses what the membership would refuse, and what could cost
// the cluster its quorum, before proposing: the forwarding member hears why.
func TestLeaderRefusesUnsafeForwardedChange(t *testing.T) {
	n, _ := newLeader(t, raftnode.Config{})
	id := messages.RequestID{Node: 2, Seq: 3}
	tests := []struct {
		change messages.MemberChange
		code   string
	}{
		{messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 1, PeerAddress: "x:1"}}, "member_exists"},
		{messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: 1}}, "unsafe_change"},
		{messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 5, PeerAddress: addr(1)}}, "address_in_use"},
		{messages.MemberChange{Type: messages.Promote, Member: messages.Member{ID: 1}}, "not_learner"},
	}
	for i, tt := range tests {
		n.send(&messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 1, FromAddress: addr(2), Request: &id, Change: &tt.change})
		m := peerMessage(t, n.peers)
		if m.Kind != messages.PeerConfChangeRefused || m.To != 2 || *m.Request != id || m.Code != tt.code || m.Error == "" {
			t.Errorf("%d: answer %+v, want a refusal with code %s", i, m, tt.code)
		}
	}
}

// A membership change asked twice — a forward the network duplicated, or
// a request asked again after a leader change — is proposed once, and the
// copy is not refused: the asking member's answer is the first one's
// outcome (before, it heard "member exists" for its own change).
func TestLeaderTakesACopyOfAChangeOnce(t *testing.T) {
	n, st := newLeader(t, raftnode.Config{})
	id := messages.RequestID{Node: 2, Seq: 3}
	learner := messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: 5, PeerAddress: addr(5)}}
	copyOf := &messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 1, FromAddress: addr(2), Request: &id, Change: &learner}
	n.send(copyOf)
	n.send(copyOf) // while the first is queued or proposed
	added := n.settle("member 5 added", func(s *messages.Status) bool { return s.Applied == s.Commit && len(s.Members) == 2 })
	if added.Commit != st.Commit+1 {
		t.Errorf("commit %d after the change, want %d: one entry for two copies", added.Commit, st.Commit+1)
	}
	n.send(copyOf) // after it applied
	// A hello's reply is the barrier: nothing was sent to member 2 before it.
	n.send(&messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 1, FromAddress: addr(2), ClusterID: testClusterID})
	if m := peerMessage(t, n.peers); m.Kind != messages.PeerHelloReply {
		t.Fatalf("member 2 was sent %+v, want only the hello's reply: no refusal of its change", m)
	}
	if got := n.status(); got.Commit != added.Commit {
		t.Errorf("commit %d after a third copy, want %d: nothing proposed", got.Commit, added.Commit)
	}
}

// A copy of a change committed twice (proposed again by a new leader while
// the first copy was already in the log) applies once: the copy changes
// nothing and has no outcome of its own.
func TestCommittedCopyOfAChangeAppliesOnce(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 1, Bootstrap: peers(1, 2)})
	n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 2 })
	learner := messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: 3, PeerAddress: addr(3)}}
	req := func(seq uint64) messages.RequestID { return messages.RequestID{Node: 2, Seq: seq} }
	n.send(&raftpb.Message{
		Type: raftpb.MsgApp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(2)),
		LogTerm: new(uint64(1)), Index: new(uint64(2)), Commit: new(uint64(5)),
		Entries: []*raftpb.Entry{
			confChangeEntry(2, 3, req(1), learner),
			confChangeEntry(2, 4, req(1), learner),
			confChangeEntry(2, 5, req(2), messages.MemberChange{Type: messages.Promote, Member: messages.Member{ID: 3}}),
		},
	})
	p := testkit.ExpectMsg[*messages.Persist](n.persister)
	n.persisted(p)
	a := testkit.ExpectMsg[*messages.Apply](n.applier)
	if len(a.ConfResults) != 2 || a.ConfResults[0].Index != 3 || a.ConfResults[0].Err != nil ||
		a.ConfResults[1].Index != 5 || a.ConfResults[1].Err != nil {
		t.Fatalf("ConfResults %+v, want the change at 3 and the promotion at 5 applied, nothing for the copy at 4", a.ConfResults)
	}
	if !slices.Equal(a.ConfState.GetVoters(), []uint64{1, 2, 3}) {
		t.Errorf("voters %v, want [1 2 3]", a.ConfState.GetVoters())
	}
}

// peerMessage is the next PeerMessage p received.
func peerMessage(t *testing.T, p *testkit.Probe) messages.PeerMessage {
	t.Helper()
	w := testkit.ExpectMsg[*wrapperspb.BytesValue](p)
	m, err := messages.DecodePeerMessage(w)
	if err != nil {
		t.Fatalf("peer message: %v", err)
	}
	return m
}

// A link's hello is answered with this member's id and cluster; the answer
// to the node's own link's hello becomes the link's verdict.
func TestHelloAndItsAnswer(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 1, Address: addr(1), Bootstrap: peers(1, 2)})
	n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 2 })
	tests := []struct {
		hello   messages.PeerMessage
		wantErr bool
	}{
		{messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 1, FromAddress: addr(2), ClusterID: testClusterID}, false},
		{messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 1, FromAddress: addr(2)}, false},                           // it does not know its cluster yet
		{messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 3, FromAddress: addr(2), ClusterID: testClusterID}, false}, // expects another member: told who this is
		{messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 1, FromAddress: addr(2), ClusterID: 99}, true},
	}
	for i, tt := range tests {
		n.send(&tt.hello)
		r := peerMessage(t, n.peers)
		if r.Kind != messages.PeerHelloReply || r.From != 1 || r.To != 2 || r.Expected != tt.hello.To ||
			r.ClusterID != testClusterID || (r.Error != "") != tt.wantErr || r.FromAddress != addr(1) {
			t.Errorf("%d: reply %+v, want member 1 of cluster %d answering (error: %v)", i, r, testClusterID, tt.wantErr)
		}
	}

	// The node's own link to member 2 exists once raft sends it something.
	n.tick(2 * raftnode.DefaultElectionTick)
	testkit.FishForMsg(n.net, func(m *raftpb.Message) bool { return m.GetTo() == 2 })
	verdicts := []struct {
		reply messages.PeerMessage
		ok    bool
	}{
		{messages.PeerMessage{Kind: messages.PeerHelloReply, From: 2, To: 1, Expected: 2, ClusterID: testClusterID}, true},
		{messages.PeerMessage{Kind: messages.PeerHelloReply, From: 3, To: 1, Expected: 2, ClusterID: testClusterID}, false},
		{messages.PeerMessage{Kind: messages.PeerHelloReply, From: 1, To: 1, Expected: 2, ClusterID: testClusterID}, false},
		{messages.PeerMessage{Kind: messages.PeerHelloReply, From: 2, To: 1, Expected: 2, ClusterID: 99}, false},
		{messages.PeerMessage{Kind: messages.PeerHelloReply, From: 2, To: 1, Expected: 2, Error: "another cluster"}, false},
	}
	for i, v := range verdicts {
		n.send(&v.reply)
		got := testkit.FishForMsg[*messages.LinkChecked](n.net, nil)
		if (got.Err == nil) != v.ok {
			t.Errorf("%d: verdict %v, want ok %v", i, got.Err, v.ok)
		}
	}
}

// Raft messages from an id that this node does not know as a member go to
// raft: it may be a member whose addition this node has not applied yet,
// which it can learn of only from the others (dropping them left a member
// that missed an addition cut off for good). A removed member that still
// sends is told it was removed, and its messages are dropped.
func TestMessagesFromNonMembers(t *testing.T) {
	n, st := newLeader(t, raftnode.Config{})
	// Member 2 joins and is removed; then it sends again.
	for i, ch := range []messages.MemberChange{
		{Type: messages.AddLearner, Member: messages.Member{ID: 2, PeerAddress: addr(2)}},
		{Type: messages.Remove, Member: messages.Member{ID: 2}},
	} {
		n.send(&messages.ProposeConfChange{ID: messages.RequestID{Node: 1, Seq: uint64(i + 1)}, Change: ch})
		n.settle("the change applied", func(s *messages.Status) bool { return s.Applied == s.Commit && s.Commit > st.Commit+uint64(i) })
	}
	n.send(&raftpb.Message{Type: raftpb.MsgHeartbeatResp.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(st.Term)})
	if m := peerMessage(t, n.peers); m.Kind != messages.PeerRemoved || m.To != 2 {
		t.Errorf("told member 2 %+v, want PeerRemoved", m)
	}

	// Member 9, added where this node has not seen it yet, leads a later
	// term; its link said hello first, so this node can answer it.
	n.send(&messages.PeerMessage{Kind: messages.PeerHello, From: 9, To: 1, FromAddress: addr(9), ClusterID: testClusterID})
	peerMessage(t, n.peers) // the reply
	n.send(&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: new(uint64(9)), To: new(uint64(1)), Term: new(st.Term + 5)})
	n.settle("following member 9", func(s *messages.Status) bool { return s.Leader == 9 && s.Term == st.Term+5 })
	testkit.FishForMsg(n.net, func(m *raftpb.Message) bool {
		return m.GetType() == raftpb.MessageType_MsgHeartbeatResp && m.GetTo() == 9
	})
}

// Without a leader for longer than an election timeout, the node tells the
// proposer, so that requests fail at once; a leader clears it.
func TestLeaderlessAfterAnElectionTimeout(t *testing.T) {
	n := newTestNode(t, raftnode.Config{ID: 1, Bootstrap: peers(1, 2, 3)})
	n.settle("the bootstrap applied", func(s *messages.Status) bool { return s.Applied == 3 })
	n.tick(raftnode.DefaultElectionTick)
	if st := n.status(); st.Leaderless {
		t.Fatalf("leaderless after %d ticks, want only after more", raftnode.DefaultElectionTick)
	}
	n.tick(1)
	testkit.FishForMsg(n.proposer, func(rs *messages.RaftState) bool { return rs.Leaderless && rs.Leader == 0 })
	// Member 2 leads.
	n.send(&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(3))})
	testkit.FishForMsg(n.proposer, func(rs *messages.RaftState) bool { return !rs.Leaderless && rs.Leader == 2 })
}
