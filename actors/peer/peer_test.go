package peer_test

import (
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/actors/peer"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
	"github.com/raftkv/raftkv/transport"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func msg(typ raftpb.MessageType, from, to uint64) *raftpb.Message {
	return &raftpb.Message{Type: typ.Enum(), From: new(from), To: new(to), Term: new(uint64(3))}
}

// app is a distinct MsgApp from member 1 to member 2: index tells it apart
// from the others a test sends.
func app(index uint64) *raftpb.Message {
	m := msg(raftpb.MsgApp, 1, 2)
	m.Index = new(index)
	return m
}

// encode wraps m for the wire as a member would send it.
func encode(t *testing.T, m messages.PeerMessage) *wrapperspb.BytesValue {
	t.Helper()
	w, err := messages.EncodePeerMessage(m)
	if err != nil {
		t.Fatalf("encode %+v: %v", m, err)
	}
	return w
}

// The link of these tests: from member 1 at n1:1 to member 2 at n2:1, in
// cluster 7.
func linkConfig(target *actor.PID) peer.Config {
	return peer.Config{ID: 2, Address: "n2:1", Self: 1, SelfAddress: "n1:1", ClusterID: 7, Target: target, Logger: discard()}
}

// wantHello is the hello a link of cfg sends.
func wantHello(cfg peer.Config) messages.PeerMessage {
	return messages.PeerMessage{
		Version: messages.FormatVersion, Kind: messages.PeerHello, From: cfg.Self, To: cfg.ID,
		FromAddress: cfg.SelfAddress, DialedAddress: cfg.Address, ClusterID: cfg.ClusterID,
	}
}

// expectHello takes the next message of target and fails unless it is the
// hello want.
func expectHello(t *testing.T, target *testkit.Probe, want messages.PeerMessage) {
	t.Helper()
	w := testkit.ExpectMsg[*wrapperspb.BytesValue](target)
	got, err := messages.DecodePeerMessage(w)
	if err != nil {
		t.Fatalf("the link sent undecodable bytes: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the link sent %+v, want the hello %+v", got, want)
	}
}

// expectRaft takes the next message of target and fails unless it is want.
func expectRaft(t *testing.T, target *testkit.Probe, want *raftpb.Message) {
	t.Helper()
	if got := testkit.ExpectMsg[*raftpb.Message](target); !proto.Equal(got, want) {
		t.Fatalf("target got %v, want %v", got, want)
	}
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

// startLink starts a link of linkConfig under a parent that passes what it
// reports to the parent probe, with a probe as its target, and takes the
// hello it sends on start.
func startLink(t *testing.T) (system *actor.ActorSystem, link *actor.PID, target, parent *testkit.Probe) {
	t.Helper()
	system = testkit.NewSystem(t)
	target, parent = testkit.NewProbe(t, system), testkit.NewProbe(t, system)
	cfg := linkConfig(target.PID())
	link = parentOf(t, system, peer.Props(cfg), parent)
	expectHello(t, target, wantHello(cfg))
	return system, link, target, parent
}

// A link says hello on start: who it is, where it is, which member it
// expects at the address it dialed, and its cluster.
func TestLinkSaysHelloOnStart(t *testing.T) {
	tests := []struct {
		name string
		cfg  peer.Config
	}{
		{"known cluster", linkConfig(nil)},
		{"cluster id not known yet", peer.Config{ID: 5, Address: "10.0.0.5:7000", Self: 3, SelfAddress: "10.0.0.3:7000"}},
	}
	for i, tt := range tests {
		system := testkit.NewSystem(t)
		target, parent := testkit.NewProbe(t, system), testkit.NewProbe(t, system)
		tt.cfg.Target, tt.cfg.Logger = target.PID(), discard()
		parentOf(t, system, peer.Props(tt.cfg), parent)
		w := testkit.ExpectMsg[*wrapperspb.BytesValue](target)
		got, err := messages.DecodePeerMessage(w)
		if err != nil {
			t.Fatalf("%d (%s): undecodable hello: %v", i, tt.name, err)
		}
		if want := wantHello(tt.cfg); !reflect.DeepEqual(got, want) {
			t.Errorf("%d (%s): hello %+v, want %+v", i, tt.name, got, want)
		}
	}
}

// A link drops raft messages until raftnode passes it LinkChecked{Err: nil},
// then carries them to its target as they are, in order.
func TestLinkForwardsOnlyOnceVerified(t *testing.T) {
	system, link, target, _ := startLink(t)
	for i := range uint64(5) {
		system.Root.Send(link, app(100+i)) // dropped: not verified
	}
	system.Root.Send(link, &messages.LinkChecked{})

	entry := app(1)
	entry.Entries = []*raftpb.Entry{{Index: new(uint64(5)), Term: new(uint64(3)), Data: []byte("x")}}
	sent := []*raftpb.Message{entry, msg(raftpb.MsgHeartbeat, 1, 2), msg(raftpb.MsgVote, 1, 2), app(2)}
	for _, m := range sent {
		system.Root.Send(link, m)
	}
	// Had a dropped message been sent, it would come before these.
	for i, want := range sent {
		if got := testkit.ExpectMsg[*raftpb.Message](target); !proto.Equal(got, want) {
			t.Fatalf("%d: target got %v, want %v", i, got, want)
		}
	}
}

// While its link is not verified, a link says hello again after every 10
// raft messages it dropped (the hello or its answer may have been lost).
func TestLinkSaysHelloEveryTenDropped(t *testing.T) {
	tests := []struct {
		dropped int
		hellos  int
	}{
		{0, 0}, {1, 0}, {9, 0}, {10, 1}, {11, 1}, {19, 1}, {20, 2}, {35, 3},
	}
	for i, tt := range tests {
		system, link, target, _ := startLink(t)
		for j := range tt.dropped {
			system.Root.Send(link, app(uint64(100+j)))
		}
		// The marker: once verified, the next raft message is sent; the
		// hellos must all come before it, and nothing else.
		system.Root.Send(link, &messages.LinkChecked{})
		system.Root.Send(link, app(1))
		for range tt.hellos {
			expectHello(t, target, wantHello(linkConfig(target.PID())))
		}
		if got := testkit.ExpectMsg[*raftpb.Message](target); !proto.Equal(got, app(1)) {
			t.Errorf("%d: %d dropped: after %d hellos target got %v, want the marker", i, tt.dropped, tt.hellos, got)
		}
	}
}

// A verified link says hello again after every 1000 raft messages it sent:
// the address may lead to another member by then.
func TestLinkReverifiesEveryThousandSent(t *testing.T) {
	system, link, target, _ := startLink(t)
	system.Root.Send(link, &messages.LinkChecked{})
	for round := range 2 {
		for i := range uint64(1000) {
			system.Root.Send(link, app(i))
		}
		for i := range uint64(1000) {
			if got := testkit.ExpectMsg[*raftpb.Message](target); !proto.Equal(got, app(i)) {
				t.Fatalf("round %d: message %d: target got %v, want %v", round, i, got, app(i))
			}
		}
		expectHello(t, target, wantHello(linkConfig(target.PID())))
	}
	// Still verified: the hello does not stop it.
	system.Root.Send(link, app(7))
	expectRaft(t, target, app(7))
}

// A link whose hello was answered by someone else (LinkChecked with an
// error) stops carrying raft messages, says hello every 10 dropped, and
// carries them again once the address answers as the member.
func TestLinkRefusedStopsForwarding(t *testing.T) {
	system, link, target, _ := startLink(t)
	system.Root.Send(link, &messages.LinkChecked{})
	system.Root.Send(link, app(1))
	expectRaft(t, target, app(1))

	system.Root.Send(link, &messages.LinkChecked{Err: errors.New("member 3 answered at n2:1")})
	// The counter of the verified link stands at 1: 9 dropped messages
	// bring it to 10, and the link says hello.
	for i := range uint64(9) {
		system.Root.Send(link, app(100+i))
	}
	expectHello(t, target, wantHello(linkConfig(target.PID())))
	for i := range uint64(10) {
		system.Root.Send(link, app(200+i))
	}
	expectHello(t, target, wantHello(linkConfig(target.PID())))
	// The same refusal again changes nothing.
	system.Root.Send(link, &messages.LinkChecked{Err: errors.New("member 3 answered at n2:1")})
	system.Root.Send(link, app(300))

	system.Root.Send(link, &messages.LinkChecked{})
	system.Root.Send(link, app(2))
	expectRaft(t, target, app(2)) // not app(300), nor anything before it
}

// ClusterIDKnown gives the cluster id to the hellos that follow.
func TestLinkClusterIDKnown(t *testing.T) {
	system := testkit.NewSystem(t)
	target, parent := testkit.NewProbe(t, system), testkit.NewProbe(t, system)
	cfg := linkConfig(target.PID())
	cfg.ClusterID = 0
	link := parentOf(t, system, peer.Props(cfg), parent)
	expectHello(t, target, wantHello(cfg))

	system.Root.Send(link, &messages.ClusterIDKnown{ClusterID: 0xc1})
	for i := range uint64(10) {
		system.Root.Send(link, app(i))
	}
	cfg.ClusterID = 0xc1
	expectHello(t, target, wantHello(cfg))
}

// When the transport loses the connection to the link's member, the link
// reports the member unreachable to its parent and stops carrying raft
// messages until raftnode checks the answer to a new hello; endpoints of
// other members are not its business. Once stopped, it stops listening.
func TestLinkReportsUnreachable(t *testing.T) {
	system := testkit.NewSystem(t)
	dead := testkit.WatchDeadLetters(t, system)
	before := system.EventStream.Length()
	parent := testkit.NewProbe(t, system)
	target := actor.NewPID("n2:1", peer.InboxName) // as without a test network
	cfg := linkConfig(target)
	link := parentOf(t, system, peer.Props(cfg), parent)
	// The hello, a dead letter here (no remote), shows that the link has
	// started and subscribed.
	nextDead := func() any {
		t.Helper()
		e := testkit.ExpectDeadLetter[any](dead)
		if !proto.Equal(e.PID, target) {
			t.Fatalf("a dead letter to %v, want to %v", e.PID, target)
		}
		return e.Message
	}
	if _, ok := nextDead().(*wrapperspb.BytesValue); !ok {
		t.Fatal("the first message of the link is not its hello")
	}
	if n := system.EventStream.Length(); n != before+1 {
		t.Fatalf("event stream has %d subscriptions with the link running, want %d", n, before+1)
	}
	system.Root.Send(link, &messages.LinkChecked{})
	system.Root.Send(link, app(1))
	if m, ok := nextDead().(*raftpb.Message); !ok || !proto.Equal(m, app(1)) {
		t.Fatalf("the verified link sent %v, want %v", m, app(1))
	}

	// Publish is synchronous: the link hears of the endpoint before it
	// gets what the test sends after.
	system.EventStream.Publish(&transport.Down{Address: "n3:1"})
	system.EventStream.Publish(&transport.Down{Address: "n2:1"})
	if u := testkit.ExpectMsg[*messages.Unreachable](parent); u.ID != 2 {
		t.Errorf("parent got %+v, want member 2 unreachable (and nothing for n3:1)", u)
	}
	// Unverified again: raft messages are dropped, and the counter (1 sent)
	// reaches 10 at the 9th.
	for i := range uint64(9) {
		system.Root.Send(link, app(100+i))
	}
	if _, ok := nextDead().(*wrapperspb.BytesValue); !ok {
		t.Fatal("the link lost its member but went on sending raft messages")
	}
	system.EventStream.Publish(&transport.Down{Address: "n2:1"})
	if u := testkit.ExpectMsg[*messages.Unreachable](parent); u.ID != 2 {
		t.Errorf("parent got %+v, want member 2 unreachable again", u)
	}
	system.Root.Send(link, &messages.LinkChecked{})
	system.Root.Send(link, app(2))
	if m, ok := nextDead().(*raftpb.Message); !ok || !proto.Equal(m, app(2)) {
		t.Fatalf("the link verified again sent %v, want %v", m, app(2))
	}

	if err := system.Root.StopFuture(link).Wait(); err != nil {
		t.Fatal(err)
	}
	if n := system.EventStream.Length(); n != before {
		t.Errorf("event stream has %d subscriptions after the link stopped, want %d", n, before)
	}
}

// Without a Target, a link sends to the member's inbox through the
// transport: the PID named InboxName at its address.
func TestLinkDefaultTargetIsTheMembersInbox(t *testing.T) {
	system := testkit.NewSystem(t)
	dead := testkit.WatchDeadLetters(t, system)
	parent := testkit.NewProbe(t, system)
	cfg := linkConfig(nil)
	cfg.Address = "127.0.0.1:1"
	link := parentOf(t, system, peer.Props(cfg), parent)
	// This system has no remote: what the link sends becomes a dead letter
	// of the inbox PID, which shows where it was sent.
	ev := testkit.ExpectDeadLetter[*wrapperspb.BytesValue](dead)
	if ev.PID.GetAddress() != "127.0.0.1:1" || ev.PID.GetId() != peer.InboxName {
		t.Errorf("hello sent to %v, want %s/%s", ev.PID, "127.0.0.1:1", peer.InboxName)
	}
	system.Root.Send(link, &messages.LinkChecked{})
	system.Root.Send(link, msg(raftpb.MsgHeartbeat, 1, 2))
	ev = testkit.ExpectDeadLetter[*raftpb.Message](dead)
	if ev.PID.GetAddress() != "127.0.0.1:1" || ev.PID.GetId() != peer.InboxName {
		t.Errorf("sent to %v, want %s/%s", ev.PID, "127.0.0.1:1", peer.InboxName)
	}
}

// startInbox starts the inbox of member 1 with probes for raftnode and the
// snapshot actor.
func startInbox(t *testing.T) (system *actor.ActorSystem, inbox *actor.PID, raftnode, snapshot *testkit.Probe) {
	t.Helper()
	system = testkit.NewSystem(t)
	raftnode, snapshot = testkit.NewProbe(t, system), testkit.NewProbe(t, system)
	inbox, err := peer.StartInbox(system, 1, raftnode.PID(), snapshot.PID(), discard())
	if err != nil {
		t.Fatal(err)
	}
	return system, inbox, raftnode, snapshot
}

// A stopped inbox drops what still arrives, and its name is free again;
// a system has one inbox at a time.
func TestInboxStop(t *testing.T) {
	system, inbox, raftnode, snapshot := startInbox(t)
	if _, err := peer.StartInbox(system, 1, raftnode.PID(), snapshot.PID(), discard()); err == nil {
		t.Error("a second inbox started on the same system")
	}
	system.Root.Stop(inbox)
	system.Root.Send(inbox, msg(raftpb.MsgApp, 2, 1))
	again, err := peer.StartInbox(system, 1, raftnode.PID(), snapshot.PID(), discard())
	if err != nil {
		t.Fatalf("start an inbox after the first stopped: %v", err)
	}
	marker := msg(raftpb.MsgHeartbeat, 3, 1)
	system.Root.Send(again, marker)
	if got := testkit.ExpectMsg[*raftpb.Message](raftnode); !proto.Equal(got, marker) {
		t.Errorf("raftnode got %v first, want the marker sent after the stop", got)
	}
}

// The inbox of member 1 hands raftnode only messages that a raft peer could
// have sent it; anything else is dropped without harm.
func TestInboxForwardsOnlyValidMessages(t *testing.T) {
	system, inbox, raftnode, snapshot := startInbox(t)
	events := testkit.WatchSupervision(t, system)

	withSnapshot := msg(raftpb.MsgSnap, 2, 1)
	withSnapshot.Snapshot = &raftpb.Snapshot{Data: []byte("state"), Metadata: &raftpb.SnapshotMetadata{Index: new(uint64(9)), Term: new(uint64(3))}}
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
		{"a snapshot as a raft message", msg(raftpb.MsgSnap, 2, 1)},
		{"a snapshot with its data as a raft message", withSnapshot},
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
		msg(raftpb.MsgTimeoutNow, 2, 1),
		msg(raftpb.MsgAppResp, 2, 1),
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
	// Nothing went to the snapshot actor: the next thing it gets is a chunk
	// sent after all of the above.
	chunk := messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 2, To: 1, Chunk: &messages.SnapshotChunk{Transfer: 1, Data: []byte("x")}}
	system.Root.Send(inbox, encode(t, chunk))
	if got := testkit.ExpectMsg[*messages.PeerMessage](snapshot); got.Kind != messages.PeerSnapshotChunk {
		t.Errorf("snapshot actor got %+v, want the chunk", got)
	}
	events.ExpectNone(0)
}

// The inbox decodes the PeerMessages addressed to its member and routes them:
// snapshot chunks and acks to the snapshot actor, the rest to raftnode. A
// hello is answered whichever member it expects; anything else for another
// member, and bytes that are no PeerMessage, are dropped.
func TestInboxRoutesPeerMessages(t *testing.T) {
	system, inbox, raftnode, snapshot := startInbox(t)
	events := testkit.WatchSupervision(t, system)
	req := &messages.RequestID{Node: 2, Seq: 9}
	change := &messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: 4, PeerAddress: "n4:1"}}
	chunk := &messages.SnapshotChunk{Transfer: 5, Seq: 0, Offset: 0, Data: []byte("stream"), Message: []byte("msgsnap")}
	ack := &messages.SnapshotAck{Transfer: 5, Seq: 3}
	tests := []struct {
		name string
		msg  messages.PeerMessage
		to   string // "raftnode", "snapshot", or "" (dropped)
	}{
		{"hello", messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 1, FromAddress: "n2:1", DialedAddress: "n1:1", ClusterID: 7}, "raftnode"},
		{"hello for another member", messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 3, FromAddress: "n2:1", DialedAddress: "n1:1"}, "raftnode"},
		{"hello reply", messages.PeerMessage{Kind: messages.PeerHelloReply, From: 2, To: 1, Expected: 2, ClusterID: 7}, "raftnode"},
		{"hello reply refusing", messages.PeerMessage{Kind: messages.PeerHelloReply, From: 2, To: 1, Expected: 2, Error: "another cluster"}, "raftnode"},
		{"conf change", messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 1, Request: req, Change: change}, "raftnode"},
		{"conf change refused", messages.PeerMessage{Kind: messages.PeerConfChangeRefused, From: 2, To: 1, Request: req, Code: "not_leader", Error: "no"}, "raftnode"},
		{"removed", messages.PeerMessage{Kind: messages.PeerRemoved, From: 2, To: 1}, "raftnode"},
		{"snapshot chunk", messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 2, To: 1, FromAddress: "n2:1", Chunk: chunk}, "snapshot"},
		{"snapshot ack", messages.PeerMessage{Kind: messages.PeerSnapshotAck, From: 2, To: 1, FromAddress: "n2:1", Ack: ack}, "snapshot"},
		{"hello reply for another member", messages.PeerMessage{Kind: messages.PeerHelloReply, From: 2, To: 3, Expected: 2}, ""},
		{"conf change for another member", messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 3, Request: req, Change: change}, ""},
		{"conf change refused for another member", messages.PeerMessage{Kind: messages.PeerConfChangeRefused, From: 2, To: 3, Request: req}, ""},
		{"removed for another member", messages.PeerMessage{Kind: messages.PeerRemoved, From: 2, To: 3}, ""},
		{"snapshot chunk for another member", messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 2, To: 3, Chunk: chunk}, ""},
		{"snapshot ack for another member", messages.PeerMessage{Kind: messages.PeerSnapshotAck, From: 2, To: 3, Ack: ack}, ""},
	}
	var toRaftnode, toSnapshot []int
	for i, tt := range tests {
		system.Root.Send(inbox, encode(t, tt.msg))
		switch tt.to {
		case "raftnode":
			toRaftnode = append(toRaftnode, i)
		case "snapshot":
			toSnapshot = append(toSnapshot, i)
		}
	}
	// Bytes that are no PeerMessage (or none this build reads) are dropped.
	oldVersion, err := messages.Encode(&messages.PeerMessage{Version: messages.FormatVersion + 1, Kind: messages.PeerRemoved, From: 2, To: 1})
	if err != nil {
		t.Fatal(err)
	}
	undecodable := []struct {
		name string
		w    *wrapperspb.BytesValue
	}{
		{"empty", &wrapperspb.BytesValue{}},
		{"garbage", wrapperspb.Bytes([]byte("\xc1garbage"))},
		{"another version", wrapperspb.Bytes(oldVersion)},
		{"unknown kind", encode(t, messages.PeerMessage{Kind: 99, From: 2, To: 1})},
		{"from member 0", encode(t, messages.PeerMessage{Kind: messages.PeerHello, From: 0, To: 1})},
		{"to member 0", encode(t, messages.PeerMessage{Kind: messages.PeerHello, From: 2, To: 0})},
		{"chunk without its chunk", encode(t, messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 2, To: 1})},
		{"ack without its ack", encode(t, messages.PeerMessage{Kind: messages.PeerSnapshotAck, From: 2, To: 1})},
		{"conf change without a change", encode(t, messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 1, Request: req})},
		{"chunk over the limit", encode(t, messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 2, To: 1,
			Chunk: &messages.SnapshotChunk{Data: make([]byte, messages.MaxChunkSize+1)}})},
	}
	for _, u := range undecodable {
		system.Root.Send(inbox, u.w)
	}
	// Markers, sent last: had anything dropped been routed, it would come
	// before them.
	markRaft := messages.PeerMessage{Kind: messages.PeerRemoved, From: 3, To: 1}
	markSnap := messages.PeerMessage{Kind: messages.PeerSnapshotAck, From: 3, To: 1, Ack: &messages.SnapshotAck{Transfer: 77}}
	system.Root.Send(inbox, encode(t, markRaft))
	system.Root.Send(inbox, encode(t, markSnap))

	check := func(probe *testkit.Probe, name string, want []int, marker messages.PeerMessage) {
		t.Helper()
		for _, i := range want {
			w := tests[i].msg
			w.Version = messages.FormatVersion
			if got := testkit.ExpectMsg[*messages.PeerMessage](probe); !reflect.DeepEqual(*got, w) {
				t.Errorf("%d (%s): %s got %+v, want %+v", i, tests[i].name, name, *got, w)
			}
		}
		marker.Version = messages.FormatVersion
		if got := testkit.ExpectMsg[*messages.PeerMessage](probe); !reflect.DeepEqual(*got, marker) {
			t.Errorf("%s got %+v after what it should get, want the marker %+v (a dropped message was routed)", name, *got, marker)
		}
	}
	check(raftnode, "raftnode", toRaftnode, markRaft)
	check(snapshot, "snapshot actor", toSnapshot, markSnap)
	events.ExpectNone(0)
}
