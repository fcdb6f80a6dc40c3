package testkit_test

import (
	"fmt"
	"runtime"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/testkit"
)

// exampleT plays the *testing.T of a test in these examples: Fatalf prints the
// failure and ends the test's goroutine, as testing.T does.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()             {}
func (t *exampleT) Logf(string, ...any) {}
func (t *exampleT) Cleanup(f func())    { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	runtime.Goexit()
}

// runTest runs test as go test would run a test function: on a goroutine of
// its own, then its cleanups.
func runTest(test func(t testkit.TB)) {
	t := &exampleT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		test(t)
	}()
	<-done
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

type Ping struct{ N int }

type Pong struct{ N int }

// echoProps answers each *Ping with a *Pong.
func echoProps() *actor.Props {
	return actor.PropsFromFunc(func(ctx actor.Context) {
		if ping, ok := ctx.Message().(*Ping); ok {
			ctx.Respond(&Pong{N: ping.N})
		}
	})
}

// A probe talks to an echo actor and asserts on the answer.
func ExampleNewProbe() {
	runTest(func(t testkit.TB) {
		system := testkit.NewSystem(t)
		echo := testkit.Spawn(t, system, echoProps())
		probe := testkit.NewProbe(t, system)

		probe.Send(echo, &Ping{N: 1}) // the probe is the sender
		pong := testkit.ExpectMsg[*Pong](probe)
		fmt.Println("pong", pong.N)

		probe.ExpectNoMsg(10 * time.Millisecond) // and nothing else
	})
	// Output: pong 1
}

type Write struct{ Key string }

type Persist struct{ Seq int }

type Persisted struct{ Seq int }

type WriteAck struct{ Key string }

// writerProps acknowledges a Write only once the persister has reported it
// Persisted.
func writerProps(persister *actor.PID) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &writer{persister: persister, waiting: map[int]waiter{}}
	})
}

type waiter struct {
	client *actor.PID
	key    string
}

type writer struct {
	persister *actor.PID
	seq       int
	waiting   map[int]waiter
}

func (w *writer) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *Write:
		w.seq++
		w.waiting[w.seq] = waiter{client: ctx.Sender(), key: msg.Key}
		ctx.Request(w.persister, &Persist{Seq: w.seq})
	case *Persisted:
		if wt, ok := w.waiting[msg.Seq]; ok {
			delete(w.waiting, msg.Seq)
			ctx.Send(wt.client, &WriteAck{Key: wt.key})
		}
	}
}

// A probe stands in for the persister of the actor under test, so that the
// test decides when the write is durable and checks that the client hears
// nothing before.
func ExampleProbe_Reply() {
	runTest(func(t testkit.TB) {
		system := testkit.NewSystem(t)
		persister := testkit.NewProbe(t, system)
		client := testkit.NewProbe(t, system)
		w := testkit.Spawn(t, system, writerProps(persister.PID()))

		client.Send(w, &Write{Key: "a"})
		req := testkit.ExpectMsg[*Persist](persister)
		fmt.Println("persist", req.Seq)

		client.ExpectNoMsg(20 * time.Millisecond)
		fmt.Println("no ack before the persister answers")

		persister.Reply(&Persisted{Seq: req.Seq})
		ack := testkit.ExpectMsg[*WriteAck](client)
		fmt.Println("ack", ack.Key)
	})
	// Output:
	// persist 1
	// no ack before the persister answers
	// ack a
}

// A failing assertion says what arrived instead.
func ExampleExpectMsg_failure() {
	runTest(func(t testkit.TB) {
		system := testkit.NewSystem(t)
		probe := testkit.NewProbe(t, system)

		system.Root.Send(probe.PID(), &Ping{N: 1})
		testkit.ExpectMsg[*Pong](probe)
		fmt.Println("not reached")
	})
	// Output:
	// FAIL: testkit: probe nonhost/probe$1: ExpectMsg[*testkit_test.Pong]: want a *testkit_test.Pong, got *testkit_test.Ping &{N:1} from nobody
}
