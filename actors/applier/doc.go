// Package applier is the state machine actor of a node: it owns a
// store.Store and applies the committed entries raftnode hands it, in log
// order.
//
// # Usage
//
//	pid := ctx.Spawn(applier.Props(applier.Config{
//		ID: id, Store: st, Applied: snapIndex, AppliedTerm: snapTerm, ConfState: cs, Membership: m,
//		Proposer: proposer, Snapshotter: snapshotActor, StoreDir: dir, SnapshotCount: 10000,
//	}))
//
//	raftnode --Apply{Seq, Snapshot, Entries, ConfState, Membership, ConfResults}--> applier --Applied{Seq, Index, Revision}--> raftnode
//	applier  --Result{ID, TxnResult | Err}-->                proposer (requests of this node only)
//	proposer --ReadBatch{Index, Reads}-->                    applier  --ReadReply--> each Read's ReplyTo
//	applier  --WriteSnapshot{Index, Term, ..., Stream}-->    snapshot actor (every SnapshotCount entries)
//	snapshot --SnapshotWritten{Index, Size}-->               applier
//	raftnode --SnapshotNeeded{MsgSnap, Address}-->           applier --SendSnapshot{To, MsgSnap, Stream}--> snapshot actor
//	watcher  --Watching{On}-->                               applier  (a watch is open, or the last one ended)
//	applier  --Changes{Revision, Events}-->                  watcher (after every batch that changed the store, while On)
//	watcher  --HistoryRequest{From}-->                       applier  --HistoryReply--> the watcher
//	applier  --LeaseApplied-->                               lessor (the proposer): after each lease command,
//	                                                         and every lease at start and after a snapshot
//
// An Apply first restores its snapshot, if it carries one newer than the
// applied index: the snapshot's Data (messages.SnapshotMeta) names the
// size and CRC of its store file in StoreDir, which the snapshot actor made
// durable before raft saw the snapshot. Then it applies each entry above
// the applied index: a normal entry is a messages.Command; a membership
// change was applied by raftnode already, and the applier answers its
// request with the outcome raftnode decided (ConfResults), in log order.
// Entries that do not decode are skipped alike on every replica. A command
// is a transaction (refused with ErrLeaseNotFound, writing nothing, if a
// put names a lease that does not exist), a compaction of the history, a
// lease command or a NOSPACE alarm change. A
// ReadBatch is served as soon as the applied index reaches its Index; a
// serializable read has Index 0 and is served at once.
//
// Snapshots never stop the applier: it hands the snapshot actor a stream
// of a point-in-time view of the store (an O(1) copy-on-write clone) and
// goes on, asking for the next snapshot only once the last is written.
// When raft wants to send a member a snapshot, the applier has one of its
// current state sent, with the membership of its applied index (which
// includes the receiver, while raft's own latest snapshot may not).
//
// A snapshot that does not restore (its file missing or not matching)
// makes the actor panic: its supervisor must stop the node.
package applier
