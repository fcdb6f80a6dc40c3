// Package store is the deterministic in-memory state machine of raftkv: a
// sorted map from key to messages.KeyValue with a store revision, and the
// cluster membership. The applier actor owns one Store and feeds it every
// committed entry in log order; since Apply depends only on the store's
// state and the transaction, every replica that applies the same log ends in
// the same state.
//
// # Revisions
//
// The store revision starts at 0. A transaction whose executed branch writes
// (a put, or a delete that removes at least one key) bumps it by exactly one,
// and all of its writes carry that revision as ModRevision, like etcd.
// Transactions that only read, or whose deletes remove nothing, leave it
// unchanged.
//
// # Ownership of returned data
//
// The store never mutates a stored KeyValue or its byte slices in place: a
// put stores a fresh copy of the caller's key and value, and a later write
// replaces the stored item rather than editing it. The KeyValues returned by
// Apply and Range are copies of the stored structs, but their Key and Value
// slices are shared with the store: callers may keep them forever (later
// writes never change them) but must not modify their bytes.
//
// # Bad input
//
// Apply never panics and never fails: limits (MaxKeySize, MaxValueSize,
// MaxTxnOps) are checked by Validate before a transaction is proposed, not
// by Apply, so that changing a limit can never make replicas that apply the
// same log disagree. An operation of an unknown type is skipped and answered
// with an empty OpResult; a Compare of an unknown target or result is false.
//
// # Usage
//
//	s := store.New()
//	txn := messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("k"), Value: []byte("v")}}}
//	if err := store.Validate(txn); err != nil { ... } // before proposing
//	res := s.Apply(txn)                               // for each committed entry, in log order
//	kvs, rev := s.Range(messages.Op{Type: messages.OpGet, Key: []byte("k")})
//	data, err := s.Snapshot()                         // at a snapshot point
//	err = s.Restore(data)                             // when raft hands over a snapshot
package store
