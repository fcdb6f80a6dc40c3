package applier

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/store"
)

// Config is what the applier needs. Store holds the state recovered from the
// newest snapshot (or is empty); Applied and AppliedTerm are that
// snapshot's index and term, ConfState and Membership its membership.
type Config struct {
	ID          uint64
	Store       *store.Store
	Applied     uint64
	AppliedTerm uint64
	ConfState   *raftpb.ConfState
	Membership  *messages.MembershipState
	// Requests are the commands applied up to the snapshot (its meta's),
	// Alarms the members whose NOSPACE alarm it holds raised.
	Requests []messages.AppliedRequests
	Alarms   []uint64
	Proposer *actor.PID
	// Snapshotter is the actor that writes and sends snapshots.
	Snapshotter *actor.PID
	// StoreDir is the directory of the snapshots' store files, where a
	// snapshot received from the leader is read from.
	StoreDir string
	// SnapshotCount is how many applied entries trigger a new snapshot,
	// or the least when the store is big (see snapshotPolicy).
	SnapshotCount uint64
	// SnapshotSize is the size of the snapshot Store was recovered from.
	SnapshotSize uint64
	// History bounds the store's history of changes (0s: the defaults).
	History store.HistoryLimits
	// Watcher, when set, receives Changes after every batch that changed
	// the store (the watch actor).
	Watcher *actor.PID
	// Lessor, when set, receives LeaseApplied: what the lease commands did,
	// and every lease at start and after a snapshot (the proposer).
	Lessor *actor.PID
	Logger *slog.Logger
	// Metrics records apply and snapshot times; nil records nothing.
	Metrics *metrics.Metrics
}

// DefaultSnapshotCount is raftexample's --snapshot-count default.
const DefaultSnapshotCount = 10000

// Props returns the props of an applier that owns cfg.Store from then on.
func Props(cfg Config) *actor.Props {
	if cfg.SnapshotCount == 0 {
		cfg.SnapshotCount = DefaultSnapshotCount
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ConfState == nil {
		cfg.ConfState = &raftpb.ConfState{}
	}
	if cfg.Membership == nil {
		cfg.Membership = &messages.MembershipState{}
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &applier{
			cfg:         cfg,
			log:         cfg.Logger.With("actor", "applier"),
			store:       cfg.Store,
			applied:     cfg.Applied,
			appliedTerm: cfg.AppliedTerm,
			policy:      snapshotPolicy{count: cfg.SnapshotCount, index: cfg.Applied, size: cfg.SnapshotSize},
			confState:   cfg.ConfState,
			membership:  cfg.Membership,
			requests:    requestsFrom(cfg.Requests),
			alarms:      alarmsFrom(cfg.Alarms),
			announced:   len(cfg.Alarms) == 0, // nothing to tell until one is raised
		}
	})
}

type applier struct {
	cfg         Config
	log         *slog.Logger
	store       *store.Store
	applied     uint64
	appliedTerm uint64
	// policy says when the next snapshot is due; writing says that a
	// WriteSnapshot is not answered yet.
	policy  snapshotPolicy
	writing bool
	// writeStart is when the snapshot being written was asked for.
	writeStart time.Time
	// confState and membership are the membership at the applied index.
	confState  *raftpb.ConfState
	membership *messages.MembershipState
	// requests are the commands applied, by request id: one in the log
	// twice applies once.
	requests *requests
	// alarms are the members whose NOSPACE alarm is raised: writes that put
	// a key are refused while there is one. announced says that the
	// proposer and raftnode were told the current set.
	alarms    map[uint64]bool
	announced bool
	// waiting are read batches whose index is not applied yet, by index.
	waiting []*messages.ReadBatch
	// watching says that the watcher has a watch open (Watching): only
	// then does it get Changes.
	watching bool
}

// Receive handles one message; see the package doc.
func (a *applier) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.own(a.store)
		a.cfg.Metrics.SetStoreKeys(a.store.Len())
		a.tellLessor(ctx, &messages.LeaseApplied{All: a.store.Leases(), Reset: true})
	case *messages.Watching:
		a.watching = msg.On
	case *messages.HistoryRequest:
		a.history(ctx, msg)
	case *messages.Apply:
		start := time.Now()
		a.apply(ctx, msg)
		a.cfg.Metrics.ObserveApply(time.Since(start))
	case *messages.ReadBatch:
		if msg.Index <= a.applied {
			a.serve(ctx, msg)
			return
		}
		i := sort.Search(len(a.waiting), func(i int) bool { return a.waiting[i].Index > msg.Index })
		a.waiting = append(a.waiting, nil)
		copy(a.waiting[i+1:], a.waiting[i:])
		a.waiting[i] = msg
	case *messages.SnapshotWritten:
		a.writing = false
		a.cfg.Metrics.SnapshotWriting(false)
		a.cfg.Metrics.ObserveSnapshotWrite(time.Since(a.writeStart), msg.Err)
		if msg.Err != nil {
			a.log.Warn("snapshot not written; trying again later", "index", msg.Index, "err", msg.Err)
		} else {
			a.policy.written(msg.Size)
		}
	case *messages.SnapshotNeeded:
		a.sendSnapshot(ctx, msg)
	}
}

func (a *applier) apply(ctx actor.Context, msg *messages.Apply) {
	before, reset := a.store.Revision(), false
	if s := msg.Snapshot; s != nil && !raft.IsEmptySnap(s) && s.GetMetadata().GetIndex() > a.applied {
		a.restore(s)
		before, reset = a.store.Revision(), true
		a.tellLessor(ctx, &messages.LeaseApplied{All: a.store.Leases(), Reset: true})
		a.cfg.Metrics.SnapshotRestored()
		if top := a.requests.top(a.cfg.ID); top > 0 {
			ctx.Send(a.cfg.Proposer, &messages.SeqFloor{Seq: top})
		}
	}
	if msg.ConfState != nil {
		a.confState = msg.ConfState
	}
	if msg.Membership != nil {
		a.membership = msg.Membership
	}
	results := map[uint64]messages.ConfResult{}
	for _, r := range msg.ConfResults {
		results[r.Index] = r
	}
	for _, e := range msg.Entries {
		if e.GetIndex() <= a.applied {
			continue
		}
		a.policy.applied(len(e.GetData()))
		switch e.GetType() {
		case raftpb.EntryNormal:
			a.applyCommand(ctx, e)
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			if r, ok := results[e.GetIndex()]; ok && r.ID.Node == a.cfg.ID {
				ctx.Send(a.cfg.Proposer, &messages.Result{ID: r.ID, Err: r.Err})
			}
		}
		a.applied, a.appliedTerm = e.GetIndex(), e.GetTerm()
	}
	a.tellWatcher(ctx, before, reset)
	for len(a.waiting) > 0 && a.waiting[0].Index <= a.applied {
		a.serve(ctx, a.waiting[0])
		a.waiting = a.waiting[1:]
	}
	if !a.writing && a.policy.due(a.applied) {
		a.snapshot(ctx)
	}
	keys := a.store.Len()
	a.cfg.Metrics.SetStoreKeys(keys)
	a.cfg.Metrics.SetLeases(a.store.LeaseCount())
	applied := &messages.Applied{Seq: msg.Seq, Index: a.applied, Revision: a.store.Revision(), Keys: keys}
	if !a.announced {
		applied.Alarms = a.announceAlarms(ctx)
	}
	ctx.Respond(applied)
}

// own makes st the applier's store: with the history bounds of the config,
// and keeping big values by reference, since they are slices of raft
// entries, which nobody modifies (store.ShareValues): a value in raft's
// log and in the store is then in memory once.
func (a *applier) own(st *store.Store) {
	a.store = st
	a.store.SetHistoryLimits(a.cfg.History)
	a.store.ShareValues()
}

// restore replaces the store with the one of snapshot s, read from its
// store file (which the snapshot actor made durable before raft saw s).
func (a *applier) restore(s *raftpb.Snapshot) {
	md := s.GetMetadata()
	meta, err := messages.DecodeSnapshotMeta(s.GetData())
	if err != nil {
		panic(fmt.Errorf("restore snapshot %d: %w", md.GetIndex(), err))
	}
	st, err := snapfile.Load(a.cfg.StoreDir, md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC)
	if err != nil {
		panic(fmt.Errorf("restore snapshot %d: %w", md.GetIndex(), err))
	}
	a.own(st)
	a.applied, a.appliedTerm = md.GetIndex(), md.GetTerm()
	a.policy.taken(a.applied, meta.DBSize)
	a.confState = md.GetConfState()
	a.membership = &meta.Membership
	a.requests = requestsFrom(meta.Requests)
	if restored := alarmsFrom(meta.Alarms); !maps.Equal(restored, a.alarms) {
		a.alarms, a.announced = restored, false
	}
	a.log.Info("restored snapshot", "index", a.applied, "keys", a.store.Len())
}

// applyCommand applies a normal entry. An entry that does not decode is
// skipped on every node alike, so the replicas stay identical.
func (a *applier) applyCommand(ctx actor.Context, e *raftpb.Entry) {
	if len(e.GetData()) == 0 {
		return // the empty entry a new leader appends
	}
	cmd, err := messages.DecodeCommand(e.GetData())
	if err != nil {
		a.log.Error("skipping undecodable entry", "index", e.GetIndex(), "err", err)
		return
	}
	if !a.requests.first(cmd.ID) {
		// Proposed again after a leader change, or delivered twice: it
		// applied already, and its result went out then.
		a.log.Debug("skipping a command applied before", "index", e.GetIndex(), "node", cmd.ID.Node, "seq", cmd.ID.Seq)
		return
	}
	var res messages.TxnResult
	err = nil
	switch {
	case cmd.Alarm != nil:
		a.applyAlarm(*cmd.Alarm)
	case cmd.Compact != 0:
		err = a.store.Compact(cmd.Compact)
		res.Revision = a.store.Revision()
	case cmd.Lease != nil:
		res, err = a.applyLease(ctx, *cmd.Lease)
	case len(a.alarms) > 0 && cmd.Txn.Puts():
		err = messages.ErrNoSpace
	default:
		if err = a.store.CheckLeases(cmd.Txn); err == nil {
			res = a.store.Apply(cmd.Txn)
		}
	}
	if cmd.ID.Node == a.cfg.ID {
		ctx.Send(a.cfg.Proposer, &messages.Result{ID: cmd.ID, Result: res, Err: err})
	}
}

// applyLease applies a lease command and tells the proposer's lessor what
// became of the lease. An unknown command changes nothing, on every member
// alike.
func (a *applier) applyLease(ctx actor.Context, ch messages.LeaseChange) (messages.TxnResult, error) {
	res := messages.TxnResult{Revision: a.store.Revision()}
	switch ch.Op {
	case messages.LeaseGrant:
		if err := a.store.Grant(ch.ID, ch.TTL); err != nil {
			return res, err
		}
		a.tellLessor(ctx, &messages.LeaseApplied{Lease: messages.LeaseInfo{ID: ch.ID, TTL: ch.TTL}})
	case messages.LeaseKeepAlive:
		info, err := a.store.KeepAlive(ch.ID)
		if err != nil {
			return res, err
		}
		a.tellLessor(ctx, &messages.LeaseApplied{Lease: info})
	case messages.LeaseRevoke, messages.LeaseExpire:
		var renewals *uint64
		if ch.Op == messages.LeaseExpire {
			renewals = &ch.Renewals
		}
		done, res, err := a.store.Revoke(ch.ID, renewals)
		if done {
			a.log.Debug("lease ended", "lease", ch.ID, "expired", renewals != nil, "revision", res.Revision)
			a.tellLessor(ctx, &messages.LeaseApplied{Lease: messages.LeaseInfo{ID: ch.ID}, Gone: true})
		}
		return res, err
	default:
		return res, fmt.Errorf("%w: lease command %d", store.ErrInvalid, ch.Op)
	}
	return res, nil
}

func (a *applier) tellLessor(ctx actor.Context, m *messages.LeaseApplied) {
	if a.cfg.Lessor != nil {
		ctx.Send(a.cfg.Lessor, m)
	}
}

// applyAlarm raises or clears a member's NOSPACE alarm.
func (a *applier) applyAlarm(ch messages.AlarmChange) {
	if a.alarms[ch.Member] == ch.Active {
		return
	}
	if ch.Active {
		a.alarms[ch.Member] = true
		a.log.Warn("NOSPACE alarm raised: writes are refused until the member has disk space again", "member", ch.Member)
	} else {
		delete(a.alarms, ch.Member)
		a.log.Info("NOSPACE alarm cleared", "member", ch.Member)
	}
	a.announced = false
}

// announceAlarms tells the proposer, which refuses writes at once while
// there is an alarm, which alarms are raised; raftnode, which shows them in
// the status, learns it from Applied.
func (a *applier) announceAlarms(ctx actor.Context) []uint64 {
	members := alarmList(a.alarms)
	ctx.Send(a.cfg.Proposer, &messages.Alarms{Members: members})
	a.announced = true
	return members
}

func alarmsFrom(members []uint64) map[uint64]bool {
	m := make(map[uint64]bool, len(members))
	for _, id := range members {
		m[id] = true
	}
	return m
}

func alarmList(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (a *applier) serve(ctx actor.Context, b *messages.ReadBatch) {
	for _, r := range b.Reads {
		switch r.Op.Type {
		case messages.OpBackup:
			a.serveBackup(ctx, r)
			continue
		case messages.OpLeaseInfo:
			reply := &messages.ReadReply{Revision: a.store.Revision()}
			if l, ok := a.store.Lease(r.Op.Lease); ok {
				reply.Lease = &l
			} else {
				reply.Err = fmt.Errorf("lease %d: %w", r.Op.Lease, messages.ErrLeaseNotFound)
			}
			ctx.Send(r.ReplyTo, reply)
			continue
		}
		res, err := a.store.RangeAt(r.Op, r.Op.Revision)
		ctx.Send(r.ReplyTo, &messages.ReadReply{Result: res, Revision: a.store.Revision(), Err: err})
	}
}

// tellWatcher sends the watcher, while it has watches, the changes since
// revision before (Reset when the store was replaced by a snapshot's, or
// when the batch changed more than the history keeps).
func (a *applier) tellWatcher(ctx actor.Context, before int64, reset bool) {
	rev := a.store.Revision()
	if a.cfg.Watcher == nil || !a.watching || (rev == before && !reset) {
		return
	}
	events, err := a.store.Changes(before + 1)
	if err != nil {
		events, reset = nil, true
	}
	ctx.Send(a.cfg.Watcher, &messages.Changes{Revision: rev, Events: events, Reset: reset})
}

// history answers a watch's request for the changes from a revision on.
func (a *applier) history(ctx actor.Context, r *messages.HistoryRequest) {
	reply := &messages.HistoryReply{Watch: r.Watch, Revision: a.store.Revision()}
	if r.From > reply.Revision+1 {
		reply.Err = fmt.Errorf("watch from revision %d, the store is at %d: %w", r.From, reply.Revision, messages.ErrFutureRevision)
	} else {
		reply.Events, reply.Err = a.store.Changes(r.From)
	}
	ctx.Send(r.ReplyTo, reply)
}

// snapshot asks the snapshot actor to write the store's state at the
// applied index, from a point-in-time view: applying goes on meanwhile.
// Every entry up to that index is applied (docs/design.md, rule 5).
func (a *applier) snapshot(ctx actor.Context) {
	a.writing, a.writeStart = true, time.Now()
	a.cfg.Metrics.SnapshotWriting(true)
	a.policy.taken(a.applied, 0)
	ctx.Send(a.cfg.Snapshotter, &messages.WriteSnapshot{
		Index: a.applied, Term: a.appliedTerm, ConfState: a.confState, Membership: a.membership,
		Requests: a.requests.state(), Alarms: alarmList(a.alarms), Stream: store.NewSnapshotEncoder(a.store.View()),
	})
}

// sendSnapshot answers raft's wish to send member To a snapshot with one of
// the current state: its membership includes To, which raft's own latest
// snapshot may not (a member added since).
func (a *applier) sendSnapshot(ctx actor.Context, msg *messages.SnapshotNeeded) {
	m := msg.Message
	meta, err := messages.EncodeSnapshotMeta(messages.SnapshotMeta{Membership: *a.membership,
		Requests: a.requests.state(), Alarms: alarmList(a.alarms)})
	if err != nil {
		panic(fmt.Errorf("encode snapshot meta: %w", err))
	}
	snap := &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(),
		From: proto.Uint64(m.GetFrom()),
		To:   proto.Uint64(m.GetTo()),
		Term: proto.Uint64(m.GetTerm()),
		Snapshot: &raftpb.Snapshot{
			Metadata: &raftpb.SnapshotMetadata{
				Index:     proto.Uint64(a.applied),
				Term:      proto.Uint64(a.appliedTerm),
				ConfState: a.confState,
			},
			Data: meta,
		},
	}
	ctx.Send(a.cfg.Snapshotter, &messages.SendSnapshot{
		To: m.GetTo(), Address: msg.Address, Message: snap,
		Stream: store.NewSnapshotEncoder(a.store.View()),
	})
}
