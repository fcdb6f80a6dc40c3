package transport_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/testkit"
	"github.com/raftkv/raftkv/transport"
)

// member is one actor system with its transport; what arrives for its
// inbox goes to the probe.
type member struct {
	system *actor.ActorSystem
	t      *transport.Transport
	inbox  *testkit.Probe
	addr   string
}

func start(t *testing.T, opts ...func(*transport.Config)) *member {
	t.Helper()
	system := testkit.NewSystem(t)
	inbox := testkit.NewProbe(t, system)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := transport.Config{System: system, Listen: addr, Advertise: addr, Inbox: inbox.PID().GetId(), MaxMessageSize: 1 << 20}
	for _, o := range opts {
		o(&cfg)
	}
	tr, err := transport.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return &member{system: system, t: tr, inbox: inbox, addr: addr}
}

// inboxOf is the PID under which member m's inbox is reached from elsewhere.
func inboxOf(m *member) *actor.PID { return actor.NewPID(m.addr, m.inbox.PID().GetId()) }

func app(index uint64) *raftpb.Message {
	return &raftpb.Message{Type: raftpb.MsgApp.Enum(), From: new(uint64(1)), To: new(uint64(2)), Term: new(uint64(3)), Index: new(index),
		Entries: []*raftpb.Entry{{Term: new(uint64(3)), Index: new(index + 1), Data: []byte(fmt.Sprint("entry ", index))}}}
}

// Raft messages and peer messages sent to another member's inbox arrive,
// in the order they were sent.
func TestMessagesArriveInOrder(t *testing.T) {
	a, b := start(t), start(t)
	to := inboxOf(b)
	const n = 500
	for i := range uint64(n) {
		a.system.Root.Send(to, app(i))
		if i%100 == 0 {
			a.system.Root.Send(to, wrapperspb.Bytes([]byte(fmt.Sprint("peer ", i))))
		}
	}
	for i := range uint64(n) {
		if got := testkit.ExpectMsg[*raftpb.Message](b.inbox); !proto.Equal(got, app(i)) {
			t.Fatalf("message %d: got %v, want %v", i, got, app(i))
		}
		if i%100 == 0 {
			if got := testkit.ExpectMsg[*wrapperspb.BytesValue](b.inbox); string(got.GetValue()) != fmt.Sprint("peer ", i) {
				t.Fatalf("peer message after %d: got %q", i, got.GetValue())
			}
		}
	}
}

// Messages larger than the socket takes at once, sent one by one (so
// that each finds the stream idle and is written by its sender) and in a
// burst, arrive whole and in order: what the sender's write leaves goes
// through the stream's goroutine before anything sent after it.
func TestBigMessagesArriveWholeAndInOrder(t *testing.T) {
	const big = 8 << 20
	maxSize := func(c *transport.Config) { c.MaxMessageSize = 2 * big }
	a, b := start(t, maxSize), start(t, maxSize)
	to := inboxOf(b)
	msg := func(i uint64) *raftpb.Message {
		m := app(i)
		if i%2 == 0 {
			m.Entries[0].Data = bytes.Repeat([]byte{byte(i)}, big)
		}
		return m
	}
	check := func(i uint64) {
		t.Helper()
		if got := testkit.ExpectMsg[*raftpb.Message](b.inbox); !proto.Equal(got, msg(i)) {
			t.Fatalf("message %d: got %d bytes of entry %d, want %d bytes of entry %d", i,
				len(got.GetEntries()[0].GetData()), got.GetIndex(), len(msg(i).GetEntries()[0].GetData()), i)
		}
	}
	for i := range uint64(4) { // one at a time: the stream idles before each
		a.system.Root.Send(to, msg(i))
		check(i)
	}
	for i := uint64(4); i < 12; i++ { // a burst
		a.system.Root.Send(to, msg(i))
	}
	for i := uint64(4); i < 12; i++ {
		check(i)
	}
}

// A member that nobody listens at is reported down; once it listens,
// messages flow.
func TestUnreachableMemberIsReportedDown(t *testing.T) {
	a := start(t)
	downs := make(chan string, 16)
	sub := a.system.EventStream.Subscribe(func(evt any) {
		if d, ok := evt.(*transport.Down); ok {
			select {
			case downs <- d.Address:
			default:
			}
		}
	})
	t.Cleanup(func() { a.system.EventStream.Unsubscribe(sub) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := l.Addr().String()
	l.Close()
	a.system.Root.Send(actor.NewPID(nobody, "raft"), app(1))
	select {
	case addr := <-downs:
		if addr != nobody {
			t.Errorf("down for %s, want %s", addr, nobody)
		}
	case <-time.After(testkit.Dilated(5 * time.Second)):
		t.Fatal("no Down for an address nobody listens at")
	}
}

// A connection that breaks the format is closed; what came on it before
// was delivered, nothing after, and other connections go on.
func TestMalformedInputClosesTheConnection(t *testing.T) {
	b := start(t)
	frame := func(kind byte, payload []byte) []byte {
		f := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
		return append(append(f, kind), payload...)
	}
	raw, err := proto.Marshal(app(7))
	if err != nil {
		t.Fatal(err)
	}
	preamble := append([]byte("RKV1"), byte(len(b.addr)))
	preamble = append(preamble, b.addr...)
	cases := []struct {
		name  string
		input []byte
	}{
		{"not a member", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"frame over the limit", append(slices(preamble, frame(1, raw)), append(binary.BigEndian.AppendUint32(nil, 2<<20), 1)...)},
		{"unknown kind", slices(preamble, frame(1, raw), frame(9, []byte("x")))},
		{"undecodable raft message", slices(preamble, frame(1, raw), frame(1, []byte{0xff, 0xff, 0xff}))},
		{"cut short", slices(preamble, frame(1, raw), frame(1, raw)[:8])},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(t, b.addr, c.input)
			if tc, ok := conn.(*net.TCPConn); ok && c.name == "cut short" {
				tc.CloseWrite()
			}
			conn.SetReadDeadline(time.Now().Add(testkit.Dilated(5 * time.Second)))
			if _, err := conn.Read(make([]byte, 1)); err == nil || isTimeout(err) {
				t.Fatalf("the connection is still open after %s (read: %v)", c.name, err)
			}
			if bytes.HasPrefix(c.input, []byte("RKV1")) {
				if got := testkit.ExpectMsg[*raftpb.Message](b.inbox); !proto.Equal(got, app(7)) {
					t.Errorf("the valid frame before: got %v", got)
				}
			}
			// A barrier: a message through a good connection is the next
			// thing the inbox gets.
			a := start(t)
			a.system.Root.Send(inboxOf(b), app(8))
			if got := testkit.ExpectMsg[*raftpb.Message](b.inbox); !proto.Equal(got, app(8)) {
				t.Errorf("after %s the inbox got %v, want %v", c.name, got, app(8))
			}
		})
	}
}

func slices(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// A message over the size limit is dropped by the sender; the stream goes on.
func TestOversizedMessageIsDropped(t *testing.T) {
	a, b := start(t), start(t)
	big := app(1)
	big.Entries[0].Data = make([]byte, 2<<20)
	a.system.Root.Send(inboxOf(b), big)
	a.system.Root.Send(inboxOf(b), app(2))
	if got := testkit.ExpectMsg[*raftpb.Message](b.inbox); !proto.Equal(got, app(2)) {
		t.Errorf("got %v, want the message after the oversized one", got)
	}
}

// Connections beyond the bound are refused; once one closes, another is
// taken.
func TestConnectionBound(t *testing.T) {
	b := start(t, func(c *transport.Config) { c.MaxConnections = 1 })
	preamble := append([]byte("RKV1"), 0)
	held := dial(t, b.addr, preamble)
	if !closedByPeer(t, dial(t, b.addr, preamble)) {
		t.Fatal("a second connection was taken over the bound of one")
	}
	held.Close()
	testkit.AwaitCondition(t, "a new connection is taken once the first closed", func() bool {
		return !closedByPeer(t, dial(t, b.addr, preamble))
	}, 10*time.Second)
}

func dial(t *testing.T, addr string, input []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(input); err != nil {
		t.Fatal(err)
	}
	return c
}

// closedByPeer says whether the other end closes c within a moment.
func closedByPeer(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testkit.Dilated(500 * time.Millisecond)))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}
