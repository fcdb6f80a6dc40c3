package messages

import "errors"

// Errors of leases.
var (
	// ErrLeaseNotFound refuses a put with, a keepalive of, or a revoke of a
	// lease that does not exist (never granted, revoked or expired).
	ErrLeaseNotFound = errors.New("raftkv: lease not found")
	// ErrLeaseExists refuses to grant a lease under an id in use.
	ErrLeaseExists = errors.New("raftkv: lease id in use")
)

// OpLeaseInfo is the Op of a Read that asks for a lease (Op.Lease) as the
// state machine holds it: the applier answers a ReadReply whose Lease is
// the lease (ErrLeaseNotFound if there is none). Like OpBackup it is a
// read between a node's own actors, never in a Txn.
const OpLeaseInfo OpType = 0x81

// LeaseOp says what a LeaseChange does.
type LeaseOp uint8

// The lease commands.
const (
	LeaseGrant     LeaseOp = 1 // create lease ID with TTL
	LeaseKeepAlive LeaseOp = 2 // renew lease ID (count one more renewal)
	LeaseRevoke    LeaseOp = 3 // delete lease ID and its keys
	// LeaseExpire is the leader's revoke of a lease it saw expire: it
	// applies only if the lease was not renewed since (Renewals).
	LeaseExpire LeaseOp = 4
)

// LeaseChange is a lease command in the log (Command.Lease).
type LeaseChange struct {
	Op LeaseOp `msgpack:"op"`
	ID int64   `msgpack:"id"`
	// TTL is the lease's time to live in seconds (LeaseGrant).
	TTL int64 `msgpack:"ttl,omitempty"`
	// Renewals is, for LeaseExpire, the lease's renewal count the leader
	// saw expire.
	Renewals uint64 `msgpack:"renewals,omitempty"`
}

// LeaseInfo is a lease as the state machine holds it.
type LeaseInfo struct {
	ID  int64
	TTL int64 // seconds
	// Renewals counts the keepalives applied since the grant.
	Renewals uint64
	// Keys are the keys attached to the lease, in key order.
	Keys [][]byte
}

// LeaseApplied tells the proposer's lessor what the applier did to leases:
// after a lease command (Gone: revoked or expired), or, with All, the
// whole set (at start and after a snapshot replaced the store).
type LeaseApplied struct {
	Lease LeaseInfo
	Gone  bool
	All   []LeaseInfo
	Reset bool
}

// ClientLease applies a lease command through the log; answered with
// TxnReply (its Result's Revision the store's after the command). A grant
// names its id: the caller picks one at random, and picks another on
// ErrLeaseExists.
type ClientLease struct{ Change LeaseChange }

// ClientLeaseTTL asks the proposer's lessor how long lease ID has left;
// answered with LeaseTTL.
type ClientLeaseTTL struct{ ID int64 }

// LeaseTTL answers ClientLeaseTTL: Remaining is the time left as this
// member's lessor reckons it (the leader's decides), Found false if it
// knows no such lease.
type LeaseTTL struct {
	Remaining int64 // milliseconds
	Found     bool
}
