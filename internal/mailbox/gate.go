// Package mailbox holds what runs a node's actors: the mailbox wrapper
// that makes an actor safe to message while protoactor is still spawning
// it (Gated), and the dispatcher that runs each mailbox turn on a
// goroutine whose stack is grown first (Dispatcher).
//
// protoactor registers a new actor's PID before it gives the mailbox its
// dispatcher: a message that reaches the PID in between (a sibling's
// Started, a peer's raft message to a named inbox) dereferences the nil
// dispatcher and panics in the sender's goroutine.
package mailbox

import (
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// Gated wraps the mailboxes p produces so that messages posted before the
// mailbox is started are held, and posted in order (system messages, then
// user messages) once it is. After that, a post costs one atomic load.
func Gated(p actor.MailboxProducer) actor.MailboxProducer {
	return func() actor.Mailbox { return &gate{Mailbox: p()} }
}

type gate struct {
	actor.Mailbox
	open     atomic.Bool
	mu       sync.Mutex
	system   []any
	user     []any
	released bool
}

func (g *gate) PostUserMessage(m any) {
	if !g.open.Load() && g.hold(&g.user, m) {
		return
	}
	g.Mailbox.PostUserMessage(m)
}

func (g *gate) PostSystemMessage(m any) {
	if !g.open.Load() && g.hold(&g.system, m) {
		return
	}
	g.Mailbox.PostSystemMessage(m)
}

// hold keeps m in held, unless the gate opened meanwhile.
func (g *gate) hold(held *[]any, m any) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released {
		return false
	}
	*held = append(*held, m)
	return true
}

// Start starts the mailbox, then posts what was held: the spawner calls it
// after it has registered the handlers and posted Started.
func (g *gate) Start() {
	g.Mailbox.Start()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.system {
		g.Mailbox.PostSystemMessage(m)
	}
	for _, m := range g.user {
		g.Mailbox.PostUserMessage(m)
	}
	g.system, g.user, g.released = nil, nil, true
	g.open.Store(true)
}
