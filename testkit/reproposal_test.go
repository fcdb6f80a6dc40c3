package testkit

import (
	"errors"
	"fmt"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// revision is the store revision member id has applied.
func revision(t *testing.T, c *Cluster, id uint64) int64 {
	t.Helper()
	st, err := c.Status(id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Revision
}

// A write sent through a follower just after the leader was cut off is
// forwarded to the old leader and lost there. The follower proposes it
// again when the new leader is elected, so it completes right after the
// election instead of waiting out its deadline, and it applies once.
func TestWriteThroughFollowerSurvivesLeaderLoss(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4, 5} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			c := NewCluster(t, 3, WithSeed(seed), Deterministic(), WithRequestSteps(3000))
			old := c.WaitLeader()
			if err := c.Put(old, "before", "x"); err != nil {
				t.Fatal(err)
			}
			follower := old%3 + 1
			before := revision(t, c, old)
			// The follower still takes the cut-off member for its leader: the
			// write goes there and is lost.
			c.Partition([]uint64{old}, c.others(old))
			if err := c.Put(follower, "k", "v"); err != nil {
				t.Fatalf("a write through follower %d across the loss of leader %d: %v", follower, old, err)
			}
			c.Heal()
			leader := c.WaitLeader()
			if err := c.Put(leader, "barrier", "x"); err != nil {
				t.Fatal(err)
			}
			c.Await("every member applied the barrier", func() bool {
				for _, id := range c.Running() {
					if v, ok, err := c.Get(id, "barrier", true); err != nil || !ok || v != "x" {
						return false
					}
				}
				return true
			})
			for _, id := range c.Running() {
				if got := revision(t, c, id); got != before+2 {
					t.Errorf("member %d at revision %d, want %d: the write and the barrier, each applied once", id, got, before+2)
				}
			}
		})
	}
}

// A network that delivers every message twice delivers every proposal
// twice, and the log holds each write twice: each applies once, a
// compare-and-swap included.
func TestDuplicatedProposalsApplyOnce(t *testing.T) {
	c := NewCluster(t, 3, WithSeed(9), Deterministic(), WithRequestSteps(3000))
	leader := c.WaitLeader()
	follower := leader%3 + 1
	c.SetDuplicateRate(1)
	const n = 5
	for i := range n {
		if err := c.Put(follower, fmt.Sprint("k", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Txn(follower, messages.Txn{
		Compares: []messages.Compare{{Key: []byte("k0"), Target: messages.TargetVersion, Result: messages.Equal, Revision: 1}},
		Success:  []messages.Op{{Type: messages.OpPut, Key: []byte("k0"), Value: []byte("swapped")}},
	})
	if err != nil || !res.Succeeded {
		t.Fatalf("compare-and-swap: %+v, %v", res, err)
	}
	c.Heal()
	if err := c.Put(leader, "barrier", "x"); err != nil {
		t.Fatal(err)
	}
	for _, id := range c.Running() {
		c.Await(fmt.Sprintf("member %d applied the barrier", id), func() bool {
			v, ok, err := c.Get(id, "barrier", true)
			return err == nil && ok && v == "x"
		})
		if got := revision(t, c, id); got != n+2 {
			t.Errorf("member %d at revision %d, want %d: every write applied once", id, got, n+2)
		}
	}
}

// A member that restarts gives its new requests counters it never used,
// so the state machine, which remembers the counters it applied, applies
// them: none is mistaken for a copy of a request from before the restart.
func TestProposingMemberRestarts(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.WaitLeader()
	follower := leader%3 + 1
	for i := range 3 {
		if err := c.Put(follower, fmt.Sprint("a", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	c.Restart(follower)
	c.WaitLeader()
	for i := range 3 {
		err := c.Put(follower, fmt.Sprint("b", i), "v")
		if errors.Is(err, messages.ErrNotReady) || errors.Is(err, messages.ErrNoLeader) {
			c.WaitLeader()
			err = c.Put(follower, fmt.Sprint("b", i), "v")
		}
		if err != nil {
			t.Fatalf("write %d through the restarted member: %v", i, err)
		}
	}
	for i := range 3 {
		if v, ok, err := c.Get(leader, fmt.Sprint("b", i), false); err != nil || !ok || v != "v" {
			t.Errorf("b%d = %q (found %v, %v), want v", i, v, ok, err)
		}
	}
}
