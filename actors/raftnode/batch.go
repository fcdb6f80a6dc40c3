package raftnode

import (
	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/messages"
)

// maxBatchBytes bounds the data of one batch of proposals: a batch that
// reaches it is handed to raft at once (raft splits its appends at
// MaxSizePerMsg anyway).
const maxBatchBytes = 1 << 20

// proposalBatch gathers the writes that arrive in raftnode's mailbox
// together, so that raft gets them as one MsgProp: one append, one MsgApp
// per follower and one MsgAppResp back for the batch instead of one per
// write. The actor flushes it when a marker it sent itself after the first
// write comes up, so the batch holds every write that was waiting in the
// mailbox before it, and a lone write waits for nothing; a leader with a
// Ready in flight keeps the batch until Advance (raft sends nothing before
// the next Ready anyway), so each of its Readys carries one batch.
type proposalBatch struct {
	ids     []messages.RequestID
	entries []*raftpb.Entry
	bytes   int
}

// add appends a write; it reports whether the batch was empty before (the
// actor then sends itself the marker) and whether it is now full (the
// actor then flushes at once).
func (b *proposalBatch) add(p *messages.Propose) (first, full bool) {
	first = len(b.ids) == 0
	b.ids = append(b.ids, p.ID)
	b.entries = append(b.entries, &raftpb.Entry{Data: p.Data})
	b.bytes += len(p.Data)
	return first, b.bytes >= maxBatchBytes
}

// take empties the batch and returns its request ids and entries, in the
// order they were added; ok is false when it was empty.
func (b *proposalBatch) take() (ids []messages.RequestID, entries []*raftpb.Entry, ok bool) {
	if len(b.ids) == 0 {
		return nil, nil, false
	}
	ids, entries = b.ids, b.entries
	*b = proposalBatch{}
	return ids, entries, true
}

// flushProposals is the marker raftnode sends itself after the first write
// of a batch. A marker whose batch was flushed early (full) flushes the
// next batch a little early, or finds it empty: both harmless.
type flushProposals struct{}
