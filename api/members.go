package api

// Member is one member of the cluster: its raft id and peer address
// (host:port).
type Member struct {
	ID uint64 `json:"id"`
	// Address is the member's peer address (host:port), ClientAddress the
	// URL of its HTTP API once it published it.
	Address       string `json:"address"`
	ClientAddress string `json:"client_address,omitempty"`
	// Role is "voter" or "learner" (a learner receives the log but does not
	// vote); IsLeader marks the leader.
	Role     string `json:"role,omitempty"`
	IsLeader bool   `json:"is_leader,omitempty"`
	// MatchIndex (the highest log index the member holds) and Reachable
	// (it answered the leader within the last election timeout) are known
	// to the leader only, and set only in its answers.
	MatchIndex *uint64 `json:"match_index,omitempty"`
	Reachable  *bool   `json:"reachable,omitempty"`
	// LinkError says why the answering member does not send raft messages
	// to this member's address: the host there answered as another member,
	// or as a member of another cluster. Fix the address (remove the member
	// and add it again at the right one).
	LinkError string `json:"link_error,omitempty"`
}

// Roles of a member.
const (
	RoleVoter   = "voter"
	RoleLearner = "learner"
)

// MembersReply is the answer of GET /v1/members: the membership as the
// answering member knows it, sorted by id.
type MembersReply struct {
	Revision int64    `json:"revision"`
	Leader   uint64   `json:"leader"`
	Members  []Member `json:"members"`
}

// AddMemberRequest is the body of POST /v1/members: the new member's id,
// its peer address (host:port), optionally the URL of its HTTP API (it
// publishes it itself when it starts with --advertise-client), and whether
// it joins as a learner.
type AddMemberRequest struct {
	ID            uint64 `json:"id"`
	Address       string `json:"address"`
	ClientAddress string `json:"client_address,omitempty"`
	Learner       bool   `json:"learner,omitempty"`
}

// MemberReply is the answer of POST /v1/members and POST
// /v1/members/<id>/promote (with the member as the change left it) and
// DELETE /v1/members/<id> (without).
type MemberReply struct {
	Revision int64   `json:"revision"`
	Member   *Member `json:"member,omitempty"`
}

// StatusReply is the answer of GET /v1/status: what a member tells about
// itself, answered locally (it needs no quorum).
type StatusReply struct {
	// ID is the answering member, Name its human name (--name, by default
	// member-<id>), Version the raftkv release it runs (as GET /version
	// tells).
	ID      uint64 `json:"id"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Leader is the leader it knows (0: none), State its raft role:
	// "leader", "follower", "candidate" or "pre-candidate".
	Leader uint64 `json:"leader"`
	State  string `json:"state"`
	// Term, Commit and Applied are its raft term, commit index and
	// applied index.
	Term    uint64 `json:"term"`
	Commit  uint64 `json:"commit"`
	Applied uint64 `json:"applied"`
	// Serving tells that it has applied the log it had at start, is a
	// member, and takes requests (until then they are answered 503
	// not_ready).
	Serving bool `json:"serving"`
	// Leaderless tells that it has known no leader for longer than an
	// election timeout: writes and linearizable reads are answered 503
	// no_leader at once.
	Leaderless bool  `json:"leaderless,omitempty"`
	Revision   int64 `json:"revision"`
	// Keys is the number of keys in its store at the applied index.
	Keys int `json:"keys"`
	// DataSizeBytes is what its data directory takes on disk: the WAL
	// (whose segments are preallocated, 64 MB each) and the snapshots. It
	// is measured at start, after each snapshot, and every 8 MB written
	// to the WAL.
	DataSizeBytes int64 `json:"data_size_bytes"`
	// ClusterID names the cluster (hex), empty while the member does not
	// know it yet (a joining member).
	ClusterID string `json:"cluster_id,omitempty"`
	// Members are the members as this one knows them, sorted by id.
	Members []Member `json:"members"`
	// Alarms are the cluster's raised alarms, the same on every member
	// (they are in the log). While any is raised, writes that store data
	// are refused with 507 no_space.
	Alarms []Alarm `json:"alarms,omitempty"`
}

// AlarmNoSpace is the alarm of a member whose data dir's file system has
// less free space than its --space-reserve.
const AlarmNoSpace = "NOSPACE"

// Alarm is one raised alarm: which member raised it, and what it is.
type Alarm struct {
	Member uint64 `json:"member"`
	Alarm  string `json:"alarm"`
}
