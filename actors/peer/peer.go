package peer

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/transport"
)

// InboxName is the name under which every node registers its inbox, so that a
// member's inbox is actor.NewPID(address, InboxName).
const InboxName = "raft"

// Config describes one link: the member it leads to and where to send.
type Config struct {
	// ID and Address name the remote member.
	ID      uint64
	Address string
	// Self and SelfAddress name this member, ClusterID its cluster (0 while
	// unknown): the hello tells them to the remote member.
	Self        uint64
	SelfAddress string
	ClusterID   uint64
	// Target receives the messages; nil means the member's inbox through
	// the transport, actor.NewPID(Address, InboxName). The test kit
	// points it at its simulated network.
	Target *actor.PID
	Logger *slog.Logger
	// Metrics counts what the link sends and drops; nil counts nothing.
	Metrics *metrics.Metrics
}

// How often a link says hello: after helloEvery messages dropped while it
// is not verified, and after reverifyEvery messages sent while it is (the
// address may lead elsewhere by then, after a restart or a new IP).
const (
	helloEvery    = 10
	reverifyEvery = 1000
)

// Props returns the props of a link actor. Its parent (raftnode) receives
// Unreachable when the connection to the member fails, and passes it
// LinkChecked with the answer to its hello.
func Props(cfg Config) *actor.Props {
	if cfg.Target == nil {
		cfg.Target = actor.NewPID(cfg.Address, InboxName)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &link{cfg: cfg, log: cfg.Logger.With("actor", "peer", "peer", cfg.ID, "address", cfg.Address),
			metrics: cfg.Metrics.Peer(cfg.ID)}
	})
}

// linkDown is what the event stream subscription tells the link actor.
type linkDown struct{}

// linkState says whether the member at the address is known to be the one
// the link leads to.
type linkState int

const (
	unverified linkState = iota // no answer to a hello yet
	verified                    // the address answered as the member
	refused                     // the address answered as someone else
)

type link struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Peer
	sub     *eventstream.Subscription
	state   linkState
	// count is the messages dropped (unverified, refused) or sent
	// (verified) since the last hello.
	count     int
	reason    error
	lastError time.Time
}

// Receive forwards raft messages to the member once it answered the link's
// hello as the member the link leads to, and reports link failures.
func (l *link) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		self, system, addr := ctx.Self(), ctx.ActorSystem(), l.cfg.Target.GetAddress()
		// Filtered in the handler: protoactor's SubscribeWithPredicate sets
		// the predicate after the subscription is visible (a data race).
		l.sub = system.EventStream.Subscribe(func(evt any) {
			if e, ok := evt.(*transport.Down); ok && e.Address == addr {
				system.Root.Send(self, &linkDown{})
			}
		})
		l.hello(ctx)
	case *actor.Stopping:
		if l.sub != nil {
			ctx.ActorSystem().EventStream.Unsubscribe(l.sub)
		}
	case *linkDown:
		if l.state == verified {
			l.log.Info("link to member lost; it says hello again on the next connection")
		}
		l.state = unverified
		l.metrics.Unreachable()
		ctx.Send(ctx.Parent(), &messages.Unreachable{ID: l.cfg.ID})
	case *messages.ClusterIDKnown:
		l.cfg.ClusterID = msg.ClusterID
	case *messages.LinkChecked:
		l.checked(msg.Err)
	case *raftpb.Message:
		l.count++
		if l.state != verified {
			// Remote delivery is at most once anyway: raft resends.
			l.metrics.SendFailed()
			if l.count >= helloEvery {
				l.hello(ctx)
			}
			return
		}
		ctx.Send(l.cfg.Target, msg)
		l.metrics.Sent()
		if l.count >= reverifyEvery {
			l.hello(ctx)
		}
	}
}

// hello asks the member at the address who it is.
func (l *link) hello(ctx actor.Context) {
	l.count = 0
	w, err := messages.EncodePeerMessage(messages.PeerMessage{
		Kind: messages.PeerHello, From: l.cfg.Self, To: l.cfg.ID,
		FromAddress: l.cfg.SelfAddress, DialedAddress: l.cfg.Address, ClusterID: l.cfg.ClusterID,
	})
	if err != nil {
		l.log.Error("encode hello", "err", err)
		return
	}
	ctx.Send(l.cfg.Target, w)
}

// checked takes the verdict on the answer to the hello.
func (l *link) checked(err error) {
	if err == nil {
		if l.state == refused {
			l.log.Info("the address answers as the member again")
		}
		l.state, l.reason = verified, nil
		return
	}
	if l.state != refused || err.Error() != l.reason.Error() || time.Since(l.lastError) > time.Minute {
		l.log.Error("refusing to send raft messages to this address", "err", err)
		l.lastError = time.Now()
	}
	l.state, l.reason = refused, err
}
