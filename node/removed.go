package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/internal/fsutil"
	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// removedMarker is the file a member leaves in its data directory once the
// cluster removed it, so that it refuses to start again from it.
const removedMarker = "REMOVED"

// markRemoved records in dir that the member was removed, and why.
func markRemoved(dir string, id uint64, reason string) error {
	text := fmt.Sprintf("member %d was removed from its cluster: %s\n", id, reason)
	p := filepath.Join(dir, removedMarker)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		return fmt.Errorf("mark data dir as removed: %w", err)
	}
	return fsutil.SyncDir(dir)
}

// checkNotRemoved refuses a data directory whose member was removed: its
// marker file says so, or its own log does.
func checkNotRemoved(dir string, id uint64, rec *persister.Recovered) error {
	text, err := os.ReadFile(filepath.Join(dir, removedMarker))
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s; a removed member cannot come back: add a new member with a new id and an empty data dir (this one can go)",
			ErrRemoved, strings.TrimSpace(string(text)))
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("read %s: %w", removedMarker, err)
	}
	if rec == nil {
		return nil
	}
	book, err := recoveredMembership(rec)
	if err != nil {
		return err
	}
	if _, gone := book.Removed(id); gone {
		return fmt.Errorf("%w: its own log removes member %d; add a new member with a new id and an empty data dir", ErrRemoved, id)
	}
	return nil
}

// recoveredMembership is the membership a recovered data directory holds:
// its snapshot's, with the committed changes of its log applied.
func recoveredMembership(rec *persister.Recovered) (*membership.Book, error) {
	book := membership.New()
	if s := rec.Snapshot; s != nil {
		meta, err := messages.DecodeSnapshotMeta(s.GetData())
		if err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", s.GetMetadata().GetIndex(), err)
		}
		if book, err = membership.FromState(meta.Membership); err != nil {
			return nil, fmt.Errorf("snapshot %d: %w", s.GetMetadata().GetIndex(), err)
		}
	}
	for _, e := range rec.Entries {
		if e.GetIndex() > rec.HardState.GetCommit() {
			break
		}
		if e.GetType() != raftpb.EntryConfChange && e.GetType() != raftpb.EntryConfChangeV2 {
			continue
		}
		if ent, err := membership.DecodeEntry(e); err == nil {
			_ = book.Apply(ent.Change, ent.ClusterID) // a refused change changes nothing
		}
	}
	return book, nil
}
