package proposer

import (
	"errors"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
)

// Config is what the proposer needs.
type Config struct {
	// ID is this node's raft id, the Node of every RequestID it makes.
	ID uint64
	// Raftnode and Applier are the node's raftnode and applier actors.
	Raftnode *actor.PID
	Applier  *actor.PID
	// Watch is the node's watch actor, to which watches are forwarded; nil
	// refuses them.
	Watch *actor.PID
	// FirstSeq is the first request counter; 0 means the wall clock in
	// nanoseconds, which keeps ids unique across restarts of the node.
	FirstSeq uint64
	// MaxWait bounds how long a request is remembered; clients give up
	// earlier through their own deadline.
	MaxWait time.Duration
	// ReadRetry is how long a ReadIndex round may take before it is asked
	// again (a follower's request to a lost leader vanishes silently).
	ReadRetry time.Duration
	// ReproposeAfter is how long a write or membership change may stay in
	// raft's hands without a result before it is proposed again, with the
	// same id: a proposal forwarded to the leader can be lost on the way
	// (a link not yet verified, a dropped message), and raft does not
	// resend proposals. The state machine applies a request id once.
	ReproposeAfter time.Duration
	// SweepInterval is how often expired requests are forgotten, stuck
	// read rounds retried and, on the leader, expired leases revoked; 0
	// means no timer (tests send Sweep themselves).
	SweepInterval time.Duration
	// ElectionTimeout is what a new leader adds to every lease's time
	// (DefaultElectionTimeout if 0).
	ElectionTimeout time.Duration
	// Logger is the proposer's log; nil means slog.Default().
	Logger *slog.Logger
	// Metrics counts the proposals; nil counts nothing.
	Metrics *metrics.Metrics
}

// Defaults for Config.
const (
	DefaultMaxWait   = time.Minute
	DefaultReadRetry = time.Second
	// DefaultReproposeAfter is two election timeouts of raftnode's
	// defaults (100 ms ticks).
	DefaultReproposeAfter = 2 * time.Second
	DefaultSweepInterval  = 100 * time.Millisecond
	// DefaultElectionTimeout is raft's election timeout with raftnode's
	// defaults: 10 ticks of 100 ms.
	DefaultElectionTimeout = time.Second
)

// Sweep makes the proposer forget expired requests and retry stuck read
// rounds. A timer sends it every SweepInterval.
type Sweep struct{}

// withDefaults fills in what cfg leaves zero.
func (cfg Config) withDefaults() Config {
	if cfg.FirstSeq == 0 {
		cfg.FirstSeq = uint64(time.Now().UnixNano())
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.ReadRetry == 0 {
		cfg.ReadRetry = DefaultReadRetry
	}
	if cfg.ReproposeAfter == 0 {
		cfg.ReproposeAfter = DefaultReproposeAfter
	}
	if cfg.ElectionTimeout == 0 {
		cfg.ElectionTimeout = DefaultElectionTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("actor", "proposer")
	return cfg
}

// Props returns the props of a proposer.
func Props(cfg Config) *actor.Props {
	cfg = cfg.withDefaults()
	return actor.PropsFromProducer(func() actor.Actor {
		return &proposer{cfg: cfg, w: newWaiting(cfg), lessor: newLessor(cfg.ElectionTimeout)}
	})
}

// proposer is the actor: it turns each message into a call on its waiting
// book and sends what the call returns. Every decision is waiting's.
type proposer struct {
	cfg         Config
	w           *waiting
	lessor      *lessor
	cancelSweep func()
}

// errNoWatch ends a watch on a proposer that has no watch actor.
var errNoWatch = errors.New("raftkv: this node serves no watches")

// Receive handles one message; see the package doc.
func (p *proposer) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if p.cfg.SweepInterval > 0 {
			p.cancelSweep = every.Send(ctx.ActorSystem(), ctx.Self(), p.cfg.SweepInterval, &Sweep{})
		}
	case *actor.Stopping:
		if p.cancelSweep != nil {
			p.cancelSweep()
		}
		p.send(ctx, p.w.stop(messages.ErrStopped))
	case *messages.ClientTxn:
		p.send(ctx, p.w.txn(ctx.Sender(), msg.Txn, time.Now()))
	case *messages.ClientCompact:
		p.send(ctx, p.w.write(ctx.Sender(), messages.Command{Compact: msg.Revision}, time.Now()))
	case *messages.ClientConfChange:
		p.send(ctx, p.w.confChange(ctx.Sender(), msg.Change, time.Now()))
	case *messages.ClientRead:
		p.send(ctx, p.w.read(ctx.Sender(), msg.Op, msg.Serializable, time.Now()))
	case *messages.ClientBackup:
		p.send(ctx, p.w.read(ctx.Sender(), messages.Op{Type: messages.OpBackup}, msg.Serializable, time.Now()))
	case *messages.ClientStatus:
		ctx.Forward(p.cfg.Raftnode)
	case *messages.WatchCreate, *messages.WatchCancel:
		if p.cfg.Watch == nil {
			if c, ok := msg.(*messages.WatchCreate); ok {
				c.Sink.End(errNoWatch)
			}
			return
		}
		ctx.Forward(p.cfg.Watch)
	case *messages.ReadState:
		p.send(ctx, p.w.readState(msg.Ctx, msg.Index, time.Now()))
	case *messages.Result:
		if msg.Refused {
			p.send(ctx, p.w.refused(msg.ID, msg.Err))
		} else {
			p.send(ctx, p.w.result(msg.ID, msg.Result, msg.Err))
		}
	case *messages.SeqFloor:
		p.w.seqFloor(msg.Seq)
	case *messages.DiskSpace:
		p.send(ctx, p.w.diskSpace(msg.Low, time.Now()))
	case *messages.Alarms:
		p.send(ctx, p.w.setAlarms(msg.Members, time.Now()))
	case *messages.ProposalDropped:
		p.send(ctx, p.w.dropped(msg.ID))
	case *messages.RaftState:
		p.lessor.setLeader(msg.Leader == p.cfg.ID, time.Now())
		p.send(ctx, p.w.setState(*msg))
	case *Sweep:
		now := time.Now()
		p.send(ctx, p.w.sweep(now))
		for _, ch := range p.lessor.expired(now) {
			p.cfg.Logger.Info("lease expired: revoking it and its keys", "lease", ch.ID)
			p.send(ctx, p.w.command(ctx.Self(), messages.Command{Lease: &ch}, now))
		}
	case *messages.ClientLease:
		p.send(ctx, p.w.write(ctx.Sender(), messages.Command{Lease: &msg.Change}, time.Now()))
	case *messages.LeaseApplied:
		p.lessor.applied(msg, time.Now())
	case *messages.ClientLeaseTTL:
		left, ok := p.lessor.remaining(msg.ID, time.Now())
		ctx.Respond(&messages.LeaseTTL{Remaining: left.Milliseconds(), Found: ok})
	case *messages.TxnReply:
		// The answer to an expiry this proposer proposed.
		if msg.Err != nil {
			p.cfg.Logger.Debug("lease expiry not applied", "err", msg.Err)
		}
	}
}

// send sends what a call on waiting returned, and counts it. A request
// sent without a sender has no one to answer.
func (p *proposer) send(ctx actor.Context, out outbox) {
	p.cfg.Metrics.ProposalsCommitted(out.committed)
	p.cfg.Metrics.ProposalsFailed(out.failed)
	p.cfg.Metrics.SetProposalsPending(p.w.pendingCount())
	for _, m := range out.raftnode {
		ctx.Send(p.cfg.Raftnode, m)
	}
	for _, b := range out.applier {
		ctx.Send(p.cfg.Applier, b)
	}
	for _, r := range out.replies {
		ctx.Send(r.to, r.msg)
	}
}
