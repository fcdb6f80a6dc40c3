package peer_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/actors/peer"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
)

// quiet is how long a test watches a probe to see that nothing arrives.
const quiet = 100 * time.Millisecond

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func msg(typ raftpb.MessageType, from, to uint64) *raftpb.Message {
	return &raftpb.Message{Type: typ.Enum(), From: new(from), To: new(to), Term: new(uint64(3))}
}

// The inbox of member 1 hands raftnode only messages that a raft peer could
// have sent it; anything else is dropped without harm.
func TestInboxForwardsOnlyValidMessages(t *testing.T) {
	system := testkit.NewSystem(t)
	raftnode := testkit.NewProbe(t, system)
	inbox := testkit.Spawn(t, system, peer.InboxProps(1, raftnode.PID(), discard()))
	events := testkit.WatchSupervision(t, system)

	bad := []struct {
		name string
		msg  any
	}{
		{"addressed to another member", msg(raftpb.MsgApp, 2, 3)},
		{"addressed to nobody", msg(raftpb.MsgApp, 2, 0)},
		{"from member 0", msg(raftpb.MsgApp, 0, 1)},
		{"from itself", msg(raftpb.MsgApp, 1, 1)},
		{"local MsgHup", msg(raftpb.MsgHup, 2, 1)},
		{"local MsgBeat", msg(raftpb.MsgBeat, 2, 1)},
		{"local MsgUnreachable", msg(raftpb.MsgUnreachable, 2, 1)},
		{"local MsgSnapStatus", msg(raftpb.MsgSnapStatus, 2, 1)},
		{"local MsgCheckQuorum", msg(raftpb.MsgCheckQuorum, 2, 1)},
		{"local MsgStorageAppend", msg(raftpb.MsgStorageAppend, 2, 1)},
		{"local MsgStorageApplyResp", msg(raftpb.MsgStorageApplyResp, 2, 1)},
		{"unknown type", msg(raftpb.MessageType(99), 2, 1)},
		{"empty message", &raftpb.Message{}},
		{"not a raft message", "hello"},
		{"an actor message", &messages.Tick{}},
	}
	for _, b := range bad {
		system.Root.Send(inbox, b.msg)
	}
	good := []*raftpb.Message{
		msg(raftpb.MsgApp, 2, 1),
		msg(raftpb.MsgHeartbeat, 3, 1),
		msg(raftpb.MsgVote, 2, 1),
		msg(raftpb.MsgPreVote, 2, 1),
		msg(raftpb.MsgProp, 2, 1), // a follower forwarding a proposal
		msg(raftpb.MsgReadIndex, 3, 1),
		msg(raftpb.MsgSnap, 2, 1),
		msg(raftpb.MsgTimeoutNow, 2, 1),
	}
	for _, m := range good {
		system.Root.Send(inbox, m)
	}
	// Messages arrive in order: had a bad one been forwarded, it would come
	// before the first good one.
	for i, want := range good {
		got := testkit.ExpectMsg[*raftpb.Message](raftnode)
		if !proto.Equal(got, want) {
			t.Errorf("%d: raftnode got %v, want %v (bad ones: %d)", i, got, want, len(bad))
		}
	}
	raftnode.ExpectNoMsg(quiet)
	events.ExpectNone(0)
}

// parentOf spawns props as the child of an actor that passes every message
// it gets on to out (as raftnode gets what its links report).
func parentOf(t *testing.T, system *actor.ActorSystem, props *actor.Props, out *testkit.Probe) *actor.PID {
	t.Helper()
	child := make(chan *actor.PID, 1)
	testkit.Spawn(t, system, actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *actor.Started:
			child <- ctx.Spawn(props)
		case *actor.Stopping, *actor.Stopped, *actor.Restarting, *actor.Terminated:
		default:
			ctx.Send(out.PID(), m)
		}
	}))
	select {
	case pid := <-child:
		return pid
	case <-time.After(testkit.Dilated(testkit.DefaultTimeout)):
		t.Fatal("the parent did not spawn the link")
		return nil
	}
}

// A link carries raft messages to its target as they are, and tells its
// parent after each snapshot it sent.
func TestLinkForwardsAndReportsSnapshots(t *testing.T) {
	system := testkit.NewSystem(t)
	target, parent := testkit.NewProbe(t, system), testkit.NewProbe(t, system)
	link := parentOf(t, system, peer.Props(peer.Config{ID: 2, Address: "n2:1", Target: target.PID(), Logger: discard()}), parent)

	app := msg(raftpb.MsgApp, 1, 2)
	app.Entries = []*raftpb.Entry{{Index: new(uint64(5)), Term: new(uint64(3)), Data: []byte("x")}}
	system.Root.Send(link, app)
	if got := testkit.ExpectMsg[*raftpb.Message](target); !proto.Equal(got, app) {
		t.Errorf("target got %v, want %v", got, app)
	}
	parent.ExpectNoMsg(quiet) // no report for ordinary messages

	snap := msg(raftpb.MsgSnap, 1, 2)
	snap.Snapshot = &raftpb.Snapshot{Data: []byte("state"), Metadata: &raftpb.SnapshotMetadata{Index: new(uint64(9)), Term: new(uint64(3))}}
	system.Root.Send(link, snap)
	if got := testkit.ExpectMsg[*raftpb.Message](target); !proto.Equal(got, snap) {
		t.Errorf("target got %v, want the snapshot message", got)
	}
	if st := testkit.ExpectMsg[*messages.SnapshotStatus](parent); *st != (messages.SnapshotStatus{ID: 2}) {
		t.Errorf("parent got %+v, want a finished snapshot to member 2", st)
	}
}

// When protoactor gives up the endpoint of the link's member, the link
// reports the member unreachable to its parent; endpoints of other
// members are not its business. Once stopped, it stops listening.
func TestLinkReportsUnreachable(t *testing.T) {
	system := testkit.NewSystem(t)
	dead := testkit.WatchDeadLetters(t, system)
	before := system.EventStream.Length()
	parent := testkit.NewProbe(t, system)
	target := actor.NewPID("n2:1", peer.InboxName) // as without a test network
	link := parentOf(t, system, peer.Props(peer.Config{ID: 2, Address: "n2:1", Target: target, Logger: discard()}), parent)
	// A first message, a dead letter here (no remote), shows that the link
	// has started and subscribed.
	system.Root.Send(link, msg(raftpb.MsgHeartbeat, 1, 2))
	testkit.ExpectDeadLetter[*raftpb.Message](dead)
	if n := system.EventStream.Length(); n != before+1 {
		t.Fatalf("event stream has %d subscriptions with the link running, want %d", n, before+1)
	}

	system.EventStream.Publish(&remote.EndpointTerminatedEvent{Address: "n3:1"})
	parent.ExpectNoMsg(quiet)
	for range 2 {
		system.EventStream.Publish(&remote.EndpointTerminatedEvent{Address: "n2:1"})
		if u := testkit.ExpectMsg[*messages.Unreachable](parent); u.ID != 2 {
			t.Errorf("parent got %+v, want member 2 unreachable", u)
		}
	}

	if err := system.Root.StopFuture(link).Wait(); err != nil {
		t.Fatal(err)
	}
	if n := system.EventStream.Length(); n != before {
		t.Errorf("event stream has %d subscriptions after the link stopped, want %d", n, before)
	}
}

// Without a Target, a link sends to the member's inbox over protoactor
// remote: the PID named InboxName at its address.
func TestLinkDefaultTargetIsTheMembersInbox(t *testing.T) {
	system := testkit.NewSystem(t)
	dead := testkit.WatchDeadLetters(t, system)
	parent := testkit.NewProbe(t, system)
	link := parentOf(t, system, peer.Props(peer.Config{ID: 2, Address: "127.0.0.1:1", Logger: discard()}), parent)
	system.Root.Send(link, msg(raftpb.MsgHeartbeat, 1, 2))
	// This system has no remote: the message becomes a dead letter of the
	// inbox PID, which shows where it was sent.
	ev := testkit.ExpectDeadLetter[*raftpb.Message](dead)
	if ev.PID.GetAddress() != "127.0.0.1:1" || ev.PID.GetId() != peer.InboxName {
		t.Errorf("sent to %v, want %s/%s", ev.PID, "127.0.0.1:1", peer.InboxName)
	}
}
