package messages

import "fmt"

// FormatVersion is the version of the wire types written into raft entries
// and snapshots. A decoder refuses data of a version it does not know.
const FormatVersion = 1

// RequestID names one client request across the cluster: the id of the node
// whose proposer is waiting for it, and a counter of that proposer that is
// never reused, not even after a restart.
type RequestID struct {
	Node uint64 `msgpack:"node"`
	Seq  uint64 `msgpack:"seq"`
}

// OpType says what an Op does.
type OpType uint8

// The operations of a transaction.
const (
	OpGet    OpType = 1 // read Key, or the range [Key, End)
	OpPut    OpType = 2 // set Key to Value
	OpDelete OpType = 3 // delete Key, or the range [Key, End)
)

// Op is one operation of a transaction. End, when set, makes a Get or Delete
// act on the key range [Key, End); an End of "\x00" means "every key >= Key".
type Op struct {
	Type   OpType `msgpack:"type"`
	Key    []byte `msgpack:"key"`
	End    []byte `msgpack:"end,omitempty"`
	Value  []byte `msgpack:"value,omitempty"`
	PrevKV bool   `msgpack:"prev_kv,omitempty"`
	Limit  int64  `msgpack:"limit,omitempty"`
	// Revision, on a read (ClientRead), reads the store as it was at that
	// revision, within the history it keeps; 0 means the current one.
	Revision int64 `msgpack:"revision,omitempty"`
	// Lease, on a put, attaches the key to that lease: the key is deleted
	// when the lease ends. On an OpLeaseInfo read, the lease to describe.
	Lease int64 `msgpack:"lease,omitempty"`
}

// CompareTarget says which attribute of a key a Compare looks at.
type CompareTarget uint8

// The attributes a Compare can test.
const (
	TargetValue          CompareTarget = 1
	TargetModRevision    CompareTarget = 2
	TargetCreateRevision CompareTarget = 3
	TargetVersion        CompareTarget = 4
	// TargetExists compares existence: Result Equal with Exists true holds
	// when the key exists, with Exists false when it does not.
	TargetExists CompareTarget = 5
)

// CompareResult is the relation a Compare requires.
type CompareResult uint8

// The relations of a Compare.
const (
	Equal    CompareResult = 1
	NotEqual CompareResult = 2
	Greater  CompareResult = 3
	Less     CompareResult = 4
)

// Compare is one condition of a transaction, checked inside the state
// machine when the transaction is applied. A missing key has value nil and
// revisions and version 0.
type Compare struct {
	Key      []byte        `msgpack:"key"`
	Target   CompareTarget `msgpack:"target"`
	Result   CompareResult `msgpack:"result"`
	Value    []byte        `msgpack:"value,omitempty"`
	Revision int64         `msgpack:"revision,omitempty"` // for mod/create revision and version
	Exists   bool          `msgpack:"exists,omitempty"`
}

// Txn is the unit the state machine applies atomically: if every Compare
// holds, the Success operations run, otherwise the Failure ones. A plain put
// is a Txn with no compares and one Success op.
type Txn struct {
	Compares []Compare `msgpack:"compares,omitempty"`
	Success  []Op      `msgpack:"success,omitempty"`
	Failure  []Op      `msgpack:"failure,omitempty"`
}

// Puts tells whether t may put a key, in either branch.
func (t Txn) Puts() bool {
	for _, ops := range [][]Op{t.Success, t.Failure} {
		for _, op := range ops {
			if op.Type == OpPut {
				return true
			}
		}
	}
	return false
}

// Command is what a normal raft entry carries.
type Command struct {
	Version uint8     `msgpack:"version"`
	ID      RequestID `msgpack:"id"`
	Txn     Txn       `msgpack:"txn"`
	// Alarm, when set, raises or clears a member's alarm instead of
	// applying Txn.
	Alarm *AlarmChange `msgpack:"alarm,omitempty"`
	// Compact, when not 0, drops the store's history before that revision
	// instead of applying Txn.
	Compact int64 `msgpack:"compact,omitempty"`
	// Lease, when set, is a lease command instead of Txn.
	Lease *LeaseChange `msgpack:"lease,omitempty"`
}

// AlarmChange raises (Active) or clears the NOSPACE alarm of Member: while
// any member's alarm is raised, the state machine refuses every
// transaction that would put a key (deletes and reads go on), so that the
// log stops growing on a member whose disk is nearly full.
type AlarmChange struct {
	Member uint64 `msgpack:"member"`
	Active bool   `msgpack:"active"`
}

// KeyValue is a key as the state machine stores it.
type KeyValue struct {
	Key            []byte `msgpack:"key"`
	Value          []byte `msgpack:"value"`
	CreateRevision int64  `msgpack:"create_revision"`
	ModRevision    int64  `msgpack:"mod_revision"`
	Version        int64  `msgpack:"version"`
}

// OpResult is the outcome of one Op: the keys a Get found (More tells that
// Limit cut the range), the previous values of a Put or Delete with PrevKV,
// and how many keys a Delete removed.
type OpResult struct {
	KVs     []KeyValue `msgpack:"kvs,omitempty"`
	More    bool       `msgpack:"more,omitempty"`
	Deleted int64      `msgpack:"deleted,omitempty"`
}

// TxnResult is the outcome of applying a Txn: which branch ran, the store
// revision after it, and one OpResult per operation of that branch.
type TxnResult struct {
	Succeeded bool       `msgpack:"succeeded"`
	Revision  int64      `msgpack:"revision"`
	Responses []OpResult `msgpack:"responses,omitempty"`
}

// ConfChangeContext is what a membership change carries in its Context:
// the request to answer and the change as the client asked for it (raft's
// ConfChangeV2 says only which ids change role). The entries that bootstrap
// a new cluster carry its ClusterID.
type ConfChangeContext struct {
	Version   uint8        `msgpack:"version"`
	ID        RequestID    `msgpack:"id"`
	Change    MemberChange `msgpack:"change"`
	ClusterID uint64       `msgpack:"cluster_id,omitempty"`
}

// Member is one member of the cluster as the membership records it: its
// raft id, the address its peers reach it at (host:port), the HTTP address
// clients reach it at (a URL, empty while unknown), and whether it is a
// learner (it receives the log but does not vote).
type Member struct {
	ID            uint64 `msgpack:"id"`
	PeerAddress   string `msgpack:"peer_address"`
	ClientAddress string `msgpack:"client_address,omitempty"`
	Learner       bool   `msgpack:"learner,omitempty"`
}

// MemberChangeType says what a MemberChange does.
type MemberChangeType uint8

// The membership changes.
const (
	// AddVoter adds a new voting member.
	AddVoter MemberChangeType = 1
	// AddLearner adds a new member that receives the log but does not vote.
	AddLearner MemberChangeType = 2
	// Promote makes a learner a voter.
	Promote MemberChangeType = 3
	// Remove removes a member; its id may never be used again.
	Remove MemberChangeType = 4
	// Update replaces a member's client address (a member publishes its own
	// when it starts).
	Update MemberChangeType = 5
)

// String names t as the API does.
func (t MemberChangeType) String() string {
	switch t {
	case AddVoter:
		return "add"
	case AddLearner:
		return "add learner"
	case Promote:
		return "promote"
	case Remove:
		return "remove"
	case Update:
		return "update"
	}
	return fmt.Sprintf("change type %d", uint8(t))
}

// MemberChange is one membership change: Member.ID names the member;
// AddVoter and AddLearner also take its PeerAddress (and ClientAddress if
// known), Update its new ClientAddress.
type MemberChange struct {
	Type   MemberChangeType `msgpack:"type"`
	Member Member           `msgpack:"member"`
}
