package messages

import "errors"

// Errors reported to clients. The HTTP layer maps each to a status code.
var (
	ErrNotReady       = errors.New("raftkv: node is not ready (replaying its log)")
	ErrNoLeader       = errors.New("raftkv: no leader")
	ErrTimeout        = errors.New("raftkv: timed out waiting for the cluster")
	ErrMemberExists   = errors.New("raftkv: member already exists")
	ErrMemberNotFound = errors.New("raftkv: member not found")
	ErrStopped        = errors.New("raftkv: node is stopping")
	// ErrConfChangePending tells the proposer that raft would drop a
	// membership change because another one is not applied yet.
	ErrConfChangePending = errors.New("raftkv: a membership change is still pending")
)
