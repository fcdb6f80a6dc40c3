package raftnode

import (
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// stage is one Ready on its way out of raftnode: what was handed out, what
// waits for the persister, and which acknowledgements are still missing.
// raftnode calls Advance only once a stage is done.
//
// The rules it encodes (docs/design.md, rules 1 and 2):
//   - A leader sends its messages at once (it may replicate before its own
//     fsync); a follower's leave only once the persister has fsynced. They
//     ride with the Persist, and the persister sends them (one hop less on
//     every write's path). They wait for the ack instead, for raftnode to
//     route them itself, with a snapshot in the Ready (raftnode learns the
//     members it names only then) or a snapshot message among them (a
//     MsgSnap goes to the applier, not to a link; only a leader sends one,
//     but one that stepped down in this Ready may still carry it).
//   - Committed entries that are not yet durable on this node (a single node
//     commits its own entries in the same Ready, etcd#14370; a follower learns
//     the commit of entries it is receiving) go to the applier only after the
//     persister's ack, so no result leaves the node before its own fsync.
type stage struct {
	seq uint64
	rd  raft.Ready

	persistPending bool
	applyPending   bool
	// applyAfterPersist holds the Apply until the persister acknowledged.
	applyAfterPersist bool
	// held are messages that leave only after the persister acknowledged.
	held []*raftpb.Message
}

// plan is what raftnode must do right away for a new stage.
type plan struct {
	persist bool // send Persist now
	// withPersist are messages the Persist carries, for the persister to
	// send once the Ready is durable.
	withPersist   []*raftpb.Message
	apply         bool              // send Apply now
	sendNow       []*raftpb.Message // messages to send now
	nothingToWait bool              // the stage needs no acknowledgement at all
}

// newStage plans the handling of rd. stable is the last log index durable
// on this node before rd; leader tells whether this node leads.
func newStage(seq uint64, rd raft.Ready, leader bool, stable uint64) (*stage, plan) {
	s := &stage{seq: seq, rd: rd}
	s.persistPending = needsPersist(rd)
	s.applyPending = needsApply(rd)
	var p plan
	p.persist = s.persistPending
	switch {
	case leader || !s.persistPending:
		p.sendNow = rd.Messages
	case !isEmptySnap(rd.Snapshot) || slices.ContainsFunc(rd.Messages, isMsgSnap):
		s.held = rd.Messages
	default:
		p.withPersist = rd.Messages
	}
	if s.applyPending {
		if s.persistPending && !durable(rd, stable) {
			s.applyAfterPersist = true
		} else {
			p.apply = true
		}
	}
	p.nothingToWait = s.done()
	return s, p
}

// persisted records the persister's ack and returns the messages and the
// Apply that were waiting for it.
func (s *stage) persisted() (send []*raftpb.Message, apply bool) {
	s.persistPending = false
	send, s.held = s.held, nil
	apply, s.applyAfterPersist = s.applyAfterPersist, false
	return send, apply
}

// applied records the applier's ack.
func (s *stage) applied() { s.applyPending = false }

// done tells whether both acknowledgements arrived, so Advance may be called.
func (s *stage) done() bool { return !s.persistPending && !s.applyPending }

func isMsgSnap(m *raftpb.Message) bool { return m.GetType() == raftpb.MessageType_MsgSnap }

func needsPersist(rd raft.Ready) bool {
	return len(rd.Entries) > 0 || !isEmptyHardState(rd.HardState) || !isEmptySnap(rd.Snapshot)
}

func needsApply(rd raft.Ready) bool {
	return len(rd.CommittedEntries) > 0 || !isEmptySnap(rd.Snapshot)
}

// durable tells whether everything rd asks to apply was on disk before rd.
func durable(rd raft.Ready, stable uint64) bool {
	if !isEmptySnap(rd.Snapshot) {
		return false
	}
	n := len(rd.CommittedEntries)
	return n == 0 || rd.CommittedEntries[n-1].GetIndex() <= stable
}

// lastIndex is the last log index rd makes durable, or 0 if none.
func lastIndex(rd raft.Ready) uint64 {
	if n := len(rd.Entries); n > 0 {
		return rd.Entries[n-1].GetIndex()
	}
	if !isEmptySnap(rd.Snapshot) {
		return rd.Snapshot.GetMetadata().GetIndex()
	}
	return 0
}

func isEmptyHardState(hs *raftpb.HardState) bool {
	return hs == nil || raft.IsEmptyHardState(hs)
}

func isEmptySnap(s *raftpb.Snapshot) bool {
	return s == nil || raft.IsEmptySnap(s)
}
