package peer

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// errBadMessage is wrapped by every reason check gives.
var errBadMessage = errors.New("raftkv: bad raft message")

// check tells whether m may be stepped into the raft node of member self:
// addressed to it, from a real member, and not a message type that only a
// node generates for itself.
func check(self uint64, m *raftpb.Message) error {
	switch {
	case m.GetTo() != self:
		return fmt.Errorf("%w: addressed to member %d, this is %d", errBadMessage, m.GetTo(), self)
	case m.GetFrom() == 0 || m.GetFrom() == self:
		return fmt.Errorf("%w: from member %d", errBadMessage, m.GetFrom())
	case raft.IsLocalMsg(m.GetType()):
		return fmt.Errorf("%w: local message type %s", errBadMessage, m.GetType())
	case m.GetType() == raftpb.MessageType_MsgSnap:
		// A snapshot arrives in chunks (package snapshot), checked and on
		// disk before raft sees it; as a raft message it would name a
		// store file this node does not have.
		return fmt.Errorf("%w: a snapshot must arrive in chunks, not as a raft message", errBadMessage)
	}
	if _, ok := raftpb.MessageType_name[int32(m.GetType())]; !ok {
		return fmt.Errorf("%w: unknown type %d", errBadMessage, m.GetType())
	}
	return nil
}
