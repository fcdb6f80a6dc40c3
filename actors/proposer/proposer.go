package proposer

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/messages"
)

// Config is what the proposer needs.
type Config struct {
	ID       uint64
	Raftnode *actor.PID
	Applier  *actor.PID
	// FirstSeq is the first request counter; 0 means the wall clock in
	// nanoseconds, which keeps ids unique across restarts of the node.
	FirstSeq uint64
	// MaxWait bounds how long a request is remembered; clients give up
	// earlier through their own deadline.
	MaxWait time.Duration
	// ReadRetry is how long a ReadIndex round may take before it is asked
	// again (a follower's request to a lost leader vanishes silently).
	ReadRetry time.Duration
	// SweepInterval is how often expired requests are forgotten and stuck
	// read rounds retried; 0 means no timer (tests send Sweep themselves).
	SweepInterval time.Duration
	Logger        *slog.Logger
}

// Defaults for Config.
const (
	DefaultMaxWait       = time.Minute
	DefaultReadRetry     = time.Second
	DefaultSweepInterval = 100 * time.Millisecond
)

// Sweep makes the proposer forget expired requests and retry stuck read
// rounds. A timer sends it every SweepInterval.
type Sweep struct{}

// Props returns the props of a proposer.
func Props(cfg Config) *actor.Props {
	if cfg.FirstSeq == 0 {
		cfg.FirstSeq = uint64(time.Now().UnixNano())
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.ReadRetry == 0 {
		cfg.ReadRetry = DefaultReadRetry
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &proposer{
			cfg:     cfg,
			log:     cfg.Logger.With("actor", "proposer", "id", cfg.ID),
			seq:     cfg.FirstSeq - 1,
			pending: map[messages.RequestID]*pending{},
		}
	})
}

// pending is a write or membership change waiting for its result.
type pending struct {
	replyTo  *actor.PID
	deadline time.Time
	propose  any // *messages.Propose or *messages.ProposeConfChange, kept to propose again
	conf     bool
	parked   bool // dropped by raft, waiting for a leader
}

// readRound is one ReadIndex request and the reads that share it.
type readRound struct {
	ctx   uint64
	reads []timedRead
	sent  time.Time
}

type timedRead struct {
	messages.Read
	deadline time.Time
}

type proposer struct {
	cfg         Config
	log         *slog.Logger
	seq         uint64
	pending     map[messages.RequestID]*pending
	leader      uint64
	serving     bool
	readCtx     uint64
	round       *readRound  // in flight, nil when none
	queued      []timedRead // reads for the next round
	cancelSweep func()
}

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
		p.failAll(ctx, messages.ErrStopped)
	case *messages.ClientTxn:
		if p.refuse(ctx, &messages.TxnReply{Err: messages.ErrNotReady}) {
			return
		}
		id := p.nextID()
		data, err := messages.EncodeCommand(messages.Command{ID: id, Txn: msg.Txn})
		if err != nil {
			ctx.Respond(&messages.TxnReply{Err: err})
			return
		}
		p.propose(ctx, id, &pending{propose: &messages.Propose{ID: id, Data: data}})
	case *messages.ClientConfChange:
		if p.refuse(ctx, &messages.ConfChangeReply{Err: messages.ErrNotReady}) {
			return
		}
		id := p.nextID()
		cctx, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{ID: id, Address: msg.Address})
		if err != nil {
			ctx.Respond(&messages.ConfChangeReply{Err: err})
			return
		}
		cc := &raftpb.ConfChange{Type: msg.Type.Enum(), NodeId: &msg.NodeID, Context: cctx}
		p.propose(ctx, id, &pending{propose: &messages.ProposeConfChange{ID: id, ConfChange: cc}, conf: true})
	case *messages.ClientRead:
		if p.refuse(ctx, &messages.ReadReply{Err: messages.ErrNotReady}) {
			return
		}
		r := messages.Read{Op: msg.Op, ReplyTo: ctx.Sender()}
		if msg.Serializable {
			ctx.Send(p.cfg.Applier, &messages.ReadBatch{Reads: []messages.Read{r}})
			return
		}
		p.queued = append(p.queued, timedRead{Read: r, deadline: time.Now().Add(p.cfg.MaxWait)})
		p.startRound(ctx)
	case *messages.ClientStatus:
		ctx.Forward(p.cfg.Raftnode)
	case *messages.ReadState:
		if p.round == nil || p.round.ctx != msg.Ctx {
			return // an answer to a round given up on
		}
		reads := make([]messages.Read, len(p.round.reads))
		for i, r := range p.round.reads {
			reads[i] = r.Read
		}
		ctx.Send(p.cfg.Applier, &messages.ReadBatch{Index: msg.Index, Reads: reads})
		p.round = nil
		p.startRound(ctx)
	case *messages.Result:
		p.answer(ctx, msg.ID, msg.Result, msg.Err)
	case *messages.ProposalDropped:
		if w, ok := p.pending[msg.ID]; ok {
			w.parked = true
		}
	case *messages.RaftState:
		p.leader, p.serving = msg.Leader, msg.Serving
		if p.leader != 0 {
			p.unpark(ctx)
		}
	case *Sweep:
		p.sweep(ctx, time.Now())
	}
}

// refuse answers reply and returns true while the node does not serve.
func (p *proposer) refuse(ctx actor.Context, reply any) bool {
	if p.serving {
		return false
	}
	ctx.Respond(reply)
	return true
}

func (p *proposer) nextID() messages.RequestID {
	p.seq++
	return messages.RequestID{Node: p.cfg.ID, Seq: p.seq}
}

func (p *proposer) propose(ctx actor.Context, id messages.RequestID, w *pending) {
	w.replyTo = ctx.Sender()
	w.deadline = time.Now().Add(p.cfg.MaxWait)
	p.pending[id] = w
	if p.leader == 0 {
		w.parked = true
		return
	}
	ctx.Send(p.cfg.Raftnode, w.propose)
}

// unpark proposes again what raft dropped while there was no leader. A
// dropped proposal never entered the log, so it cannot apply twice.
func (p *proposer) unpark(ctx actor.Context) {
	for _, w := range p.pending {
		if w.parked {
			w.parked = false
			ctx.Send(p.cfg.Raftnode, w.propose)
		}
	}
}

func (p *proposer) answer(ctx actor.Context, id messages.RequestID, res messages.TxnResult, err error) {
	w, ok := p.pending[id]
	if !ok {
		return // proposed before a restart, or already expired
	}
	delete(p.pending, id)
	p.reply(ctx, w, res, err)
}

func (p *proposer) startRound(ctx actor.Context) {
	if p.round != nil || len(p.queued) == 0 {
		return
	}
	p.readCtx++
	p.round = &readRound{ctx: p.readCtx, reads: p.queued, sent: time.Now()}
	p.queued = nil
	ctx.Send(p.cfg.Raftnode, &messages.ReadIndex{Ctx: p.readCtx})
}

// sweep forgets expired requests, proposes again what raft dropped, and
// retries a read round that got no answer in time.
func (p *proposer) sweep(ctx actor.Context, now time.Time) {
	if p.leader != 0 {
		p.unpark(ctx)
	}
	for id, w := range p.pending {
		if now.After(w.deadline) {
			delete(p.pending, id)
			p.reply(ctx, w, messages.TxnResult{}, messages.ErrTimeout)
		}
	}
	p.queued = p.expireReads(ctx, p.queued, now)
	if p.round != nil && now.Sub(p.round.sent) >= p.cfg.ReadRetry {
		live := p.expireReads(ctx, p.round.reads, now)
		p.log.Debug("read index round unanswered, retrying", "ctx", p.round.ctx, "reads", len(live))
		p.queued = append(live, p.queued...)
		p.round = nil
		p.startRound(ctx)
	}
}

// expireReads answers ErrTimeout to the reads past their deadline and
// returns the others.
func (p *proposer) expireReads(ctx actor.Context, reads []timedRead, now time.Time) []timedRead {
	live := reads[:0]
	for _, r := range reads {
		if now.Before(r.deadline) {
			live = append(live, r)
			continue
		}
		ctx.Send(r.ReplyTo, &messages.ReadReply{Err: messages.ErrTimeout})
	}
	return live
}

func (p *proposer) failAll(ctx actor.Context, err error) {
	for id, w := range p.pending {
		delete(p.pending, id)
		p.reply(ctx, w, messages.TxnResult{}, err)
	}
	reads := p.queued
	if p.round != nil {
		reads = append(reads, p.round.reads...)
	}
	for _, r := range reads {
		ctx.Send(r.ReplyTo, &messages.ReadReply{Err: err})
	}
	p.round, p.queued = nil, nil
}

func (p *proposer) reply(ctx actor.Context, w *pending, res messages.TxnResult, err error) {
	if w.conf {
		ctx.Send(w.replyTo, &messages.ConfChangeReply{Err: err})
		return
	}
	ctx.Send(w.replyTo, &messages.TxnReply{Result: res, Err: err})
}
