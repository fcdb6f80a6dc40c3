package proposer

import (
	"cmp"
	"log/slog"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/messages"
)

// waiting is the proposer's book of the requests that wait for an answer,
// and every decision about them: the writes and membership changes by
// RequestID, the linearizable reads queued for the next ReadIndex round and
// the round in flight, and what raftnode last said about the leader.
//
// It does no IO and reads no clock: each method takes the time it needs and
// returns, in an outbox, what the actor must send. The actor is a thin shell
// around it (see proposer.Receive), and the rules are tested without actors
// (waiting_test.go).
//
// The rules it encodes:
//   - Until the node serves, every request is refused with ErrNotReady.
//   - While the last RaftState says Leaderless, a new write, membership
//     change or linearizable read is refused with ErrNoLeader at once;
//     serializable reads are still served. ErrNotReady comes first.
//   - A request is handed to raft when a leader is known; otherwise it is
//     parked, and parked too when raft drops it (ProposalDropped). A parked
//     request is proposed again, with the same id, once a leader is known
//     (and on every sweep under a leader): it never entered the log, so it
//     cannot apply twice.
//   - When RaftState turns Leaderless, every parked request and every read
//     (queued or in the round in flight) is answered ErrNoLeader and
//     forgotten; a request dropped by raft while Leaderless is answered so at
//     once. A request handed to raft and not dropped waits for its result or
//     its deadline: it may be in the log, and may still apply.
//   - One ReadIndex round is in flight at a time; the reads that arrive
//     meanwhile go together in the next round. A round unanswered after
//     readRetry is asked again under a new ctx; a late answer to the old
//     one is ignored.
//   - When the leader changes (another leader, or a new term), every
//     request handed to raft is proposed again, with the same id: the old
//     leader may have lost it (a proposal forwarded to a leader that dies is
//     lost in flight). The state machine applies a request id once, so a
//     request in the log twice applies once, and its result comes from
//     whichever copy applies first.
//   - While the state machine holds a NOSPACE alarm raised (Alarms), a
//     write that may put a key is refused at once with ErrNoSpace (the
//     state machine would refuse it too). While the node's own disk is low
//     (DiskSpace) and its alarm is not raised — or the other way round —
//     the node proposes the change of its alarm, one at a time, without a
//     client, until the state machine holds it.
//   - A request in raft's hands without a result for reproposeAfter (as
//     the sweeps measure it) is proposed again, with the same id, under a
//     known leader: a proposal forwarded to the leader can be lost on the
//     way, and raft does not resend proposals.
//   - A request older than maxWait is answered ErrTimeout.
//   - A request counter is never reused: the counter moves past every
//     counter of this node that the applier reports (results of requests
//     proposed before a restart, SeqFloor after a snapshot was restored).
type waiting struct {
	node           uint64
	seq            uint64 // the last request counter used
	maxWait        time.Duration
	readRetry      time.Duration
	reproposeAfter time.Duration
	log            *slog.Logger

	serving    bool
	leader     uint64
	term       uint64
	leaderless bool

	// lowDisk is what the node's disk monitor last said; alarms are the
	// members whose alarm the state machine holds raised; alarmReq is the
	// request that changes this node's alarm, while it waits.
	lowDisk  bool
	alarms   []uint64
	alarmReq *messages.RequestID

	pending map[messages.RequestID]*pending
	readCtx uint64      // the ctx of the last ReadIndex round
	round   *readRound  // in flight, nil when none
	queued  []timedRead // reads for the next round
}

// pending is a write or membership change waiting for its result.
type pending struct {
	replyTo  *actor.PID
	deadline time.Time
	propose  any // *messages.Propose or *messages.ProposeConfChange, kept to propose again
	conf     bool
	parked   bool // not in raft's hands: never sent, or dropped by raft
	// handed is when it was last handed to raft, as the sweeps see it:
	// zero until the first sweep after.
	handed time.Time
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

// outbox is what one call on waiting asks the actor to send, and what it
// counts.
type outbox struct {
	raftnode []any                 // *messages.Propose, *messages.ProposeConfChange, *messages.ReadIndex
	applier  []*messages.ReadBatch // reads to serve
	replies  []reply               // answers to clients
	// committed counts the writes and membership changes answered with
	// their outcome from the log, failed those answered with an error that
	// did not come from it (a timeout, no leader, a leader's refusal, a
	// stop). Requests refused before they were taken are in neither.
	committed, failed int
}

// reply is one answer to a client: a *messages.TxnReply,
// *messages.ConfChangeReply or *messages.ReadReply for to.
type reply struct {
	to  *actor.PID
	msg any
}

// reply queues msg for to; a request of the proposer's own (the alarm's)
// has no one to answer.
func (o *outbox) reply(to *actor.PID, msg any) {
	if to == nil {
		return
	}
	o.replies = append(o.replies, reply{to: to, msg: msg})
}

// newWaiting returns an empty book for cfg, whose defaults are filled in:
// not serving, no leader known.
func newWaiting(cfg Config) *waiting {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &waiting{
		node:           cfg.ID,
		seq:            cfg.FirstSeq - 1,
		maxWait:        cfg.MaxWait,
		readRetry:      cfg.ReadRetry,
		reproposeAfter: cfg.ReproposeAfter,
		log:            log,
		pending:        map[messages.RequestID]*pending{},
	}
}

// refusal is the error a new write, membership change or linearizable read
// is answered with at once, or nil if it may proceed.
func (w *waiting) refusal() error {
	switch {
	case !w.serving:
		return messages.ErrNotReady
	case w.leaderless:
		return messages.ErrNoLeader
	}
	return nil
}

func (w *waiting) nextID() messages.RequestID {
	w.seq++
	return messages.RequestID{Node: w.node, Seq: w.seq}
}

// txn takes a client's transaction: it gets a request id and is proposed,
// or parked while no leader is known, or refused.
func (w *waiting) txn(replyTo *actor.PID, txn messages.Txn, now time.Time) (out outbox) {
	err := w.refusal()
	if err == nil && len(w.alarms) > 0 && txn.Puts() {
		err = messages.ErrNoSpace
	}
	if err != nil {
		out.reply(replyTo, &messages.TxnReply{Err: err})
		return out
	}
	return w.command(replyTo, messages.Command{Txn: txn}, now)
}

// write takes a client's command other than a transaction (a compaction,
// a lease command), which goes through the log as a write does.
func (w *waiting) write(replyTo *actor.PID, cmd messages.Command, now time.Time) (out outbox) {
	if err := w.refusal(); err != nil {
		out.reply(replyTo, &messages.TxnReply{Err: err})
		return out
	}
	return w.command(replyTo, cmd, now)
}

// command proposes cmd under a new request id; its result goes to replyTo
// as a TxnReply.
func (w *waiting) command(replyTo *actor.PID, cmd messages.Command, now time.Time) (out outbox) {
	cmd.ID = w.nextID()
	data, err := messages.EncodeCommand(cmd)
	if err != nil {
		out.reply(replyTo, &messages.TxnReply{Err: err})
		return out
	}
	w.add(&out, cmd.ID, &pending{replyTo: replyTo, deadline: now.Add(w.maxWait), propose: &messages.Propose{ID: cmd.ID, Data: data}})
	return out
}

// confChange takes a client's membership change, as txn takes a write.
func (w *waiting) confChange(replyTo *actor.PID, change messages.MemberChange, now time.Time) (out outbox) {
	if err := w.refusal(); err != nil {
		out.reply(replyTo, &messages.ConfChangeReply{Err: err})
		return out
	}
	id := w.nextID()
	w.add(&out, id, &pending{
		replyTo: replyTo, deadline: now.Add(w.maxWait),
		propose: &messages.ProposeConfChange{ID: id, Change: change}, conf: true,
	})
	return out
}

func (w *waiting) add(out *outbox, id messages.RequestID, p *pending) {
	w.pending[id] = p
	if w.leader == 0 {
		p.parked = true
		return
	}
	out.raftnode = append(out.raftnode, p.propose)
}

// read takes a client's read: a serializable one goes to the applier at
// once, a linearizable one joins the next ReadIndex round.
func (w *waiting) read(replyTo *actor.PID, op messages.Op, serializable bool, now time.Time) (out outbox) {
	r := messages.Read{Op: op, ReplyTo: replyTo}
	switch {
	case !w.serving:
		out.reply(replyTo, &messages.ReadReply{Err: messages.ErrNotReady})
	case serializable:
		out.applier = append(out.applier, &messages.ReadBatch{Reads: []messages.Read{r}})
	case w.leaderless:
		out.reply(replyTo, &messages.ReadReply{Err: messages.ErrNoLeader})
	default:
		w.queued = append(w.queued, timedRead{Read: r, deadline: now.Add(w.maxWait)})
		w.startRound(&out, now)
	}
	return out
}

// startRound asks a read index for the queued reads, unless a round is in
// flight already.
func (w *waiting) startRound(out *outbox, now time.Time) {
	if w.round != nil || len(w.queued) == 0 {
		return
	}
	w.readCtx++
	w.round = &readRound{ctx: w.readCtx, reads: w.queued, sent: now}
	w.queued = nil
	out.raftnode = append(out.raftnode, &messages.ReadIndex{Ctx: w.readCtx})
}

// readState takes raft's answer to the ReadIndex round ctx: the round's
// reads go to the applier at index, and the next round starts.
func (w *waiting) readState(ctx, index uint64, now time.Time) (out outbox) {
	if w.round == nil || w.round.ctx != ctx {
		return out // an answer to a round given up on
	}
	reads := make([]messages.Read, len(w.round.reads))
	for i, r := range w.round.reads {
		reads[i] = r.Read
	}
	out.applier = append(out.applier, &messages.ReadBatch{Index: index, Reads: reads})
	w.round = nil
	w.startRound(&out, now)
	return out
}

// result answers the request id with its outcome, reported by the applier;
// unknown ids (proposed before a restart, already expired or answered) are
// ignored, but the counter moves past them.
func (w *waiting) result(id messages.RequestID, res messages.TxnResult, err error) (out outbox) {
	return w.outcome(id, res, err, true)
}

// refused answers the membership change id with err: the leader refused to
// propose it, so it never reached the log.
func (w *waiting) refused(id messages.RequestID, err error) (out outbox) {
	return w.outcome(id, messages.TxnResult{}, err, false)
}

func (w *waiting) outcome(id messages.RequestID, res messages.TxnResult, err error, committed bool) (out outbox) {
	p, ok := w.pending[id]
	if !ok {
		if id.Node == w.node {
			w.seqFloor(id.Seq)
		}
		return out
	}
	delete(w.pending, id)
	out.reply(p.replyTo, p.reply(res, err))
	if committed {
		out.committed++
	} else {
		out.failed++
	}
	return out
}

// pendingCount is the number of writes and membership changes waiting for
// their outcome.
func (w *waiting) pendingCount() int { return len(w.pending) }

// dropped takes raft's refusal of the proposal id, which never entered the
// log: it is parked until a leader is known, or answered ErrNoLeader at once
// while Leaderless.
func (w *waiting) dropped(id messages.RequestID) (out outbox) {
	p, ok := w.pending[id]
	if !ok {
		return out
	}
	if w.leaderless {
		w.answer(&out, id, messages.ErrNoLeader)
		return out
	}
	p.parked = true
	return out
}

// diskSpace takes the disk monitor's word on the node's free space.
func (w *waiting) diskSpace(low bool, now time.Time) (out outbox) {
	w.lowDisk = low
	w.reconcileAlarm(&out, now)
	return out
}

// setAlarms takes the state machine's alarms.
func (w *waiting) setAlarms(members []uint64, now time.Time) (out outbox) {
	w.alarms = members
	w.reconcileAlarm(&out, now)
	return out
}

// reconcileAlarm proposes the change of this node's alarm while the state
// machine does not hold what the disk monitor says, one request at a time.
func (w *waiting) reconcileAlarm(out *outbox, now time.Time) {
	if w.alarmReq != nil {
		if _, waits := w.pending[*w.alarmReq]; waits {
			return
		}
		w.alarmReq = nil
	}
	if w.refusal() != nil || w.lowDisk == slices.Contains(w.alarms, w.node) {
		return
	}
	id := w.nextID()
	data, err := messages.EncodeCommand(messages.Command{ID: id, Alarm: &messages.AlarmChange{Member: w.node, Active: w.lowDisk}})
	if err != nil {
		w.log.Error("encode alarm", "err", err)
		return
	}
	w.log.Info("proposing the change of this member's NOSPACE alarm", "raised", w.lowDisk)
	w.alarmReq = &id
	w.add(out, id, &pending{deadline: now.Add(w.maxWait), propose: &messages.Propose{ID: id, Data: data}})
}

// seqFloor makes sure that no new request gets a counter up to seq.
func (w *waiting) seqFloor(seq uint64) {
	w.seq = max(w.seq, seq)
}

// setState takes raftnode's report of the leader. Turning Leaderless fails
// what waits without being in raft's hands; a known leader gets the parked
// proposals, and a new leader the ones the old one may have lost.
func (w *waiting) setState(st messages.RaftState) (out outbox) {
	changed := st.Leader != 0 && (st.Leader != w.leader || st.Term != w.term)
	w.serving, w.leader, w.term, w.leaderless = st.Serving, st.Leader, st.Term, st.Leaderless
	switch {
	case w.leaderless:
		w.failUnsent(&out, messages.ErrNoLeader)
	case w.leader != 0:
		if changed {
			w.repropose(&out)
		}
		w.unpark(&out)
	}
	return out
}

// repropose proposes again, in id order, every request in raft's hands.
func (w *waiting) repropose(out *outbox) {
	for _, id := range w.ids(func(p *pending) bool { return !p.parked }) {
		p := w.pending[id]
		p.handed = time.Time{}
		out.raftnode = append(out.raftnode, p.propose)
	}
}

// unpark proposes again, in id order, what raft dropped or never got.
func (w *waiting) unpark(out *outbox) {
	for _, id := range w.ids(func(p *pending) bool { return p.parked }) {
		p := w.pending[id]
		p.parked, p.handed = false, time.Time{}
		out.raftnode = append(out.raftnode, p.propose)
	}
}

// failUnsent answers err to every parked request and every read, and
// forgets them. Requests in raft's hands keep waiting.
func (w *waiting) failUnsent(out *outbox, err error) {
	ids := w.ids(func(p *pending) bool { return p.parked })
	n := len(ids) + len(w.queued)
	if w.round != nil {
		n += len(w.round.reads)
	}
	if n == 0 {
		return
	}
	w.log.Info("failing the requests not handed to raft", "err", err, "requests", n,
		"in_raft", len(w.pending)-len(ids))
	for _, id := range ids {
		w.answer(out, id, err)
	}
	w.failReads(out, err)
}

// sweep answers ErrTimeout to the requests past their deadline, proposes
// again while a leader is known what raft dropped and what it has held for
// reproposeAfter without a result, asks a read round again if it got no
// answer within readRetry, and proposes this node's alarm again if its
// last request for it is gone.
func (w *waiting) sweep(now time.Time) (out outbox) {
	defer w.reconcileAlarm(&out, now)
	for _, id := range w.ids(func(p *pending) bool { return expired(p.deadline, now) }) {
		w.answer(&out, id, messages.ErrTimeout)
	}
	if w.leader != 0 && !w.leaderless {
		for _, id := range w.ids(func(p *pending) bool { return !p.parked }) {
			switch p := w.pending[id]; {
			case p.handed.IsZero():
				p.handed = now
			case now.Sub(p.handed) >= w.reproposeAfter:
				w.log.Debug("proposing again a request raft has held without a result", "id", id, "since", p.handed)
				p.handed = now
				out.raftnode = append(out.raftnode, p.propose)
			}
		}
		w.unpark(&out)
	}
	w.queued = expireReads(&out, w.queued, now)
	if w.round != nil && now.Sub(w.round.sent) >= w.readRetry {
		live := expireReads(&out, w.round.reads, now)
		w.log.Debug("read index round unanswered, retrying", "ctx", w.round.ctx, "reads", len(live))
		w.queued = append(live, w.queued...)
		w.round = nil
		w.startRound(&out, now)
	}
	return out
}

// stop answers err to everything that waits, and forgets it.
func (w *waiting) stop(err error) (out outbox) {
	for _, id := range w.ids(func(*pending) bool { return true }) {
		w.answer(&out, id, err)
	}
	w.failReads(&out, err)
	return out
}

// answer answers err to the pending request id and forgets it.
func (w *waiting) answer(out *outbox, id messages.RequestID, err error) {
	p := w.pending[id]
	delete(w.pending, id)
	out.reply(p.replyTo, p.reply(messages.TxnResult{}, err))
	out.failed++
}

// failReads answers err to the reads of the round in flight and the queued
// ones, and forgets them; a late answer to the round is ignored.
func (w *waiting) failReads(out *outbox, err error) {
	var reads []timedRead
	if w.round != nil {
		reads = w.round.reads
	}
	for _, r := range append(reads, w.queued...) {
		out.reply(r.ReplyTo, &messages.ReadReply{Err: err})
	}
	w.round, w.queued = nil, nil
}

// ids returns the ids of the pending requests for which keep is true, in
// order, so that what waiting returns does not depend on map order.
func (w *waiting) ids(keep func(*pending) bool) []messages.RequestID {
	var ids []messages.RequestID
	for id, p := range w.pending {
		if keep(p) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b messages.RequestID) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.Seq, b.Seq))
	})
	return ids
}

// reply is the answer to p's client.
func (p *pending) reply(res messages.TxnResult, err error) any {
	if p.conf {
		return &messages.ConfChangeReply{Err: err}
	}
	return &messages.TxnReply{Result: res, Err: err}
}

// expireReads answers ErrTimeout to the reads past their deadline and
// returns the others.
func expireReads(out *outbox, reads []timedRead, now time.Time) []timedRead {
	live := reads[:0]
	for _, r := range reads {
		if !expired(r.deadline, now) {
			live = append(live, r)
			continue
		}
		out.reply(r.ReplyTo, &messages.ReadReply{Err: messages.ErrTimeout})
	}
	return live
}

// expired tells whether deadline has passed at now.
func expired(deadline, now time.Time) bool { return !now.Before(deadline) }
