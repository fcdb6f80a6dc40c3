// Package backup is raftkv's backup file: its format (Write, Read), and the
// restore of a backup into the data dirs of a new cluster (Restore), like
// etcdctl's snapshot save and restore.
//
// A member serves a backup on GET /v1/snapshot: the store at one applied
// index, taken after a linearizable read barrier (so it holds every write
// acknowledged before the request), from an O(1) copy-on-write view of the
// store, streamed while the member goes on applying. With
// ?consistency=serializable it skips the barrier: a possibly stale backup
// of the member's own state, which it serves without a quorum (the backup
// to restore from when a cluster lost its quorum for good).
//
// # Format
//
// A backup, of format version 1, is a header, the store's snapshot stream
// and a trailer; integers are big-endian:
//
//	offset  size  header (HeaderSize = 68 bytes)
//	0       8     Magic, "RAFTKVBK"
//	8       4     format version: 1
//	12      8     store revision (int64)
//	20      8     number of keys
//	28      8     applied index of the member when it took the backup
//	36      8     term of that index
//	44      8     cluster id of that member
//	52      8     id of that member
//	60      8     when it was taken, Unix nanoseconds (int64; 0: unknown)
//	68      N     the store's snapshot stream (package store, version 4;
//	              backups of versions 2 and 3 restore too: the format of
//	              a snapshot's store file, snap/db/*.db)
//	              trailer (TrailerSize = 48 bytes)
//	68+N    8     TrailerMagic, "RAFTKVND"
//	76+N    8     N
//	84+N    32    SHA-256 of every byte before it (header, stream, and the
//	              16 bytes of the trailer before it)
//
// The stream is written as the member reads its view, so its length is
// known only at the end: it is what lies between the header and the last
// TrailerSize bytes, and the trailer repeats it. Read verifies everything:
// a backup cut short or with bytes appended has no trailer at its end, a
// flipped byte fails the checksum, and a checksum that holds over a stream
// that does not read as a store, or that the header does not describe,
// is refused too; nothing is restored from a backup that does not verify.
//
// # Restore
//
// Restore seeds the data dir of one member of a new cluster; run it once
// per member, with the same file and the same member list:
//
//	restored, err := backup.Restore(backup.RestoreConfig{
//		File: "backup.snapshot", DataDir: "/var/lib/raftkv", ID: 1,
//		Cluster: cluster, // node.ParseCluster of the new cluster's --cluster
//	})
//
// then start each member on its data dir with the same --id and --cluster
// (not --join). See Restore for what the data dir holds. The raftkv
// command does the same: raftkv snapshot save, status and restore
// (package cli).
package backup
