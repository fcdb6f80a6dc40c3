package persister

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/internal/fsutil"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
)

// seedDirName is the directory inside a data dir where Seed builds it.
const seedDirName = ".seed"

// SeedState is the state a member of a new cluster starts from: a snapshot
// at Index, of Term, with ConfState and Meta (its DBSize and DBCRC are
// filled in), whose store WriteStore writes (the store's snapshot stream,
// store.WriteSnapshot), and nothing after it.
type SeedState struct {
	Index      uint64
	Term       uint64
	ConfState  *raftpb.ConfState
	Meta       messages.SnapshotMeta
	WriteStore func(w io.Writer) (int64, error)
}

// CheckNewDataDir returns nil if dir does not exist or is an empty
// directory, and an error that says what is there otherwise.
func CheckNewDataDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("data dir %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("data dir %s is not empty (it holds %s, and %d entries in all): give a new directory, or empty it",
			dir, entries[0].Name(), len(entries))
	}
	return nil
}

// Seed creates the data dir dir of a member that starts from s alone, as
// a member of a new cluster started from a backup does: the snapshot's
// store file, its .snap file, and a WAL that records the snapshot and a
// hard state of s.Term that commits s.Index (no vote). Members seeded
// with equal states start with identical logs, so they form one cluster;
// a node started on dir takes it for a restart (it does not bootstrap) and
// serves once it is a member of ConfState.
//
// dir must not exist or be empty (CheckNewDataDir). Seed writes in the
// persister's own order — the store file, then the snapshot, then the WAL
// — in a directory inside dir, syncs everything, then moves the WAL in
// first and the snapshots second: a dir left by a crash in between has a
// WAL whose snapshot is missing, which a node refuses to start from,
// never snapshots without a WAL, which it would take for a new member.
// On error Seed leaves dir as it found it: it removes what it wrote, and
// dir itself if it created it.
func Seed(dir string, s SeedState, logger *slog.Logger) (err error) {
	if logger == nil {
		logger = slog.Default()
	}
	switch {
	case s.Index == 0:
		return errors.New("seed data dir: the snapshot index must not be 0")
	case len(s.ConfState.GetVoters()) == 0:
		return errors.New("seed data dir: the snapshot has no voter")
	case s.WriteStore == nil:
		return errors.New("seed data dir: no store to write")
	}
	if err := CheckNewDataDir(dir); err != nil {
		return fmt.Errorf("seed data dir: %w", err)
	}
	_, statErr := os.Stat(dir)
	created := errors.Is(statErr, os.ErrNotExist)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seed data dir: %w", err)
	}
	tmp := filepath.Join(dir, seedDirName)
	var moved []string
	defer func() {
		if err == nil {
			return
		}
		_ = os.RemoveAll(tmp)
		for _, name := range moved {
			_ = os.RemoveAll(filepath.Join(dir, name))
		}
		if created {
			_ = os.Remove(dir)
		}
	}()
	if err := seedFiles(tmp, s, logger); err != nil {
		return fmt.Errorf("seed data dir %s: %w", dir, err)
	}
	for _, name := range []string{walDirName, snapDirName} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("seed data dir %s: %w", dir, err)
		}
		moved = append(moved, name)
		if err := fsutil.SyncDir(dir); err != nil {
			return fmt.Errorf("seed data dir: %w", err)
		}
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("seed data dir %s: %w", dir, err)
	}
	if created {
		// dir's own entry in its parent, so that the data dir survives a
		// crash as a whole.
		if err := fsutil.SyncDir(filepath.Dir(dir)); err != nil {
			return fmt.Errorf("seed data dir: %w", err)
		}
	}
	return nil
}

// seedFiles writes the data dir of s in dir, which does not exist.
func seedFiles(dir string, s SeedState, logger *slog.Logger) error {
	f, err := snapfile.Create(snapfile.Dir(filepath.Join(dir, snapDirName)), s.Term, s.Index)
	if err != nil {
		return err
	}
	if _, err := s.WriteStore(f); err != nil {
		f.Abort()
		return fmt.Errorf("write the store file: %w", err)
	}
	meta := s.Meta
	if meta.DBSize, meta.DBCRC, err = f.Commit(); err != nil {
		return err
	}
	data, err := messages.EncodeSnapshotMeta(meta)
	if err != nil {
		return fmt.Errorf("encode snapshot meta: %w", err)
	}
	snapshot := &raftpb.Snapshot{
		Metadata: &raftpb.SnapshotMetadata{
			Index: proto.Uint64(s.Index), Term: proto.Uint64(s.Term),
			ConfState: proto.Clone(s.ConfState).(*raftpb.ConfState),
		},
		Data: data,
	}
	d, rec, err := Open(dir, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	if rec.Exists {
		return fmt.Errorf("%s holds a WAL already", dir)
	}
	if err := d.saveSnapshot(snapshot); err != nil {
		return err
	}
	if err := d.save(&raftpb.HardState{Term: proto.Uint64(s.Term), Commit: proto.Uint64(s.Index)}, nil); err != nil {
		return fmt.Errorf("save the hard state: %w", err)
	}
	return d.Close()
}
