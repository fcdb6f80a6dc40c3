package mailbox_test

import (
	"testing"
	"unsafe"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/internal/mailbox"
)

// deep uses about n × 600 bytes of stack.
//
//go:noinline
func deep(n int) byte {
	var pad [512]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%len(pad)]
}

// stackMoved has schedule run a function that goes about 9 KiB deep, and
// tells whether its stack was copied meanwhile (the runtime grew it): a
// local's address then changes.
func stackMoved(schedule func(func())) bool {
	moved := make(chan bool)
	schedule(func() {
		var x int
		before := uintptr(unsafe.Pointer(&x))
		deep(16)
		moved <- before != uintptr(unsafe.Pointer(&x))
	})
	return <-moved
}

// A turn of a mailbox as deep as an actor's Receive runs without the
// runtime growing its goroutine's stack on the way, where a plain
// goroutine's (protoactor's default dispatcher) is grown: the check can
// see a stack move.
func TestDispatcherGrowsStackFirst(t *testing.T) {
	if mailbox.StackSize == 0 {
		t.Skip("no stack grower on this platform: stacks grow as usual")
	}
	plain := actor.NewDefaultDispatcher(mailbox.Throughput)
	if !stackMoved(plain.Schedule) {
		t.Fatalf("protoactor's dispatcher ran the deep turn without growing the stack: deep is not deep enough to tell")
	}
	for i := range 20 {
		if stackMoved(mailbox.Dispatcher{}.Schedule) {
			t.Fatalf("turn %d: the stack was grown while the turn ran", i)
		}
	}
}

func TestDispatcherThroughput(t *testing.T) {
	if got := (mailbox.Dispatcher{}).Throughput(); got != mailbox.Throughput {
		t.Errorf("Throughput() = %d, want %d", got, mailbox.Throughput)
	}
}

// BenchmarkDispatcher schedules turns that go about 9 KiB deep, as
// raftnode's do, on protoactor's default dispatcher and on Dispatcher.
func BenchmarkDispatcher(b *testing.B) {
	for _, d := range []struct {
		name string
		d    actor.Dispatcher
	}{{"protoactor", actor.NewDefaultDispatcher(mailbox.Throughput)}, {"grown", mailbox.Dispatcher{}}} {
		b.Run(d.name, func(b *testing.B) {
			done := make(chan struct{})
			for b.Loop() {
				d.d.Schedule(func() {
					deep(16)
					done <- struct{}{}
				})
				<-done
			}
		})
	}
}
