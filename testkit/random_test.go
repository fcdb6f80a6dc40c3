package testkit

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"testing/synctest"

	"github.com/raftkv/raftkv/messages"
)

// schedules is how many seeded schedules TestRandomSchedulesLoseNoAckedWrite
// runs; RAFTKV_SCHEDULES raises it for a soak, RAFTKV_SEED replays one.
func schedules(t *testing.T) (first int64, n int) {
	if s := os.Getenv("RAFTKV_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("RAFTKV_SEED=%q: %v", s, err)
		}
		return seed, 1
	}
	n = 50
	if s := os.Getenv("RAFTKV_SCHEDULES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("RAFTKV_SCHEDULES=%q: %v", s, err)
		}
	}
	return 1, n
}

// TestRandomSchedulesLoseNoAckedWrite runs seeded schedules of partitions,
// crashes, restarts and message loss on a deterministic three-member
// cluster with small snapshots, writing through random members all along.
// At the end the network heals and every member restarts: every write that
// was acknowledged must be on every member, none that was refused for want
// of a leader may be anywhere, and the members must agree.
// A failure names its seed; RAFTKV_SEED=<seed> replays exactly that run.
func TestRandomSchedulesLoseNoAckedWrite(t *testing.T) {
	first, n := schedules(t)
	for seed := first; seed < first+int64(n); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runSchedule(t, seed) })
		})
	}
}

func runSchedule(t *testing.T, seed int64) {
	c := NewCluster(t, 3, WithSeed(seed), Deterministic(), InBubble(), WithSnapshotCount(8),
		WithCatchUpEntries(2), WithRequestSteps(150))
	rng := rand.New(rand.NewSource(seed))
	acked := map[string]string{}
	refused := map[string]bool{} // answered ErrNoLeader: never handed to raft
	down := map[uint64]bool{}
	for round := range 6 {
		switch rng.Intn(6) {
		case 0:
			c.Isolate(uint64(rng.Intn(3) + 1))
		case 1:
			c.Heal()
		case 2:
			if id := uint64(rng.Intn(3) + 1); !down[id] && len(down) == 0 {
				c.Stop(id)
				down[id] = true
			}
		case 3:
			for id := range down {
				c.Start(id)
				delete(down, id)
			}
		case 4:
			c.SetDropRate(0.15)
		case 5:
			c.SetDuplicateRate(0.15)
		}
		for w := range 3 {
			running := c.Running()
			id := running[rng.Intn(len(running))]
			key, value := fmt.Sprintf("k%d-%d", round, w), fmt.Sprintf("v%d", rng.Int63())
			err := c.Put(id, key, value)
			switch {
			case err == nil:
				acked[key] = value
			case errors.Is(err, messages.ErrNoLeader):
				// Refused at once: time passes before the client's next
				// request, as a real client backs off.
				refused[key] = true
				for range 20 {
					c.Step()
				}
			case errors.Is(err, ErrNoAnswer), errors.Is(err, messages.ErrTimeout):
				// unknown outcome: it may or may not apply
			default:
				t.Fatalf("put %s through member %d: %v", key, id, err)
			}
		}
	}

	c.Heal()
	for id := range down {
		c.Start(id)
	}
	// A write through the leader commits after everything before it. The
	// network is still working off its backlog, reordered: the write may
	// take more steps than one request's bound, and is asked again then.
	leader := c.WaitLeader()
	c.Await("a barrier write through the leader", func() bool {
		if l := c.Leader(); l != 0 {
			leader = l
		}
		return c.Put(leader, "barrier", "x") == nil
	})
	// Proposals parked during the schedule may still commit: wait until the
	// members agree on one applied index and revision.
	c.Await("members converge on one applied index and revision", func() bool {
		var first *messages.Status
		for _, id := range c.Running() {
			st, err := c.Status(id)
			if err != nil || st.Applied != st.Commit {
				return false
			}
			if first == nil {
				first = st
			} else if st.Applied != first.Applied || st.Revision != first.Revision {
				return false
			}
		}
		return first != nil
	})
	for _, id := range c.Running() {
		for key, want := range acked {
			got, ok, err := c.Get(id, key, true)
			if err != nil || !ok || got != want {
				t.Errorf("member %d: acknowledged write %s=%s reads %q (found %v, err %v)", id, key, want, got, ok, err)
			}
		}
	}
	for _, id := range c.Running() {
		for key := range refused {
			if got, ok, err := c.Get(id, key, true); err != nil || ok {
				t.Errorf("member %d: write %s refused with no leader was applied (reads %q, found %v, err %v)", id, key, got, ok, err)
			}
		}
	}
	t.Logf("%d steps, %d writes acknowledged, %d refused without a leader", len(c.Trace()), len(acked), len(refused))
	if t.Failed() {
		t.Logf("replay with RAFTKV_SEED=%d go test -run TestRandomSchedulesLoseNoAckedWrite ./testkit", seed)
	}
}
