package client

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors of the client, compared with errors.Is. An error answer of the
// server is an *Error, which matches the sentinel of its code.
var (
	// ErrNotFound: the key does not exist (404 key_not_found).
	ErrNotFound = errors.New("raftkv client: key not found")
	// ErrPreconditionFailed: an IfMatch / IfExists / IfNotExists condition
	// did not hold and nothing changed (412). The *Error has the key's
	// current state in KV (nil when it does not exist).
	ErrPreconditionFailed = errors.New("raftkv client: precondition failed")
	// ErrInvalid: the server refused the request as malformed (400).
	ErrInvalid = errors.New("raftkv client: invalid request")
	// ErrTooLarge: a value or body is over the server's limit (413).
	ErrTooLarge = errors.New("raftkv client: too large")
	// ErrUnavailable: no member could serve the request: every endpoint
	// was unreachable or answered 503 (not ready, no leader, stopping).
	ErrUnavailable = errors.New("raftkv client: no member available")
	// ErrTimeout: the server's deadline for the request passed (504).
	ErrTimeout = errors.New("raftkv client: deadline exceeded on the server")
	// ErrUnknownOutcome: a write may have reached a member, but its
	// answer was lost (timeout, a member that went away, 504): it may
	// still apply, or may never. The client does not retry such a write;
	// read the key to find out. The error also matches its cause (for
	// example ErrTimeout or context.DeadlineExceeded).
	ErrUnknownOutcome = errors.New("raftkv client: outcome unknown: the write may or may not have applied")
	// ErrMemberExists: the member to add is already a member (409).
	ErrMemberExists = errors.New("raftkv client: member already exists")
	// ErrMemberNotFound: the member to remove or promote is not a member
	// (404).
	ErrMemberNotFound = errors.New("raftkv client: member not found")
	// ErrMembershipConflict: the membership change was refused and changed
	// nothing (409): the member exists, its address is another member's, its
	// id was removed, the change could cost the cluster its quorum, or the
	// learner to promote is behind or not a learner. Code says which.
	ErrMembershipConflict = errors.New("raftkv client: membership change refused")
	// ErrUnsafeChange: the membership change could leave the cluster
	// without a voter or without a quorum of reachable voters (409
	// unsafe_change).
	ErrUnsafeChange = errors.New("raftkv client: membership change could make the cluster unavailable")
	// ErrLearnerNotReady: the learner to promote has not caught up with the
	// leader (409 learner_not_ready); try again later.
	ErrLearnerNotReady = errors.New("raftkv client: learner not caught up")
	// ErrNoSpace: the cluster's NOSPACE alarm is raised (507 no_space), a
	// member is short of disk; the write did not apply. Reads still work.
	ErrNoSpace = errors.New("raftkv client: a member is out of disk space; writes are refused")
	// ErrCompacted: the revision asked for is older than the history the
	// members keep (410 compacted); the *Error's CompactRevision is the
	// oldest one kept.
	ErrCompacted = errors.New("raftkv client: revision compacted")
	// ErrLeaseNotFound: the lease does not exist (404 lease_not_found):
	// never granted, revoked, or expired; a put with it wrote nothing.
	ErrLeaseNotFound = errors.New("raftkv client: lease not found")
)

// Error is an error answer of a member: {"error", "code"} with the HTTP
// status, and for 404 key_not_found and 412 precondition_failed the store
// revision, and for 412 the key's current state.
type Error struct {
	// Endpoint is the member that answered.
	Endpoint string
	// StatusCode is the HTTP status; Code the server's error code, such as
	// "key_not_found", "precondition_failed", "deadline_exceeded".
	StatusCode int
	Code       string
	Message    string
	// Revision is the store revision of the answer, or 0 if it has none.
	Revision int64
	// KV is the key's current state in a 412 answer, nil if the key does
	// not exist.
	KV *KeyValue
	// CompactRevision is, in a 410 compacted answer, the oldest revision
	// the members keep.
	CompactRevision int64
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("raftkv %s: %d %s: %s", e.Endpoint, e.StatusCode, e.Code, e.Message)
}

// Is matches the sentinel error of e's status and code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound && e.Code == "key_not_found"
	case ErrLeaseNotFound:
		return e.StatusCode == http.StatusNotFound && e.Code == "lease_not_found"
	case ErrMemberNotFound:
		return e.StatusCode == http.StatusNotFound && e.Code == "member_not_found"
	case ErrMemberExists:
		return e.StatusCode == http.StatusConflict && e.Code == "member_exists"
	case ErrMembershipConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnsafeChange:
		return e.StatusCode == http.StatusConflict && e.Code == "unsafe_change"
	case ErrLearnerNotReady:
		return e.StatusCode == http.StatusConflict && e.Code == "learner_not_ready"
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrInvalid:
		return e.StatusCode == http.StatusBadRequest
	case ErrTooLarge:
		return e.StatusCode == http.StatusRequestEntityTooLarge
	case ErrUnavailable:
		return e.StatusCode == http.StatusServiceUnavailable
	case ErrTimeout:
		return e.StatusCode == http.StatusGatewayTimeout || e.StatusCode == http.StatusRequestTimeout
	case ErrNoSpace:
		return e.StatusCode == http.StatusInsufficientStorage
	case ErrCompacted:
		return e.StatusCode == http.StatusGone && e.Code == "compacted"
	}
	return false
}

// refused tells that the member refused the request before acting on it
// (503 not_ready or no_leader), so it is safe to send it elsewhere.
func (e *Error) refused() bool {
	return e.StatusCode == http.StatusServiceUnavailable && (e.Code == "not_ready" || e.Code == "no_leader")
}

// UnknownOutcomeError is the error of a write whose outcome is unknown. It
// matches ErrUnknownOutcome and its cause Err.
type UnknownOutcomeError struct {
	Endpoint string
	Err      error
}

// Error implements error.
func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("%v (sent to %s): %v", ErrUnknownOutcome, e.Endpoint, e.Err)
}

// Unwrap returns ErrUnknownOutcome and the cause.
func (e *UnknownOutcomeError) Unwrap() []error { return []error{ErrUnknownOutcome, e.Err} }
