package messages

import "io"

// OpBackup is the Op of a Read that asks for the whole store rather than
// keys: the applier answers it with a BackupReply instead of a ReadReply.
// It is a kind of read only, between a node's own actors: it never appears
// in a Txn (store.Validate refuses an Op of this type, and the state
// machine ignores one), so it is never written to the log.
const OpBackup OpType = 0x80

// ClientBackup asks the proposer for a backup of the store, as the HTTP
// layer sends it for GET /v1/snapshot. The proposer treats it as a
// linearizable read (a Read with an Op of type OpBackup, in the next
// ReadIndex round): the applier answers BackupReply once its applied index
// reaches the round's read index, so the backup holds every write
// acknowledged before the request. A request that cannot be served (the
// node not ready, no leader, the deadline passed, stopping) is answered a
// ReadReply with the error, as any read is.
//
// With Serializable set it is a serializable read: the member's own state
// at once, possibly stale, but served without a quorum.
type ClientBackup struct {
	Serializable bool
}

// BackupReply is the applier's answer to a backup read: the state of the
// store at applied index Index (of term Term), where its revision is
// Revision and it holds Keys keys, on member Member of cluster ClusterID.
//
// WriteStore writes that state, the store's snapshot stream (the format of
// a snapshot's store file, store.WriteSnapshot), to w, and returns the
// number of bytes written. It reads a point-in-time view of the store, so
// any goroutine may call it, while the applier goes on applying; every
// call writes the same bytes.
type BackupReply struct {
	Index      uint64
	Term       uint64
	Revision   int64
	Keys       int
	ClusterID  uint64
	Member     uint64
	WriteStore func(w io.Writer) (int64, error)
}
