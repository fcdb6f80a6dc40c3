package messages

import (
	"errors"
	"fmt"
)

// Errors reported to clients. The HTTP layer maps each to a status code.
var (
	ErrNotReady       = errors.New("raftkv: node is not ready (replaying its log, or not yet a member)")
	ErrNoLeader       = errors.New("raftkv: no leader")
	ErrTimeout        = errors.New("raftkv: timed out waiting for the cluster")
	ErrMemberExists   = errors.New("raftkv: member already exists")
	ErrMemberNotFound = errors.New("raftkv: member not found")
	ErrStopped        = errors.New("raftkv: node is stopping")
	// ErrAddressInUse refuses a new member whose peer address is already
	// another member's.
	ErrAddressInUse = errors.New("raftkv: peer address is already a member's")
	// ErrMemberRemoved refuses to add a member under the id of a member that
	// was removed: ids are never reused.
	ErrMemberRemoved = errors.New("raftkv: member id belongs to a removed member")
	// ErrUnsafeChange refuses a membership change that would leave the
	// cluster without a voter, or without a quorum of reachable voters.
	ErrUnsafeChange = errors.New("raftkv: membership change could make the cluster unavailable")
	// ErrLearnerNotReady refuses to promote a learner that is far behind the
	// leader's log.
	ErrLearnerNotReady = errors.New("raftkv: learner has not caught up with the leader")
	// ErrNotLearner refuses to promote a member that is already a voter.
	ErrNotLearner = errors.New("raftkv: member is not a learner")
	// ErrInvalidMember refuses a change whose member id or address cannot be.
	ErrInvalidMember = errors.New("raftkv: invalid member")
	// ErrNoSpace refuses a write while a member's disk is nearly full (the
	// NOSPACE alarm is raised): nothing was written.
	ErrNoSpace = errors.New("raftkv: a member is out of disk space (NOSPACE alarm): writes are refused until it has space again")
	// ErrConfChangePending tells the proposer that raft would drop a
	// membership change because another one is not applied yet.
	ErrConfChangePending = errors.New("raftkv: a membership change is still pending")
	// ErrCompacted refuses a read or watch at a revision older than the
	// history the store keeps (see CompactedError for the oldest kept).
	ErrCompacted = errors.New("raftkv: revision compacted")
	// ErrFutureRevision refuses a read at a revision the store has not
	// reached.
	ErrFutureRevision = errors.New("raftkv: revision is in the future")
)

// CompactedError is ErrCompacted with the oldest revision still readable.
type CompactedError struct{ Oldest int64 }

func (e *CompactedError) Error() string {
	return fmt.Sprintf("%v: the oldest revision kept is %d", ErrCompacted, e.Oldest)
}

// Unwrap makes errors.Is(err, ErrCompacted) hold.
func (e *CompactedError) Unwrap() error { return ErrCompacted }

// codes names the errors that travel between members (a refusal of a
// forwarded membership change) by the code the HTTP API gives them.
var codes = []struct {
	code string
	err  error
}{
	{"not_ready", ErrNotReady},
	{"no_leader", ErrNoLeader},
	{"member_exists", ErrMemberExists},
	{"member_not_found", ErrMemberNotFound},
	{"address_in_use", ErrAddressInUse},
	{"member_removed", ErrMemberRemoved},
	{"unsafe_change", ErrUnsafeChange},
	{"learner_not_ready", ErrLearnerNotReady},
	{"not_learner", ErrNotLearner},
	{"invalid_member", ErrInvalidMember},
	{"stopping", ErrStopped},
	{"no_space", ErrNoSpace},
	{"compacted", ErrCompacted},
	{"future_revision", ErrFutureRevision},
	{"lease_not_found", ErrLeaseNotFound},
	{"lease_exists", ErrLeaseExists},
}

// ErrorCode is the code of the sentinel err wraps, or "internal".
func ErrorCode(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "internal"
}

// ErrorFromCode rebuilds an error that ErrorCode named: it wraps the
// sentinel of code (none for an unknown code) and reads msg.
func ErrorFromCode(code, msg string) error {
	for _, c := range codes {
		if c.code == code {
			return &codedError{msg: msg, err: c.err}
		}
	}
	return errors.New(msg)
}

type codedError struct {
	msg string
	err error
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.err }
