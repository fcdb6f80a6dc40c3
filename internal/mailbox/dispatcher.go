package mailbox

import "github.com/asynkron/protoactor-go/actor"

// Throughput is how many messages a mailbox handles in one turn before it
// lets its goroutine go: protoactor's default.
const Throughput = 300

// Dispatcher runs each turn of a mailbox on a new goroutine, as
// protoactor's default dispatcher does, but first makes StackSize bytes of
// room on the goroutine's stack (it grows to 16 KiB). A new goroutine
// starts on the runtime's small stack (its size the average the collector
// last saw, 2–8 KiB on a quiet member), and an actor's Receive that goes
// deeper (raft's steps, protobuf, the WAL) has the runtime copy the stack
// at every doubling, walking all the frames on it each time: a tenth of a
// follower's CPU. Growing it before the turn starts copies a frame or two,
// once; where the platform has no such grower, Dispatcher is protoactor's
// default.
type Dispatcher struct{}

var _ actor.Dispatcher = Dispatcher{}

// Schedule runs fn on a new goroutine with a grown stack.
func (Dispatcher) Schedule(fn func()) {
	go func() {
		growStack()
		fn()
	}()
}

// Throughput returns Throughput, protoactor's default.
func (Dispatcher) Throughput() int { return Throughput }
