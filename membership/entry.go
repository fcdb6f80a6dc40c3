package membership

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/messages"
)

// Entry is a membership change as a committed raft entry carries it: the
// request that proposed it, the change, the cluster id (bootstrap entries
// only), and the change raft applies.
type Entry struct {
	Index     uint64
	Request   messages.RequestID
	Change    messages.MemberChange
	ClusterID uint64
	Raft      raftpb.ConfChangeI
}

// raftType is the raft change that carries a change of type t.
func raftType(t messages.MemberChangeType) raftpb.ConfChangeType {
	switch t {
	case messages.AddLearner:
		return raftpb.ConfChangeType_ConfChangeAddLearnerNode
	case messages.Remove:
		return raftpb.ConfChangeType_ConfChangeRemoveNode
	case messages.Update:
		return raftpb.ConfChangeType_ConfChangeUpdateNode
	}
	return raftpb.ConfChangeType_ConfChangeAddNode // AddVoter, Promote
}

// ConfChange is the raft change to propose for ch on behalf of request id.
func ConfChange(id messages.RequestID, ch messages.MemberChange) (*raftpb.ConfChangeV2, error) {
	cctx, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{ID: id, Change: ch})
	if err != nil {
		return nil, err
	}
	nodeID := ch.Member.ID
	return &raftpb.ConfChangeV2{
		Changes: []*raftpb.ConfChangeSingle{{Type: raftType(ch.Type).Enum(), NodeId: &nodeID}},
		Context: cctx,
	}, nil
}

// NoOp is the change raftnode applies to raft in place of a committed
// change that the Book refused: raft ignores a change of node 0 (etcd's
// server does the same with a change it refuses).
func NoOp() *raftpb.ConfChangeV2 {
	zero := uint64(0)
	return &raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{
		{Type: raftpb.ConfChangeType_ConfChangeAddNode.Enum(), NodeId: &zero},
	}}
}

// DecodeEntry reads a committed entry of type EntryConfChange or
// EntryConfChangeV2. The change is what its context says; it must agree
// with the change raft applies (one change, of the matching type and id).
// An entry without a context (never written by raftkv) is read from raft's
// change alone, as an add or removal with no address. DecodeEntry never
// panics: a malformed entry is an error, and the caller applies NoOp.
func DecodeEntry(e *raftpb.Entry) (Entry, error) {
	cc, err := messages.DecodeConfChange(e)
	if err != nil {
		return Entry{}, err
	}
	out := Entry{Index: e.GetIndex(), Raft: cc}
	v2 := cc.AsV2()
	if len(v2.GetChanges()) != 1 || v2.GetTransition() != raftpb.ConfChangeTransition_ConfChangeTransitionAuto {
		return out, fmt.Errorf("conf change at %d: %d changes, transition %s: raftkv changes one member at a time",
			e.GetIndex(), len(v2.GetChanges()), v2.GetTransition())
	}
	single := v2.GetChanges()[0]
	if len(v2.GetContext()) == 0 {
		out.Change = messages.MemberChange{Member: messages.Member{ID: single.GetNodeId()}}
		switch single.GetType() {
		case raftpb.ConfChangeType_ConfChangeAddNode:
			out.Change.Type = messages.AddVoter
		case raftpb.ConfChangeType_ConfChangeRemoveNode:
			out.Change.Type = messages.Remove
		default:
			return out, fmt.Errorf("conf change at %d: %s without context", e.GetIndex(), single.GetType())
		}
		return out, nil
	}
	cctx, err := messages.DecodeConfChangeContext(v2.GetContext())
	if err != nil {
		return out, fmt.Errorf("conf change at %d: %w", e.GetIndex(), err)
	}
	out.Request, out.Change, out.ClusterID = cctx.ID, cctx.Change, cctx.ClusterID
	if single.GetNodeId() != cctx.Change.Member.ID || single.GetType() != raftType(cctx.Change.Type) {
		return out, fmt.Errorf("conf change at %d: raft's %s of %d does not match the %s of member %d it describes",
			e.GetIndex(), single.GetType(), single.GetNodeId(), cctx.Change.Type, cctx.Change.Member.ID)
	}
	return out, nil
}
