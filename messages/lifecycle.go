package messages

// TransferLeadership asks raftnode, before its node stops, to hand the
// leadership to the voter that holds the most of the log among those that
// respond, so that the others need not wait out an election timeout. It
// answers LeadershipTransferred once another member leads, at once when
// this node does not lead, and with Err when no voter can take over or
// none did within an election timeout.
type TransferLeadership struct{}

// LeadershipTransferred answers TransferLeadership: To is the member that
// leads now (0 if unknown), Err why the leadership did not move.
type LeadershipTransferred struct {
	To  uint64
	Err error
}
