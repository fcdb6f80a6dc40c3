package node

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/messages"
)

// started asks the supervisor to answer once its children are spawned.
type started struct{}

type child struct {
	name  string
	props *actor.Props
}

// supervisor is the parent of a node's actors. It spawns them in an order
// in which nothing is sent to an actor that does not exist yet (the
// proposer first: the persister tells it the disk space as it starts), and
// turns raftnode's Removed into the node's end. Their mailboxes are gated
// (internal/mailbox): a message that still arrives during a spawn waits
// for Started.
type supervisor struct {
	node     *Node
	children []child
}

func (s *supervisor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		for _, c := range s.children {
			if _, err := ctx.SpawnNamed(c.props, c.name); err != nil {
				panic(fmt.Errorf("spawn %s: %w", c.name, err))
			}
		}
	case *started:
		ctx.Respond(msg) // children exist: Started spawned them all
	case *messages.Removed:
		s.node.log.Warn("removed from the cluster, shutting down", "id", msg.ID, "reason", msg.Reason)
		s.node.removed(msg.Reason)
	}
}

// fatal is the supervision of persister, applier, raftnode and proposer:
// their failure (a storage or apply error, a broken raft invariant) is not
// retried. The failed actor is stopped and the node reports the reason on
// Done, so that its owner shuts it down (docs/design.md, "Failures").
type fatal struct{ node *Node }

func (f fatal) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason any, message any) {
	f.node.log.Error("fatal actor failure, the node stops", "actor", child.GetId(),
		"reason", fmt.Sprint(reason), "message", fmt.Sprintf("%T", message))
	sup.StopChildren(sup.Children()...)
	f.node.fail(fmt.Errorf("actor %s failed: %v", child.GetId(), reason))
}

// warnOnly passes on protoactor's records of level Warn and above:
// protoactor logs its actors' lives at Info.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

// Handle passes on what is Warn or above.
func (w warnOnly) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn || !w.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return w.Handler.Handle(ctx, r)
}

func (w warnOnly) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnOnly{w.Handler.WithAttrs(attrs)}
}

func (w warnOnly) WithGroup(name string) slog.Handler {
	return warnOnly{w.Handler.WithGroup(name)}
}
