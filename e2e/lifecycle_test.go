package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftkv/raftkv/actors/raftnode"
	"github.com/raftkv/raftkv/testkit"
)

// SIGTERM of the leader while clients write through the other members:
// the leader drains, hands the leadership over and exits 0, and no write
// waits anywhere near an election timeout for a new leader — the others
// never notice a leader missing.
func TestSIGTERMOfTheLeaderStallsNoWrite(t *testing.T) {
	c := newCluster(t, 3)
	leader := c.waitLeader()
	before, err := c.status(leader)
	if err != nil {
		t.Fatal(err)
	}
	var followers []uint64
	for id := uint64(1); id <= 3; id++ {
		if id != leader {
			followers = append(followers, id)
		}
	}
	load := newTimedLoad(c, followers, 2)
	load.run()
	defer load.stop()
	testkit.AwaitCondition(t, "writes acknowledged before the stop", func() bool { return load.acked() >= 50 }, 30*time.Second)

	c.stop(leader) // SIGTERM; fails the test unless the member exits 0
	stopped := load.acked()
	testkit.AwaitCondition(t, "writes acknowledged after the stop", func() bool { return load.acked() >= stopped+100 }, 30*time.Second)
	load.stop()

	electionTimeout := time.Duration(raftnode.DefaultElectionTick) * raftnode.DefaultTickInterval
	if load.failures > 0 {
		t.Errorf("%d writes failed around the leader's stop (first: %s)", load.failures, load.firstFailure)
	}
	if worst := load.worst(); worst >= testkit.Dilated(electionTimeout) {
		t.Errorf("a write waited %v around the leader's stop, want less than an election timeout (%v)", worst, testkit.Dilated(electionTimeout))
	}
	st, err := c.status(followers[0])
	if err != nil {
		t.Fatal(err)
	}
	if st.Leader == leader || st.Leader == 0 || st.Term != before.Term+1 {
		t.Errorf("after the stop member %d sees leader %d in term %d, want another member leading term %d (handed over, no election)",
			followers[0], st.Leader, st.Term, before.Term+1)
	}
}

// timedLoad writes unique keys through a fixed set of members, each writer
// bound to one member, and keeps the latency of every write.
type timedLoad struct {
	c       *cluster
	targets []uint64
	writers int
	client  *http.Client
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	mu           sync.Mutex
	latencies    []time.Duration
	failures     int
	firstFailure string
}

func newTimedLoad(c *cluster, targets []uint64, writersPerTarget int) *timedLoad {
	return &timedLoad{c: c, targets: targets, writers: writersPerTarget, done: make(chan struct{}),
		client: &http.Client{Timeout: testkit.Dilated(10 * time.Second)}}
}

func (l *timedLoad) run() {
	for _, id := range l.targets {
		for w := range l.writers {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				for n := 0; ; n++ {
					select {
					case <-l.done:
						return
					default:
					}
					key := fmt.Sprintf("load-%d-%d-%d", id, w, n)
					start := time.Now()
					code, body, err := request(l.client, http.MethodPut, l.c.url(id, "/"+key), []byte("v"))
					l.record(time.Since(start), code, body, err)
				}
			}()
		}
	}
}

func (l *timedLoad) record(d time.Duration, code int, body []byte, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || code != http.StatusNoContent {
		if l.failures == 0 {
			l.firstFailure = fmt.Sprintf("status %d %q, err %v", code, body, err)
		}
		l.failures++
		return
	}
	l.latencies = append(l.latencies, d)
}

// stop stops the writers and waits for them; it may be called again.
func (l *timedLoad) stop() {
	l.once.Do(func() { close(l.done) })
	l.wg.Wait()
}

func (l *timedLoad) acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.latencies)
}

func (l *timedLoad) worst() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Max(l.latencies)
}

// With --log-format json every line a member logs is a JSON object naming
// its level, message and member; a member killed and restarted under the
// others is no ERROR in their logs, and requests are not logged one line
// each at the default level.
func TestJSONLogs(t *testing.T) {
	c := newCluster(t, 3, "--log-format", "json")
	leader := c.waitLeader()
	follower := leader%3 + 1
	for i := range 20 {
		c.mustPut(leader, fmt.Sprintf("logged-%d", i), "v")
	}
	c.kill(follower)
	c.mustPut(leader, "logged-while-down", "v")
	c.start(follower, false)
	c.waitValue(follower, "logged-while-down", "v")
	for id := uint64(1); id <= 3; id++ {
		c.stop(id)
	}
	for id, p := range c.procs {
		lines := strings.Split(strings.TrimSpace(c.logOf(p)), "\n")
		for _, line := range lines {
			var rec struct {
				Level       string `json:"level"`
				Msg         string `json:"msg"`
				LocalMember uint64 `json:"local_member"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level == "" || rec.Msg == "" {
				t.Errorf("member %d logged a line that is not a JSON record with level and msg (%v): %s", id, err, line)
				continue
			}
			if rec.LocalMember != id {
				t.Errorf("member %d logged a line with local_member %d: %s", id, rec.LocalMember, line)
			}
			if rec.Level == "ERROR" {
				t.Errorf("member %d logged an ERROR: %s", id, line)
			}
			if strings.Contains(line, "logged-") {
				t.Errorf("member %d logged a request at the default level: %s", id, line)
			}
		}
		if len(lines) < 5 {
			t.Errorf("member %d logged %d lines, want its start and stop at least", id, len(lines))
		}
	}
}
