// Package store is the deterministic in-memory state machine of raftkv: a
// sorted map from key to messages.KeyValue with a store revision. The
// applier actor owns one Store and feeds it every committed entry in log
// order; since Apply depends only on the store's state and the transaction,
// every replica that applies the same log ends in the same state.
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
// # Views and snapshots
//
// View returns a read-only point-in-time copy of the keys and revision in
// O(1): the Store and the View share the key tree copy-on-write, so the
// owner goes on applying while other goroutines read the View. A snapshot is
// written from a View, off the apply path: WriteSnapshot writes the whole
// snapshot stream (format version 4, described in snapshot.go) to an
// io.Writer, and a SnapshotEncoder yields it part by part, for instance to
// send it in chunks, walking the View's tree rather than copying it.
// ReadSnapshot reads a stream back, as it arrives, into a new Store. The
// stream holds the keys and the revision, and is deterministic: equal states
// give equal bytes.
//
// # Bad input
//
// Apply never panics and never fails: limits (MaxKeySize, MaxValueSize,
// MaxTxnOps) are checked by Validate before a transaction is proposed, not
// by Apply, so that changing a limit can never make replicas that apply the
// same log disagree. An operation of an unknown type is skipped and answered
// with an empty OpResult; a Compare of an unknown target or result is false.
// The snapshot stream, though, carries no key over MaxKeySize and no value
// over MaxValueSize: the encoder fails on one. ReadSnapshot never panics
// either, and refuses a malformed, truncated or inconsistent stream.
//
// # Usage
//
//	s := store.New()
//	txn := messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("k"), Value: []byte("v")}}}
//	if err := store.Validate(txn); err != nil { ... } // before proposing
//	res := s.Apply(txn)                               // for each committed entry, in log order
//	kvs, rev := s.Range(messages.Op{Type: messages.OpGet, Key: []byte("k")})
//	v := s.View()                                     // at a snapshot point, by the owner
//	n, err := store.WriteSnapshot(f, v)               // on any goroutine
//	s, err = store.ReadSnapshot(r)                    // when raft hands over a snapshot
package store
