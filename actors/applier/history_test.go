package applier_test

import (
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
)

func compactEntry(index, seq uint64, rev int64) *raftpb.Entry {
	data, err := messages.EncodeCommand(messages.Command{ID: messages.RequestID{Node: self, Seq: seq}, Compact: rev})
	if err != nil {
		panic(err)
	}
	return entry(index, raftpb.EntryNormal, data)
}

// The applier tells the watcher what each batch changed, answers history
// requests, serves reads at past revisions, and applies compactions.
func TestHistoryWatcherAndCompaction(t *testing.T) {
	f := newFixture(t, applier.Config{})
	watcher := f.watcher
	f.system.Root.Send(f.pid, &messages.Watching{On: true})
	f.applyEntries(put(1, 2, 1, "a", "1"), put(2, 2, 2, "b", "1"))
	c := testkit.ExpectMsg[*messages.Changes](watcher)
	if c.Revision != 2 || len(c.Events) != 2 || string(c.Events[1].KV.Key) != "b" || c.Reset {
		t.Errorf("changes %+v, want the puts of a and b up to revision 2", c)
	}
	f.applyEntries(put(3, 2, 3, "a", "2"))
	testkit.ExpectMsg[*messages.Changes](watcher)

	f.system.Root.Send(f.pid, &messages.HistoryRequest{Watch: 7, From: 2, ReplyTo: watcher.PID()})
	h := testkit.ExpectMsg[*messages.HistoryReply](watcher)
	if h.Watch != 7 || h.Revision != 3 || len(h.Events) != 2 || h.Err != nil {
		t.Errorf("history from 2: %+v, want revisions 2 and 3", h)
	}
	f.system.Root.Send(f.pid, &messages.HistoryRequest{From: 5, ReplyTo: watcher.PID()})
	if h := testkit.ExpectMsg[*messages.HistoryReply](watcher); !errors.Is(h.Err, messages.ErrFutureRevision) {
		t.Errorf("history from 5 at 3: %+v, want ErrFutureRevision", h)
	}

	client := testkit.NewProbe(t, f.system)
	read := func(rev int64) *messages.ReadReply {
		op := getOp("a")
		op.Revision = rev
		f.system.Root.Send(f.pid, &messages.ReadBatch{Reads: []messages.Read{{Op: op, ReplyTo: client.PID()}}})
		return testkit.ExpectMsg[*messages.ReadReply](client)
	}
	if r := read(1); r.Err != nil || string(r.Result.KVs[0].Value) != "1" || r.Revision != 3 {
		t.Errorf("a at 1: %+v, want 1 (store at 3)", r)
	}
	f.applyEntries(compactEntry(4, 4, 2))
	if res := testkit.ExpectMsg[*messages.Result](f.proposer); res.Err != nil || res.Result.Revision != 3 {
		t.Errorf("compaction result %+v", res)
	}
	if r := read(1); !errors.Is(r.Err, messages.ErrCompacted) {
		t.Errorf("a at 1 after compacting to 2: %+v, want compacted", r)
	}
	f.applyEntries(compactEntry(5, 5, 9))
	if res := testkit.ExpectMsg[*messages.Result](f.proposer); !errors.Is(res.Err, messages.ErrFutureRevision) {
		t.Errorf("compaction to 9 at 3: %+v, want ErrFutureRevision", res)
	}
	f.barrier(watcher) // compactions changed nothing the watcher hears of

	// Once no watch is open, the watcher hears nothing of what changes.
	f.system.Root.Send(f.pid, &messages.Watching{On: false})
	f.applyEntries(put(6, 2, 6, "c", "1"))
	f.barrier(watcher)
}
