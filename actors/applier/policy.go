package applier

// smallSnapshot is the size of snapshot below which one is written every
// SnapshotCount entries whatever their size: writing it takes a few tens
// of milliseconds.
const smallSnapshot = 16 << 20

// snapshotLogShare is how small the log since the last snapshot may be,
// as a share of that snapshot's size, before a big store is written again:
// at 4 writing snapshots costs at most four bytes per byte of log.
const snapshotLogShare = 4

// entryOverhead is what raft keeps in memory for a log entry besides its
// data (the entry, its fields' allocations, its slot in the log; about
// 125 bytes measured for the entries of a decoded raft message): counted
// with the data, the log that a big store lets grow between snapshots
// costs at most a quarter of the snapshot's size in memory, and what a
// restart replays is bounded with it.
const entryOverhead = 128

// snapshotPolicy says when the applier writes the next snapshot. A snapshot
// rewrites the whole store, so its cost grows with the store; what it
// saves (the log that a restart replays and raft holds in memory) grows
// with the entries applied since the last one. One is due once count
// entries were applied since the last one and, if the last was big, the
// log since (their data and entryOverhead each) is at least a quarter of
// its size: a store of big values that takes small writes is not
// rewritten every few count entries.
type snapshotPolicy struct {
	count uint64
	// index is that of the last snapshot made, asked for or restored;
	// bytes the entry data applied after it; size that of the last
	// snapshot written or restored (0: unknown, taken as small).
	index, bytes, size uint64
}

// applied records an applied entry of n bytes of data.
func (p *snapshotPolicy) applied(n int) { p.bytes += uint64(n) }

// due says whether a snapshot at index applied should be written.
func (p *snapshotPolicy) due(applied uint64) bool {
	entries := applied - p.index
	log := p.bytes + entries*entryOverhead
	return entries >= p.count && (p.size < smallSnapshot || log*snapshotLogShare >= p.size)
}

// taken starts counting anew from a snapshot at index: asked for (size
// 0: the last known size stays until written says it) or restored.
func (p *snapshotPolicy) taken(index, size uint64) {
	p.index, p.bytes = index, 0
	if size > 0 {
		p.size = size
	}
}

// written records the size of the snapshot just written.
func (p *snapshotPolicy) written(size uint64) { p.size = size }
