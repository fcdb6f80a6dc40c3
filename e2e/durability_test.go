package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/raftkv/raftkv/testkit"
)

// TestSIGKILLLosesNoAcknowledgedWrite: killing any member with SIGKILL at
// any moment loses no acknowledged write. Three writers put unique keys
// through random running members while a killer SIGKILLs a random member
// (often the leader) every two seconds or so and restarts it, one member
// down at a time. Every write answered 204 must then read back from every
// member; and again after all three members are SIGKILLed at once, in the
// middle of more writes, and restarted.
func TestSIGKILLLosesNoAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 12 s of writes under SIGKILLs")
	}
	const (
		writers = 3
		chaos   = 12 * time.Second
	)
	c := newCluster(t, 3, "--snapshot-count", "50")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	load := newWriteLoad(c, writers, seed)
	start := time.Now()
	progress := func(format string, args ...any) {
		t.Logf("%5.1fs %s (%d writes acknowledged)", time.Since(start).Seconds(), fmt.Sprintf(format, args...), load.ackedCount())
	}
	// The killer is paced by timers: this is the test's schedule, not a
	// synchronisation.
	pause := func(lo, hi time.Duration) { <-time.After(lo + time.Duration(rng.Int64N(int64(hi-lo)))) }

	load.run()
	kills := 0
	for time.Since(start) < chaos {
		pause(1500*time.Millisecond, 2500*time.Millisecond)
		leader := c.currentLeader()
		victim := uint64(rng.IntN(3) + 1)
		if leader != 0 && rng.IntN(2) == 0 {
			victim = leader
		}
		what := "follower"
		if victim == leader {
			what = "leader"
		}
		load.setDown(victim)
		c.kill(victim)
		kills++
		progress("SIGKILLed %s %d", what, victim)
		pause(200*time.Millisecond, 800*time.Millisecond)
		c.start(victim, false)
		load.setDown(0)
		progress("restarted member %d", victim)
	}
	load.stop()
	progress("writes stopped after %d kills; %d writes not acknowledged", kills, load.failedCount())
	if n := load.ackedCount(); n < 100 {
		t.Fatalf("only %d writes acknowledged: too few to tell anything", n)
	}
	c.waitLeader()
	c.checkAcked(t, load.snapshot())
	progress("every acknowledged write reads back on every member")

	// Every member at once, in the middle of writes.
	before := load.ackedCount()
	load.run()
	pause(1500*time.Millisecond, 2000*time.Millisecond)
	c.killAll()
	load.stop()
	progress("SIGKILLed all members at once")
	if load.ackedCount() == before {
		t.Fatal("no write acknowledged by the healthy cluster before the full kill")
	}
	for id := uint64(1); id <= 3; id++ {
		c.start(id, false)
	}
	c.waitLeader()
	progress("all members restarted")
	c.checkAcked(t, load.snapshot())
	progress("every acknowledged write reads back on every member")
	c.killAll() // nothing is left to check: spare the cleanup a graceful stop
}

// currentLeader returns the leader named by a running member, or 0.
func (c *cluster) currentLeader() uint64 {
	for id := range c.procs {
		if !c.running(id) {
			continue
		}
		if st, err := c.status(id); err == nil && st.Leader != 0 && c.running(st.Leader) {
			return st.Leader
		}
	}
	return 0
}

// killAll sends SIGKILL to every running member at once, then waits until
// all are gone.
func (c *cluster) killAll() {
	var killed []*proc
	for id, p := range c.procs {
		if c.running(id) {
			_ = p.cmd.Process.Kill()
			killed = append(killed, p)
		}
	}
	for _, p := range killed {
		<-p.exited
	}
}

// checkAcked reads every key of acked back from every member with a
// linearizable GET and reports each one missing or different. A member
// that answers 503 (an election, say) is asked again.
func (c *cluster) checkAcked(t *testing.T, acked map[string]string) {
	t.Helper()
	const readersPerMember = 8 // concurrent reads share ReadIndex rounds
	type check struct {
		id  uint64
		key string
	}
	// One connection per reader: the default transport keeps only two
	// idle ones per host.
	hc := &http.Client{Timeout: testkit.Dilated(5 * time.Second),
		Transport: &http.Transport{MaxIdleConnsPerHost: readersPerMember}}
	defer hc.CloseIdleConnections()
	checks := make(chan check)
	var mu sync.Mutex
	bad := map[uint64]int{}
	var wg sync.WaitGroup
	for range readersPerMember * len(c.peers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range checks {
				want := acked[ch.key]
				code, got, err := c.getRetrying(hc, ch.id, ch.key)
				if err == nil && code == http.StatusOK && got == want {
					continue
				}
				mu.Lock()
				if bad[ch.id]++; bad[ch.id] <= 10 {
					t.Errorf("member %d: acknowledged write %s=%q reads status %d %q err %v", ch.id, ch.key, want, code, got, err)
				}
				mu.Unlock()
			}
		}()
	}
	for key := range acked {
		for id := uint64(1); id <= uint64(len(c.peers)); id++ {
			checks <- check{id, key}
		}
	}
	close(checks)
	wg.Wait()
	for id, n := range bad {
		t.Errorf("member %d: %d of %d acknowledged writes do not read back", id, n, len(acked))
	}
	if len(bad) > 0 {
		t.FailNow()
	}
}

// getRetrying reads key through member id, asking again while the member
// answers 503 or not at all, for at most 20 s.
func (c *cluster) getRetrying(hc *http.Client, id uint64, key string) (int, string, error) {
	deadline := time.Now().Add(testkit.Dilated(20 * time.Second))
	for {
		code, got, err := request(hc, http.MethodGet, c.url(id, "/"+key), nil)
		if (err == nil && code != http.StatusServiceUnavailable) || time.Now().After(deadline) {
			return code, string(got), err
		}
		<-time.After(50 * time.Millisecond) // retry pacing
	}
}

// request sends one HTTP request with hc and returns the status and body.
func request(hc *http.Client, method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// writeLoad is a set of writers that put unique keys, key-<writer>-<n>,
// through random running members and remember which writes were
// acknowledged. Writers touch only the immutable ports of the cluster; the
// test goroutine tells them which member is down.
type writeLoad struct {
	c       *cluster
	client  *http.Client
	writers []*writer

	mu     sync.Mutex
	down   uint64 // member being killed or restarted; 0: none
	acked  map[string]string
	failed int
	done   chan struct{}
	wg     sync.WaitGroup
}

type writer struct {
	id  int
	n   int
	rng *rand.Rand
}

func newWriteLoad(c *cluster, writers int, seed uint64) *writeLoad {
	l := &writeLoad{c: c, acked: map[string]string{},
		// A short timeout keeps writers from stalling on a killed member.
		client: &http.Client{Timeout: testkit.Dilated(2 * time.Second)}}
	for w := range writers {
		l.writers = append(l.writers, &writer{id: w, rng: rand.New(rand.NewPCG(seed, uint64(w+1)))})
	}
	return l
}

// run starts the writers; stop stops them and waits until they are done.
func (l *writeLoad) run() {
	l.done = make(chan struct{})
	for _, w := range l.writers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.write(w)
		}()
	}
}

func (l *writeLoad) stop() {
	close(l.done)
	l.wg.Wait()
}

func (l *writeLoad) write(w *writer) {
	for {
		select {
		case <-l.done:
			return
		default:
		}
		w.n++
		key := fmt.Sprintf("key-%d-%d", w.id, w.n)
		value := fmt.Sprintf("value-%d-%d-%d", w.id, w.n, w.rng.Uint32())
		code, err := l.put(l.target(w.rng), key, value)
		l.mu.Lock()
		if err == nil && code == http.StatusNoContent {
			l.acked[key] = value
		} else {
			l.failed++
		}
		l.mu.Unlock()
		if code != http.StatusNoContent {
			<-time.After(20 * time.Millisecond) // back off from a member that cannot write
		}
	}
}

// target picks a random member that is not down.
func (l *writeLoad) target(rng *rand.Rand) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if id := uint64(rng.IntN(len(l.c.http)) + 1); id != l.down {
			return id
		}
	}
}

func (l *writeLoad) put(id uint64, key, value string) (int, error) {
	code, _, err := request(l.client, http.MethodPut, l.c.url(id, "/"+key), []byte(value))
	return code, err
}

func (l *writeLoad) setDown(id uint64) {
	l.mu.Lock()
	l.down = id
	l.mu.Unlock()
}

func (l *writeLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *writeLoad) failedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// snapshot returns a copy of the acknowledged writes.
func (l *writeLoad) snapshot() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string]string, len(l.acked))
	for k, v := range l.acked {
		m[k] = v
	}
	return m
}
