package peer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/asynkron/protoactor-go/remote"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/messages"
)

// InboxName is the name under which every node spawns its inbox, so that a
// member's inbox is actor.NewPID(address, InboxName).
const InboxName = "raft"

// Config describes one link: the member it leads to and where to send.
type Config struct {
	// ID and Address name the remote member.
	ID      uint64
	Address string
	// Target receives the messages; nil means the member's inbox over
	// protoactor remote, actor.NewPID(Address, InboxName). The test kit
	// points it at its simulated network.
	Target *actor.PID
	Logger *slog.Logger
}

// Props returns the props of a link actor. Its parent (raftnode) receives
// Unreachable when the connection to the member fails and SnapshotStatus
// after each snapshot it sends.
func Props(cfg Config) *actor.Props {
	if cfg.Target == nil {
		cfg.Target = actor.NewPID(cfg.Address, InboxName)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &link{cfg: cfg, log: cfg.Logger.With("actor", "peer", "member", cfg.ID, "address", cfg.Address)}
	})
}

// linkDown is what the event stream subscription tells the link actor.
type linkDown struct{}

type link struct {
	cfg  Config
	log  *slog.Logger
	sub  *eventstream.Subscription
	down bool // the last connection attempt failed and no message got through since
}

// Receive forwards raft messages to the member and reports link failures.
func (l *link) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		self, system, addr := ctx.Self(), ctx.ActorSystem(), l.cfg.Target.GetAddress()
		// Filtered in the handler: protoactor's SubscribeWithPredicate sets
		// the predicate after the subscription is visible (a data race).
		l.sub = system.EventStream.Subscribe(func(evt any) {
			if e, ok := evt.(*remote.EndpointTerminatedEvent); ok && e.Address == addr {
				system.Root.Send(self, &linkDown{})
			}
		})
	case *actor.Stopping:
		if l.sub != nil {
			ctx.ActorSystem().EventStream.Unsubscribe(l.sub)
		}
	case *linkDown:
		if !l.down {
			l.log.Warn("link to member lost; protoactor reconnects on the next send")
		}
		l.down = true
		ctx.Send(ctx.Parent(), &messages.Unreachable{ID: l.cfg.ID})
	case *wrapperspb.BytesValue:
		ctx.Send(l.cfg.Target, msg) // a PeerNotice
	case *raftpb.Message:
		// Remote delivery is at most once: raft retries what is lost.
		ctx.Send(l.cfg.Target, msg)
		if msg.GetType() == raftpb.MessageType_MsgSnap {
			// protoactor gives no delivery receipt; raft probes the follower
			// after a finished snapshot and resends if it did not arrive.
			ctx.Send(ctx.Parent(), &messages.SnapshotStatus{ID: l.cfg.ID})
		}
	}
}

// InboxProps returns the props of a node's inbox: it receives raft messages
// from other members and hands those addressed to member id to raftnode,
// after checking that they could come from a raft peer at all.
func InboxProps(id uint64, raftnode *actor.PID, logger *slog.Logger) *actor.Props {
	if logger == nil {
		logger = slog.Default()
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &inbox{id: id, raftnode: raftnode, log: logger.With("actor", "inbox", "id", id)}
	})
}

type inbox struct {
	id       uint64
	raftnode *actor.PID
	log      *slog.Logger
	lastWarn time.Time
}

// Receive validates and forwards one incoming message.
func (in *inbox) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *raftpb.Message:
		if err := check(in.id, msg); err != nil {
			in.warn("dropping raft message", "err", err)
			return
		}
		ctx.Send(in.raftnode, msg)
	case *wrapperspb.BytesValue:
		n, err := messages.DecodePeerNotice(msg)
		switch {
		case err != nil:
			in.warn("dropping undecodable peer notice", "err", err)
		case n.To != in.id:
			in.warn("dropping peer notice for another member", "to", n.To)
		case n.Kind == messages.NoticeRemoved:
			ctx.Send(in.raftnode, &messages.Removed{ID: in.id})
		}
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
	default:
		in.warn("dropping unexpected message", "type", fmt.Sprintf("%T", msg))
	}
}

// warn logs at most once a second, so a misbehaving sender cannot flood the log.
func (in *inbox) warn(msg string, args ...any) {
	if time.Since(in.lastWarn) < time.Second {
		return
	}
	in.lastWarn = time.Now()
	in.log.Warn(msg, args...)
}
