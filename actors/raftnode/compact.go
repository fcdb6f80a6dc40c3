package raftnode

import "go.etcd.io/raft/v3/raftpb"

// DefaultCatchUpBytes bounds the data of the entries kept behind a
// snapshot: of big values, ten thousand entries would hold gigabytes.
const DefaultCatchUpBytes = 64 << 20

// compactIndex returns the index up to which the in-memory log, which
// starts at first, may be dropped after a durable snapshot at snapIndex,
// or 0 for none. It keeps the last catchUp entries up to snapIndex, and
// of those no more than fit in budget bytes of data (at least the
// snapshot's own entry), so that a slow follower catches up from the log.
// ents are the entries held up to snapIndex, in order: all of them, or
// only those from catchUpFrom on, the only ones it looks at.
func compactIndex(first, snapIndex, catchUp, budget uint64, ents []*raftpb.Entry) uint64 {
	var at uint64
	if snapIndex > catchUp {
		at = snapIndex - catchUp
	}
	var size uint64
	for i := len(ents) - 1; i >= 0 && ents[i].GetIndex() > at; i-- {
		size += uint64(len(ents[i].GetData()))
		if size > budget && ents[i].GetIndex() < snapIndex {
			at = ents[i].GetIndex()
		}
	}
	if at < first {
		return 0
	}
	return at
}

// catchUpFrom returns the first index that compactIndex looks at for a
// log that starts at first: raft's Entries sizes every entry it returns,
// so raftnode asks it for these alone.
func catchUpFrom(first, snapIndex, catchUp uint64) uint64 {
	if snapIndex > catchUp {
		return max(first, snapIndex-catchUp+1)
	}
	return first
}
