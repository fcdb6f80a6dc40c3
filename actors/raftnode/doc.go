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
//     fsync. Any other node's ride with the Persist (Persist.Then, each with
//     the link of its target) and the persister sends them once the Ready is
//     durable, so nothing that depends on the Ready's entries or vote leaves
//     before they are; with a snapshot in the Ready (or a snapshot message
//     among them, which goes to the applier), raftnode holds them until
//     Persisted and sends them itself, once it knows the members the
//     snapshot names.
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
//   - The writes (Propose) waiting together in the mailbox reach raft as one
//     MsgProp (proposalBatch, flushed by a marker raftnode sends itself
//     after the first; on a leader with a Ready in flight, at Advance): one
//     MsgApp per follower and one answer per batch rather than per write.
//
// Acks whose Seq is not the Ready in flight are logged and ignored.
//
// Besides the Ready, raftnode reports to the proposer: RaftState (leader,
// term, whether the node serves, and whether it has known no leader for
// an election timeout) when it changes, ReadState for each answered
// ReadIndex, and ProposalDropped for a proposal raft refused at once. A
// restarted node serves only once the applier has applied everything that
// was committed before the restart (the HardState's commit index), and any
// node only while the membership counts it in.
//
// # Membership
//
// raftnode owns the node's membership (membership.Book). It applies every
// committed membership change, when it hands out the entry that carries
// it, to the Book and to raft, or, when the Book or raft's own rules refuse
// it, an empty change to raft: a refused change changes nothing on any
// member. The outcomes go to the applier with the entries
// (Apply.ConfResults), which answers the requests in log order. A change
// asked of a follower (ProposeConfChange) is forwarded to the leader
// (PeerConfChange); the leader queues changes and proposes the next one
// only once the previous one is applied (raft would turn it into an empty
// entry), after checking it against the Book and against quorum safety
// (membership.Book.CheckSafety, judged from when it last heard from each
// member); a refusal goes back to the asking member's proposer as Result,
// or as ProposalDropped when there is no leader to take it. A snapshot's
// Data carries the membership at its index.
//
// # Peers
//
// raftnode spawns a peer link (Config.Link) on the first message to a
// member, stops it when the member is removed, and passes it the verdict
// on the answer to its hello (LinkChecked): it answers other links' hellos
// itself (PeerHello, PeerHelloReply) with its id and cluster id. Raft
// messages from an id that is not a member are dropped; a removed member
// that keeps sending is told so (PeerRemoved), at most once per election
// timeout, since raft alone may never tell it. A notice that this node was
// removed, or the removal of this node applied, is passed to its parent as
// messages.Removed. raft's MsgSnap is not sent by a link: raftnode asks the
// applier for a snapshot of its current state (SnapshotNeeded), which the
// snapshot actor streams; its outcome comes back as SnapshotStatus.
//
// Snapshots: the snapshot actor answers SnapshotCreated when it has
// written the store's state at an index to its file; raftnode makes a raft
// snapshot of it in memory and asks the persister to SaveSnapshot. When the
// persister answers SnapshotSaved, the in-memory log before the snapshot is
// compacted, keeping Config.CatchUpEntries entries for slow followers.
//
// # Usage
//
// The node wiring (package node) builds raftnode from the persister's replay
// and the PIDs of its collaborators:
//
//	props, err := raftnode.Props(raftnode.Config{
//		ID: id, Address: self, Addresses: addrs, Bootstrap: peers, // Bootstrap only for a new cluster
//		Restart: rec.Exists, Snapshot: rec.Snapshot, HardState: rec.HardState, Entries: rec.Entries,
//		Persister: persister, Applier: applier, Proposer: proposer,
//		Link: func(id uint64, addr string, clusterID uint64) *actor.Props {
//			return peer.Props(peer.Config{ID: id, Address: addr, Self: self, SelfAddress: selfAddr, ClusterID: clusterID})
//		},
//		Route:        func(id uint64, addr string) *actor.PID { return actor.NewPID(addr, peer.InboxName) },
//		TickInterval: raftnode.DefaultTickInterval,
//	})
//	pid := ctx.Spawn(props) // its parent receives messages.Removed
//
// With TickInterval 0 there is no timer and the caller sends messages.Tick
// itself: tests drive raftnode tick by tick, with probes in place of the
// persister, applier, proposer and links, and decide when each Ready is
// acknowledged.
package raftnode
