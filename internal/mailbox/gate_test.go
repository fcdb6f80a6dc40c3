package mailbox_test

import (
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/internal/mailbox"
	"github.com/raftkv/raftkv/testkit"
)

// intruder sends to the actor being spawned from inside the spawner, after
// protoactor registered its PID and before the mailbox has its dispatcher:
// the window in which a sibling's or a peer's message can arrive.
type intruder struct {
	actor.Mailbox
	send func()
}

func (i *intruder) RegisterHandlers(invoker actor.MessageInvoker, d actor.Dispatcher) {
	i.send()
	i.Mailbox.RegisterHandlers(invoker, d)
}

// relay passes on to a probe what it receives: Started first, then the
// messages that came during the spawn.
type relay struct{ to *actor.PID }

func (r relay) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		ctx.Send(r.to, "started")
	case string:
		ctx.Send(r.to, msg)
	}
}

// A message sent to an actor while it is being spawned is delivered after
// Started, in order. Without the gate, protoactor's mailbox dereferences
// its nil dispatcher in the sender's goroutine.
func TestMessagesDuringTheSpawnAreDeliveredAfterStarted(t *testing.T) {
	system := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, system)
	pid := system.NewLocalPID("spawning")
	gated := mailbox.Gated(actor.Unbounded())
	produce := func() actor.Mailbox {
		return &intruder{Mailbox: gated(), send: func() {
			system.Root.Send(pid, "first")
			system.Root.Send(pid, "second")
		}}
	}
	props := actor.PropsFromProducer(func() actor.Actor { return relay{to: probe.PID()} }, actor.WithMailbox(produce))
	if _, err := system.Root.SpawnNamed(props, "spawning"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"started", "first", "second"} {
		if got := testkit.ExpectMsg[string](probe); got != want {
			t.Fatalf("the actor got %q, want %q", got, want)
		}
	}
	system.Root.Send(pid, "after")
	if got := testkit.ExpectMsg[string](probe); got != "after" {
		t.Errorf("once started the actor got %q, want %q", got, "after")
	}
}
