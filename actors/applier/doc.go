// Package applier is the state machine actor of a node: it owns a
// store.Store and applies the committed entries raftnode hands it, in log
// order.
//
// # Usage
//
//	pid := ctx.Spawn(applier.Props(applier.Config{
//		ID: id, Store: st, Applied: snapIndex, Proposer: proposer, SnapshotCount: 10000,
//	}))
//
//	raftnode --Apply{Seq, Snapshot, Entries, ConfState}--> applier --Applied{Seq, Index, Revision, Members}--> raftnode
//	applier  --SnapshotCreated{Index, ConfState, Data}-->  raftnode (every SnapshotCount entries, before the Applied)
//	applier  --Result{ID, TxnResult | Err}-->              proposer (requests of this node only)
//	proposer --ReadBatch{Index, Reads}-->                  applier  --ReadReply--> each Read's ReplyTo
//
// An Apply first restores its snapshot, if it carries one newer than the
// applied index (Applied then reports the members the snapshot holds), then
// applies each entry above the applied index: a normal entry is a
// messages.Command, a conf change entry records or removes a member and
// answers ErrMemberExists or ErrMemberNotFound when it changes nothing.
// Entries that do not decode are skipped alike on every replica. A
// ReadBatch is served as soon as the applied index reaches its Index; a
// serializable read has Index 0 and is served at once.
//
// A snapshot that does not restore, or a store that cannot be serialized,
// makes the actor panic: its supervisor must stop the node.
package applier
