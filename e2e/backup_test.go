package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// runBin runs the raftkv binary with args (a command: snapshot save...)
// and returns its exit code, stdout and stderr.
func runBin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(60*time.Second))
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("raftkv %q: %v\n%s", args, err, stderr.String())
	return 0, "", ""
}

// clusterFlag is the --cluster of the members of c, as they are started
// with it.
func (c *cluster) clusterFlag() string {
	peers := make([]string, len(c.peers))
	for i, p := range c.peers {
		peers[i] = "http://" + p
	}
	return strings.Join(peers, ",")
}

// endpoints is the HTTP API URL of every member of c.
func (c *cluster) endpoints() []string {
	var eps []string
	for id := uint64(1); id <= uint64(len(c.http)); id++ {
		eps = append(eps, c.url(id, ""))
	}
	return eps
}

// keyState is a key as the API shows it: value and revisions.
type keyState struct {
	Value                string
	Create, Mod, Version int64
}

// readAll reads every key through kv, page by page, and the revision the
// pages were read at (the same for each: nothing writes meanwhile).
func readAll(t *testing.T, ctx context.Context, kv *client.Client, opts ...client.OpOption) (map[string]keyState, int64) {
	t.Helper()
	out := map[string]keyState{}
	var rev int64
	var next string
	for {
		o := slices.Clone(opts)
		if next != "" {
			o = append(o, client.WithNext(next))
		}
		page, err := kv.Range(ctx, "", "", o...)
		if err != nil {
			t.Fatalf("range: %v", err)
		}
		if rev != 0 && page.Revision != rev {
			t.Fatalf("pages read at revisions %d and %d: something wrote meanwhile", rev, page.Revision)
		}
		rev = page.Revision
		for _, k := range page.KVs {
			out[string(k.KeyBytes())] = keyState{string(k.Value), k.CreateRevision, k.ModRevision, k.Version}
		}
		if !page.More {
			return out, rev
		}
		next = page.Next
	}
}

// writeHistory writes a few hundred keys through kv with a history that
// makes their revisions differ from their order: overwrites (versions up
// to 3), deletes, a key deleted and created again, and a transaction
// that writes two keys at one revision.
func writeHistory(t *testing.T, ctx context.Context, kv *client.Client) {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	key := func(i int) string { return fmt.Sprintf("bk/%03d", i) }
	for i := range 300 {
		_, err := kv.Put(ctx, key(i), fmt.Appendf(nil, "v%d", i))
		must("put "+key(i), err)
	}
	for i := 0; i < 300; i += 3 {
		_, err := kv.Put(ctx, key(i), fmt.Appendf(nil, "again %d", i))
		must("overwrite "+key(i), err)
		if i%9 == 0 {
			_, err := kv.Put(ctx, key(i), fmt.Appendf(nil, "third %d", i))
			must("overwrite "+key(i), err)
		}
	}
	for i := 0; i < 300; i += 7 {
		_, err := kv.Delete(ctx, key(i))
		must("delete "+key(i), err)
	}
	_, err := kv.Put(ctx, key(14), []byte("back"))
	must("create bk/014 again", err)
	_, err = kv.Txn(ctx, client.TxnRequest{Success: []client.Op{
		client.OpPut("bk/txn/a", []byte("one")), client.OpPut("bk/txn/b", []byte("two")), client.OpPut(key(1), []byte("in a txn")),
	}})
	must("txn", err)
	_, err = kv.Put(ctx, "bk/last", []byte("written last"))
	must("put bk/last", err)
	_, err = kv.Delete(ctx, "bk/last") // the store revision is past every key's
	must("delete bk/last", err)
}

// TestBackupSaveRestoreIntoANewCluster saves a backup of a three-member
// cluster with the raftkv binary, stops the cluster, restores the backup
// into the data dirs of a new three-member cluster on other ports, and
// checks that the new cluster serves every key with its value and
// revisions, at the backup's store revision, and takes the next write at
// the next revision on every member.
func TestBackupSaveRestoreIntoANewCluster(t *testing.T) {
	old := newCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(3*time.Minute))
	t.Cleanup(cancel)
	kv, err := client.New(old.endpoints())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kv.Close)
	writeHistory(t, ctx, kv)
	want, wantRev := readAll(t, ctx, kv)
	if len(want) < 250 {
		t.Fatalf("%d keys written, want a few hundred", len(want))
	}

	file := filepath.Join(t.TempDir(), "backup.snapshot")
	code, stdout, stderr := runBin(t, "snapshot", "save", file, "-o", "json", "--endpoints", strings.Join(old.endpoints(), ","))
	if code != 0 {
		t.Fatalf("snapshot save: exit %d\n%s%s", code, stdout, stderr)
	}
	var saved struct {
		Revision  int64  `json:"revision"`
		Keys      int    `json:"keys"`
		Size      int64  `json:"size"`
		ClusterID string `json:"cluster_id"`
	}
	if err := json.Unmarshal([]byte(stdout), &saved); err != nil {
		t.Fatalf("snapshot save -o json printed %q: %v", stdout, err)
	}
	oldStatus, err := old.status(1)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || saved.Revision != wantRev || saved.Keys != len(want) || fi.Size() != saved.Size ||
		saved.ClusterID != oldStatus.ClusterID {
		t.Fatalf("snapshot save says %+v (file: %v), want revision %d, %d keys, cluster %s", saved, err, wantRev, len(want), oldStatus.ClusterID)
	}
	if code, stdout, stderr := runBin(t, "snapshot", "status", file); code != 0 || !strings.Contains(stdout, fmt.Sprintf("revision    %d\n", wantRev)) {
		t.Errorf("snapshot status: exit %d\n%s%s", code, stdout, stderr)
	}
	for id := uint64(1); id <= 3; id++ {
		old.stop(id)
	}

	// A new cluster, on other ports, seeded from the backup.
	fresh := &cluster{t: t, dir: t.TempDir(), procs: map[uint64]*proc{}, client: &http.Client{Timeout: 15 * time.Second}}
	for range 3 {
		fresh.addSlot()
	}
	t.Cleanup(fresh.shutdown)
	for id := uint64(1); id <= 3; id++ {
		code, stdout, stderr := runBin(t, "snapshot", "restore", file, "--data-dir", fresh.dataDir(id),
			"--id", fmt.Sprint(id), "--cluster", fresh.clusterFlag())
		if code != 0 {
			t.Fatalf("snapshot restore of member %d: exit %d\n%s%s", id, code, stdout, stderr)
		}
	}
	for id := uint64(1); id <= 3; id++ {
		fresh.start(id, false)
	}
	fresh.waitLeader()

	var newClusterID string
	for id := uint64(1); id <= 3; id++ {
		st, err := fresh.status(id)
		if err != nil {
			t.Fatal(err)
		}
		var addrs []string
		for _, m := range st.Members {
			addrs = append(addrs, m.Address)
		}
		if st.Revision != wantRev || st.ClusterID == oldStatus.ClusterID || (newClusterID != "" && st.ClusterID != newClusterID) ||
			!slices.Equal(addrs, fresh.peers) {
			t.Errorf("member %d of the new cluster: revision %d, cluster %s, members %v; want revision %d, a new cluster id, members %v",
				id, st.Revision, st.ClusterID, addrs, wantRev, fresh.peers)
		}
		newClusterID = st.ClusterID
		got, rev := readAll(t, ctx, fresh.memberClient(id))
		if rev != wantRev {
			t.Errorf("member %d reads at revision %d, want %d", id, rev, wantRev)
		}
		if diff := diffKeys(got, want); diff != "" {
			t.Errorf("member %d of the new cluster does not hold what the old one did:\n%s", id, diff)
		}
	}

	// The next write gets the next revision, and reaches every member.
	put, err := fresh.memberClient(2).Put(ctx, "bk/after", []byte("restored"))
	if err != nil || put.Revision != wantRev+1 {
		t.Fatalf("first write to the new cluster: %+v, %v; want revision %d", put, err, wantRev+1)
	}
	for id := uint64(1); id <= 3; id++ {
		m := fresh.memberClient(id)
		testkit.AwaitCondition(t, fmt.Sprintf("member %d holds bk/after", id), func() bool {
			got, err := m.Get(ctx, "bk/after", client.WithSerializable())
			return err == nil && string(got.KV.Value) == "restored" && got.KV.ModRevision == wantRev+1 && got.KV.CreateRevision == wantRev+1
		}, 20*time.Second)
	}
	if _, err := fresh.memberClient(3).Put(ctx, "bk/000", []byte("over a restored key")); err != nil {
		t.Fatal(err)
	}
	got, err := fresh.memberClient(1).Get(ctx, "bk/003")
	if w := want["bk/003"]; err != nil || string(got.KV.Value) != w.Value || got.KV.Version != w.Version {
		t.Errorf("bk/003 after the new writes: %+v, %v; want %+v", got, err, w)
	}
}

// diffKeys says how got differs from want, one line a key (at most 20).
func diffKeys(got, want map[string]keyState) string {
	var lines []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, fmt.Sprintf("%s: missing, want %+v", k, w))
		} else if g != w {
			lines = append(lines, fmt.Sprintf("%s: %+v, want %+v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("%s: %+v, want no such key", k, g))
		}
	}
	slices.Sort(lines)
	if len(lines) > 20 {
		lines = append(lines[:20], fmt.Sprintf("... and %d more", len(lines)-20))
	}
	return strings.Join(lines, "\n")
}

// TestBackupRestoreRefusesDamagedBackups runs snapshot restore with the
// raftkv binary on a backup cut short and on one with a flipped byte: it
// exits 1 and writes nothing, whether the data dir is absent or empty.
func TestBackupRestoreRefusesDamagedBackups(t *testing.T) {
	st := store.New()
	for i := range 100 {
		st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")}}})
	}
	v := st.View()
	var buf bytes.Buffer
	h := backup.Header{Revision: v.Revision(), Keys: uint64(v.Len()), Index: 100, Term: 2, ClusterID: 1, Member: 1, Taken: time.Now()}
	if _, _, err := backup.Write(&buf, h, func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, v) }); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flipped := slices.Clone(good)
	flipped[backup.HeaderSize+len(good)/3] ^= 0x01
	dir := t.TempDir()
	cluster := "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3"
	for _, c := range []struct {
		name string
		data []byte
		says string
	}{
		{"truncated", good[:len(good)-backup.TrailerSize/2], "truncated or damaged"},
		{"cut in half", good[:len(good)/2], "truncated or damaged"},
		{"flipped byte", flipped, "checksum mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".snapshot")
			if err := os.WriteFile(file, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			absent := filepath.Join(t.TempDir(), "absent")
			empty := t.TempDir()
			for _, dataDir := range []string{absent, empty} {
				code, stdout, stderr := runBin(t, "snapshot", "restore", file, "--data-dir", dataDir, "--id", "1", "--cluster", cluster)
				if code != 1 || !strings.Contains(stderr, c.says) || stdout != "" {
					t.Errorf("restore of a backup %s into %s: exit %d, stdout %q, stderr %q; want exit 1 saying %q",
						c.name, dataDir, code, stdout, stderr, c.says)
				}
			}
			if _, err := os.Stat(absent); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the absent data dir exists after a refused restore: %v", err)
			}
			if entries, err := os.ReadDir(empty); err != nil || len(entries) != 0 {
				t.Errorf("the empty data dir holds %d entries after a refused restore (%v)", len(entries), err)
			}
			if code, _, stderr := runBin(t, "snapshot", "status", file); code != 1 {
				t.Errorf("snapshot status of a backup %s: exit %d (%s), want 1", c.name, code, stderr)
			}
		})
	}
	// The good one restores.
	file := filepath.Join(dir, "good.snapshot")
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runBin(t, "snapshot", "restore", file, "--data-dir", filepath.Join(dir, "data"), "--id", "1", "--cluster", cluster); code != 0 {
		t.Errorf("restore of the good backup: exit %d\n%s%s", code, stdout, stderr)
	}
}
