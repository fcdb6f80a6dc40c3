package testkit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
)

// change asks member id for a membership change and returns its outcome.
func (c *Cluster) change(id uint64, ch messages.MemberChange) error {
	v, err := c.Request(id, &messages.ClientConfChange{Change: ch}, Dilated(5*time.Second))
	if err != nil {
		return err
	}
	r, ok := v.(*messages.ConfChangeReply)
	if !ok {
		return fmt.Errorf("unexpected answer %T", v)
	}
	return r.Err
}

func learner(c *Cluster, id uint64) messages.MemberChange {
	return messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: id, PeerAddress: c.Address(id)}}
}

func promote(id uint64) messages.MemberChange {
	return messages.MemberChange{Type: messages.Promote, Member: messages.Member{ID: id}}
}

func remove(id uint64) messages.MemberChange {
	return messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: id}}
}

// roles maps each member of member id's status to "voter" or "learner".
func (c *Cluster) roles(id uint64) map[uint64]string {
	st, err := c.Status(id)
	if err != nil {
		return nil
	}
	out := map[uint64]string{}
	for _, m := range st.Members {
		out[m.ID] = map[bool]string{false: "voter", true: "learner"}[m.Learner]
	}
	return out
}

// writeKeys writes n keys through the leader.
func writeKeys(t *testing.T, c *Cluster, prefix string, n int) {
	t.Helper()
	leader := c.WaitLeader()
	for i := range n {
		if err := c.Put(leader, fmt.Sprintf("%s%03d", prefix, i), fmt.Sprint(i)); err != nil {
			t.Fatalf("put %s%03d: %v", prefix, i, err)
		}
	}
}

// awaitValue waits until member id reads key=value (serializably: a
// learner's own state).
func awaitValue(c *Cluster, id uint64, key, value string) {
	c.Await(fmt.Sprintf("member %d reads %s=%s", id, key, value), func() bool {
		got, ok, err := c.Get(id, key, true)
		return err == nil && ok && got == value
	})
}

// A learner added after the log was compacted catches up from a snapshot
// that names it, is promoted once it has caught up, and a voter removed
// stops on its own; the cluster goes on with the new member.
func TestClusterLearnerJoinsAfterCompaction(t *testing.T) {
	c := NewCluster(t, 3, WithSnapshotCount(20), WithCatchUpEntries(5))
	writeKeys(t, c, "k", 100)
	leader := c.WaitLeader()
	if err := c.change(leader, promote(4)); !errors.Is(err, messages.ErrMemberNotFound) {
		t.Errorf("promote a member that is not there: %v, want ErrMemberNotFound", err)
	}
	if err := c.change(leader, learner(c, 4)); err != nil {
		t.Fatalf("add learner 4: %v", err)
	}
	if got := c.roles(leader)[4]; got != "learner" {
		t.Fatalf("member 4 is a %q, want a learner", got)
	}
	c.Join(4)
	awaitValue(c, 4, "k099", "99")
	c.Await("the learner is promoted", func() bool { return c.change(leader, promote(4)) == nil })
	if err := c.change(leader, promote(4)); !errors.Is(err, messages.ErrNotLearner) {
		t.Errorf("promote a voter: %v, want ErrNotLearner", err)
	}

	gone := leader%3 + 1
	if err := c.change(4, remove(gone)); err != nil {
		t.Fatalf("remove member %d through member 4: %v", gone, err)
	}
	select {
	case <-c.Node(gone).Done():
		if !errors.Is(c.Node(gone).Err(), node.ErrRemoved) {
			t.Errorf("member %d stopped with %v, want ErrRemoved", gone, c.Node(gone).Err())
		}
	case <-time.After(Dilated(20 * time.Second)):
		t.Fatalf("removed member %d did not stop", gone)
	}
	c.Stop(gone)
	want := map[uint64]string{1: "voter", 2: "voter", 3: "voter", 4: "voter"}
	delete(want, gone)
	c.Await("the members agree on the membership", func() bool {
		for _, id := range c.Running() {
			if fmt.Sprint(c.roles(id)) != fmt.Sprint(want) {
				return false
			}
		}
		return true
	})
	if err := c.Put(4, "after", "changes"); err != nil {
		t.Fatalf("write through the new member: %v", err)
	}
}

// Replacing a member that failed: removing it is allowed while the others
// form a quorum; removing a healthy one then is not. A new member takes
// its place.
func TestClusterReplaceFailedMember(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.WaitLeader()
	failed := leader%3 + 1
	healthy := 6 - leader - failed
	c.Stop(failed)
	c.Await("the leader sees the failed member unreachable", func() bool {
		st, err := c.Status(leader)
		if err != nil {
			return false
		}
		for _, m := range st.Members {
			if m.ID == failed && m.Progress != nil && !m.Progress.Reachable {
				return true
			}
		}
		return false
	})
	if err := c.change(leader, remove(healthy)); !errors.Is(err, messages.ErrUnsafeChange) {
		t.Errorf("remove a healthy member while one has failed: %v, want ErrUnsafeChange", err)
	}
	if err := c.change(healthy, remove(failed)); err != nil {
		t.Fatalf("remove the failed member %d: %v", failed, err)
	}
	if err := c.change(healthy, learner(c, 4)); err != nil {
		t.Fatalf("add learner 4: %v", err)
	}
	c.Join(4)
	c.Await("the learner is promoted", func() bool { return c.change(leader, promote(4)) == nil })
	if err := c.change(leader, learner(c, failed)); !errors.Is(err, messages.ErrMemberRemoved) {
		t.Errorf("add the removed id %d again: %v, want ErrMemberRemoved", failed, err)
	}
	// The leader promotes a learner whose log caught up; the learner may
	// not have applied its own addition yet, and serves once it has.
	c.Await("member 4 serves", func() bool {
		st, err := c.Status(4)
		return err == nil && st.Serving
	})
	if err := c.Put(4, "k", "v"); err != nil {
		t.Fatal(err)
	}
}

// A refused change changes nothing on any member, not even after a
// restart of all of them: here an existing id added again at another
// address.
func TestClusterRefusedChangeChangesNothing(t *testing.T) {
	c := NewCluster(t, 3)
	c.WaitLeader()
	for id := uint64(1); id <= 3; id++ {
		err := c.change(id, messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 2, PeerAddress: "elsewhere:1"}})
		if !errors.Is(err, messages.ErrMemberExists) {
			t.Errorf("through member %d: %v, want ErrMemberExists", id, err)
		}
	}
	for _, id := range []uint64{1, 2, 3} {
		c.Restart(id)
	}
	leader := c.WaitLeader()
	for id := uint64(1); id <= 3; id++ {
		st, err := c.Status(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range st.Members {
			if m.PeerAddress != c.Address(m.ID) {
				t.Errorf("member %d lists member %d at %s, want %s", id, m.ID, m.PeerAddress, c.Address(m.ID))
			}
		}
	}
	if err := c.Put(leader, "k", "v"); err != nil {
		t.Fatal(err)
	}
}

// A member added at an address where another member answers never gets
// raft messages meant for the new one (the links say hello first), the
// cluster keeps serving, and the leader's status says what is wrong.
func TestClusterAddressOfAnotherMember(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.WaitLeader()
	// Member 4's address leads to member 5, which no cluster added.
	wrong := messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: 4, PeerAddress: c.Address(5)}}
	if err := c.change(leader, wrong); err != nil {
		t.Fatal(err)
	}
	c.Join(5)
	for i := range 20 {
		if err := c.Put(leader, fmt.Sprint("k", i), "v"); err != nil {
			t.Fatalf("the cluster stopped serving: %v", err)
		}
	}
	st, err := c.Status(5)
	if err != nil {
		t.Fatal(err)
	}
	if st.Serving || len(st.Members) != 0 || st.Commit != 0 {
		t.Errorf("member 5 got the log meant for member 4: %+v", st)
	}
	c.Await("the leader says why it does not use member 4's address", func() bool {
		st, err := c.Status(leader)
		if err != nil {
			return false
		}
		for _, m := range st.Members {
			if m.ID == 4 && strings.Contains(m.LinkError, "reaches member 5") {
				return true
			}
		}
		return false
	})
}

// In deterministic mode a member joins through a snapshot too: the
// snapshot's chunks and acks are queued and delivered like raft's
// messages, so the run is still a function of the seed.
func TestDeterministicMemberJoinsFromSnapshot(t *testing.T) {
	run := func() (trace []string) {
		synctest.Test(t, func(t *testing.T) {
			c := NewCluster(t, 3, WithSeed(11), Deterministic(), InBubble(), WithSnapshotCount(10), WithCatchUpEntries(2))
			writeKeys(t, c, "d", 30)
			leader := c.WaitLeader()
			c.Await("learner 4 is added", func() bool { return c.change(leader, learner(c, 4)) == nil })
			c.Join(4)
			awaitValue(c, 4, "d029", "29")
			trace = c.Trace()
		})
		return trace
	}
	first, second := run(), run()
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("same seed, runs of %d and %d steps differ", len(first), len(second))
	}
}
