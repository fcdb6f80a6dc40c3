// Package messages holds every type that crosses an actor boundary in raftkv,
// and the codec for what is written into the raft log.
//
// Two kinds of types live here:
//
//   - Wire types are stored in raft entries and snapshots, or travel between
//     members: Command (with Txn, Op, Compare) in normal entries,
//     ConfChangeContext (with MemberChange, Member) in membership changes,
//     SnapshotMeta (with MembershipState) in a raft snapshot's Data,
//     PeerMessage (hellos, forwarded membership changes, snapshot chunks)
//     between members. They carry explicit msgpack tags and a format
//     version, so renaming a Go field never changes the format; each has
//     its Encode/Decode pair here (EncodeCommand, DecodePeerMessage, ...),
//     and a decoder never panics on malformed data.
//   - Actor messages (Persist, Apply, Propose, ...) travel between the actors of
//     one node and are never serialized.
//
// # Usage
//
// The flow of one write through a node:
//
//	proposer  --Propose{ID, Data}-->            raftnode
//	raftnode  --Persist{Seq, ..., Then}-->      persister --Persisted{Seq}--> raftnode
//	                                            persister --Then[i].Message--> peer link (a follower's answers)
//	raftnode  --Apply{Seq, Entries, ...}-->     applier   --Applied{Seq}-->   raftnode
//	applier   --Result{ID, TxnResult}-->        proposer  (answers the client)
//
// A linearizable read:
//
//	proposer  --ReadIndex{Ctx}-->               raftnode
//	raftnode  --ReadState{Ctx, Index}-->        proposer
//	proposer  --ReadBatch{Index, Reads}-->      applier   (answers each read once applied >= Index)
package messages
