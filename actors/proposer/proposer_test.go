package proposer_test

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/actors/proposer"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
)

const self = 7 // the proposer's node id

// fixture is a proposer whose raftnode and applier are probes.
type fixture struct {
	t        *testing.T
	system   *actor.ActorSystem
	pid      *actor.PID
	raftnode *testkit.Probe
	applier  *testkit.Probe
}

func newFixture(t *testing.T, cfg proposer.Config) *fixture {
	t.Helper()
	system := testkit.NewSystem(t)
	f := &fixture{t: t, system: system, raftnode: testkit.NewProbe(t, system), applier: testkit.NewProbe(t, system)}
	cfg.ID = self
	cfg.Raftnode, cfg.Applier = f.raftnode.PID(), f.applier.PID()
	if cfg.FirstSeq == 0 {
		cfg.FirstSeq = 100
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	f.pid = testkit.Spawn(t, system, proposer.Props(cfg))
	return f
}

func (f *fixture) send(msg any) { f.system.Root.Send(f.pid, msg) }

// serving tells the proposer that the node serves under leader.
func (f *fixture) serving(leader uint64) {
	f.send(&messages.RaftState{Leader: leader, Term: 1, Serving: true})
}

// leaderless tells the proposer that the node serves but has known no
// leader for longer than an election timeout.
func (f *fixture) leaderless() {
	f.send(&messages.RaftState{Term: 2, Serving: true, Leaderless: true})
}

func (f *fixture) client() *testkit.Probe { return testkit.NewProbe(f.t, f.system) }

// barrier checks, without waiting for a quiet period, that the proposer
// has sent nothing to raftnode, nor to any of clients, for what the test
// sent it so far. Each client asks for the status, which the proposer
// forwards to raftnode: the proposer handles its mailbox in order, so the
// forwarded ClientStatus must be the next message raftnode gets; raftnode's
// answer goes to the client after anything the proposer sent it before, so
// the Status must be the next message the client gets. With no clients, a
// fresh one checks raftnode alone.
func (f *fixture) barrier(clients ...*testkit.Probe) {
	f.t.Helper()
	if len(clients) == 0 {
		clients = []*testkit.Probe{f.client()}
	}
	for _, c := range clients {
		c.Send(f.pid, &messages.ClientStatus{})
		testkit.ExpectMsg[*messages.ClientStatus](f.raftnode)
		f.raftnode.Reply(&messages.Status{ID: self})
		testkit.ExpectMsg[*messages.Status](c)
	}
}

// applierBarrier checks that the proposer has sent nothing to the applier
// for what the test sent it so far: a serializable read, which goes to the
// applier at once, must be the next message the applier gets. The node must
// serve.
func (f *fixture) applierBarrier() {
	f.t.Helper()
	c := f.client()
	c.Send(f.pid, &messages.ClientRead{Op: getOp("barrier"), Serializable: true})
	b := testkit.ExpectMsg[*messages.ReadBatch](f.applier)
	if b.Index != 0 || len(b.Reads) != 1 || !b.Reads[0].ReplyTo.Equal(c.PID()) {
		f.t.Fatalf("applier got %+v, want only the barrier's serializable read", b)
	}
}

// sweepUntil sends Sweep until p has a message, so that a deadline of the
// proposer has certainly passed, however slow the machine.
func (f *fixture) sweepUntil(p *testkit.Probe) {
	f.t.Helper()
	testkit.AwaitCondition(f.t, "an answer after Sweep", func() bool {
		f.send(&proposer.Sweep{})
		return p.Stats().Queued > 0
	})
}

func putTxn(key string) messages.Txn {
	return messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte("v")}}}
}

func getOp(key string) messages.Op { return messages.Op{Type: messages.OpGet, Key: []byte(key)} }

func addMember(id uint64) *messages.ClientConfChange {
	return &messages.ClientConfChange{Change: messages.MemberChange{
		Type: messages.AddVoter, Member: messages.Member{ID: id, PeerAddress: "n4:1"},
	}}
}

func removeMember(id uint64) *messages.ClientConfChange {
	return &messages.ClientConfChange{Change: messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: id}}}
}

// A node that does not serve yet (replaying its log) refuses every request
// at once, even while it knows no leader.
func TestNotServingRefuses(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	c := f.client()
	states := []*messages.RaftState{nil, {Leader: 1, Term: 3}, {Term: 3, Leaderless: true}}
	for i, state := range states {
		if state != nil {
			f.send(state)
		}
		if r := testkit.Request[*messages.TxnReply](c, f.pid, &messages.ClientTxn{Txn: putTxn("a")}); !errors.Is(r.Err, messages.ErrNotReady) {
			t.Errorf("%d: ClientTxn answered %+v, want ErrNotReady", i, r)
		}
		if r := testkit.Request[*messages.ReadReply](c, f.pid, &messages.ClientRead{Op: getOp("a")}); !errors.Is(r.Err, messages.ErrNotReady) {
			t.Errorf("%d: ClientRead answered %+v, want ErrNotReady", i, r)
		}
		if r := testkit.Request[*messages.ReadReply](c, f.pid, &messages.ClientRead{Op: getOp("a"), Serializable: true}); !errors.Is(r.Err, messages.ErrNotReady) {
			t.Errorf("%d: serializable ClientRead answered %+v, want ErrNotReady", i, r)
		}
		if r := testkit.Request[*messages.ConfChangeReply](c, f.pid, addMember(4)); !errors.Is(r.Err, messages.ErrNotReady) {
			t.Errorf("%d: ClientConfChange answered %+v, want ErrNotReady", i, r)
		}
	}
	f.barrier()
	f.serving(1) // nothing was kept to be proposed now
	f.barrier()
	f.applierBarrier()
}

// A transaction is proposed with a request id of this node that is never
// reused, and answered with the result the applier reports for that id.
func TestTxnIsProposedAndAnswered(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	c1, c2 := f.client(), f.client()
	c1.Send(f.pid, &messages.ClientTxn{Txn: putTxn("a")})
	c2.Send(f.pid, &messages.ClientTxn{Txn: putTxn("b")})

	p1 := testkit.ExpectMsg[*messages.Propose](f.raftnode)
	p2 := testkit.ExpectMsg[*messages.Propose](f.raftnode)
	if p1.ID != (messages.RequestID{Node: self, Seq: 100}) || p2.ID != (messages.RequestID{Node: self, Seq: 101}) {
		t.Fatalf("request ids %v, %v; want node %d, seq 100 and 101", p1.ID, p2.ID, self)
	}
	for i, p := range []*messages.Propose{p1, p2} {
		cmd, err := messages.DecodeCommand(p.Data)
		if err != nil {
			t.Fatalf("%d: the proposed data does not decode: %v", i, err)
		}
		if cmd.ID != p.ID || string(cmd.Txn.Success[0].Key) != []string{"a", "b"}[i] {
			t.Errorf("%d: proposed command %+v, want id %v and the client's txn", i, cmd, p.ID)
		}
	}

	// Results come back in any order; unknown and repeated ids are ignored.
	f.send(&messages.Result{ID: messages.RequestID{Node: 2, Seq: 100}})
	f.send(&messages.Result{ID: p2.ID, Result: messages.TxnResult{Succeeded: true, Revision: 5}})
	f.send(&messages.Result{ID: p2.ID, Result: messages.TxnResult{Revision: 6}})
	f.send(&messages.Result{ID: p1.ID, Result: messages.TxnResult{Succeeded: true, Revision: 4}})
	if r := testkit.ExpectMsg[*messages.TxnReply](c2); r.Err != nil || r.Result.Revision != 5 {
		t.Errorf("client 2 got %+v, want the result at revision 5", r)
	}
	if r := testkit.ExpectMsg[*messages.TxnReply](c1); r.Err != nil || r.Result.Revision != 4 {
		t.Errorf("client 1 got %+v, want the result at revision 4", r)
	}
	f.barrier(c1, c2) // answered once each
}

// A membership change goes to raftnode as the client asked for it, with a
// request id of this node. raftnode's refusal and the applier's verdict
// both reach the client.
func TestConfChangeIsProposedAndAnswered(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	c := f.client()
	want := addMember(4)
	c.Send(f.pid, want)
	p := testkit.ExpectMsg[*messages.ProposeConfChange](f.raftnode)
	if p.Change != want.Change || p.ID.Node != self {
		t.Errorf("proposed %+v, want the client's change %+v under an id of node %d", p, want.Change, self)
	}
	f.send(&messages.Result{ID: p.ID, Err: messages.ErrMemberExists}) // raftnode refuses it
	if r := testkit.ExpectMsg[*messages.ConfChangeReply](c); !errors.Is(r.Err, messages.ErrMemberExists) {
		t.Errorf("client got %+v, want ErrMemberExists", r)
	}

	c.Send(f.pid, removeMember(3))
	p = testkit.ExpectMsg[*messages.ProposeConfChange](f.raftnode)
	f.send(&messages.Result{ID: p.ID}) // the applier applied it
	if r := testkit.ExpectMsg[*messages.ConfChangeReply](c); r.Err != nil {
		t.Errorf("client got %+v, want success", r)
	}
	f.barrier(c)
}

// What raft drops for want of a leader is proposed again, with the same id,
// once a leader is known; nothing is proposed while there is none.
func TestDroppedProposalIsProposedAgainUnderALeader(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	c := f.client()
	c.Send(f.pid, &messages.ClientTxn{Txn: putTxn("a")})
	p := testkit.ExpectMsg[*messages.Propose](f.raftnode)
	f.send(&messages.RaftState{Leader: 0, Term: 2, Serving: true})
	f.send(&messages.ProposalDropped{ID: p.ID, Err: errors.New("raft: proposal dropped")})
	f.send(&proposer.Sweep{})
	f.barrier()

	// Proposed while no leader is known: parked at once.
	c.Send(f.pid, removeMember(3))
	f.barrier()

	f.send(&messages.RaftState{Leader: 2, Term: 2, Serving: true})
	var gotTxn, gotConf bool
	for _, e := range f.raftnode.ReceiveN(2) {
		switch m := e.Message.(type) {
		case *messages.Propose:
			gotTxn = m.ID == p.ID && string(m.Data) == string(p.Data)
		case *messages.ProposeConfChange:
			gotConf = m.Change.Type == messages.Remove && m.Change.Member.ID == 3
		}
	}
	if !gotTxn || !gotConf {
		t.Errorf("under the new leader: txn proposed again %v, conf change proposed %v; want both", gotTxn, gotConf)
	}
	f.barrier() // once each
	f.send(&messages.Result{ID: p.ID, Result: messages.TxnResult{Revision: 1}})
	if r := testkit.ExpectMsg[*messages.TxnReply](c); r.Err != nil || r.Result.Revision != 1 {
		t.Errorf("client got %+v, want the result", r)
	}
}

// A proposal dropped while a leader is known (raft refuses it for another
// reason, or the leader changed and came back between two reports) is
// proposed again on the next Sweep.
func TestDroppedProposalIsRetriedOnSweep(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	c := f.client()
	c.Send(f.pid, &messages.ClientTxn{Txn: putTxn("a")})
	p := testkit.ExpectMsg[*messages.Propose](f.raftnode)
	f.send(&messages.ProposalDropped{ID: p.ID, Err: messages.ErrConfChangePending})
	f.barrier()
	f.send(&proposer.Sweep{})
	if again := testkit.ExpectMsg[*messages.Propose](f.raftnode); again.ID != p.ID {
		t.Errorf("proposed %v again, want %v", again.ID, p.ID)
	}
}

// Cut off from the others, a node that has known no leader for longer than
// an election timeout answers ErrNoLeader at once rather than at the
// deadline: to what it is asked then, and to what waits without being in
// raft's hands (parked writes and changes, every read). A write raft holds
// waits for its outcome, which may still be a success. Serializable reads
// are served throughout; once a leader is known again, requests go to raft
// again.
func TestLeaderlessFailsFast(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	held, dropped, parked, inRound, queued := f.client(), f.client(), f.client(), f.client(), f.client()
	held.Send(f.pid, &messages.ClientTxn{Txn: putTxn("held")})
	pHeld := testkit.ExpectMsg[*messages.Propose](f.raftnode)
	dropped.Send(f.pid, &messages.ClientTxn{Txn: putTxn("dropped")})
	pDropped := testkit.ExpectMsg[*messages.Propose](f.raftnode)
	f.send(&messages.ProposalDropped{ID: pDropped.ID, Err: errors.New("raft: proposal dropped")})
	inRound.Send(f.pid, &messages.ClientRead{Op: getOp("a")})
	ri := testkit.ExpectMsg[*messages.ReadIndex](f.raftnode)
	queued.Send(f.pid, &messages.ClientRead{Op: getOp("b")})
	f.send(&messages.RaftState{Term: 2, Serving: true}) // leader lost, not for long yet
	parked.Send(f.pid, addMember(4))
	f.barrier(held, dropped, parked, inRound, queued) // all of them wait

	f.leaderless()
	if r := testkit.ExpectMsg[*messages.TxnReply](dropped); !errors.Is(r.Err, messages.ErrNoLeader) {
		t.Errorf("dropped write got %+v, want ErrNoLeader", r)
	}
	if r := testkit.ExpectMsg[*messages.ConfChangeReply](parked); !errors.Is(r.Err, messages.ErrNoLeader) {
		t.Errorf("parked change got %+v, want ErrNoLeader", r)
	}
	for i, c := range []*testkit.Probe{inRound, queued} {
		if r := testkit.ExpectMsg[*messages.ReadReply](c); !errors.Is(r.Err, messages.ErrNoLeader) {
			t.Errorf("read %d got %+v, want ErrNoLeader", i, r)
		}
	}

	// New requests fail at once, and nothing reaches raftnode.
	c := f.client()
	if r := testkit.Request[*messages.TxnReply](c, f.pid, &messages.ClientTxn{Txn: putTxn("c")}); !errors.Is(r.Err, messages.ErrNoLeader) {
		t.Errorf("new write got %+v, want ErrNoLeader", r)
	}
	if r := testkit.Request[*messages.ConfChangeReply](c, f.pid, removeMember(3)); !errors.Is(r.Err, messages.ErrNoLeader) {
		t.Errorf("new change got %+v, want ErrNoLeader", r)
	}
	if r := testkit.Request[*messages.ReadReply](c, f.pid, &messages.ClientRead{Op: getOp("c")}); !errors.Is(r.Err, messages.ErrNoLeader) {
		t.Errorf("new linearizable read got %+v, want ErrNoLeader", r)
	}
	f.send(&proposer.Sweep{})
	f.applierBarrier() // serializable reads are served
	f.barrier(held, dropped, parked, inRound, queued)

	// The old round's late answer serves no one.
	f.send(&messages.ReadState{Ctx: ri.Ctx, Index: 5})
	f.applierBarrier()

	// The write raft holds gets its result, after all.
	f.send(&messages.Result{ID: pHeld.ID, Result: messages.TxnResult{Succeeded: true, Revision: 9}})
	if r := testkit.ExpectMsg[*messages.TxnReply](held); r.Err != nil || r.Result.Revision != 9 {
		t.Errorf("held write got %+v, want its result at revision 9", r)
	}

	// A leader again: a new write is proposed, and nothing failed before.
	f.serving(3)
	c.Send(f.pid, &messages.ClientTxn{Txn: putTxn("d")})
	if p := testkit.ExpectMsg[*messages.Propose](f.raftnode); p.ID.Seq <= pDropped.ID.Seq {
		t.Errorf("new write proposed as %v, want a new id", p.ID)
	}
	f.barrier(dropped, parked)
}

// A proposal raft drops while the node is leaderless fails at once: it is
// not in the log, and no leader is in sight to take it again.
func TestDroppedWhileLeaderlessFailsAtOnce(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	c := f.client()
	c.Send(f.pid, addMember(4))
	p := testkit.ExpectMsg[*messages.ProposeConfChange](f.raftnode)
	f.leaderless()
	f.barrier(c) // raft holds it: it waits
	f.send(&messages.ProposalDropped{ID: p.ID})
	if r := testkit.ExpectMsg[*messages.ConfChangeReply](c); !errors.Is(r.Err, messages.ErrNoLeader) {
		t.Errorf("client got %+v, want ErrNoLeader", r)
	}
	f.serving(2)
	f.barrier(c) // not proposed again, not answered again
}

// Linearizable reads share ReadIndex rounds: all reads that arrive while a
// round is in flight go out in the next round, as one ReadIndex and then
// one ReadBatch for the applier.
func TestReadsAreBatched(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	first := f.client()
	first.Send(f.pid, &messages.ClientRead{Op: getOp("a")})
	ri1 := testkit.ExpectMsg[*messages.ReadIndex](f.raftnode)

	clients := make([]*testkit.Probe, 5)
	for i := range clients {
		clients[i] = f.client()
		clients[i].Send(f.pid, &messages.ClientRead{Op: getOp(string(rune('b' + i)))})
	}
	f.barrier() // one round at a time
	f.applierBarrier()

	f.send(&messages.ReadState{Ctx: ri1.Ctx, Index: 10})
	b1 := testkit.ExpectMsg[*messages.ReadBatch](f.applier)
	if b1.Index != 10 || len(b1.Reads) != 1 || !b1.Reads[0].ReplyTo.Equal(first.PID()) {
		t.Errorf("first ReadBatch %+v, want index 10 with the first read", b1)
	}
	ri2 := testkit.ExpectMsg[*messages.ReadIndex](f.raftnode)
	if ri2.Ctx == ri1.Ctx {
		t.Errorf("second round reuses ctx %d", ri1.Ctx)
	}
	f.barrier()
	f.send(&messages.ReadState{Ctx: ri2.Ctx, Index: 12})
	b2 := testkit.ExpectMsg[*messages.ReadBatch](f.applier)
	if b2.Index != 12 || len(b2.Reads) != len(clients) {
		t.Fatalf("second ReadBatch at %d with %d reads, want 12 with %d", b2.Index, len(b2.Reads), len(clients))
	}
	for i, r := range b2.Reads {
		if !r.ReplyTo.Equal(clients[i].PID()) || string(r.Op.Key) != string(rune('b'+i)) {
			t.Errorf("read %d: %+v, want client %d's read", i, r, i)
		}
	}
	f.barrier() // no round without reads
	f.applierBarrier()
}

// A round that gets no answer in ReadRetry is asked again on Sweep, with a
// new ctx; a late answer to the old round is ignored.
func TestUnansweredReadRoundIsRetried(t *testing.T) {
	f := newFixture(t, proposer.Config{ReadRetry: time.Nanosecond})
	f.serving(1)
	c := f.client()
	c.Send(f.pid, &messages.ClientRead{Op: getOp("a")})
	ri1 := testkit.ExpectMsg[*messages.ReadIndex](f.raftnode)
	f.send(&proposer.Sweep{})
	ri2 := testkit.ExpectMsg[*messages.ReadIndex](f.raftnode)
	if ri2.Ctx == ri1.Ctx {
		t.Fatalf("retry reuses ctx %d", ri1.Ctx)
	}
	f.send(&messages.ReadState{Ctx: ri1.Ctx, Index: 3})
	f.applierBarrier()
	f.send(&messages.ReadState{Ctx: ri2.Ctx, Index: 4})
	b := testkit.ExpectMsg[*messages.ReadBatch](f.applier)
	if b.Index != 4 || len(b.Reads) != 1 || !b.Reads[0].ReplyTo.Equal(c.PID()) {
		t.Errorf("ReadBatch %+v, want index 4 with the read", b)
	}
}

// A write that waited longer than MaxWait is answered ErrTimeout, and its
// late result is dropped.
func TestExpiredWriteTimesOut(t *testing.T) {
	f := newFixture(t, proposer.Config{MaxWait: time.Nanosecond})
	f.serving(1)
	c := f.client()
	c.Send(f.pid, &messages.ClientTxn{Txn: putTxn("a")})
	p := testkit.ExpectMsg[*messages.Propose](f.raftnode)
	f.sweepUntil(c)
	if r := testkit.ExpectMsg[*messages.TxnReply](c); !errors.Is(r.Err, messages.ErrTimeout) {
		t.Errorf("client got %+v, want ErrTimeout", r)
	}
	f.send(&messages.Result{ID: p.ID, Result: messages.TxnResult{Revision: 1}})
	f.barrier(c)
}

// A read that waited longer than MaxWait is answered ErrTimeout too, not
// left without an answer (errors travel as replies, never as a hang).
func TestExpiredReadTimesOut(t *testing.T) {
	f := newFixture(t, proposer.Config{MaxWait: time.Nanosecond, ReadRetry: time.Nanosecond})
	f.serving(1)
	c := f.client()
	c.Send(f.pid, &messages.ClientRead{Op: getOp("a")})
	testkit.ExpectMsg[*messages.ReadIndex](f.raftnode)
	f.sweepUntil(c)
	if r := testkit.ExpectMsg[*messages.ReadReply](c); !errors.Is(r.Err, messages.ErrTimeout) {
		t.Errorf("client got %+v, want ErrTimeout", r)
	}
}

// Stopping the proposer answers everything still waiting with ErrStopped.
func TestStoppingAnswersErrStopped(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	w, cc, r1, r2 := f.client(), f.client(), f.client(), f.client()
	w.Send(f.pid, &messages.ClientTxn{Txn: putTxn("a")})
	cc.Send(f.pid, addMember(4))
	r1.Send(f.pid, &messages.ClientRead{Op: getOp("a")}) // in the round in flight
	r2.Send(f.pid, &messages.ClientRead{Op: getOp("b")}) // queued for the next
	f.raftnode.ReceiveN(3)
	// Stop is a system message, handled before any user message still in
	// the mailbox: the barrier makes sure the proposer has taken r2 in.
	f.barrier()

	if err := f.system.Root.StopFuture(f.pid).Wait(); err != nil {
		t.Fatal(err)
	}
	if r := testkit.ExpectMsg[*messages.TxnReply](w); !errors.Is(r.Err, messages.ErrStopped) {
		t.Errorf("write got %+v, want ErrStopped", r)
	}
	if r := testkit.ExpectMsg[*messages.ConfChangeReply](cc); !errors.Is(r.Err, messages.ErrStopped) {
		t.Errorf("conf change got %+v, want ErrStopped", r)
	}
	for i, c := range []*testkit.Probe{r1, r2} {
		if r := testkit.ExpectMsg[*messages.ReadReply](c); !errors.Is(r.Err, messages.ErrStopped) {
			t.Errorf("read %d got %+v, want ErrStopped", i, r)
		}
	}
}

// A serializable read goes straight to the applier, without a ReadIndex.
func TestSerializableReadBypassesReadIndex(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	f.serving(1)
	c := f.client()
	c.Send(f.pid, &messages.ClientRead{Op: getOp("a"), Serializable: true})
	b := testkit.ExpectMsg[*messages.ReadBatch](f.applier)
	if b.Index != 0 || len(b.Reads) != 1 || !b.Reads[0].ReplyTo.Equal(c.PID()) || string(b.Reads[0].Op.Key) != "a" {
		t.Errorf("ReadBatch %+v, want index 0 with the client's read", b)
	}
	f.barrier()
}

// Status requests go to raftnode, which answers the client directly.
func TestStatusIsForwardedToRaftnode(t *testing.T) {
	f := newFixture(t, proposer.Config{})
	c := f.client()
	c.Send(f.pid, &messages.ClientStatus{})
	testkit.ExpectMsg[*messages.ClientStatus](f.raftnode)
	if !f.raftnode.LastSender().Equal(c.PID()) {
		t.Fatalf("ClientStatus reached raftnode from %v, want the client %v", f.raftnode.LastSender(), c.PID())
	}
	f.raftnode.Reply(&messages.Status{ID: self})
	if s := testkit.ExpectMsg[*messages.Status](c); s.ID != self {
		t.Errorf("client got %+v", s)
	}
}
