package node_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
	"github.com/raftkv/raftkv/testkit"
)

// freeAddr is a peer address on a free loopback port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// writeLog writes a data directory whose WAL holds entries, all committed,
// as a member that crashed right after would have left it.
func writeLog(t *testing.T, dir string, entries ...*raftpb.Entry) {
	t.Helper()
	w, err := wal.Create(zap.NewNop(), filepath.Join(dir, "wal"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.SaveSnapshot(&walpb.Snapshot{Index: new(uint64(0)), Term: new(uint64(0))}); err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1].GetIndex()
	hs := &raftpb.HardState{Term: new(uint64(2)), Vote: new(uint64(1)), Commit: &last}
	if err := w.Save(hs, entries); err != nil {
		t.Fatal(err)
	}
}

// confEntry is entry index of term 2 carrying change.
func confEntry(t *testing.T, index uint64, change messages.MemberChange, clusterID uint64) *raftpb.Entry {
	t.Helper()
	cc, err := membership.ConfChange(messages.RequestID{Node: 1, Seq: index}, change)
	if err != nil {
		t.Fatal(err)
	}
	if clusterID != 0 {
		c, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{Change: change, ClusterID: clusterID})
		if err != nil {
			t.Fatal(err)
		}
		cc.Context = c
	}
	data, err := proto.Marshal(cc)
	if err != nil {
		t.Fatal(err)
	}
	return &raftpb.Entry{Term: new(uint64(2)), Index: &index, Type: raftpb.EntryConfChangeV2.Enum(), Data: data}
}

func putEntry(t *testing.T, index uint64, key, value string) *raftpb.Entry {
	t.Helper()
	data, err := messages.EncodeCommand(messages.Command{ID: messages.RequestID{Node: 1, Seq: index},
		Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}}}})
	if err != nil {
		t.Fatal(err)
	}
	return &raftpb.Entry{Term: new(uint64(2)), Index: &index, Type: raftpb.EntryNormal.Enum(), Data: data}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// An earlier raftkv let a single member remove itself, the last voter: the
// change committed, and raft then refused to start on that log ("removed
// all voters"), so the data could never be read again. Such a log now
// opens: the change that would leave no voter is refused when it is
// applied, on every member alike, and the member goes on serving.
func TestLogThatRemovesTheLastVoterStillOpens(t *testing.T) {
	dir := t.TempDir()
	self := freeAddr(t)
	add := messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 1, PeerAddress: self}}
	writeLog(t, dir,
		confEntry(t, 1, add, 5),
		putEntry(t, 2, "k", "kept"),
		confEntry(t, 3, messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: 1}}, 0),
	)
	n, err := node.Start(node.Config{ID: 1, Cluster: map[uint64]string{1: self}, DataDir: dir, Logger: quietLog()})
	if err != nil {
		t.Fatalf("start on a log that removes the last voter: %v", err)
	}
	defer n.Stop()
	var st *messages.Status
	testkit.AwaitCondition(t, "the member serves as the sole voter", func() bool {
		v, err := n.System().Root.RequestFuture(n.Proposer(), &messages.ClientStatus{}, time.Second).Result()
		st, _ = v.(*messages.Status)
		return err == nil && st != nil && st.Serving && st.Leader == 1
	}, 10*time.Second)
	if len(st.Members) != 1 || st.Members[0].ID != 1 || st.Members[0].Learner {
		t.Errorf("members %+v, want member 1 voting", st.Members)
	}
	v, err := n.System().Root.RequestFuture(n.Proposer(),
		&messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte("k")}}, 5*time.Second).Result()
	r, _ := v.(*messages.ReadReply)
	if err != nil || r == nil || r.Err != nil || len(r.Result.KVs) != 1 || string(r.Result.KVs[0].Value) != "kept" {
		t.Errorf("read k: %+v, %v; want kept", r, err)
	}
}

// A member whose own log removes it refuses to start from its data dir,
// and says why; so does one that left the marker of its removal.
func TestRemovedMemberRefusesToStart(t *testing.T) {
	t.Run("log", func(t *testing.T) {
		dir := t.TempDir()
		one, two := freeAddr(t), "127.0.0.1:2"
		writeLog(t, dir,
			confEntry(t, 1, messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 1, PeerAddress: one}}, 5),
			confEntry(t, 2, messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 2, PeerAddress: two}}, 5),
			confEntry(t, 3, messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: 1}}, 0),
		)
		n, err := node.Start(node.Config{ID: 1, Cluster: map[uint64]string{1: one, 2: two}, DataDir: dir, Logger: quietLog()})
		if err == nil {
			n.Stop()
			t.Fatal("a member removed by its own log started")
		}
		if !errors.Is(err, node.ErrRemoved) {
			t.Errorf("error %v, want ErrRemoved", err)
		}
	})
	t.Run("marker", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "REMOVED"), []byte("member 1 was removed: test\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		self := freeAddr(t)
		n, err := node.Start(node.Config{ID: 1, Cluster: map[uint64]string{1: self}, DataDir: dir, Logger: quietLog()})
		if err == nil {
			n.Stop()
			t.Fatal("a member with a removal marker started")
		}
		if !errors.Is(err, node.ErrRemoved) || !strings.Contains(err.Error(), "test") {
			t.Errorf("error %v, want ErrRemoved with the marker's reason", err)
		}
	})
}
