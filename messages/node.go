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
// then sends Then, and answers Persisted with the same Seq.
type Persist struct {
	Seq       uint64
	HardState *raftpb.HardState
	Entries   []*raftpb.Entry
	Snapshot  *raftpb.Snapshot
	// MustSync is raft's Ready.MustSync: the WAL fsyncs this write (new
	// entries, a new term or vote), which the persister times.
	MustSync bool
	// Then are raft messages that may leave only once this state is
	// durable (a follower's answers to its leader, a candidate's vote
	// requests). The persister sends them after its fsync and before
	// Persisted, and never if the write fails: one mailbox hop less on the
	// path of every write than if raftnode sent them on Persisted.
	Then []Outgoing
}

// Outgoing is a raft message and the peer link that carries it.
type Outgoing struct {
	To      *actor.PID
	Message *raftpb.Message
}

// Persisted acknowledges the Persist of the same Seq: its data is on disk.
// Usage is set when the persister measured its directories anew (after a
// snapshot, or once the WAL may have cut a segment).
type Persisted struct {
	Seq   uint64
	Usage *DiskUsage
}

// DiskUsage is what a member's data takes on disk, in bytes: the WAL
// directory (its segments are preallocated) and the snapshot directory
// (raft snapshot files and store files).
type DiskUsage struct {
	WAL      int64
	Snapshot int64
}

// Total is the bytes of the WAL and snapshot directories together.
func (u DiskUsage) Total() int64 { return u.WAL + u.Snapshot }

// SaveSnapshot asks the persister to store a snapshot the node made itself,
// release the WAL it covers and purge old files. It answers SnapshotSaved.
type SaveSnapshot struct {
	Snapshot *raftpb.Snapshot
}

// SnapshotSaved acknowledges SaveSnapshot: the snapshot at Index is durable,
// so the log before it may be compacted. Usage is the disk usage measured
// after it (nil if it could not be measured).
type SnapshotSaved struct {
	Index uint64
	Usage *DiskUsage
}

// Apply hands the applier one Ready's committed entries, and the snapshot to
// restore first if the Ready carries one. ConfState and Membership are the
// membership after these entries (replaced on change, never modified, so
// they may be shared), for the snapshots the applier makes; ConfResults
// are the outcomes of the membership changes among the entries, which
// raftnode decided when it applied them to raft. The applier answers
// Applied with the same Seq.
type Apply struct {
	Seq         uint64
	Snapshot    *raftpb.Snapshot
	Entries     []*raftpb.Entry
	ConfState   *raftpb.ConfState
	Membership  *MembershipState
	ConfResults []ConfResult
}

// ConfResult is the outcome of the committed membership change at Index,
// proposed for request ID: nil if it took effect, the reason if it was
// refused (then it changed nothing).
type ConfResult struct {
	Index uint64
	ID    RequestID
	Err   error
}

// Applied acknowledges the Apply of the same Seq; Index is the applied
// index, Revision the store revision and Keys the number of keys in the
// store after it. Alarms, when not nil, are the members whose NOSPACE
// alarm is now raised (it changed).
type Applied struct {
	Seq      uint64
	Index    uint64
	Revision int64
	Keys     int
	Alarms   []uint64
}

// SnapshotStream produces the byte stream of a snapshot of the store in
// parts (store.SnapshotEncoder): Next appends about max bytes to buf and
// tells whether the stream is complete. It reads a point-in-time copy of
// the store, so the actor that writes or sends the snapshot may call it
// while the applier goes on.
type SnapshotStream interface {
	Next(buf []byte, max int) (out []byte, done bool, err error)
}

// WriteSnapshot asks the snapshot actor to write the store's state at
// Index (of Term) to its file. It answers SnapshotCreated to raftnode, with
// the raft snapshot's Data, and SnapshotWritten to the applier.
type WriteSnapshot struct {
	Index      uint64
	Term       uint64
	ConfState  *raftpb.ConfState
	Membership *MembershipState
	Requests   []AppliedRequests
	Alarms     []uint64
	Stream     SnapshotStream
}

// SnapshotWritten tells the applier that the snapshot at Index it asked
// for is written, or could not be (Err, such as a full disk), so it may
// ask for the next one.
type SnapshotWritten struct {
	Index uint64
	// Size is the size of its store file.
	Size uint64
	Err  error
}

// DiskSpace tells the proposer how much space is free on the filesystem of
// the node's data directory, and whether that is below the reserve the
// node keeps (Low): the proposer then has the NOSPACE alarm raised, and
// cleared once it is no longer Low.
type DiskSpace struct {
	Free uint64
	Low  bool
}

// Alarms tells the proposer which members' NOSPACE alarm the state machine
// holds raised, whenever that changes.
type Alarms struct {
	Members []uint64
}

// SnapshotNeeded tells the applier that raft wants to send member To a
// snapshot (Message is raft's MsgSnap). The applier asks the snapshot actor
// to send one of its current state (SendSnapshot), which describes the
// membership the receiver is part of: raft's own snapshot may be older than
// the receiver's membership (etcd's server does the same).
type SnapshotNeeded struct {
	Message *raftpb.Message
	Address string
}

// SendSnapshot asks the snapshot actor to stream a snapshot to member To at
// Address: Message is the MsgSnap to step on the receiver (its snapshot's
// Data an encoded SnapshotMeta without the DB fields), Stream the store's
// state at the snapshot's index. The outcome goes to raftnode as
// SnapshotStatus.
type SendSnapshot struct {
	To      uint64
	Address string
	Message *raftpb.Message
	Stream  SnapshotStream
}

// SnapshotCreated tells raftnode that the store's state at Index is in its
// file, so that a raft snapshot with ConfState and Data (an encoded
// SnapshotMeta) can be made.
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

// ProposeConfChange asks raftnode to have Change proposed by the leader.
// raftnode answers ProposalDropped when no leader can take it now (the
// proposer proposes it again once there is one), or Result with the error
// when the leader refused it; a change that is proposed is answered by the
// applier like any request.
type ProposeConfChange struct {
	ID     RequestID
	Change MemberChange
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
// Serving turns true once the replay of the node's own log is applied and
// the node is a member. Leaderless turns true once no leader has been known
// for longer than an election timeout: what is not handed to raft yet
// should then fail at once (ErrNoLeader) rather than wait.
type RaftState struct {
	Leader     uint64
	Term       uint64
	Serving    bool
	Leaderless bool
}

// Unreachable tells raftnode that the link to member ID failed.
type Unreachable struct {
	ID uint64
}

// SnapshotStatus tells raftnode whether sending a snapshot to member ID
// failed (raft's ReportSnapshot). A failure is reported only after a
// backoff, during which raft sends no new snapshot to that member.
type SnapshotStatus struct {
	ID     uint64
	Failed bool
}

// Removed tells the node's supervisor that raftnode applied the removal of
// this node from the cluster, or that a member said so: the node must shut
// down. Reason says which.
type Removed struct {
	ID     uint64
	Reason string
}

// LinkChecked tells a peer link how the member it reached answered its
// hello: Err is nil when it is the member the link leads to, of this
// cluster; the link carries raft messages only then.
type LinkChecked struct {
	Err error
}

// ClusterIDKnown tells a peer link the cluster id, once raftnode learns it,
// for the hellos it sends.
type ClusterIDKnown struct {
	ClusterID uint64
}

// SeqFloor tells the proposer that commands of its node with request
// counters up to Seq are in the log (the applier restored a snapshot that
// holds them), so that it never gives a new request such a counter.
type SeqFloor struct {
	Seq uint64
}

// Result is what the applier reports to its node's proposer for every
// request of that proposer that it applied. raftnode sends one too, with
// Refused set, for a membership change the leader refused to propose: it
// never reached the log.
type Result struct {
	ID      RequestID
	Result  TxnResult
	Err     error
	Refused bool
}

// Read is one read waiting for a read index.
type Read struct {
	Op      Op
	ReplyTo *actor.PID
}

// Changes tells the watch actor what the applier just applied: the
// changes (Events, in revision order) that took the store to Revision. Reset
// says that the store was replaced by a snapshot's: the changes between the
// last Changes and Revision are not known.
type Changes struct {
	Revision int64
	Events   []Event
	Reset    bool
}

// Watching tells the applier whether the watch actor has any watch open:
// while it has none, the applier sends it no Changes. The watch actor
// sends On before the HistoryRequest of its first watch, so no batch
// applied after the history goes unreported.
type Watching struct{ On bool }

// HistoryRequest asks the applier for the changes from revision From on;
// answered with HistoryReply to ReplyTo.
type HistoryRequest struct {
	Watch   uint64
	From    int64
	ReplyTo *actor.PID
}

// HistoryReply holds the changes from a HistoryRequest's From up to the
// store's Revision, or Err (a *CompactedError when some are no longer kept,
// ErrFutureRevision for a From past Revision+1).
type HistoryReply struct {
	Watch    uint64
	Revision int64
	Events   []Event
	Err      error
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
	// ClientCompact drops the store's history before Revision, through the
	// raft log; answered with TxnReply (its Result's Revision the store's).
	ClientCompact struct{ Revision int64 }
	// ClientConfChange changes the membership; answered with ConfChangeReply.
	ClientConfChange struct{ Change MemberChange }
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
		// Lease answers an OpLeaseInfo read.
		Lease *LeaseInfo
	}
	// ConfChangeReply answers ClientConfChange.
	ConfChangeReply struct {
		Err error
	}
)

// Status describes a node as raftnode sees it.
type Status struct {
	ID uint64
	// Name is the member's human name (node.Config.Name).
	Name string
	// Leader is the leader this node follows (0: none known), Term its
	// current term, State its raft role ("leader", "follower", "candidate",
	// "pre-candidate").
	Leader uint64
	Term   uint64
	State  string
	Commit uint64
	// Applied is the index the applier has applied, Revision the store
	// revision and Keys the number of keys there.
	Applied  uint64
	Revision int64
	Keys     int
	// Disk is what the member's data takes on disk, as the persister last
	// measured it.
	Disk DiskUsage
	// Serving says that the node has applied its own log and is a member.
	Serving bool
	// Leaderless says that no leader has been known for longer than an
	// election timeout.
	Leaderless bool
	ClusterID  uint64
	Members    []MemberStatus
	// Alarms are the members whose NOSPACE alarm is raised.
	Alarms []uint64
}

// MemberStatus is a member as a node sees it; Progress is set on the leader
// only. LinkError says why this node refuses to send raft messages to the
// member's address (it answered as another member, or of another cluster).
type MemberStatus struct {
	Member
	Progress  *MemberProgress
	LinkError string
}

// MemberProgress is what the leader knows of a member: the highest log
// index it holds and whether it responded within the last election timeout.
type MemberProgress struct {
	Match     uint64
	Reachable bool
}
