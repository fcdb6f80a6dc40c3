package raftnode

import (
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/confchange"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// restoreMembership replaces the membership with the one snapshot s
// records.
func (n *raftNode) restoreMembership(s *raftpb.Snapshot) error {
	meta, err := messages.DecodeSnapshotMeta(s.GetData())
	if err != nil {
		return fmt.Errorf("snapshot %d: %w", s.GetMetadata().GetIndex(), err)
	}
	book, err := membership.FromState(meta.Membership)
	if err != nil {
		return fmt.Errorf("snapshot %d: %w", s.GetMetadata().GetIndex(), err)
	}
	n.book = book
	n.confState = proto.Clone(s.GetMetadata().GetConfState()).(*raftpb.ConfState)
	return nil
}

// membershipChanged follows a change of the membership: a new value for
// the applier, links of members that are gone stopped, and the cluster id
// passed on to links that did not know it.
func (n *raftNode) membershipChanged(ctx actor.Context) {
	old := n.membership
	n.membership = ptr(n.book.State())
	for id, pid := range n.links {
		if _, gone := n.book.Removed(id); gone {
			ctx.Stop(pid)
			delete(n.links, id)
			delete(n.linkErrs, id)
			n.cfg.Metrics.ForgetPeer(id)
		}
	}
	if cid := n.book.ClusterID(); cid != 0 && old.ClusterID != cid {
		for _, pid := range n.links {
			ctx.Send(pid, &messages.ClusterIDKnown{ClusterID: cid})
		}
	}
}

// applyConfChange applies one committed membership change: to the
// membership and to raft if the membership takes it, else an empty change
// to raft, so that a refused change changes nothing on any member. It
// records the outcome for the applier and reports whether the change
// removed this node.
func (n *raftNode) applyConfChange(ctx actor.Context, e *raftpb.Entry) bool {
	ent, err := membership.DecodeEntry(e)
	if err == nil && n.book.Recorded(ent.Request) {
		// A copy of a change committed before (asked twice): it applied,
		// or was refused, once; its request has its answer.
		n.log.Info("skipping a copy of a committed membership change", "index", e.GetIndex(),
			"request_node", ent.Request.Node, "request_seq", ent.Request.Seq)
		n.confState = n.rn.ApplyConfChange(membership.NoOp())
		return false
	}
	if err == nil {
		n.book.Record(ent.Request)
		err = n.book.Check(ent.Change)
	}
	if err == nil {
		err = n.checkRaft(ent.Raft)
	}
	if err == nil {
		err = n.book.Apply(ent.Change, ent.ClusterID)
	}
	n.confResults = append(n.confResults, messages.ConfResult{Index: e.GetIndex(), ID: ent.Request, Err: err})
	if err != nil {
		if !isRefusal(err) {
			n.log.Error("refusing a committed membership change that cannot apply", "index", e.GetIndex(), "err", err)
		}
		n.confState = n.rn.ApplyConfChange(membership.NoOp())
		return false
	}
	wasMember := containsID(n.confState, n.cfg.ID)
	n.confState = n.rn.ApplyConfChange(ent.Raft)
	n.membershipChanged(ctx)
	m, _ := n.book.Member(ent.Change.Member.ID)
	n.log.Info("membership changed", "change", ent.Change.Type.String(), "member", ent.Change.Member.ID,
		"peer_address", m.PeerAddress, "client_address", m.ClientAddress, "learner", m.Learner, "index", e.GetIndex())
	return ent.Change.Type == messages.Remove && ent.Change.Member.ID == n.cfg.ID && wasMember
}

// isRefusal tells whether err is one of the membership's reasons to refuse
// a change, as opposed to an entry that cannot be read.
func isRefusal(err error) bool {
	return messages.ErrorCode(err) != "internal"
}

// checkRaft tells whether raft can apply cc to its current configuration
// (raft panics on a change it cannot apply, such as one removing every
// voter): a committed entry from disk or from a peer must never crash the
// node.
func (n *raftNode) checkRaft(cc raftpb.ConfChangeI) error {
	chg := confchange.Changer{Tracker: tracker.MakeProgressTracker(1, 0), LastIndex: n.stable}
	cfg, prs, err := confchange.Restore(chg, n.confState)
	if err != nil {
		return fmt.Errorf("restore raft configuration: %w", err)
	}
	chg.Tracker.Config, chg.Tracker.Progress = cfg, prs
	if _, _, err := chg.Simple(cc.AsV2().GetChanges()...); err != nil {
		return fmt.Errorf("%w: raft cannot apply it: %w", messages.ErrInvalidMember, err)
	}
	return nil
}

func containsID(cs *raftpb.ConfState, id uint64) bool {
	for _, ids := range [][]uint64{cs.GetVoters(), cs.GetLearners(), cs.GetVotersOutgoing(), cs.GetLearnersNext()} {
		for _, v := range ids {
			if v == id {
				return true
			}
		}
	}
	return false
}

// requestConfChange takes a membership change asked of this node (origin
// 0) or forwarded by another member. The leader queues it and proposes the
// changes one at a time; a follower forwards its own to the leader; without
// a leader it is dropped, to be asked again.
func (n *raftNode) requestConfChange(ctx actor.Context, r confRequest) {
	switch {
	case n.state == raft.StateLeader:
		if n.book.Recorded(r.id) || n.confQueue.has(r.id) || n.confProposed == r.id {
			// A copy (a forward the network duplicated, or a request asked
			// again after a leader change): the first one answers.
			return
		}
		if !n.confQueue.push(r) {
			n.refuseConfChange(ctx, r, fmt.Errorf("%w: %d membership changes are waiting already", messages.ErrNoLeader, maxQueuedConfChanges))
			return
		}
		n.proposeQueuedConfChange(ctx)
	case r.origin == 0 && n.leader != 0:
		n.sendPeer(ctx, n.leader, messages.PeerMessage{Kind: messages.PeerConfChange, Request: &r.id, Change: &r.change})
	default:
		n.refuseConfChange(ctx, r, messages.ErrNoLeader)
	}
}

// proposeQueuedConfChange proposes the next queued change once the one
// before it is applied, refusing those the membership would refuse or that
// could cost the cluster its quorum.
func (n *raftNode) proposeQueuedConfChange(ctx actor.Context) {
	// raft's own applied index (it moves on Advance, after both acks) is
	// what raft compares with its barrier.
	for n.state == raft.StateLeader && !n.confPending && n.rn.BasicStatus().Applied >= n.confBarrier {
		r, ok := n.confQueue.pop()
		if !ok {
			return
		}
		if n.book.Recorded(r.id) {
			continue // a copy of a change that committed while it waited
		}
		progress := n.progress()
		err := n.book.Check(r.change)
		if err == nil {
			err = n.book.CheckSafety(r.change, n.cfg.ID, progress[n.cfg.ID].Match, progress)
		}
		var cc *raftpb.ConfChangeV2
		if err == nil {
			cc, err = membership.ConfChange(r.id, r.change)
		}
		if err == nil {
			err = n.rn.ProposeConfChange(cc)
			if errors.Is(err, raft.ErrProposalDropped) {
				err = fmt.Errorf("%w: %w", messages.ErrNoLeader, err)
			}
		}
		if err != nil {
			n.refuseConfChange(ctx, r, err)
			continue
		}
		n.confPending, n.confProposed = true, r.id
	}
}

// failConfQueue refuses what a leader that lost its leadership had queued:
// the requests are asked again of the next leader.
func (n *raftNode) failConfQueue(ctx actor.Context) {
	for _, r := range n.confQueue.drain() {
		n.refuseConfChange(ctx, r, messages.ErrNoLeader)
	}
}

// refuseConfChange answers a membership change that was not proposed:
// ErrNoLeader (the proposer asks again once there is a leader) as a dropped
// proposal, any other error as the request's result.
func (n *raftNode) refuseConfChange(ctx actor.Context, r confRequest, err error) {
	if r.origin != 0 {
		n.sendPeer(ctx, r.origin, messages.PeerMessage{Kind: messages.PeerConfChangeRefused, Request: &r.id,
			Code: messages.ErrorCode(err), Error: err.Error()})
		return
	}
	if errors.Is(err, messages.ErrNoLeader) {
		ctx.Send(n.cfg.Proposer, &messages.ProposalDropped{ID: r.id, Err: err})
		return
	}
	ctx.Send(n.cfg.Proposer, &messages.Result{ID: r.id, Err: err, Refused: true})
}

// peerMessage handles a message of raftkv's own from another member. The
// address it gives for itself is where an answer goes while the membership
// does not know it.
func (n *raftNode) peerMessage(ctx actor.Context, m *messages.PeerMessage) {
	if _, member := n.book.Member(m.From); !member && m.FromAddress != "" {
		n.hints[m.From] = m.FromAddress
	}
	switch m.Kind {
	case messages.PeerHello:
		n.hello(ctx, m)
	case messages.PeerHelloReply:
		n.helloReply(ctx, m)
	case messages.PeerConfChange:
		n.requestConfChange(ctx, confRequest{id: *m.Request, change: *m.Change, origin: m.From})
	case messages.PeerConfChangeRefused:
		n.refuseConfChange(ctx, confRequest{id: *m.Request}, messages.ErrorFromCode(m.Code, m.Error))
	case messages.PeerRemoved:
		if m.To == n.cfg.ID {
			n.log.Warn("a member reports that this member was removed from the cluster", "by", m.From)
			ctx.Send(ctx.Parent(), &messages.Removed{ID: n.cfg.ID, Reason: fmt.Sprintf("member %d reports it was removed", m.From)})
		}
	}
}

// hello answers another member's link: which member this is, and whether
// it is of the same cluster. A removed member is told so instead.
func (n *raftNode) hello(ctx actor.Context, m *messages.PeerMessage) {
	if _, gone := n.book.Removed(m.From); gone {
		n.noticeRemoved(ctx, m.From)
		return
	}
	reply := messages.PeerMessage{Kind: messages.PeerHelloReply, Expected: m.To}
	if mine := n.book.ClusterID(); mine != 0 && m.ClusterID != 0 && mine != m.ClusterID {
		reply.Error = fmt.Sprintf("member %d is of cluster %016x, not %016x", n.cfg.ID, mine, m.ClusterID)
		n.warn.Warn(fmt.Sprint("cluster:", m.From), "refusing a member of another cluster (or one started with another --cluster)",
			"from", m.From, "from_address", m.FromAddress, "its_cluster", fmt.Sprintf("%016x", m.ClusterID),
			"this_cluster", fmt.Sprintf("%016x", mine))
	}
	if m.To != n.cfg.ID {
		n.warn.Warn(fmt.Sprint("wrongid:", m.From), "a member reached this member expecting another one: its address book is wrong",
			"from", m.From, "expected", m.To, "dialed_address", m.DialedAddress)
	}
	n.sendPeerTo(ctx, m.From, m.FromAddress, reply)
}

// helloReply passes the answer to a link's hello on to that link, as a
// verdict: the link carries raft messages only to the member it expects.
func (n *raftNode) helloReply(ctx actor.Context, m *messages.PeerMessage) {
	pid, ok := n.links[m.Expected]
	if !ok {
		return
	}
	var err error
	switch mine := n.book.ClusterID(); {
	case m.Error != "":
		err = errors.New(m.Error)
	case m.From != m.Expected:
		who := fmt.Sprintf("member %d", m.From)
		if m.From == n.cfg.ID {
			who = "this member itself"
		}
		err = fmt.Errorf("the address of member %d reaches %s: check the addresses in --cluster and the membership", m.Expected, who)
	case mine != 0 && m.ClusterID != 0 && mine != m.ClusterID:
		err = fmt.Errorf("member %d is of cluster %016x, not %016x", m.From, m.ClusterID, mine)
	}
	if err == nil {
		delete(n.linkErrs, m.Expected)
	} else {
		n.linkErrs[m.Expected] = err.Error()
	}
	ctx.Send(pid, &messages.LinkChecked{Err: err})
}

// helloMembers says hello to every other member, as a node that has not
// heard from a leader does once per election timeout: a member removed
// while it was cut off learns so from the answer (PeerRemoved). A voter
// would learn it anyway, from the answers to its campaign; a learner never
// campaigns (and keeps the leader it knew), so it would serve, stale, for
// good.
func (n *raftNode) helloMembers(ctx actor.Context) {
	for _, m := range n.book.Members() {
		if m.ID != n.cfg.ID {
			n.sendPeerTo(ctx, m.ID, m.PeerAddress, messages.PeerMessage{Kind: messages.PeerHello, DialedAddress: m.PeerAddress})
		}
	}
}

// noticeRemoved tells a removed member that still sends messages that it
// was removed, at most once per election timeout: raft alone may never
// tell it, since the leader stops replicating to it.
func (n *raftNode) noticeRemoved(ctx actor.Context, id uint64) {
	if at, told := n.toldRemoved[id]; told && n.ticks-at < uint64(n.cfg.ElectionTick) {
		return
	}
	n.toldRemoved[id] = n.ticks
	addr, _ := n.book.Removed(id)
	n.log.Info("telling a removed member that it was removed", "member", id)
	n.sendPeerTo(ctx, id, addr, messages.PeerMessage{Kind: messages.PeerRemoved})
}

// sendPeer sends a message of raftkv's own to member id.
func (n *raftNode) sendPeer(ctx actor.Context, id uint64, m messages.PeerMessage) {
	addr, _ := n.address(id)
	n.sendPeerTo(ctx, id, addr, m)
}

func (n *raftNode) sendPeerTo(ctx actor.Context, id uint64, addr string, m messages.PeerMessage) {
	if n.cfg.Route == nil || addr == "" {
		n.warn.Warn(fmt.Sprint("noaddr:", id), "no address for member, dropping a message to it", "to", id)
		return
	}
	m.From, m.To, m.FromAddress, m.ClusterID = n.cfg.ID, id, n.cfg.Address, n.book.ClusterID()
	w, err := messages.EncodePeerMessage(m)
	if err != nil {
		n.log.Error("encode peer message", "err", err)
		return
	}
	ctx.Send(n.cfg.Route(id, addr), w)
}

// maybePublish asks the leader to record this member's client address,
// while the membership records another: at most once per two election
// timeouts, since nobody answers the request (its id is this node's, with
// counter 0, which the proposer never waits for).
func (n *raftNode) maybePublish(ctx actor.Context) {
	m, ok := n.book.Member(n.cfg.ID)
	if !ok || !n.serving || n.leader == 0 || n.cfg.ClientAddress == "" || m.ClientAddress == n.cfg.ClientAddress {
		return
	}
	if n.publishedAt != 0 && n.ticks-n.publishedAt < 2*uint64(n.cfg.ElectionTick) {
		return
	}
	n.publishedAt = max(n.ticks, 1)
	n.log.Info("publishing this member's client address", "client_address", n.cfg.ClientAddress)
	n.requestConfChange(ctx, confRequest{
		id:     messages.RequestID{Node: n.cfg.ID},
		change: messages.MemberChange{Type: messages.Update, Member: messages.Member{ID: n.cfg.ID, ClientAddress: n.cfg.ClientAddress}},
	})
}
