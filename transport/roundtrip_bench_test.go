package transport_test

import (
	"net"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/testkit"
	"github.com/raftkv/raftkv/transport"
)

// echo answers every raft message with one back to the member it names.
type echo struct{ back *actor.PID }

func (e echo) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*raftpb.Message); ok {
		ctx.Send(e.back, m)
	}
}

// A raft message from one member's actor to another's and back, over
// loopback: the transport's share of a write's round trip.
func BenchmarkRoundTrip(b *testing.B) {
	listen := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	sa, sb := testkit.NewSystem(b), testkit.NewSystem(b)
	aAddr, bAddr := listen(), listen()
	arrived := make(chan struct{}, 1)
	sa.Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*raftpb.Message); ok {
			arrived <- struct{}{}
		}
	}), "raft")
	sb.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return echo{back: actor.NewPID(aAddr, "raft")} }), "raft")
	for _, c := range []transport.Config{
		{System: sa, Listen: aAddr, Advertise: aAddr, Inbox: "raft"},
		{System: sb, Listen: bAddr, Advertise: bAddr, Inbox: "raft"},
	} {
		tr, err := transport.Start(c)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { tr.Close() })
	}
	to, m := actor.NewPID(bAddr, "raft"), app(1)
	sa.Root.Send(to, m) // dial both ways before timing
	<-arrived
	b.ResetTimer()
	for range b.N {
		sa.Root.Send(to, m)
		<-arrived
	}
}
