package raftnode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/messages"
)

// Config is what raftnode needs to start. Recovered state (Snapshot,
// HardState, Entries) comes from the persister's replay of the data
// directory; Restart tells that there was one.
type Config struct {
	ID uint64
	// Addresses maps member ids to peer addresses, as far as known at start.
	Addresses map[uint64]string
	// Bootstrap lists the members of a brand-new cluster; empty when the node
	// restarts from its WAL or joins an existing cluster.
	Bootstrap []raft.Peer
	Restart   bool
	Snapshot  *raftpb.Snapshot
	HardState *raftpb.HardState
	Entries   []*raftpb.Entry

	Persister *actor.PID
	Applier   *actor.PID
	Proposer  *actor.PID
	// Link returns the props of the actor that carries raft messages to the
	// member id at address (a peer link).
	Link func(id uint64, address string) *actor.Props

	// TickInterval is the wall-clock length of a raft tick; 0 means no timer:
	// the test sends messages.Tick itself.
	TickInterval  time.Duration
	ElectionTick  int
	HeartbeatTick int
	// CatchUpEntries is how many entries stay in memory behind a snapshot so
	// that a slow follower can catch up without a snapshot.
	CatchUpEntries uint64
	Logger         *slog.Logger
}

// Defaults of raftexample.
const (
	DefaultTickInterval   = 100 * time.Millisecond
	DefaultElectionTick   = 10
	DefaultHeartbeatTick  = 1
	DefaultCatchUpEntries = 10000
)

// Props builds the raft node from cfg and returns the props of its actor.
// It fails when the recovered state does not fit together.
func Props(cfg Config) (*actor.Props, error) {
	n, err := newRaftNode(cfg)
	if err != nil {
		return nil, err
	}
	return actor.PropsFromProducer(func() actor.Actor { return n },
		actor.WithSupervisor(actor.NewOneForOneStrategy(10, time.Minute, actor.DefaultDecider))), nil
}

type raftNode struct {
	cfg     Config
	log     *slog.Logger
	storage *raft.MemoryStorage
	rn      *raft.RawNode

	seq    uint64 // of the last Ready handed out
	stage  *stage // the Ready in flight, nil when none
	stable uint64 // last log index durable on this node

	state    raft.StateType
	leader   uint64
	term     uint64
	applied  uint64
	revision int64
	// confBarrier is the log index up to which a membership change may still
	// be pending on this leader; raft silently turns a conf change proposed
	// before it is applied into an empty entry, so raftnode refuses it
	// openly instead and the proposer retries. confPending says that the
	// barrier is the last entry of the next Ready (a change just proposed,
	// or the empty entry of a new leader), not yet known.
	confBarrier  uint64
	confPending  bool
	replayTarget uint64 // commit index recovered from disk
	serving      bool
	confState    *raftpb.ConfState
	addresses    map[uint64]string
	links        map[uint64]*actor.PID
	sent         uint64 // messages handed to links
	ticks        uint64
	// removed are members removed from the cluster, by id, with their
	// address and the tick at which they were last told so.
	removed     map[uint64]*removedMember
	received    uint64 // messages from peers stepped
	cancelTicks func()
}

func newRaftNode(cfg Config) (*raftNode, error) {
	if cfg.ID == 0 {
		return nil, errors.New("raftnode: member id must not be 0")
	}
	setDefaults(&cfg)
	n := &raftNode{
		cfg:       cfg,
		log:       cfg.Logger.With("actor", "raftnode", "id", cfg.ID),
		storage:   raft.NewMemoryStorage(),
		confState: &raftpb.ConfState{},
		addresses: map[uint64]string{},
		links:     map[uint64]*actor.PID{},
		removed:   map[uint64]*removedMember{},
	}
	for id, addr := range cfg.Addresses {
		n.addresses[id] = addr
	}
	var applied uint64
	if s := cfg.Snapshot; s != nil && !raft.IsEmptySnap(s) {
		if err := n.storage.ApplySnapshot(s); err != nil {
			return nil, fmt.Errorf("restore snapshot %d: %w", s.GetMetadata().GetIndex(), err)
		}
		applied = s.GetMetadata().GetIndex()
		n.confState = proto.Clone(s.GetMetadata().GetConfState()).(*raftpb.ConfState)
		n.stable = applied
	}
	if hs := cfg.HardState; hs != nil {
		if err := n.storage.SetHardState(hs); err != nil {
			return nil, fmt.Errorf("restore hard state: %w", err)
		}
		n.replayTarget = hs.GetCommit()
	}
	if err := n.storage.Append(cfg.Entries); err != nil {
		return nil, fmt.Errorf("restore %d entries: %w", len(cfg.Entries), err)
	}
	if k := len(cfg.Entries); k > 0 {
		n.stable = cfg.Entries[k-1].GetIndex()
	}
	n.applied = applied
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTick,
		HeartbeatTick:             cfg.HeartbeatTick,
		Storage:                   n.storage,
		Applied:                   applied,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           256,
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		StepDownOnRemoval:         true,
		PreVote:                   true,
		ReadOnlyOption:            raft.ReadOnlySafe,
		Logger:                    raftLogger{n.log},
	})
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	if !cfg.Restart && len(cfg.Bootstrap) > 0 {
		if err := rn.Bootstrap(cfg.Bootstrap); err != nil {
			return nil, fmt.Errorf("bootstrap %d members: %w", len(cfg.Bootstrap), err)
		}
	}
	n.rn = rn
	n.serving = n.applied >= n.replayTarget
	return n, nil
}

func setDefaults(cfg *Config) {
	if cfg.ElectionTick == 0 {
		cfg.ElectionTick = DefaultElectionTick
	}
	if cfg.HeartbeatTick == 0 {
		cfg.HeartbeatTick = DefaultHeartbeatTick
	}
	if cfg.CatchUpEntries == 0 {
		cfg.CatchUpEntries = DefaultCatchUpEntries
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
}

// Receive handles one message; see the package doc for the flow.
func (n *raftNode) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if n.cfg.TickInterval > 0 {
			n.cancelTicks = every.Send(ctx.ActorSystem(), ctx.Self(), n.cfg.TickInterval, &messages.Tick{})
		}
		n.reportState(ctx)
	case *actor.Stopping:
		if n.cancelTicks != nil {
			n.cancelTicks()
		}
		return
	case *actor.Stopped:
		return // hand out nothing more
	case *messages.Tick:
		n.ticks++
		n.rn.Tick()
	case *messages.Removed:
		// A member told this one that the cluster removed it (PeerNotice).
		if msg.ID == n.cfg.ID {
			n.log.Warn("a member reports that this node was removed from the cluster")
			ctx.Send(ctx.Parent(), msg)
		}
	case *raftpb.Message:
		n.received++
		if _, gone := n.removed[msg.GetFrom()]; gone {
			n.noticeRemoved(ctx, msg.GetFrom())
			return
		}
		if err := n.rn.Step(msg); err != nil {
			n.log.Debug("step refused", "type", msg.GetType().String(), "from", msg.GetFrom(), "err", err)
		}
	case *messages.Propose:
		if err := n.rn.Propose(msg.Data); err != nil {
			ctx.Send(n.cfg.Proposer, &messages.ProposalDropped{ID: msg.ID, Err: err})
		}
	case *messages.ProposeConfChange:
		n.proposeConfChange(ctx, msg)
	case *messages.ReadIndex:
		n.rn.ReadIndex(binary.BigEndian.AppendUint64(nil, msg.Ctx))
	case *messages.Persisted:
		n.persisted(ctx, msg.Seq)
	case *messages.Applied:
		n.appliedAck(ctx, msg)
	case *messages.SnapshotCreated:
		n.snapshotCreated(ctx, msg)
	case *messages.SnapshotSaved:
		n.compact(msg.Index)
	case *messages.Unreachable:
		n.rn.ReportUnreachable(msg.ID)
	case *messages.SnapshotStatus:
		status := raft.SnapshotFinish
		if msg.Failed {
			status = raft.SnapshotFailure
		}
		n.rn.ReportSnapshot(msg.ID, status)
	case *messages.ClientStatus:
		ctx.Respond(n.status())
	}
	n.maybeReady(ctx)
}

// maybeReady hands out the next Ready if none is in flight.
func (n *raftNode) maybeReady(ctx actor.Context) {
	if n.stage != nil || !n.rn.HasReady() {
		return
	}
	rd := n.rn.Ready()
	if ss := rd.SoftState; ss != nil {
		if ss.RaftState == raft.StateLeader && n.state != raft.StateLeader {
			n.confPending = true // raft's barrier covers the new leader's empty entry
		}
		n.state, n.leader = ss.RaftState, ss.Lead
	}
	if hs := rd.HardState; hs != nil {
		n.term = hs.GetTerm()
	}
	if rd.SoftState != nil || rd.HardState != nil {
		n.reportState(ctx)
	}
	for _, rs := range rd.ReadStates {
		if len(rs.RequestCtx) == 8 {
			ctx.Send(n.cfg.Proposer, &messages.ReadState{Ctx: binary.BigEndian.Uint64(rs.RequestCtx), Index: rs.Index})
		}
	}
	if k := len(rd.Entries); n.confPending && k > 0 {
		n.confBarrier, n.confPending = rd.Entries[k-1].GetIndex(), false
	}
	n.seq++
	st, p := newStage(n.seq, rd, n.state == raft.StateLeader, n.stable)
	n.stage = st
	if p.persist {
		ctx.Request(n.cfg.Persister, &messages.Persist{
			Seq: st.seq, HardState: rd.HardState, Entries: rd.Entries, Snapshot: rd.Snapshot,
		})
	}
	n.send(ctx, p.sendNow)
	if p.apply {
		n.apply(ctx, st)
	}
	if p.nothingToWait {
		n.advance(ctx)
	}
}

// persisted handles the persister's ack: the Ready's state joins the
// in-memory log, and what waited for the fsync leaves.
func (n *raftNode) persisted(ctx actor.Context, seq uint64) {
	st := n.stage
	if st == nil || st.seq != seq {
		n.log.Error("persisted ack for a Ready not in flight", "seq", seq)
		return
	}
	rd := st.rd
	if !isEmptySnap(rd.Snapshot) {
		if err := n.storage.ApplySnapshot(rd.Snapshot); err != nil {
			panic(fmt.Errorf("ready %d: apply snapshot to memory storage: %w", seq, err))
		}
		n.confState = proto.Clone(rd.Snapshot.GetMetadata().GetConfState()).(*raftpb.ConfState)
	}
	if !isEmptyHardState(rd.HardState) {
		if err := n.storage.SetHardState(rd.HardState); err != nil {
			panic(fmt.Errorf("ready %d: set hard state: %w", seq, err))
		}
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		panic(fmt.Errorf("ready %d: append %d entries to memory storage: %w", seq, len(rd.Entries), err))
	}
	if li := lastIndex(rd); li > 0 {
		n.stable = li
	}
	send, apply := st.persisted()
	n.send(ctx, send)
	if apply {
		n.apply(ctx, st)
	}
	n.maybeAdvance(ctx)
}

func (n *raftNode) appliedAck(ctx actor.Context, msg *messages.Applied) {
	st := n.stage
	if st == nil || st.seq != msg.Seq {
		n.log.Error("applied ack for a Ready not in flight", "seq", msg.Seq)
		return
	}
	st.applied()
	n.applied, n.revision = msg.Index, msg.Revision
	for id, addr := range msg.Members {
		if _, linked := n.links[id]; !linked && id != n.cfg.ID {
			n.addresses[id] = addr
		}
	}
	if !n.serving && n.applied >= n.replayTarget {
		n.serving = true
		n.log.Info("replay applied, serving", "applied", n.applied)
		n.reportState(ctx)
	}
	n.maybeAdvance(ctx)
}

func (n *raftNode) maybeAdvance(ctx actor.Context) {
	if n.stage != nil && n.stage.done() {
		n.advance(ctx)
	}
}

func (n *raftNode) advance(ctx actor.Context) {
	n.rn.Advance(n.stage.rd)
	n.stage = nil
}

// proposeConfChange proposes a membership change unless raft would drop it
// silently (a leader with a change not yet applied, raft's pendingConfIndex).
func (n *raftNode) proposeConfChange(ctx actor.Context, msg *messages.ProposeConfChange) {
	leader := n.state == raft.StateLeader
	// raft's own applied index (it moves on Advance, after both acks) is
	// what raft compares with its barrier.
	if leader && (n.confPending || n.rn.BasicStatus().Applied < n.confBarrier) {
		ctx.Send(n.cfg.Proposer, &messages.ProposalDropped{ID: msg.ID, Err: messages.ErrConfChangePending})
		return
	}
	if err := n.rn.ProposeConfChange(msg.ConfChange); err != nil {
		ctx.Send(n.cfg.Proposer, &messages.ProposalDropped{ID: msg.ID, Err: err})
		return
	}
	if leader {
		n.confPending = true
	}
}

// apply applies the Ready's membership changes to raft and hands its
// committed entries to the applier.
func (n *raftNode) apply(ctx actor.Context, st *stage) {
	removedSelf := false
	for _, e := range st.rd.CommittedEntries {
		if e.GetType() == raftpb.EntryConfChange || e.GetType() == raftpb.EntryConfChangeV2 {
			removedSelf = n.applyConfChange(ctx, e) || removedSelf
		}
	}
	ctx.Request(n.cfg.Applier, &messages.Apply{
		Seq:       st.seq,
		Snapshot:  st.rd.Snapshot,
		Entries:   st.rd.CommittedEntries,
		ConfState: n.confState, // replaced on change, never mutated: safe to share
	})
	if removedSelf {
		n.log.Warn("this node was removed from the cluster")
		ctx.Send(ctx.Parent(), &messages.Removed{ID: n.cfg.ID})
	}
}

// applyConfChange applies one committed membership change and reports
// whether it removed this node.
func (n *raftNode) applyConfChange(ctx actor.Context, e *raftpb.Entry) bool {
	cc, err := messages.DecodeConfChange(e)
	if err != nil {
		n.log.Error("skipping undecodable conf change", "err", err)
		return false
	}
	wasMember := n.isMember()
	n.confState = n.rn.ApplyConfChange(cc)
	removedSelf := false
	for _, ch := range cc.AsV2().GetChanges() {
		id := ch.GetNodeId()
		switch ch.GetType() {
		case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
			if c, err := messages.DecodeConfChangeContext(cc.AsV2().GetContext()); err == nil && c.Address != "" {
				if _, known := n.links[id]; !known {
					n.addresses[id] = c.Address
				}
			}
		case raftpb.ConfChangeRemoveNode:
			if pid, ok := n.links[id]; ok {
				ctx.Stop(pid)
				delete(n.links, id)
			}
			if addr, ok := n.addresses[id]; ok && id != n.cfg.ID {
				n.removed[id] = &removedMember{address: addr}
			}
			delete(n.addresses, id)
			if id == n.cfg.ID && wasMember {
				removedSelf = true
			}
		}
	}
	return removedSelf
}

type removedMember struct {
	address  string
	toldAt   uint64 // tick of the last notice
	told     bool
	noticeTo *actor.PID
}

// noticeRemoved tells a removed member that still sends raft messages that
// it was removed, at most once per election timeout: raft alone may never
// tell it, since the leader stops replicating to it.
func (n *raftNode) noticeRemoved(ctx actor.Context, id uint64) {
	r := n.removed[id]
	if r.told && n.ticks-r.toldAt < uint64(n.cfg.ElectionTick) {
		return
	}
	notice, err := messages.EncodePeerNotice(messages.PeerNotice{Kind: messages.NoticeRemoved, From: n.cfg.ID, To: id})
	if err != nil || n.cfg.Link == nil {
		return
	}
	if r.noticeTo == nil {
		r.noticeTo = ctx.Spawn(n.cfg.Link(id, r.address))
	}
	r.told, r.toldAt = true, n.ticks
	n.log.Info("telling a removed member that it was removed", "member", id)
	ctx.Send(r.noticeTo, notice)
}

func (n *raftNode) isMember() bool {
	for _, id := range append(n.confState.GetVoters(), n.confState.GetLearners()...) {
		if id == n.cfg.ID {
			return true
		}
	}
	return false
}

// snapshotCreated turns the applier's serialized state into a raft snapshot
// and asks the persister to store it.
func (n *raftNode) snapshotCreated(ctx actor.Context, msg *messages.SnapshotCreated) {
	snap, err := n.storage.CreateSnapshot(msg.Index, msg.ConfState, msg.Data)
	if errors.Is(err, raft.ErrSnapOutOfDate) {
		return
	}
	if err != nil {
		panic(fmt.Errorf("create snapshot at %d: %w", msg.Index, err))
	}
	n.log.Info("snapshot created", "index", msg.Index, "bytes", len(msg.Data))
	ctx.Request(n.cfg.Persister, &messages.SaveSnapshot{Snapshot: snap})
}

// compact drops the in-memory log before a durable snapshot, keeping
// CatchUpEntries for slow followers.
func (n *raftNode) compact(snapIndex uint64) {
	if snapIndex <= n.cfg.CatchUpEntries {
		return
	}
	at := snapIndex - n.cfg.CatchUpEntries
	if first, _ := n.storage.FirstIndex(); at <= first {
		return
	}
	if err := n.storage.Compact(at); err != nil && !errors.Is(err, raft.ErrCompacted) {
		panic(fmt.Errorf("compact log at %d: %w", at, err))
	}
	n.log.Info("compacted log", "index", at)
}

// send hands each message to the link of its target member.
func (n *raftNode) send(ctx actor.Context, msgs []*raftpb.Message) {
	for _, m := range msgs {
		pid := n.link(ctx, m.GetTo())
		if pid == nil {
			n.log.Debug("no address for member, dropping message", "to", m.GetTo(), "type", m.GetType().String())
			n.rn.ReportUnreachable(m.GetTo())
			if m.GetType() == raftpb.MessageType_MsgSnap {
				n.rn.ReportSnapshot(m.GetTo(), raft.SnapshotFailure)
			}
			continue
		}
		ctx.Send(pid, m)
		n.sent++
	}
}

func (n *raftNode) link(ctx actor.Context, id uint64) *actor.PID {
	if id == n.cfg.ID {
		return nil
	}
	if pid, ok := n.links[id]; ok {
		return pid
	}
	addr, ok := n.addresses[id]
	if !ok || n.cfg.Link == nil {
		return nil
	}
	pid := ctx.Spawn(n.cfg.Link(id, addr))
	n.links[id] = pid
	return pid
}

func (n *raftNode) reportState(ctx actor.Context) {
	ctx.Send(n.cfg.Proposer, &messages.RaftState{Leader: n.leader, Term: n.term, Serving: n.serving})
}

func (n *raftNode) status() *messages.Status {
	members := map[uint64]string{}
	for _, id := range append(n.confState.GetVoters(), n.confState.GetLearners()...) {
		members[id] = n.addresses[id]
	}
	return &messages.Status{
		ID:       n.cfg.ID,
		Leader:   n.leader,
		Term:     n.term,
		Commit:   n.rn.BasicStatus().GetCommit(),
		Applied:  n.applied,
		Serving:  n.serving,
		Members:  members,
		Revision: n.revision,
		Idle:     n.stage == nil && !n.rn.HasReady(),
		Sent:     n.sent,
		Received: n.received,
		Ticks:    n.ticks,
	}
}
