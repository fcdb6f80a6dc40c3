package raftnode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
)

// Config is what raftnode needs to start. Recovered state (Snapshot,
// HardState, Entries) comes from the persister's replay of the data
// directory; Restart tells that there was one.
type Config struct {
	ID uint64
	// Name is the member's human name, for its status.
	Name string
	// Address is this member's own peer address, as it advertises it.
	Address string
	// ClientAddress is the URL of this member's HTTP API: raftnode publishes
	// it in the membership (a change of type Update) while the membership
	// records another. Empty publishes nothing.
	ClientAddress string
	// Addresses maps member ids to peer addresses as the command line gives
	// them: used for members the membership does not know (yet), such as
	// the members a joining node must answer before it learned the log.
	Addresses map[uint64]string
	// Bootstrap lists the members of a brand-new cluster; empty when the node
	// restarts from its WAL or joins an existing cluster.
	Bootstrap []raft.Peer
	Restart   bool
	Snapshot  *raftpb.Snapshot
	HardState *raftpb.HardState
	Entries   []*raftpb.Entry
	// Revision and Keys are the recovered store's revision and number of
	// keys, and Disk what the data directory takes on disk at start: the
	// status shows them until the applier and the persister tell newer
	// ones.
	Revision int64
	Keys     int
	Disk     messages.DiskUsage

	Persister *actor.PID
	Applier   *actor.PID
	Proposer  *actor.PID
	// Link returns the props of the actor that carries raft messages to the
	// member id at address (a peer link); clusterID is the cluster id known
	// when it is spawned.
	Link func(id uint64, address string, clusterID uint64) *actor.Props
	// Route returns where a message of raftkv's own (a PeerMessage, outside
	// the links) for member id at address goes.
	Route func(id uint64, address string) *actor.PID

	// TickInterval is the wall-clock length of a raft tick; 0 means no timer:
	// the test sends messages.Tick itself.
	TickInterval  time.Duration
	ElectionTick  int
	HeartbeatTick int
	// CatchUpEntries is how many entries stay in memory behind a snapshot so
	// that a slow follower can catch up without a snapshot, and
	// CatchUpBytes how much data they may hold at most.
	CatchUpEntries uint64
	CatchUpBytes   uint64
	Logger         *slog.Logger
	// Metrics receives raft's state after each Ready; nil records nothing.
	Metrics *metrics.Metrics
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
	warn    *rateLimited
	storage *raft.MemoryStorage
	rn      *raft.RawNode

	seq    uint64 // of the last Ready handed out
	stage  *stage // the Ready in flight, nil when none
	stable uint64 // last log index durable on this node

	state    raft.StateType
	leader   uint64
	term     uint64
	commit   uint64
	applied  uint64
	revision int64
	keys     int
	disk     messages.DiskUsage
	ticks    uint64
	// leaderSince is the tick at which the node last knew a leader;
	// leaderless says that it has known none for an election timeout.
	leaderSince  uint64
	leaderless   bool
	hadLeader    bool
	replayTarget uint64 // commit index recovered from disk
	serving      bool

	book       *membership.Book
	membership *messages.MembershipState // book.State(), replaced on change
	confState  *raftpb.ConfState         // replaced on change, never modified
	// confResults are the outcomes of the conf changes of the Ready being
	// handed to the applier.
	confResults []messages.ConfResult
	// confBarrier is the log index up to which a membership change may still
	// be pending on this leader: raft silently turns a conf change proposed
	// before it is applied into an empty entry, so the leader proposes the
	// next one from confQueue only past it. confPending says that the
	// barrier is the last entry of the next Ready (a change just proposed,
	// or the empty entry of a new leader), not yet known.
	confBarrier uint64
	confPending bool
	confQueue   confQueue
	// leadAloneDue: the node started serving, and at the next Advance a
	// lone voter campaigns (leadAlone).
	leadAloneDue bool
	// transfer is the leadership hand-over under way before a stop, if any.
	transfer *transfer
	// confProposed is the request of the change this leader proposed last:
	// a copy of it is not queued again while it is on its way to commit.
	confProposed messages.RequestID

	// batch gathers the writes waiting in the mailbox into one proposal.
	batch proposalBatch

	links map[uint64]*actor.PID
	// linkErrs says why the link to a member refuses its address, if it
	// does.
	linkErrs map[uint64]string
	// hints are peer addresses of ids the membership does not know: from
	// Config.Addresses and from the hellos of other members.
	hints map[uint64]string
	// toldRemoved is the tick at which a removed member was last told so.
	toldRemoved map[uint64]uint64
	// alarms are the members whose NOSPACE alarm the state machine holds
	// raised, as the applier last said.
	alarms []uint64
	// heardAt is the tick at which a raft message of each member was last
	// stepped: a member heard within an election timeout responds.
	heardAt map[uint64]uint64
	// publishedAt is the tick of the last attempt to publish ClientAddress.
	publishedAt uint64
	cancelTicks func()
}

func newRaftNode(cfg Config) (*raftNode, error) {
	if cfg.ID == 0 {
		return nil, errors.New("raftnode: member id must not be 0")
	}
	setDefaults(&cfg)
	log := cfg.Logger.With("actor", "raftnode")
	n := &raftNode{
		cfg:         cfg,
		log:         log,
		warn:        newRateLimited(log, 5*time.Second),
		storage:     raft.NewMemoryStorage(),
		book:        membership.New(),
		confState:   &raftpb.ConfState{},
		links:       map[uint64]*actor.PID{},
		linkErrs:    map[uint64]string{},
		hints:       map[uint64]string{},
		toldRemoved: map[uint64]uint64{},
		heardAt:     map[uint64]uint64{},
		revision:    cfg.Revision,
		keys:        cfg.Keys,
		disk:        cfg.Disk,
	}
	for id, addr := range cfg.Addresses {
		n.hints[id] = addr
	}
	if s := cfg.Snapshot; s != nil && !raft.IsEmptySnap(s) {
		if err := n.storage.ApplySnapshot(s); err != nil {
			return nil, fmt.Errorf("restore snapshot %d: %w", s.GetMetadata().GetIndex(), err)
		}
		if err := n.restoreMembership(s); err != nil {
			return nil, err
		}
		n.applied = s.GetMetadata().GetIndex()
		n.stable = n.applied
	}
	n.membership = ptr(n.book.State())
	if hs := cfg.HardState; hs != nil {
		if err := n.storage.SetHardState(hs); err != nil {
			return nil, fmt.Errorf("restore hard state: %w", err)
		}
		n.replayTarget = hs.GetCommit()
		n.term, n.commit = hs.GetTerm(), hs.GetCommit()
	}
	if err := n.storage.Append(cfg.Entries); err != nil {
		return nil, fmt.Errorf("restore %d entries: %w", len(cfg.Entries), err)
	}
	if k := len(cfg.Entries); k > 0 {
		n.stable = cfg.Entries[k-1].GetIndex()
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTick,
		HeartbeatTick:             cfg.HeartbeatTick,
		Storage:                   n.storage,
		Applied:                   n.applied,
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
	n.updateServing()
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
	if cfg.CatchUpBytes == 0 {
		cfg.CatchUpBytes = DefaultCatchUpBytes
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
		n.observe()
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
		n.checkLeaderless(ctx)
		if silent := n.ticks - n.heardAt[n.leader]; n.leader != n.cfg.ID && silent%uint64(n.cfg.ElectionTick) == 0 {
			n.helloMembers(ctx)
		}
	case *raftpb.Message:
		n.step(ctx, msg)
	case *messages.PeerMessage:
		n.peerMessage(ctx, msg)
	case *messages.Propose:
		first, full := n.batch.add(msg)
		switch {
		case full:
			n.flushProposals(ctx)
		case first:
			ctx.Send(ctx.Self(), &flushProposals{})
		}
	case *flushProposals:
		// A leader with a Ready in flight keeps the batch until advance:
		// raft would send nothing of it before the next Ready anyway.
		if n.stage == nil || n.state != raft.StateLeader {
			n.flushProposals(ctx)
		}
	case *messages.ProposeConfChange:
		n.requestConfChange(ctx, confRequest{id: msg.ID, change: msg.Change})
	case *messages.ReadIndex:
		n.rn.ReadIndex(binary.BigEndian.AppendUint64(nil, msg.Ctx))
	case *messages.Persisted:
		n.diskUsage(msg.Usage)
		n.persisted(ctx, msg.Seq)
	case *messages.Applied:
		n.appliedAck(ctx, msg)
	case *messages.SnapshotCreated:
		n.snapshotCreated(ctx, msg)
	case *messages.SnapshotSaved:
		n.diskUsage(msg.Usage)
		n.compact(msg.Index)
	case *messages.Unreachable:
		n.rn.ReportUnreachable(msg.ID)
	case *messages.SnapshotStatus:
		status := raft.SnapshotFinish
		if msg.Failed {
			status = raft.SnapshotFailure
		}
		n.rn.ReportSnapshot(msg.ID, status)
		n.cfg.Metrics.Peer(msg.ID).SnapshotSent(msg.Failed)
	case *messages.ClientStatus:
		ctx.Respond(n.status())
	case *messages.TransferLeadership:
		n.transferLeadership(ctx)
	}
	n.maybeReady(ctx)
	n.checkTransfer(ctx)
}

// step hands a raft message from a peer to raft, unless it comes from a
// member that was removed (it is told so). An id this node does not know
// as a member may be one whose addition it has not applied yet, and which
// it can learn of only from the others: raft decides (as etcd does).
func (n *raftNode) step(ctx actor.Context, msg *raftpb.Message) {
	from := msg.GetFrom()
	if _, gone := n.book.Removed(from); gone {
		n.noticeRemoved(ctx, from)
		return
	}
	n.heardAt[from] = n.ticks
	if err := n.rn.Step(msg); err != nil {
		n.log.Debug("step refused", "type", msg.GetType().String(), "from", from, "err", err)
	}
}

// flushProposals hands raft the batch of writes as one MsgProp. If raft
// refuses it (no leader known, a leadership transfer), every write of the
// batch is reported dropped to the proposer, which proposes it again.
func (n *raftNode) flushProposals(ctx actor.Context) {
	ids, entries, ok := n.batch.take()
	if !ok {
		return
	}
	err := n.rn.Step(&raftpb.Message{Type: raftpb.MessageType_MsgProp.Enum(), From: ptr(n.cfg.ID), Entries: entries})
	if err != nil {
		for _, id := range ids {
			ctx.Send(n.cfg.Proposer, &messages.ProposalDropped{ID: id, Err: err})
		}
	}
}

// checkLeaderless notes when no leader has been known for longer than an
// election timeout, so the proposer fails fast instead of waiting.
func (n *raftNode) checkLeaderless(ctx actor.Context) {
	if n.leader != 0 {
		n.leaderSince = n.ticks
		return
	}
	if !n.leaderless && n.ticks-n.leaderSince > uint64(n.cfg.ElectionTick) {
		n.leaderless = true
		if n.hadLeader {
			n.log.Warn("no leader for an election timeout; requests fail at once until there is one")
		} else {
			n.log.Info("no leader elected yet; requests fail at once until there is one")
		}
		n.reportState(ctx)
	}
}

// maybeReady hands out the next Ready if none is in flight.
func (n *raftNode) maybeReady(ctx actor.Context) {
	if n.stage != nil || !n.rn.HasReady() {
		return
	}
	rd := n.rn.Ready()
	if ss := rd.SoftState; ss != nil {
		n.softState(ctx, ss)
	}
	if hs := rd.HardState; hs != nil && !raft.IsEmptyHardState(hs) {
		n.term, n.commit = hs.GetTerm(), hs.GetCommit()
	}
	n.cfg.Metrics.ObserveReady(len(rd.Entries), len(rd.CommittedEntries), len(rd.Messages))
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
			Seq: st.seq, HardState: rd.HardState, Entries: rd.Entries, Snapshot: rd.Snapshot, MustSync: rd.MustSync,
			Then: n.outgoing(ctx, p.withPersist),
		})
	}
	n.send(ctx, p.sendNow)
	if p.apply {
		n.apply(ctx, st)
	}
	n.observe()
	if p.nothingToWait {
		n.advance(ctx)
		n.maybeReady(ctx) // the writes advance handed to raft
	}
}

// observe sets the gauges of raft's state.
func (n *raftNode) observe() {
	n.cfg.Metrics.SetRaft(metrics.Raft{Term: n.term, Commit: n.commit, Applied: n.applied,
		Leader: n.leader, IsLeader: n.state == raft.StateLeader})
}

// diskUsage takes the persister's new measure of the data on disk.
func (n *raftNode) diskUsage(u *messages.DiskUsage) {
	if u != nil {
		n.disk = *u
	}
}

// softState follows a change of leader or role.
func (n *raftNode) softState(ctx actor.Context, ss *raft.SoftState) {
	wasLeader := n.state == raft.StateLeader
	if ss.RaftState == raft.StateLeader && !wasLeader {
		n.confPending = true // raft's barrier covers the new leader's empty entry
	}
	if ss.Lead != 0 && ss.Lead != n.leader {
		n.cfg.Metrics.LeaderChanged()
	}
	n.state, n.leader = ss.RaftState, ss.Lead
	if n.leader != 0 {
		n.leaderSince, n.hadLeader = n.ticks, true
		if n.leaderless {
			n.leaderless = false
			n.log.Info("a leader is known again", "leader", n.leader)
		}
	}
	if wasLeader && n.state != raft.StateLeader {
		n.failConfQueue(ctx)
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
		if err := n.restoreMembership(rd.Snapshot); err != nil {
			panic(fmt.Errorf("ready %d: %w", seq, err))
		}
		n.membershipChanged(ctx)
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
	n.applied, n.revision, n.keys = msg.Index, msg.Revision, msg.Keys
	n.observe()
	if msg.Alarms != nil {
		n.alarms = msg.Alarms
	}
	was := n.serving
	n.updateServing()
	if n.serving != was {
		n.reportState(ctx)
	}
	if n.serving && !was {
		n.log.Info("replay applied, serving", "applied", n.applied)
		n.leadAloneDue = true
	}
	n.maybePublish(ctx)
	n.maybeAdvance(ctx)
}

// leadAlone makes a follower that is the only voter campaign once, when
// it starts serving (at the Advance after, once raft took its applied
// entries), rather than after an election timeout: it needs no one's
// vote, and until it leads every write fails with no_leader (etcd
// advances its ticks at start for the same reason). Serving, it has
// applied every membership change committed before it stopped, so it
// campaigns in the configuration an election timeout would find, only
// sooner. Only a follower campaigns: a candidate wins once its own vote is
// persisted, in a later Ready.
func (n *raftNode) leadAlone() {
	if !n.leadAloneDue {
		return
	}
	n.leadAloneDue = false
	if n.book.Voters() != 1 || n.rn.BasicStatus().RaftState != raft.StateFollower {
		return
	}
	if self, ok := n.book.Member(n.cfg.ID); !ok || self.Learner {
		return
	}
	if err := n.rn.Campaign(); err != nil {
		n.log.Warn("could not campaign as the only voter; waiting for an election timeout", "err", err)
	}
}

// updateServing decides whether the node serves: once it applied what it
// had committed before a restart, and only as a member (a joining node
// serves once the log made it one).
func (n *raftNode) updateServing() {
	_, member := n.book.Member(n.cfg.ID)
	n.serving = n.applied >= n.replayTarget && member
}

func (n *raftNode) maybeAdvance(ctx actor.Context) {
	if n.stage != nil && n.stage.done() {
		n.advance(ctx)
	}
}

// advance tells raft the Ready in flight is done, and hands raft the
// writes batched meanwhile: raft would send nothing of theirs before the
// next Ready anyway, and so they leave as one append per follower.
func (n *raftNode) advance(ctx actor.Context) {
	n.rn.Advance(n.stage.rd)
	n.stage = nil
	n.leadAlone()
	n.flushProposals(ctx)
	n.proposeQueuedConfChange(ctx)
}

// apply applies the Ready's membership changes to the membership and to
// raft, and hands its committed entries to the applier.
func (n *raftNode) apply(ctx actor.Context, st *stage) {
	n.confResults = nil
	removedSelf := false
	for _, e := range st.rd.CommittedEntries {
		if e.GetType() == raftpb.EntryConfChange || e.GetType() == raftpb.EntryConfChangeV2 {
			removedSelf = n.applyConfChange(ctx, e) || removedSelf
		}
	}
	ctx.Request(n.cfg.Applier, &messages.Apply{
		Seq:         st.seq,
		Snapshot:    st.rd.Snapshot,
		Entries:     st.rd.CommittedEntries,
		ConfState:   n.confState,
		Membership:  n.membership,
		ConfResults: n.confResults,
	})
	if removedSelf {
		n.log.Warn("this member was removed from the cluster")
		ctx.Send(ctx.Parent(), &messages.Removed{ID: n.cfg.ID, Reason: "the cluster applied its removal"})
	}
}

// snapshotCreated turns the snapshot actor's file into a raft snapshot and
// asks the persister to store it.
func (n *raftNode) snapshotCreated(ctx actor.Context, msg *messages.SnapshotCreated) {
	snap, err := n.storage.CreateSnapshot(msg.Index, msg.ConfState, msg.Data)
	if errors.Is(err, raft.ErrSnapOutOfDate) {
		return
	}
	if err != nil {
		panic(fmt.Errorf("create snapshot at %d: %w", msg.Index, err))
	}
	n.log.Info("snapshot created", "index", msg.Index)
	ctx.Request(n.cfg.Persister, &messages.SaveSnapshot{Snapshot: snap})
}

// compact drops the in-memory log before a durable snapshot, keeping
// CatchUpEntries, of at most CatchUpBytes, for slow followers.
func (n *raftNode) compact(snapIndex uint64) {
	first, _ := n.storage.FirstIndex()
	if snapIndex < first {
		return
	}
	ents, err := n.storage.Entries(catchUpFrom(first, snapIndex, n.cfg.CatchUpEntries), snapIndex+1, math.MaxUint64)
	if err != nil {
		panic(fmt.Errorf("compact log at %d: %w", snapIndex, err))
	}
	at := compactIndex(first, snapIndex, n.cfg.CatchUpEntries, n.cfg.CatchUpBytes, ents)
	if at == 0 {
		return
	}
	if err := n.storage.Compact(at); err != nil && !errors.Is(err, raft.ErrCompacted) {
		panic(fmt.Errorf("compact log at %d: %w", at, err))
	}
	n.log.Info("compacted log", "index", at)
}

// send hands each message to the link of its target member. A snapshot
// goes to the applier instead, which has one of its current state sent
// (SnapshotNeeded).
func (n *raftNode) send(ctx actor.Context, msgs []*raftpb.Message) {
	for _, m := range msgs {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			addr, _ := n.address(m.GetTo())
			ctx.Send(n.cfg.Applier, &messages.SnapshotNeeded{Message: m, Address: addr})
			continue
		}
		if pid := n.linkOrDrop(ctx, m.GetTo()); pid != nil {
			ctx.Send(pid, m)
		}
	}
}

// outgoing pairs each message with the link of its target member, for the
// persister to send (none is a MsgSnap: see stage).
func (n *raftNode) outgoing(ctx actor.Context, msgs []*raftpb.Message) []messages.Outgoing {
	if len(msgs) == 0 {
		return nil
	}
	out := make([]messages.Outgoing, 0, len(msgs))
	for _, m := range msgs {
		if pid := n.linkOrDrop(ctx, m.GetTo()); pid != nil {
			out = append(out, messages.Outgoing{To: pid, Message: m})
		}
	}
	return out
}

// linkOrDrop returns the link to member id, or nil when there is none: the
// message is dropped, and raft hears the member is unreachable.
func (n *raftNode) linkOrDrop(ctx actor.Context, id uint64) *actor.PID {
	pid := n.link(ctx, id)
	if pid == nil {
		n.warn.Warn(fmt.Sprint("noaddr:", id), "no address for member, dropping messages to it", "to", id)
		n.rn.ReportUnreachable(id)
		n.cfg.Metrics.Peer(id).SendFailed()
	}
	return pid
}

// address is where member id is reached: its membership record, or a hint.
func (n *raftNode) address(id uint64) (string, bool) {
	if m, ok := n.book.Member(id); ok {
		return m.PeerAddress, true
	}
	addr, ok := n.hints[id]
	return addr, ok
}

func (n *raftNode) link(ctx actor.Context, id uint64) *actor.PID {
	if id == n.cfg.ID {
		return nil
	}
	if pid, ok := n.links[id]; ok {
		return pid
	}
	addr, ok := n.address(id)
	if !ok || n.cfg.Link == nil {
		return nil
	}
	pid := ctx.Spawn(n.cfg.Link(id, addr, n.book.ClusterID()))
	n.links[id] = pid
	return pid
}

func (n *raftNode) reportState(ctx actor.Context) {
	ctx.Send(n.cfg.Proposer, &messages.RaftState{Leader: n.leader, Term: n.term, Serving: n.serving, Leaderless: n.leaderless})
}

func (n *raftNode) status() *messages.Status {
	st := &messages.Status{
		ID:         n.cfg.ID,
		Name:       n.cfg.Name,
		Leader:     n.leader,
		Term:       n.term,
		State:      stateName(n.state),
		Commit:     n.rn.BasicStatus().GetCommit(),
		Applied:    n.applied,
		Revision:   n.revision,
		Keys:       n.keys,
		Disk:       n.disk,
		Serving:    n.serving,
		Leaderless: n.leaderless,
		ClusterID:  n.book.ClusterID(),
		Alarms:     n.alarms,
	}
	progress := n.progress()
	for _, m := range n.book.Members() {
		ms := messages.MemberStatus{Member: m, LinkError: n.linkErrs[m.ID]}
		if p, ok := progress[m.ID]; ok {
			ms.Progress = &messages.MemberProgress{Match: p.Match, Reachable: p.Active || m.ID == n.cfg.ID}
		}
		st.Members = append(st.Members, ms)
	}
	return st
}

// progress is what the leader knows of each member: how far raft knows
// its log to go, and whether it was heard from within the last election
// timeout (a sliding window, unlike raft's RecentActive, which CheckQuorum
// clears every election timeout). nil on any other node.
func (n *raftNode) progress() map[uint64]membership.Progress {
	if n.state != raft.StateLeader {
		return nil
	}
	out := map[uint64]membership.Progress{}
	n.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		at, heard := n.heardAt[id]
		out[id] = membership.Progress{Match: pr.Match,
			Active: id == n.cfg.ID || heard && n.ticks-at <= uint64(n.cfg.ElectionTick)}
	})
	return out
}

func stateName(s raft.StateType) string {
	switch s {
	case raft.StateLeader:
		return "leader"
	case raft.StateCandidate:
		return "candidate"
	case raft.StatePreCandidate:
		return "pre-candidate"
	}
	return "follower"
}

func ptr[T any](v T) *T { return &v }
