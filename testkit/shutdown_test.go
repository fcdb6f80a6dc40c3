package testkit

import "testing"

// A leader that shuts down hands the leadership to another member first:
// the others have a leader at once, the term right after, instead of
// waiting out an election timeout. A follower's shutdown hands nothing
// over.
func TestShutdownHandsLeadershipOver(t *testing.T) {
	c := NewCluster(t, 3)
	old := c.WaitLeader()
	if err := c.Put(old, "k", "v"); err != nil {
		t.Fatal(err)
	}
	before, err := c.Status(old)
	if err != nil {
		t.Fatal(err)
	}
	to := c.Shutdown(old)
	if to == 0 || to == old {
		t.Fatalf("the leader %d shut down handing the leadership to %d, want another member", old, to)
	}
	st, err := c.Status(to)
	if err != nil || st.Leader != to || st.Term != before.Term+1 {
		t.Fatalf("member %d: %+v (%v), want it leading term %d", to, st, err, before.Term+1)
	}
	if err := c.Put(to, "after", "x"); err != nil {
		t.Fatal(err)
	}
	var follower uint64
	for _, id := range c.Running() {
		if id != to {
			follower = id
		}
	}
	if got := c.Shutdown(follower); got != to {
		t.Errorf("a follower's shutdown says %d leads, want %d", got, to)
	}
}
