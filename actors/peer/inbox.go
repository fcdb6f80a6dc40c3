package peer

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/messages"
)

// inbox receives what other members send and hands raft messages
// addressed to member id to raftnode, after checking that they could come
// from a raft peer at all; snapshot chunks and acks go to the snapshot
// actor, other messages of raftkv's own to raftnode.
//
// It is a process of the actor system, not an actor: it keeps no state
// but the time of its last warning, so its checks run in the sender's
// goroutine (the transport's reader), and a message from a peer reaches
// raftnode's mailbox without a mailbox hop of its own.
type inbox struct {
	root     *actor.RootContext
	id       uint64
	raftnode *actor.PID
	snapshot *actor.PID
	log      *slog.Logger
	stopped  atomic.Bool

	mu       sync.Mutex
	lastWarn time.Time
}

// StartInbox registers member id's inbox in system under InboxName and
// returns its PID. Stopping the PID (RootContext.Stop) ends the inbox at
// once: what arrives after is dropped.
func StartInbox(system *actor.ActorSystem, id uint64, raftnode, snapshot *actor.PID, logger *slog.Logger) (*actor.PID, error) {
	if logger == nil {
		logger = slog.Default()
	}
	in := &inbox{root: system.Root, id: id, raftnode: raftnode, snapshot: snapshot, log: logger.With("actor", "inbox")}
	pid, absent := system.ProcessRegistry.Add(in, InboxName)
	if !absent {
		return nil, errors.New("an inbox is registered already")
	}
	return pid, nil
}

// SendUserMessage validates and forwards one incoming message.
func (in *inbox) SendUserMessage(_ *actor.PID, message any) {
	if in.stopped.Load() {
		return
	}
	// This runs in the sender's goroutine, the transport's reader: a bug
	// on a peer's bytes must cost the message, not the node.
	defer func() {
		if r := recover(); r != nil {
			in.warn("dropping a message the inbox failed on", "panic", fmt.Sprint(r))
		}
	}()
	_, msg, _ := actor.UnwrapEnvelope(message)
	switch msg := msg.(type) {
	case *raftpb.Message:
		if err := check(in.id, msg); err != nil {
			in.warn("dropping raft message", "err", err)
			return
		}
		in.root.Send(in.raftnode, msg)
	case *wrapperspb.BytesValue:
		m, err := messages.DecodePeerMessage(msg)
		switch {
		case err != nil:
			in.warn("dropping undecodable peer message", "err", err)
		case m.To != in.id && m.Kind != messages.PeerHello:
			// A hello for another id is answered: it tells the sender who
			// is at the address it dialed.
			in.warn("dropping a peer message for another member", "to", m.To, "from", m.From, "kind", m.Kind)
		case m.Kind == messages.PeerSnapshotChunk || m.Kind == messages.PeerSnapshotAck:
			in.root.Send(in.snapshot, &m)
		default:
			in.root.Send(in.raftnode, &m)
		}
	default:
		in.warn("dropping unexpected message", "type", fmt.Sprintf("%T", msg))
	}
}

// SendSystemMessage ignores system messages: nothing watches the inbox.
func (in *inbox) SendSystemMessage(*actor.PID, any) {}

// Stop ends the inbox and takes it out of the registry.
func (in *inbox) Stop(pid *actor.PID) {
	in.stopped.Store(true)
	in.root.ActorSystem().ProcessRegistry.Remove(pid)
}

// warn logs at most once a second, so a misbehaving sender cannot flood
// the log.
func (in *inbox) warn(msg string, args ...any) {
	in.mu.Lock()
	if time.Since(in.lastWarn) < time.Second {
		in.mu.Unlock()
		return
	}
	in.lastWarn = time.Now()
	in.mu.Unlock()
	in.log.Warn(msg, args...)
}
