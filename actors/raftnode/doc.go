// Package raftnode is the actor that owns a node's raft state: an etcd
// raft.RawNode over a raft.MemoryStorage. Its mailbox is raft's event loop:
// every input (a tick, a message from a peer, a proposal, an
// acknowledgement) is a message, turned into one RawNode call, after which
// raftnode hands out the next Ready if raft has one and none is in flight.
//
// # The Ready flow
//
// A Ready is handed out as a numbered stage (Seq) and advanced only once
// both the persister and the applier have acknowledged it:
//
//	raftnode --Persist{Seq, HardState, Entries, Snapshot}--> persister --Persisted{Seq}--> raftnode
//	raftnode --Apply{Seq, Snapshot, Entries, ConfState}-->    applier   --Applied{Seq}-->   raftnode
//	raftnode --*raftpb.Message-->                             peer link (one child per member)
//
// Which part leaves when is decided by an unexported type (stage) that is
// tested without actors:
//
//   - A leader sends its messages at once: it may replicate before its own
//     fsync. Any other node sends them only after Persisted, so nothing that
//     depends on the Ready's entries or vote leaves before they are durable.
//   - Committed entries that were durable here before the Ready go to the
//     applier at once, in parallel with the Persist. Committed entries that
//     are still in the Ready's own Entries (a single node commits what it is
//     writing; a follower learns the commit of entries it is receiving), and
//     a snapshot, go to the applier only after Persisted: no result leaves
//     the node before its own fsync (etcd#14370).
//   - raft's Advance is called only when both acks for the Seq are in (or at
//     once for a Ready that needs neither). Proposals that arrive meanwhile
//     wait in raft's log and leave together in the next Ready: one fsync for
//     many writes (group commit).
//
// Acks whose Seq is not the Ready in flight are logged and ignored.
//
// Besides the Ready, raftnode reports to the proposer: RaftState (leader,
// term and whether the node serves) when it changes, ReadState for each
// answered ReadIndex, and ProposalDropped for a proposal raft refused at
// once. A restarted node serves only once the applier has applied
// everything that was committed before the restart (the HardState's
// commit index). It applies membership changes to raft when it hands out
// the entries that carry them, spawns a peer link (Config.Link) on the first
// message to a member, stops the link of a removed member, and tells its
// parent messages.Removed when this node is removed. A removed member that
// keeps sending raft messages is told so with a PeerNotice (raft alone may
// never tell it: the leader stops replicating to it), and a notice received
// from a peer becomes messages.Removed too. A membership change that raft
// would turn silently into an empty entry (another change not applied yet)
// is refused with ProposalDropped instead, so the proposer retries it.
//
// Snapshots: the applier answers an Apply with SnapshotCreated when it has
// serialized the store; raftnode makes a raft snapshot of it in memory and
// asks the persister to SaveSnapshot. When the persister answers
// SnapshotSaved, the in-memory log before the snapshot is compacted,
// keeping Config.CatchUpEntries entries for slow followers.
//
// # Usage
//
// The node wiring (package node) builds raftnode from the persister's replay
// and the PIDs of its collaborators:
//
//	props, err := raftnode.Props(raftnode.Config{
//		ID: id, Addresses: addrs, Bootstrap: peers, // Bootstrap only for a new cluster
//		Restart: rec.Exists, Snapshot: rec.Snapshot, HardState: rec.HardState, Entries: rec.Entries,
//		Persister: persister, Applier: applier, Proposer: proposer,
//		Link: func(id uint64, addr string) *actor.Props { return peer.Props(peer.Config{ID: id, Address: addr}) },
//		TickInterval: raftnode.DefaultTickInterval,
//	})
//	pid := ctx.Spawn(props) // its parent receives messages.Removed
//
// With TickInterval 0 there is no timer and the caller sends messages.Tick
// itself: tests drive raftnode tick by tick, with probes in place of the
// persister, applier, proposer and links, and decide when each Ready is
// acknowledged.
package raftnode
