package backup_test

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// backupFile writes a backup of st to a file and returns its path and
// header.
func backupFile(t *testing.T, st *store.Store) (string, backup.Header) {
	t.Helper()
	data, h := encode(t, st)
	path := filepath.Join(t.TempDir(), "backup.snapshot")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, h
}

// Every member restored from one backup with one member list gets the
// same data dir: the backup's store as a snapshot of the new membership,
// recorded in a WAL with a hard state that commits it, and nothing else.
func TestRestoreSeedsIdenticalDataDirs(t *testing.T) {
	st := testStore(t, 50)
	file, h := backupFile(t, st)
	cluster := map[uint64]string{1: "127.0.0.1:12379", 2: "http://127.0.0.1:22379/", 3: "localhost:032379"}
	want := []messages.Member{
		{ID: 1, PeerAddress: "127.0.0.1:12379"}, {ID: 2, PeerAddress: "127.0.0.1:22379"}, {ID: 3, PeerAddress: "localhost:32379"},
	}
	var first *persister.Recovered
	for id := uint64(1); id <= 3; id++ {
		dir := filepath.Join(t.TempDir(), "data")
		got, err := backup.Restore(backup.RestoreConfig{File: file, DataDir: dir, ID: id, Cluster: cluster, Logger: quiet})
		if err != nil {
			t.Fatalf("restore member %d: %v", id, err)
		}
		if want := (backup.Restored{Backup: h, ClusterID: backup.ClusterID(want, h.Checksum), Members: 3, Index: h.Index, Term: backup.RestoreTerm}); got != want {
			t.Errorf("member %d: Restore says %+v, want %+v", id, got, want)
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{"snap", "wal"}) {
			t.Errorf("member %d's data dir holds %v, want snap and wal", id, names)
		}
		d, rec, err := persister.Open(dir, quiet)
		if err != nil {
			t.Fatalf("open member %d's data dir: %v", id, err)
		}
		d.Close()
		md := rec.Snapshot.GetMetadata()
		hs := rec.HardState
		switch {
		case !rec.Exists || len(rec.Entries) != 0:
			t.Errorf("member %d: exists %v with %d entries, want a WAL without entries", id, rec.Exists, len(rec.Entries))
		case md.GetIndex() != h.Index || md.GetTerm() != backup.RestoreTerm:
			t.Errorf("member %d: snapshot at index %d term %d, want %d term %d", id, md.GetIndex(), md.GetTerm(), h.Index, backup.RestoreTerm)
		case !slices.Equal(md.GetConfState().GetVoters(), []uint64{1, 2, 3}) || len(md.GetConfState().GetLearners()) != 0:
			t.Errorf("member %d: conf state %v, want voters 1, 2, 3", id, md.GetConfState())
		case hs.GetTerm() != backup.RestoreTerm || hs.GetCommit() != h.Index || hs.GetVote() != 0:
			t.Errorf("member %d: hard state %v, want term %d commit %d and no vote", id, hs, backup.RestoreTerm, h.Index)
		}
		meta, err := messages.DecodeSnapshotMeta(rec.Snapshot.GetData())
		if err != nil {
			t.Fatal(err)
		}
		m := meta.Membership
		if m.ClusterID != backup.ClusterID(want, h.Checksum) || !slices.Equal(m.Members, want) || len(m.Removed) != 0 ||
			len(m.Requests) != 0 || len(meta.Requests) != 0 || len(meta.Alarms) != 0 {
			t.Errorf("member %d: snapshot meta %+v, want the members %v, cluster id %x, nothing else", id, meta, want, backup.ClusterID(want, h.Checksum))
		}
		restored, err := snapfile.Load(filepath.Join(dir, "snap", snapfile.DirName), md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC)
		if err != nil {
			t.Fatal(err)
		}
		if dump(restored) != dump(st) {
			t.Errorf("member %d's store\n%s\nwant\n%s", id, dump(restored), dump(st))
		}
		if first == nil {
			first = rec
		} else if !proto.Equal(rec.Snapshot, first.Snapshot) || !proto.Equal(rec.HardState, first.HardState) {
			t.Errorf("member %d starts from %v, %v; member 1 from %v, %v", id, rec.Snapshot.GetMetadata(), rec.HardState,
				first.Snapshot.GetMetadata(), first.HardState)
		}
	}
}

// The cluster id of a restored cluster is not the one of a cluster of the
// same members that was not restored, nor of one restored from another
// backup.
func TestRestoredClusterID(t *testing.T) {
	members := []messages.Member{{ID: 1, PeerAddress: "a:1"}, {ID: 2, PeerAddress: "b:1"}}
	_, h1 := encode(t, testStore(t, 1))
	_, h2 := encode(t, testStore(t, 2))
	ids := []uint64{
		backup.ClusterID(members, h1.Checksum), backup.ClusterID(members, h2.Checksum),
		backup.ClusterID(members[:1], h1.Checksum),
	}
	for i, id := range ids {
		if id == 0 || slices.Contains(ids[:i], id) {
			t.Errorf("cluster ids %x: want distinct ids, none 0", ids)
		}
	}
	if backup.ClusterID(members, h1.Checksum) != backup.ClusterID([]messages.Member{members[1], members[0]}, h1.Checksum) {
		t.Error("the cluster id depends on the order of the members")
	}
}

// A restored member starts (as a restart: no bootstrap), serves the
// backup's keys at their revisions, and its first write gets the next
// revision.
func TestRestoredMemberServes(t *testing.T) {
	st := testStore(t, 10)
	file, h := backupFile(t, st)
	dir := filepath.Join(t.TempDir(), "data")
	cluster := map[uint64]string{7: "127.0.0.1:1"} // nobody dials it: it is the only member
	if _, err := backup.Restore(backup.RestoreConfig{File: file, DataDir: dir, ID: 7, Cluster: cluster, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Start(node.Config{ID: 7, Cluster: cluster, ListenPeer: "127.0.0.1:0", DataDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ask := func(msg any) any {
		t.Helper()
		v, err := n.System().Root.RequestFuture(n.Proposer(), msg, testkit.Dilated(5*time.Second)).Result()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	testkit.AwaitCondition(t, "the restored member leads", func() bool {
		s := ask(&messages.ClientStatus{}).(*messages.Status)
		return s.Serving && s.Leader == 7
	})
	s := ask(&messages.ClientStatus{}).(*messages.Status)
	if s.ClusterID != backup.ClusterID([]messages.Member{{ID: 7, PeerAddress: "127.0.0.1:1"}}, h.Checksum) || s.Revision != h.Revision {
		t.Errorf("status %+v, want the restored cluster id and revision %d", s, h.Revision)
	}
	r := ask(&messages.ClientRead{Op: messages.Op{Type: messages.OpGet, End: []byte{0}}}).(*messages.ReadReply)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if got, want := render(r.Result.KVs, r.Revision), dump(st); got != want {
		t.Errorf("the restored member serves\n%s\nwant\n%s", got, want)
	}
	w := ask(&messages.ClientTxn{Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("new"), Value: []byte("x")}}}}).(*messages.TxnReply)
	if w.Err != nil || w.Result.Revision != h.Revision+1 {
		t.Errorf("first write: revision %d, err %v; want revision %d", w.Result.Revision, w.Err, h.Revision+1)
	}
}

// Restore refuses what it cannot restore before it writes anything.
func TestRestoreRefuses(t *testing.T) {
	file, _ := backupFile(t, testStore(t, 5))
	damaged := filepath.Join(t.TempDir(), "damaged")
	data, _ := os.ReadFile(file)
	data[len(data)/2] ^= 1
	if err := os.WriteFile(damaged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "something"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cluster := map[uint64]string{1: "127.0.0.1:12379", 2: "127.0.0.1:22379"}
	for _, c := range []struct {
		name string
		cfg  backup.RestoreConfig
		is   error
		says string
	}{
		{"data dir not empty", backup.RestoreConfig{File: file, DataDir: full, ID: 1, Cluster: cluster}, nil, "is not empty"},
		{"damaged backup", backup.RestoreConfig{File: damaged, ID: 1, Cluster: cluster}, backup.ErrCorrupt, "checksum mismatch"},
		{"missing backup", backup.RestoreConfig{File: file + ".missing", ID: 1, Cluster: cluster}, os.ErrNotExist, "missing"},
		{"member not in the cluster", backup.RestoreConfig{File: file, ID: 3, Cluster: cluster}, nil, "member 3 is not in the cluster"},
		{"member id 0", backup.RestoreConfig{File: file, ID: 0, Cluster: map[uint64]string{0: "a:1"}}, nil, "member id 0"},
		{"no cluster", backup.RestoreConfig{File: file, ID: 1}, nil, "no cluster"},
		{"bad address", backup.RestoreConfig{File: file, ID: 1, Cluster: map[uint64]string{1: "a:1", 2: "nohost"}}, nil, "member 2: peer address"},
		{"shared address", backup.RestoreConfig{File: file, ID: 1, Cluster: map[uint64]string{1: "a:1", 2: "http://a:1"}}, nil, "share the peer address"},
		{"no file", backup.RestoreConfig{ID: 1, Cluster: cluster}, nil, "no backup file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.cfg.DataDir == "" {
				c.cfg.DataDir = filepath.Join(t.TempDir(), "data")
			}
			c.cfg.Logger = quiet
			_, err := backup.Restore(c.cfg)
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want one that says %q", err, c.says)
			}
			entries, _ := os.ReadDir(c.cfg.DataDir)
			if c.cfg.DataDir != full && len(entries) != 0 {
				t.Errorf("the data dir holds %d entries after a refusal", len(entries))
			}
		})
	}
}
