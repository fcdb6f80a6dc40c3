package raftnode

import (
	"slices"

	"github.com/raftkv/raftkv/messages"
)

// confRequest is a membership change waiting at the leader: the request it
// answers, the change, and the member that asked (origin; 0 for this node).
type confRequest struct {
	id     messages.RequestID
	change messages.MemberChange
	origin uint64
}

// maxQueuedConfChanges bounds the leader's queue of membership changes:
// beyond it a change is refused with ErrNoLeader-like backpressure.
const maxQueuedConfChanges = 64

// confQueue holds the membership changes a leader was asked for, in order.
// raft takes one change at a time (a change proposed while the previous
// one is not applied would become an empty entry), so the leader proposes
// the next only once the one before is applied.
type confQueue struct {
	reqs []confRequest
}

// push queues r and reports whether there was room.
func (q *confQueue) push(r confRequest) bool {
	if len(q.reqs) >= maxQueuedConfChanges {
		return false
	}
	q.reqs = append(q.reqs, r)
	return true
}

// has tells whether the request of id is queued.
func (q *confQueue) has(id messages.RequestID) bool {
	return slices.ContainsFunc(q.reqs, func(r confRequest) bool { return r.id == id })
}

// pop takes the oldest request.
func (q *confQueue) pop() (confRequest, bool) {
	if len(q.reqs) == 0 {
		return confRequest{}, false
	}
	r := q.reqs[0]
	q.reqs = q.reqs[1:]
	return r, true
}

// drain takes every request, oldest first.
func (q *confQueue) drain() []confRequest {
	r := q.reqs
	q.reqs = nil
	return r
}
