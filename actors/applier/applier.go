package applier

import (
	"fmt"
	"log/slog"
	"sort"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// Config is what the applier needs. Store holds the state recovered from the
// newest snapshot (or is empty), and Applied is that snapshot's index.
type Config struct {
	ID       uint64
	Store    *store.Store
	Applied  uint64
	Proposer *actor.PID
	// SnapshotCount is how many applied entries trigger a new snapshot.
	SnapshotCount uint64
	Logger        *slog.Logger
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
	return actor.PropsFromProducer(func() actor.Actor {
		return &applier{
			cfg:       cfg,
			log:       cfg.Logger.With("actor", "applier", "id", cfg.ID),
			store:     cfg.Store,
			applied:   cfg.Applied,
			snapIndex: cfg.Applied,
		}
	})
}

type applier struct {
	cfg       Config
	log       *slog.Logger
	store     *store.Store
	applied   uint64
	snapIndex uint64 // index of the newest snapshot made or restored
	// waiting are read batches whose index is not applied yet, by index.
	waiting []*messages.ReadBatch
}

// Receive handles one message; see the package doc.
func (a *applier) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *messages.Apply:
		a.apply(ctx, msg)
	case *messages.ReadBatch:
		if msg.Index <= a.applied {
			a.serve(ctx, msg)
			return
		}
		i := sort.Search(len(a.waiting), func(i int) bool { return a.waiting[i].Index > msg.Index })
		a.waiting = append(a.waiting, nil)
		copy(a.waiting[i+1:], a.waiting[i:])
		a.waiting[i] = msg
	}
}

func (a *applier) apply(ctx actor.Context, msg *messages.Apply) {
	var members map[uint64]string
	if s := msg.Snapshot; s != nil && !raft.IsEmptySnap(s) && s.GetMetadata().GetIndex() > a.applied {
		if err := a.store.Restore(s.GetData()); err != nil {
			panic(fmt.Errorf("apply %d: restore snapshot %d: %w", msg.Seq, s.GetMetadata().GetIndex(), err))
		}
		a.applied = s.GetMetadata().GetIndex()
		a.snapIndex = a.applied
		members = a.store.Members()
		a.log.Info("restored snapshot", "index", a.applied, "keys", a.store.Len())
	}
	for _, e := range msg.Entries {
		if e.GetIndex() <= a.applied {
			continue
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			a.applyCommand(ctx, e)
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			a.applyConfChange(ctx, e)
		}
		a.applied = e.GetIndex()
	}
	for len(a.waiting) > 0 && a.waiting[0].Index <= a.applied {
		a.serve(ctx, a.waiting[0])
		a.waiting = a.waiting[1:]
	}
	if a.applied-a.snapIndex >= a.cfg.SnapshotCount {
		a.snapshot(ctx, msg.ConfState)
	}
	ctx.Respond(&messages.Applied{Seq: msg.Seq, Index: a.applied, Revision: a.store.Revision(), Members: members})
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
	res := a.store.Apply(cmd.Txn)
	if cmd.ID.Node == a.cfg.ID {
		ctx.Send(a.cfg.Proposer, &messages.Result{ID: cmd.ID, Result: res})
	}
}

// applyConfChange records a membership change in the store, so snapshots
// carry member addresses, and answers the request that proposed it.
func (a *applier) applyConfChange(ctx actor.Context, e *raftpb.Entry) {
	cc, err := messages.DecodeConfChange(e)
	if err != nil {
		a.log.Error("skipping undecodable conf change", "err", err)
		return
	}
	v2 := cc.AsV2()
	cctx, err := messages.DecodeConfChangeContext(v2.GetContext())
	if err != nil && len(v2.GetContext()) > 0 {
		a.log.Error("conf change with undecodable context", "index", e.GetIndex(), "err", err)
	}
	var result error
	for _, ch := range v2.GetChanges() {
		id := ch.GetNodeId()
		_, exists := a.store.Members()[id]
		switch ch.GetType() {
		case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
			if exists {
				result = fmt.Errorf("add member %d: %w", id, messages.ErrMemberExists)
			} else {
				a.store.SetMember(id, cctx.Address)
			}
		case raftpb.ConfChangeRemoveNode:
			if !exists {
				result = fmt.Errorf("remove member %d: %w", id, messages.ErrMemberNotFound)
			} else {
				a.store.RemoveMember(id)
			}
		}
	}
	if cctx.ID.Node == a.cfg.ID {
		ctx.Send(a.cfg.Proposer, &messages.Result{ID: cctx.ID, Err: result})
	}
}

func (a *applier) serve(ctx actor.Context, b *messages.ReadBatch) {
	for _, r := range b.Reads {
		res, rev := a.store.Range(r.Op)
		ctx.Send(r.ReplyTo, &messages.ReadReply{Result: res, Revision: rev})
	}
}

// snapshot serializes the store at the applied index; raftnode turns it
// into a raft snapshot. Every entry up to that index is applied (DESIGN.md).
func (a *applier) snapshot(ctx actor.Context, cs *raftpb.ConfState) {
	data, err := a.store.Snapshot()
	if err != nil {
		panic(fmt.Errorf("snapshot at %d: %w", a.applied, err))
	}
	a.snapIndex = a.applied
	ctx.Respond(&messages.SnapshotCreated{Index: a.applied, ConfState: cs, Data: data})
}
