// Package persister is the actor that owns a node's stable storage: etcd's
// write-ahead log in dir/wal and etcd's snapshot files in dir/snap.
//
// # Usage
//
// On start the node calls Open, which replays the directory, and hands the
// Disk to the actor:
//
//	disk, rec, err := persister.Open(dir, logger) // rec: snapshot, hard state, entries
//	// restore raft.MemoryStorage and the state machine from rec, then
//	pid := root.Spawn(persister.Props(disk, persister.WithMaxSnapshots(2)))
//
//	raftnode  --Persist{Seq, HardState, Entries, Snapshot, Then}-->  persister  --Persisted{Seq}-->      raftnode
//	raftnode  --SaveSnapshot{Snapshot}-->                            persister  --SnapshotSaved{Index}-->  raftnode
//
// The reply goes to the sender (ctx.Request, or a request future), and only
// once the data is durable; a Persist's Then (raft messages that must not
// leave before it is durable) go to their links just before it. Any IO
// error is fatal: the actor closes the Disk and panics with an error naming
// the step, so the node's supervisor must stop the node (not restart the
// actor); the sender gets no reply, and Then is not sent. Every snapshot
// must carry its ConfState in its metadata (the WAL records it); one
// without is refused the same way.
//
// # Write order
//
// A Persist with a snapshot, and a SaveSnapshot, write in this order:
//
//  1. the snapshot file (dir/snap/<term>-<index>.snap), fsynced, and its
//     directory fsynced;
//  2. the snapshot record in the WAL (index, term, ConfState), fsynced;
//  3. for Persist: the entries and hard state in the WAL, fsynced when raft
//     requires it (entries, or a new term or vote: raft.MustSync);
//  4. the release of the WAL segments before the oldest snapshot kept
//     (the newest WithMaxSnapshots stay, 2 by default; wal.ReleaseLockTo),
//     then, in the purger's goroutine, apart from the writes that follow
//     (freeing a big file's blocks can take the file system most of a
//     second): the purge of old snapshot files and their store files, then
//     of the WAL segments that are no longer locked. A purge that fails
//     stops the node, as a failed write does; stopping the actor waits for
//     the purge asked for.
//
// Why this order: on restart Open loads the newest snapshot that the WAL
// records, then replays the WAL from that record. A WAL record without its
// snapshot file would point at nothing, so the file is durable first (an
// orphan file without a record is harmless: it is never loaded). The hard
// state of a Ready that installs a snapshot comes after the snapshot: its
// commit index points into the snapshot, and durable without it, it would
// restart raft with a commit index beyond the end of its log. WAL segments are released only after the snapshot that covers them is
// durable, and a segment is purged only when the WAL no longer holds its
// lock, so the segments needed to replay from the newest snapshot always stay.
//
// After the reply, the actor zero-fills a piece of the segment the WAL will
// cut to (Linux only, and not WithoutFsync), twice as much as it just
// saved, so that the WAL's fsyncs into that segment write only the data
// (zerofill.go says why and how this never touches a file the WAL uses).
//
// # Recovery
//
// Open repairs a torn WAL tail (a record cut short by a crash) as etcd does:
// the last segment is truncated after its last whole record and the original
// kept as *.wal.broken. A snapshot file that cannot be read is renamed
// *.snap.broken and an older snapshot recorded in the WAL is used instead
// (logged as a warning); the WAL segments from the oldest snapshot kept on
// are never purged, so the older snapshot's WAL is there to replay. Anything else unreadable in the WAL is returned as
// an error wrapping ErrCorrupt.
//
// # Ordering the caller must keep
//
// The WAL trusts a snapshot record only if a hard state with a commit index
// at least the snapshot's is in the WAL. Send SaveSnapshot from the same
// actor that sends Persist (raftnode), after the Persist of the Ready whose
// committed entries the snapshot covers; mailbox order then guarantees it.
package persister
