package persister_test

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestCheckNewDataDir(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	full := filepath.Join(root, "full")
	file := filepath.Join(root, "file")
	for _, d := range []string{empty, full} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(full, "wal"), file} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, dir, says string
	}{
		{"missing", filepath.Join(root, "missing"), ""},
		{"missing parent too", filepath.Join(root, "a", "b"), ""},
		{"empty", empty, ""},
		{"not empty", full, "is not empty (it holds wal"},
		{"a file", file, "not a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := persister.CheckNewDataDir(c.dir)
			if c.says == "" && err != nil {
				t.Fatalf("CheckNewDataDir = %v, want nil", err)
			}
			if c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says)) {
				t.Fatalf("CheckNewDataDir = %v, want an error that says %q", err, c.says)
			}
		})
	}
}

// seedStore is a store with an overwrite and a delete, so that its
// revision is past its keys' revisions.
func seedStore() *store.Store {
	st := store.New()
	for _, txn := range []messages.Txn{
		{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("a"), Value: []byte("1")}}},
		{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("a"), Value: []byte("2")}}},
		{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("b"), Value: []byte("3")}}},
		{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte("b")}}},
	} {
		st.Apply(txn)
	}
	return st
}

func seedState(st *store.Store) persister.SeedState {
	v := st.View()
	return persister.SeedState{
		Index: 120, Term: 1, ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}},
		Meta: messages.SnapshotMeta{Membership: messages.MembershipState{ClusterID: 0xfeed, Members: []messages.Member{
			{ID: 1, PeerAddress: "127.0.0.1:1"}, {ID: 2, PeerAddress: "127.0.0.1:2"}, {ID: 3, PeerAddress: "127.0.0.1:3"},
		}}},
		WriteStore: func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, v) },
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// A seeded data dir is one that Open recovers as a restart from the
// snapshot alone: its store file, its .snap file and a WAL that records it
// with a hard state committing it, as the persister itself writes them.
func TestSeedWritesWhatOpenRecovers(t *testing.T) {
	st := seedStore()
	s := seedState(st)
	dir := filepath.Join(t.TempDir(), "data")
	if err := persister.Seed(dir, s, quietLogger()); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"snap", "wal"}) {
		t.Errorf("the data dir holds %v, want snap and wal only", got)
	}
	for range 2 { // and again: opening it changes nothing
		d, rec, err := persister.Open(dir, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		md := rec.Snapshot.GetMetadata()
		hs := rec.HardState
		switch {
		case !rec.Exists || len(rec.Entries) != 0:
			t.Errorf("recovered exists %v with %d entries, want a WAL and no entries", rec.Exists, len(rec.Entries))
		case md.GetIndex() != 120 || md.GetTerm() != 1 || !slices.Equal(md.GetConfState().GetVoters(), []uint64{1, 2, 3}):
			t.Errorf("recovered snapshot %v, want index 120 term 1 voters 1-3", md)
		case hs.GetTerm() != 1 || hs.GetCommit() != 120 || hs.GetVote() != 0:
			t.Errorf("recovered hard state %v, want term 1 commit 120 no vote", hs)
		}
		meta, err := messages.DecodeSnapshotMeta(rec.Snapshot.GetData())
		if err != nil {
			t.Fatal(err)
		}
		if meta.Membership.ClusterID != 0xfeed || len(meta.Membership.Members) != 3 || meta.DBSize == 0 {
			t.Errorf("recovered meta %+v", meta)
		}
		got, err := snapfile.Load(d.StoreDir(), 1, 120, meta.DBSize, meta.DBCRC)
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision() != st.Revision() || got.Len() != st.Len() || got.Revision() != 4 {
			t.Errorf("recovered store at revision %d with %d keys, want %d with %d", got.Revision(), got.Len(), st.Revision(), st.Len())
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A data dir whose snapshot went missing (a crash between Seed's two
// renames) is refused, never taken for a new member.
func TestSeededWALWithoutSnapshotIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := persister.Seed(dir, seedState(seedStore()), quietLogger()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "snap")); err != nil {
		t.Fatal(err)
	}
	d, _, err := persister.Open(dir, quietLogger())
	if err == nil {
		d.Close()
		t.Fatal("Open took a WAL whose snapshot is missing")
	}
	if !errors.Is(err, persister.ErrDamaged) {
		t.Errorf("Open = %v, want ErrDamaged", err)
	}
}

// A data dir where a restore stopped before it moved the WAL in (a crash
// of raftkv snapshot restore) holds only Seed's work dir: Open refuses it
// rather than start an empty member there.
func TestUnfinishedSeedIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := persister.Seed(dir, seedState(seedStore()), quietLogger()); err != nil {
		t.Fatal(err)
	}
	// What a crash before the moves leaves: everything still in .seed.
	work := filepath.Join(dir, ".seed")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"wal", "snap"} {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	d, _, err := persister.Open(dir, quietLogger())
	if err == nil {
		d.Close()
		t.Fatal("Open took a data dir holding an unfinished restore")
	}
	if !errors.Is(err, persister.ErrDamaged) || !strings.Contains(err.Error(), "snapshot restore") {
		t.Errorf("Open = %v, want ErrDamaged saying to restore again", err)
	}
}

// Seed refuses what it cannot seed, and leaves the data dir as it found
// it: absent if it was, empty if it was.
func TestSeedRefusesAndLeavesNoTrace(t *testing.T) {
	failing := func(w io.Writer) (int64, error) {
		n, _ := w.Write([]byte("half a store"))
		return int64(n), errors.New("disk on fire")
	}
	for _, c := range []struct {
		name  string
		edit  func(*persister.SeedState)
		says  string
		exist bool // the data dir exists (empty) before
	}{
		{"index 0", func(s *persister.SeedState) { s.Index = 0 }, "index must not be 0", false},
		{"no voter", func(s *persister.SeedState) { s.ConfState = &raftpb.ConfState{Learners: []uint64{1}} }, "no voter", false},
		{"no store", func(s *persister.SeedState) { s.WriteStore = nil }, "no store", false},
		{"store fails", func(s *persister.SeedState) { s.WriteStore = failing }, "disk on fire", false},
		{"store fails in an empty dir", func(s *persister.SeedState) { s.WriteStore = failing }, "disk on fire", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if c.exist {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			s := seedState(seedStore())
			c.edit(&s)
			err := persister.Seed(dir, s, quietLogger())
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("Seed = %v, want an error that says %q", err, c.says)
			}
			entries, statErr := os.ReadDir(dir)
			switch {
			case c.exist && (statErr != nil || len(entries) != 0):
				t.Errorf("the data dir holds %d entries (%v) after a failed Seed, want none", len(entries), statErr)
			case !c.exist && !errors.Is(statErr, os.ErrNotExist):
				t.Errorf("the data dir exists after a failed Seed (%v, %d entries), want it absent", statErr, len(entries))
			}
		})
	}
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := persister.Seed(full, seedState(seedStore()), quietLogger()); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Seed into a dir that is not empty = %v", err)
	}
	if got := names(t, full); !slices.Equal(got, []string{"x"}) {
		t.Errorf("the dir that was not empty holds %v after Seed, want x only", got)
	}
}
