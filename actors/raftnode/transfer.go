package raftnode

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// errNoTransferee: no other voter responds, so no one can take over.
var errNoTransferee = errors.New("no other voter responds to take over the leadership")

// transferTarget picks the voter to hand the leadership to: of the voters
// other than self that responded within an election timeout, the one
// whose log matches the leader's furthest (the lowest id among equals, so
// that the choice is the same every time).
func transferTarget(self uint64, voters []uint64, progress map[uint64]membership.Progress) (uint64, bool) {
	var best uint64
	var bestMatch uint64
	for _, id := range voters {
		p, ok := progress[id]
		if id == self || !ok || !p.Active {
			continue
		}
		if best == 0 || p.Match > bestMatch || p.Match == bestMatch && id < best {
			best, bestMatch = id, p.Match
		}
	}
	return best, best != 0
}

// transfer is a TransferLeadership under way: whom to answer, and the tick
// after which it has failed.
type transfer struct {
	replyTo *actor.PID
	until   uint64
}

// transferLeadership starts handing the leadership over, or answers at
// once when there is nothing to hand over.
func (n *raftNode) transferLeadership(ctx actor.Context) {
	reply := func(m *messages.LeadershipTransferred) {
		if ctx.Sender() != nil {
			ctx.Respond(m)
		}
	}
	if n.state != raft.StateLeader {
		reply(&messages.LeadershipTransferred{To: n.leader})
		return
	}
	to, ok := transferTarget(n.cfg.ID, n.confState.GetVoters(), n.progress())
	if !ok {
		reply(&messages.LeadershipTransferred{Err: errNoTransferee})
		return
	}
	n.log.Info("handing the leadership over before stopping", "to", to)
	n.rn.TransferLeader(to)
	n.transfer = &transfer{replyTo: ctx.Sender(), until: n.ticks + uint64(n.cfg.ElectionTick)}
}

// checkTransfer answers the transfer under way once another member leads,
// or once it has taken an election timeout.
func (n *raftNode) checkTransfer(ctx actor.Context) {
	t := n.transfer
	if t == nil {
		return
	}
	var m *messages.LeadershipTransferred
	switch {
	case n.leader != 0 && n.leader != n.cfg.ID:
		m = &messages.LeadershipTransferred{To: n.leader}
	case n.ticks > t.until:
		m = &messages.LeadershipTransferred{Err: fmt.Errorf("the leadership did not move within an election timeout (%d ticks)", n.cfg.ElectionTick)}
	default:
		return
	}
	n.transfer = nil
	if t.replyTo != nil {
		ctx.Send(t.replyTo, m)
	}
}
