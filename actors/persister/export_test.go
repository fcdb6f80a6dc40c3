package persister

import (
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// MakeSnapshot is a snapshot at index, term as the snapshot actor makes one:
// its store file (one key, "state", whose value names the index) in the
// data directory dir, its Data the meta with that file's size and CRC.
func MakeSnapshot(t testing.TB, dir string, index, term uint64) *raftpb.Snapshot {
	t.Helper()
	st := store.New()
	st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("state"), Value: fmt.Appendf(nil, "at-%d", index)}}})
	w, err := snapfile.Create(snapfile.Dir(filepath.Join(dir, snapDirName)), term, index)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.WriteSnapshot(w, st.View()); err != nil {
		t.Fatal(err)
	}
	size, crc, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	data, err := messages.EncodeSnapshotMeta(messages.SnapshotMeta{DBSize: size, DBCRC: crc})
	if err != nil {
		t.Fatal(err)
	}
	return &raftpb.Snapshot{
		Data: data,
		Metadata: &raftpb.SnapshotMetadata{
			Index:     proto.Uint64(index),
			Term:      proto.Uint64(term),
			ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}},
		},
	}
}

// WithMeasureEvery makes the persister measure its directories after n
// bytes written to the WAL (an estimate) instead of every 8 MB.
func WithMeasureEvery(n int64) Option {
	return func(c *config) { c.measureEvery = n }
}

// WithPurgeHook has the purger call f before each purge.
func WithPurgeHook(f func()) Option {
	return func(c *config) { c.purgeHook = f }
}
