package node_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
	"github.com/raftkv/raftkv/testkit"
)

// ask sends a client request to n's proposer and returns the answer.
func ask[T any](t *testing.T, n *node.Node, msg any) T {
	t.Helper()
	v, err := n.System().Root.RequestFuture(n.Proposer(), msg, testkit.Dilated(5*time.Second)).Result()
	r, ok := v.(T)
	if err != nil || !ok {
		t.Fatalf("request %T: %v, %v", msg, v, err)
	}
	return r
}

func putReq(key string) *messages.ClientTxn {
	return &messages.ClientTxn{Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte("v")}}}}
}

// When the disk of a member runs low, its NOSPACE alarm is raised through
// the log: writes that put a key are refused (ErrNoSpace, nothing
// written), deletes and reads go on, the status shows the alarm. Once there
// is space again the alarm is cleared and writes resume, with nothing
// acknowledged lost.
func TestNoSpaceAlarm(t *testing.T) {
	var free atomic.Uint64
	free.Store(10 << 30)
	self := freeAddr(t)
	n, err := node.Start(node.Config{ID: 1, Cluster: map[uint64]string{1: self}, DataDir: t.TempDir(), Logger: quietLog(),
		SpaceReserve: 1 << 30, FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	testkit.AwaitCondition(t, "the member takes writes", func() bool {
		r := ask[*messages.TxnReply](t, n, putReq("before"))
		return r.Err == nil
	}, 10*time.Second)

	free.Store(100 << 20)
	testkit.AwaitCondition(t, "the alarm is raised", func() bool {
		st := ask[*messages.Status](t, n, &messages.ClientStatus{})
		return len(st.Alarms) == 1 && st.Alarms[0] == 1
	}, 10*time.Second)
	if r := ask[*messages.TxnReply](t, n, putReq("during")); !errors.Is(r.Err, messages.ErrNoSpace) {
		t.Errorf("a put during the alarm: %+v, want ErrNoSpace", r)
	}
	del := &messages.ClientTxn{Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte("nothing")}}}}
	if r := ask[*messages.TxnReply](t, n, del); r.Err != nil {
		t.Errorf("a delete during the alarm: %v", r.Err)
	}
	read := &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte("before")}}
	if r := ask[*messages.ReadReply](t, n, read); r.Err != nil || len(r.Result.KVs) != 1 {
		t.Errorf("a read during the alarm: %+v", r)
	}

	free.Store(10 << 30)
	testkit.AwaitCondition(t, "the alarm is cleared and writes resume", func() bool {
		r := ask[*messages.TxnReply](t, n, putReq("after"))
		return r.Err == nil
	}, 10*time.Second)
	if st := ask[*messages.Status](t, n, &messages.ClientStatus{}); len(st.Alarms) != 0 {
		t.Errorf("alarms %v after the disk has space again", st.Alarms)
	}
	if r := ask[*messages.ReadReply](t, n, read); r.Err != nil || len(r.Result.KVs) != 1 {
		t.Errorf("the write acknowledged before the alarm: %+v", r)
	}
}

// A member that starts on a disk that is already low raises the alarm: the
// persister's first reading, taken as it starts, reaches the proposer.
func TestNoSpaceAlarmAtStart(t *testing.T) {
	self := freeAddr(t)
	n, err := node.Start(node.Config{ID: 1, Cluster: map[uint64]string{1: self}, DataDir: t.TempDir(), Logger: quietLog(),
		SpaceReserve: 1 << 30, FreeSpace: func(string) (uint64, error) { return 100 << 20, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	testkit.AwaitCondition(t, "the alarm is raised", func() bool {
		st := ask[*messages.Status](t, n, &messages.ClientStatus{})
		return len(st.Alarms) == 1 && st.Alarms[0] == 1
	}, 10*time.Second)
	if r := ask[*messages.TxnReply](t, n, putReq("k")); !errors.Is(r.Err, messages.ErrNoSpace) {
		t.Errorf("a put on the low disk: %+v, want ErrNoSpace", r)
	}
}
