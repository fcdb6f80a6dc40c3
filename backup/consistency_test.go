package backup_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// askBackup asks member id for a backup as GET /v1/snapshot does, and
// writes and reads it back as a backup file: its header and store, or the
// error the member answered.
func askBackup(t *testing.T, c *testkit.Cluster, id uint64) (backup.Header, *store.Store, error) {
	t.Helper()
	v, err := c.Request(id, &messages.ClientBackup{}, testkit.Dilated(10*time.Second))
	if err != nil {
		return backup.Header{}, nil, err
	}
	switch r := v.(type) {
	case *messages.ReadReply:
		if r.Err == nil {
			t.Fatalf("member %d answered a backup request with a ReadReply without error", id)
		}
		return backup.Header{}, nil, r.Err
	case *messages.BackupReply:
		h := backup.Header{Revision: r.Revision, Keys: uint64(r.Keys), Index: r.Index, Term: r.Term,
			ClusterID: r.ClusterID, Member: r.Member, Taken: time.Now()}
		var buf bytes.Buffer
		if _, _, err := backup.Write(&buf, h, r.WriteStore); err != nil {
			t.Fatal(err)
		}
		h, st, err := backup.Read(&buf)
		if err != nil {
			t.Fatalf("the backup of member %d does not verify: %v", id, err)
		}
		return h, st, nil
	}
	t.Fatalf("member %d answered a backup request with %T", id, v)
	return backup.Header{}, nil, nil
}

// A backup holds every write acknowledged before it was asked, whichever
// member serves it (a follower too): it is taken after a read index round,
// as a linearizable read is.
func TestBackupHoldsEveryAcknowledgedWrite(t *testing.T) {
	c := testkit.NewCluster(t, 3)
	leader := c.WaitLeader()
	status, err := c.Status(leader)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		key := fmt.Sprintf("k/%02d", i%7) // overwritten now and then
		res, err := c.Txn(leader, messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: fmt.Appendf(nil, "v%d", i)}}})
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		member := uint64(i%3) + 1
		h, st, err := askBackup(t, c, member)
		if err != nil {
			t.Fatalf("backup from member %d: %v", member, err)
		}
		got, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte(key)})
		if h.Revision < res.Revision || len(got.KVs) != 1 || string(got.KVs[0].Value) != fmt.Sprint("v", i) || got.KVs[0].ModRevision != res.Revision {
			t.Fatalf("backup from member %d at revision %d after the write of %s=v%d at revision %d holds %+v",
				member, h.Revision, key, i, res.Revision, got.KVs)
		}
		if h.Member != member || h.ClusterID != status.ClusterID || h.Index == 0 {
			t.Errorf("backup header %+v, want member %d of cluster %x", h, member, status.ClusterID)
		}
	}
}

// A member cut off from the quorum serves no backup, rather than a stale
// one: a follower, and the leader it was.
func TestBackupRefusedWithoutQuorum(t *testing.T) {
	c := testkit.NewCluster(t, 3)
	leader := c.WaitLeader()
	if err := c.Put(leader, "k", "v"); err != nil {
		t.Fatal(err)
	}
	follower := leader%3 + 1
	for _, id := range []uint64{follower, leader} {
		c.Isolate(id)
		if _, _, err := askBackup(t, c, id); !errors.Is(err, messages.ErrNoLeader) && !errors.Is(err, messages.ErrTimeout) {
			t.Errorf("backup from member %d, cut off: err %v, want no leader or a timeout", id, err)
		}
		c.Heal()
		c.WaitLeader()
	}
}
