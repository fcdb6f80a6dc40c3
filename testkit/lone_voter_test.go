package testkit

import (
	"testing"

	"github.com/raftkv/raftkv/actors/raftnode"
)

// A member that is the only voter needs no one's vote: once it has
// applied its log — at its first start, and after a restart — it leads at
// once, rather than after an election timeout during which every write
// fails with no_leader. Counted in the cluster's steps, each of which is
// one tick here (a lone member sends no messages).
func TestLoneVoterLeadsWithoutAnElectionTimeout(t *testing.T) {
	c := NewCluster(t, 1, WithSeed(1), Deterministic())
	stepsToLead := func() int {
		for steps := 0; steps < 10*raftnode.DefaultElectionTick; steps++ {
			if st, err := c.Status(1); err == nil && st.Leader == 1 && st.Serving {
				return steps
			}
			c.Step()
		}
		t.Fatal("the lone member never led")
		return 0
	}
	if steps := stepsToLead(); steps >= raftnode.DefaultElectionTick {
		t.Errorf("a new lone member led after %d ticks, want fewer than an election timeout (%d)", steps, raftnode.DefaultElectionTick)
	}
	if err := c.Put(1, "k", "v"); err != nil {
		t.Fatal(err)
	}
	c.Restart(1)
	if steps := stepsToLead(); steps >= raftnode.DefaultElectionTick {
		t.Errorf("a restarted lone member led after %d ticks, want fewer than an election timeout (%d)", steps, raftnode.DefaultElectionTick)
	}
}
