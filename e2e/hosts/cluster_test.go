//go:build linux

package hosts

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftkv/raftkv/testkit"
)

// TestReplicationAcrossHosts: a write through any member reads back
// through every other one.
func TestReplicationAcrossHosts(t *testing.T) {
	c := newHostCluster(t, 3)
	c.WaitLeader()
	for id := uint64(1); id <= 3; id++ {
		c.MustPut(id, fmt.Sprintf("key-%d", id), fmt.Sprintf("value-%d", id))
	}
	for reader := uint64(1); reader <= 3; reader++ {
		for writer := uint64(1); writer <= 3; writer++ {
			// Reads are linearizable: a 204 is visible everywhere at once.
			code, got, err := c.Get(reader, fmt.Sprintf("key-%d", writer))
			if err != nil || code != http.StatusOK || got != fmt.Sprintf("value-%d", writer) {
				t.Errorf("member %d reads key-%d: status %d %q, err %v", reader, writer, code, got, err)
			}
		}
	}
	if code, _, err := c.Get(2, "missing"); err != nil || code != http.StatusNotFound {
		t.Errorf("missing key: status %d, err %v; want 404", code, err)
	}
}

// TestLeaderCutOffRejoins: the leader is cut off the network; the other
// two elect a leader and go on taking writes, while the cut-off member,
// once it knows it has no leader, answers 503 no_leader at once rather
// than holding requests until their deadline. It is connected again at
// another address (it listens on every interface, and its peers resolve
// its name again when they reconnect), catches up and reads every write it
// missed.
func TestLeaderCutOffRejoins(t *testing.T) {
	c := newHostCluster(t, 3)
	old := c.WaitLeader()
	c.MustPut(old, "before", "1")
	addr := c.IP(old)
	c.Disconnect(old)
	if _, err := c.Status(old); err != nil {
		t.Fatalf("the cut-off member %d does not answer the test: %v", old, err)
	}

	var others []uint64
	for id := uint64(1); id <= 3; id++ {
		if id != old {
			others = append(others, id)
		}
	}
	leader := c.WaitLeader(others...)
	t.Logf("member %d cut off; member %d leads the other two", old, leader)
	written := map[string]string{}
	for i := range 10 {
		id := others[i%len(others)]
		key, value := fmt.Sprintf("cut-%d", i), fmt.Sprintf("written through %d", id)
		c.MustPut(id, key, value)
		written[key] = value
	}

	testkit.AwaitCondition(t, fmt.Sprintf("the cut-off member %d knows it has no leader", old), func() bool {
		st, err := c.Status(old)
		return err == nil && st.Leaderless
	}, 30*time.Second)
	for _, req := range []struct{ method, path, body string }{
		{http.MethodPut, "/cut-off", "x"},
		{http.MethodGet, "/before", ""},
		{http.MethodPut, "/v1/kv/cut-off?timeout=30s", `{"value":"eA=="}`},
	} {
		start := time.Now()
		code, body, err := c.Do(old, req.method, req.path, []byte(req.body))
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"no_leader"`) {
			t.Errorf("%s %s on the cut-off member: %d %s %v; want 503 no_leader", req.method, req.path, code, body, err)
		}
		if d := time.Since(start); d > testkit.Dilated(10*time.Second) {
			t.Errorf("%s %s on the cut-off member took %v; want an answer at once", req.method, req.path, d)
		}
	}

	c.Connect(old, "")
	if c.IP(old) == addr {
		t.Logf("member %d got its old address %s back", old, addr)
	}
	c.WaitLeader()
	for key, value := range written {
		c.WaitValue(old, key, value)
	}
	c.WaitValue(old, "before", "1")
	c.MustPut(old, "after", "3")
	for _, id := range others {
		c.WaitValue(id, "after", "3")
	}
}

// TestKillRestartUnderWrites: every member in turn, the leader first, is
// killed (SIGKILL) and restarted from its volume while writers put unique
// keys through the running members. Every acknowledged write then reads
// back through every member.
func TestKillRestartUnderWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("long: kills and restarts three members under writes")
	}
	c := newHostCluster(t, 3)
	leader := c.WaitLeader()
	load := startWriteLoad(c, 3)
	defer load.stop()
	start := time.Now()
	progress := func(format string, args ...any) {
		t.Logf("%5.1fs %s (%d writes acknowledged)", time.Since(start).Seconds(), fmt.Sprintf(format, args...), load.ackedCount())
	}
	awaitWrites := func(desc string) {
		t.Helper()
		want := load.ackedCount() + 20
		testkit.AwaitCondition(t, desc, func() bool { return load.ackedCount() >= want }, 30*time.Second)
	}
	awaitWrites("writes are acknowledged before any kill")

	victims := []uint64{leader}
	for id := uint64(1); id <= 3; id++ {
		if id != leader {
			victims = append(victims, id)
		}
	}
	for _, v := range victims {
		what := "follower"
		if st, err := c.Status(v); err == nil && st.Leader == v {
			what = "leader"
		}
		c.Kill(v)
		progress("killed %s %d", what, v)
		c.WaitLeader()
		awaitWrites(fmt.Sprintf("writes are acknowledged while member %d is down", v))
		c.Restart(v)
		c.WaitLeader()
		progress("restarted member %d", v)
		awaitWrites(fmt.Sprintf("writes are acknowledged after member %d restarted", v))
	}
	acked, failed := load.stop()
	progress("writes stopped; %d had no acknowledgement", failed)
	c.checkAcked(acked)
	progress("every acknowledged write reads back through every member")
}

// writeLoad is a set of writers that put unique keys, w<writer>-<n>,
// through the running members in turn, and remember the writes answered
// 204. A write answered otherwise, or not at all, has an unknown outcome
// and is not remembered.
type writeLoad struct {
	c    *hostCluster
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	acked   map[string]string
	failed  int
	stopped bool
}

func startWriteLoad(c *hostCluster, writers int) *writeLoad {
	l := &writeLoad{c: c, done: make(chan struct{}), acked: map[string]string{}}
	for w := range writers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.write(w)
		}()
	}
	return l
}

func (l *writeLoad) write(w int) {
	for n := 0; ; n++ {
		select {
		case <-l.done:
			return
		default:
		}
		ids := l.c.Reachable()
		if len(ids) == 0 {
			ids = []uint64{1} // fails fast: the test will say why
		}
		id := ids[(w+n)%len(ids)]
		key, value := fmt.Sprintf("w%d-%d", w, n), fmt.Sprintf("%d via %d", n, id)
		code, err := l.c.Put(id, key, value)
		l.mu.Lock()
		if err == nil && code == http.StatusNoContent {
			l.acked[key] = value
		} else {
			l.failed++
		}
		l.mu.Unlock()
	}
}

func (l *writeLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// stop stops the writers, waits for them, and returns the acknowledged
// writes and the number of the others. It may be called more than once.
func (l *writeLoad) stop() (map[string]string, int) {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.done)
	}
	l.mu.Unlock()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	acked := make(map[string]string, len(l.acked))
	for k, v := range l.acked {
		acked[k] = v
	}
	return acked, l.failed
}

// checkAcked reads every key of acked back through every member with a
// linearizable GET and fails the test for each one missing or different.
// A member that answers 503 or not at all (an election) is asked again.
func (c *hostCluster) checkAcked(acked map[string]string) {
	c.t.Helper()
	if len(acked) < 50 {
		c.t.Fatalf("only %d writes acknowledged: too few to tell anything", len(acked))
	}
	const readers = 8 // per member; concurrent reads share ReadIndex rounds
	type check struct {
		id  uint64
		key string
	}
	checks := make(chan check)
	var mu sync.Mutex
	bad := map[uint64]int{}
	var wg sync.WaitGroup
	for range readers * c.Size() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range checks {
				want := acked[ch.key]
				code, got, err := c.getRetrying(ch.id, ch.key)
				if err == nil && code == http.StatusOK && got == want {
					continue
				}
				mu.Lock()
				if bad[ch.id]++; bad[ch.id] <= 10 {
					c.t.Errorf("member %d: acknowledged write %s=%q reads status %d %q, err %v", ch.id, ch.key, want, code, got, err)
				}
				mu.Unlock()
			}
		}()
	}
	for key := range acked {
		for id := uint64(1); id <= uint64(c.Size()); id++ {
			checks <- check{id, key}
		}
	}
	close(checks)
	wg.Wait()
	for id, n := range bad {
		c.t.Errorf("member %d: %d of %d acknowledged writes do not read back", id, n, len(acked))
	}
	if len(bad) > 0 {
		c.t.FailNow()
	}
}

// getRetrying reads key through member id, asking again while the member
// answers 503 or not at all, for at most 20 s.
func (c *hostCluster) getRetrying(id uint64, key string) (int, string, error) {
	deadline := time.Now().Add(testkit.Dilated(20 * time.Second))
	for {
		code, got, err := c.Get(id, key)
		if (err == nil && code != http.StatusServiceUnavailable) || time.Now().After(deadline) {
			return code, got, err
		}
		<-time.After(50 * time.Millisecond) // retry pacing
	}
}
