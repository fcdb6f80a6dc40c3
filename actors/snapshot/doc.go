// Package snapshot is the actor that writes a node's snapshots and carries
// them between members.
//
// A snapshot of the store is a file in the store directory (package
// internal/snapfile) named after the snapshot's term and index; the raft
// snapshot's Data (messages.SnapshotMeta) holds the membership at that
// index and the file's size and CRC. The store's state is read from a
// point-in-time view (store.View, an O(1) copy-on-write clone), so neither
// writing nor sending a snapshot holds up the applier or raft.
//
// # Local snapshots
//
//	applier  --WriteSnapshot{Index, Term, ConfState, Membership, Stream}--> snapshot
//	snapshot --SnapshotCreated{Index, ConfState, Data}-->                  raftnode (file durable first)
//	snapshot --SnapshotWritten{Index, Size}-->                             applier
//
// The file is written 1 MiB per message, so chunks and acks of transfers
// are handled in between, then synced and renamed into place. With
// Config.Pace (a node sets DefaultPace, 3) the actor waits after each
// step Pace times as long as the step took, so that writing a snapshot of
// a big store takes at most a quarter of a core from the write path: at
// 1M keys, writes overlapping a snapshot had a p99 3.9× that of the
// others unpaced, 1.6–1.8× paced (raftkv-bench --store-keys).
//
// # Sending a snapshot to a member
//
//	raftnode --SnapshotNeeded{MsgSnap}--> applier --SendSnapshot{To, Message, Stream}--> snapshot
//	snapshot ==PeerSnapshotChunk==> receiver's snapshot actor ==PeerSnapshotAck==> snapshot
//	snapshot --SnapshotStatus{ID, Failed}--> raftnode (raft's ReportSnapshot)
//
// The applier answers raft's MsgSnap with a snapshot of its current state,
// whose membership includes the receiver (raft's own may predate it). The
// stream goes in chunks of Config.ChunkSize, at most Config.Window of them
// unacknowledged, so that the connection stays free for raft's heartbeats.
// raft hears that the snapshot arrived only when the receiver acknowledged
// the last chunk; a transfer that the receiver refuses or that makes no
// progress for Config.TimeoutTicks fails, and raft hears of the failure only
// after a backoff (doubling per failure in a row), during which it sends
// that member no new snapshot: a snapshot that cannot get through is never
// sent in a loop. One transfer per member runs at a time.
//
// # Receiving a snapshot
//
// Chunks must arrive in order; they are written to a temporary file, and
// only when the last one arrived with the size and CRC the sender
// announced is the file synced, renamed, and the MsgSnap (its Data now
// recording the file's size and CRC) handed to raftnode, which steps it
// into raft. A snapshot is never applied half: a transfer that breaks off
// leaves only a temporary file, removed when the next transfer starts, when
// it times out, or at the next start.
//
// # Usage
//
//	pid := ctx.Spawn(snapshot.Props(snapshot.Config{
//		ID: id, Address: self, StoreDir: dir, Raftnode: raftnode, Applier: applier,
//		Route: route, TickInterval: raftnode.DefaultTickInterval,
//	}))
//
// Ticks are the actor's clock for timeouts and backoff; with TickInterval 0
// the caller sends messages.Tick (the test kit's deterministic mode does).
// A storage error while writing a local snapshot makes the actor panic: its
// supervisor stops the node.
package snapshot
