package applier

import (
	"cmp"
	"slices"

	"github.com/raftkv/raftkv/messages"
)

// RequestWindow is how many of a member's most recent request counters the
// state machine tells apart: a command whose counter is more than this far
// below the highest one applied for its member counts as applied.
const RequestWindow = messages.RequestWindow

// requests remembers which commands the state machine applied, by request
// id, so that a command in the log twice — proposed again after a leader
// change, or a proposal a network delivered twice — applies once. It is
// part of the replicated state: every member applies the same log to it
// and gets the same answers, and snapshots carry it.
//
// For each proposing member it keeps the highest counter applied and which
// of the RequestWindow counters up to it were applied. A member's counters
// grow by one per request and are never reused (they start at the wall
// clock), and a command is proposed again only while its request waits (at
// most a minute), so a counter older than the window is one applied long
// ago — or never, and then it is too old to be answered anyway.
type requests struct {
	members map[uint64]*requestBits
}

// requestBits are the counters of one member: bit s%RequestWindow is set
// when counter s, for top-RequestWindow < s <= top, was applied.
type requestBits struct {
	top  uint64
	seen []uint64
}

func newRequests() *requests {
	return &requests{members: map[uint64]*requestBits{}}
}

// first records that the command of id applies and reports whether it is
// the first time; false means it applied before and must be skipped.
func (r *requests) first(id messages.RequestID) bool {
	b, ok := r.members[id.Node]
	if !ok {
		b = &requestBits{top: id.Seq, seen: make([]uint64, RequestWindow/64)}
		r.members[id.Node] = b
		b.set(id.Seq)
		return true
	}
	switch {
	case id.Seq > b.top:
		b.advance(id.Seq)
	case b.top-id.Seq >= RequestWindow:
		return false // older than the window: applied, or too old to apply
	case b.has(id.Seq):
		return false
	}
	b.set(id.Seq)
	return true
}

// advance moves top to seq, forgetting the counters that leave the window.
func (b *requestBits) advance(seq uint64) {
	if seq-b.top >= RequestWindow {
		clear(b.seen)
	} else {
		for s := b.top + 1; s <= seq; s++ {
			b.clearBit(s)
		}
	}
	b.top = seq
}

func (b *requestBits) set(s uint64)      { b.seen[s%RequestWindow/64] |= 1 << (s % 64) }
func (b *requestBits) clearBit(s uint64) { b.seen[s%RequestWindow/64] &^= 1 << (s % 64) }
func (b *requestBits) has(s uint64) bool { return b.seen[s%RequestWindow/64]&(1<<(s%64)) != 0 }

// top is the highest counter applied for member node, 0 if none.
func (r *requests) top(node uint64) uint64 {
	if b, ok := r.members[node]; ok {
		return b.top
	}
	return 0
}

// state returns the table as snapshots carry it, in ascending member
// order; it shares nothing with r.
func (r *requests) state() []messages.AppliedRequests {
	out := make([]messages.AppliedRequests, 0, len(r.members))
	for node, b := range r.members {
		out = append(out, messages.AppliedRequests{Node: node, Top: b.top, Seen: slices.Clone(b.seen)})
	}
	slices.SortFunc(out, func(a, b messages.AppliedRequests) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// requestsFrom rebuilds the table from a snapshot's state, which
// messages.DecodeSnapshotMeta checked.
func requestsFrom(st []messages.AppliedRequests) *requests {
	r := newRequests()
	for _, a := range st {
		r.members[a.Node] = &requestBits{top: a.Top, seen: slices.Clone(a.Seen)}
	}
	return r
}
