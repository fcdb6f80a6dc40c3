package api

// Member is one member of the cluster: its raft id and peer address
// (host:port).
type Member struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"`
}

// MembersReply is the answer of GET /v1/members: the membership as the
// answering member knows it, sorted by id.
type MembersReply struct {
	Revision int64    `json:"revision"`
	Leader   uint64   `json:"leader"`
	Members  []Member `json:"members"`
}

// AddMemberRequest is the body of POST /v1/members: the new member's id
// and peer address (host:port).
type AddMemberRequest struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"`
}

// MemberReply is the answer of POST /v1/members (with the member added)
// and DELETE /v1/members/<id> (without).
type MemberReply struct {
	Revision int64   `json:"revision"`
	Member   *Member `json:"member,omitempty"`
}

// StatusReply is the answer of GET /v1/status: what a member tells about
// itself, answered locally (it needs no quorum).
type StatusReply struct {
	// ID is the answering member, Leader the leader it knows (0: none).
	ID     uint64 `json:"id"`
	Leader uint64 `json:"leader"`
	// Term, Commit and Applied are its raft term, commit index and
	// applied index.
	Term    uint64 `json:"term"`
	Commit  uint64 `json:"commit"`
	Applied uint64 `json:"applied"`
	// Serving tells that it has applied the log it had at start and takes
	// requests (until then they are answered 503 not_ready).
	Serving  bool  `json:"serving"`
	Revision int64 `json:"revision"`
	// Members maps member ids, in decimal (JSON object keys are strings),
	// to peer addresses.
	Members map[string]string `json:"members"`
}
