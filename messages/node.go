package messages

import (
	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
)

// Tick advances raftnode's logical clock by one raft tick. A timer sends it
// every tick interval; tests send it by hand.
type Tick struct{}

// Persist asks the persister to make one Ready's state durable: the snapshot
// file first (if any), then the entries and hard state, fsynced. The persister
// answers Persisted with the same Seq.
type Persist struct {
	Seq       uint64
	HardState *raftpb.HardState
	Entries   []*raftpb.Entry
	Snapshot  *raftpb.Snapshot
}

// Persisted acknowledges the Persist of the same Seq: its data is on disk.
type Persisted struct {
	Seq uint64
}

// SaveSnapshot asks the persister to store a snapshot the node made itself,
// release the WAL it covers and purge old files. It answers SnapshotSaved.
type SaveSnapshot struct {
	Snapshot *raftpb.Snapshot
}

// SnapshotSaved acknowledges SaveSnapshot: the snapshot at Index is durable,
// so the log before it may be compacted.
type SnapshotSaved struct {
	Index uint64
}

// Apply hands the applier one Ready's committed entries, and the snapshot to
// restore first if the Ready carries one. ConfState is the membership after
// these entries, for snapshots the applier makes at the end of the batch.
// The applier answers Applied with the same Seq.
type Apply struct {
	Seq       uint64
	Snapshot  *raftpb.Snapshot
	Entries   []*raftpb.Entry
	ConfState *raftpb.ConfState
}

// Applied acknowledges the Apply of the same Seq; Index is the applied
// index and Revision the store revision after it. Members is set when the
// batch restored a snapshot: the member addresses it carried.
type Applied struct {
	Seq      uint64
	Index    uint64
	Revision int64
	Members  map[uint64]string
}

// SnapshotCreated tells raftnode that the applier serialized its state at
// Index, with the membership ConfState, so that a raft snapshot can be made.
type SnapshotCreated struct {
	Index     uint64
	ConfState *raftpb.ConfState
	Data      []byte
}

// Propose asks raftnode to propose a normal entry. If raft refuses it at once
// (no leader known), raftnode answers ProposalDropped to the sender.
type Propose struct {
	ID   RequestID
	Data []byte
}

// ProposeConfChange asks raftnode to propose a membership change; a refusal
// is answered with ProposalDropped like Propose.
type ProposeConfChange struct {
	ID         RequestID
	ConfChange *raftpb.ConfChange
}

// ProposalDropped tells the proposer that raft refused the proposal ID
// without logging it, so it may be proposed again.
type ProposalDropped struct {
	ID  RequestID
	Err error
}

// ReadIndex asks raftnode for a read index (raft's ReadIndex); the answer is
// ReadState with the same Ctx, sent to the proposer.
type ReadIndex struct {
	Ctx uint64
}

// ReadState is raft's answer to ReadIndex: a read that waits until the
// applied index reaches Index observes every write acknowledged before it.
type ReadState struct {
	Ctx   uint64
	Index uint64
}

// RaftState tells the proposer who leads and whether the node serves:
// Serving turns true once the replay of the node's own log is applied.
type RaftState struct {
	Leader  uint64
	Term    uint64
	Serving bool
}

// Unreachable tells raftnode that the link to member ID failed.
type Unreachable struct {
	ID uint64
}

// SnapshotStatus tells raftnode whether sending a snapshot to member ID
// failed.
type SnapshotStatus struct {
	ID     uint64
	Failed bool
}

// Removed tells the node's supervisor that raftnode applied the removal of
// this node from the cluster: the node must shut down.
type Removed struct {
	ID uint64
}

// Result is what the applier reports to its node's proposer for every
// request of that proposer that it applied.
type Result struct {
	ID     RequestID
	Result TxnResult
	Err    error
}

// Read is one read waiting for a read index.
type Read struct {
	Op      Op
	ReplyTo *actor.PID
}

// ReadBatch asks the applier to serve Reads once its applied index is at
// least Index; each read is answered with a ReadReply to its ReplyTo.
type ReadBatch struct {
	Index uint64
	Reads []Read
}

// Client requests, sent by the HTTP layer to the proposer with a request
// future. Each is answered with the reply type named in its comment.
type (
	// ClientTxn applies a transaction through the raft log; answered with TxnReply.
	ClientTxn struct{ Txn Txn }
	// ClientRead reads a key or range; Serializable skips the ReadIndex round
	// and may return stale data. Answered with ReadReply.
	ClientRead struct {
		Op           Op
		Serializable bool
	}
	// ClientConfChange adds or removes a member; answered with ConfChangeReply.
	ClientConfChange struct {
		Type    raftpb.ConfChangeType
		NodeID  uint64
		Address string
	}
	// ClientStatus asks for the node's status; answered with Status.
	ClientStatus struct{}
)

// Replies to client requests.
type (
	// TxnReply answers ClientTxn.
	TxnReply struct {
		Result TxnResult
		Err    error
	}
	// ReadReply answers ClientRead and each Read of a ReadBatch.
	ReadReply struct {
		Result   OpResult
		Revision int64
		Err      error
	}
	// ConfChangeReply answers ClientConfChange.
	ConfChangeReply struct {
		Err error
	}
)

// Status describes a node as raftnode sees it.
type Status struct {
	ID       uint64
	Leader   uint64
	Term     uint64
	Commit   uint64
	Applied  uint64
	Serving  bool
	Members  map[uint64]string
	Revision int64
	// Idle tells that no Ready is in flight and none is pending.
	Idle bool
	// Sent counts the raft messages handed to peer links since start, and
	// Received the raft messages from peers stepped since start.
	Sent     uint64
	Received uint64
	// Ticks counts the ticks since start.
	Ticks uint64
}
