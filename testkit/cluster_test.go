package testkit

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
)

func TestClusterReplicatesAndSurvivesLeaderStop(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.WaitLeader()
	for i := range 10 {
		if err := c.Put(uint64(i%3+1), fmt.Sprintf("k%d", i), fmt.Sprint(i)); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	c.Stop(leader)
	next := c.WaitLeader()
	if next == leader {
		t.Fatalf("stopped member %d still leads", leader)
	}
	if err := c.Put(next, "after", "x"); err != nil {
		t.Fatal(err)
	}
	c.Start(leader)
	AwaitCondition(t, "restarted member reads the write made while it was down", func() bool {
		v, ok, err := c.Get(leader, "after", false)
		return err == nil && ok && v == "x"
	}, 20*time.Second)
}

func TestClusterPartitionedMinorityCannotWrite(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.WaitLeader()
	c.Isolate(leader)
	var next uint64
	AwaitCondition(t, "the majority elects a new leader", func() bool {
		for _, id := range c.others(leader) {
			if st, err := c.Status(id); err == nil && st.Leader != 0 && st.Leader != leader {
				next = st.Leader
				return true
			}
		}
		return false
	}, 20*time.Second)
	if err := c.Put(next, "k", "majority"); err != nil {
		t.Fatalf("majority write: %v", err)
	}
	// The isolated old leader cannot confirm a read: once it knows it has
	// no leader, it says so at once.
	AwaitCondition(t, "the isolated member knows it has no leader", func() bool {
		st, err := c.Status(leader)
		return err == nil && st.Leaderless
	}, 20*time.Second)
	v, err := c.Request(leader, &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte("k")}}, 5*time.Second)
	if r, ok := v.(*messages.ReadReply); err != nil || !ok || !errors.Is(r.Err, messages.ErrNoLeader) {
		t.Fatalf("linearizable read on the isolated member answered %+v, %v; want ErrNoLeader", v, err)
	}
	// A serializable read there is stale: that is what it promises.
	if v, _, err := c.Get(leader, "k", true); err != nil || v == "majority" {
		t.Fatalf("serializable read on the isolated member: %q %v, want stale", v, err)
	}
	c.Heal()
	AwaitCondition(t, "healed member reads the majority's write", func() bool {
		v, ok, err := c.Get(leader, "k", false)
		return err == nil && ok && v == "majority"
	}, 20*time.Second)
}

func TestDeterministicClusterReplaysFromSeed(t *testing.T) {
	run := func() (trace []string) {
		synctest.Test(t, func(t *testing.T) {
			c := NewCluster(t, 3, WithSeed(42), Deterministic(), InBubble())
			leader := c.WaitLeader()
			c.SetDropRate(0.2)
			for i := range 5 {
				if err := c.Put(leader, fmt.Sprintf("k%d", i), "v"); err != nil {
					t.Fatalf("put: %v", err)
				}
			}
			st, err := c.Status(leader)
			if err != nil {
				t.Fatal(err)
			}
			trace = append(c.Trace(), fmt.Sprintf("leader %d term %d commit %d", leader, st.Term, st.Commit))
		})
		return trace
	}
	first, second := run(), run()
	if len(first) < 20 {
		t.Fatalf("trace too short to mean anything: %v", first)
	}
	if !reflect.DeepEqual(first, second) {
		for i := range min(len(first), len(second)) {
			if first[i] != second[i] {
				for j := max(0, i-10); j <= i; j++ {
					t.Logf("%d %-40s %s", j, first[j], second[j])
				}
				t.Fatalf("same seed, runs differ at step %d of %d/%d: %q vs %q", i, len(first), len(second), first[i], second[i])
			}
		}
		t.Fatalf("same seed, runs of %d and %d steps", len(first), len(second))
	}
}

// A member removed while it was down learns it from the others when it
// comes back, and stops on its own.
func TestClusterMemberRemovedWhileDownStopsWhenBack(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.WaitLeader()
	gone := leader%3 + 1
	c.Stop(gone)
	AwaitCondition(t, "the removal of the stopped member is applied", func() bool {
		v, err := c.Request(leader, &messages.ClientConfChange{Change: messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: gone}}}, Dilated(2*time.Second))
		r, ok := v.(*messages.ConfChangeReply)
		return err == nil && ok && r.Err == nil
	}, 20*time.Second)
	c.Start(gone)
	n := c.Node(gone)
	select {
	case <-n.Done():
		if !errors.Is(n.Err(), node.ErrRemoved) {
			t.Fatalf("member %d stopped with %v, want ErrRemoved", gone, n.Err())
		}
	case <-time.After(Dilated(20 * time.Second)):
		t.Fatalf("member %d, removed while down, did not stop after coming back", gone)
	}
}
