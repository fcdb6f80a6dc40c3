package e2e

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/client/concurrency"
	"github.com/raftkv/raftkv/testkit"
)

// A lease kept alive outlives a SIGKILL of the leader; left alone, it
// expires no sooner than its TTL after the last keepalive, and its key
// goes.
func TestLeaseSurvivesALeaderKillAndExpiresOnTime(t *testing.T) {
	if testing.Short() {
		t.Skip("long: waits out a lease twice")
	}
	c := newCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := client.New(c.endpoints(), client.WithRetryBackoff(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 3 * time.Second
	l, err := cl.Grant(ctx, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Put(ctx, "leased", []byte("x"), client.WithLease(l.ID)); err != nil {
		t.Fatal(err)
	}
	kctx, stopKeepalives := context.WithCancel(ctx)
	var lastRenewal atomic.Int64
	lastRenewal.Store(time.Now().UnixNano())
	renewals := cl.KeepAlive(kctx, l.ID, ttl)
	go func() {
		for range renewals {
			lastRenewal.Store(time.Now().UnixNano())
		}
	}()

	leader := c.waitLeader()
	c.kill(leader)
	t.Logf("SIGKILLed the leader, member %d", leader)
	until := time.Now().Add(2 * ttl)
	for time.Now().Before(until) {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := cl.Get(rctx, "leased", client.WithSerializable())
		rcancel()
		if errors.Is(err, client.ErrNotFound) {
			t.Fatal("the key of a lease kept alive went away across the leader's kill")
		}
		<-time.After(100 * time.Millisecond) // the test's reading pace
	}
	c.start(leader, false)

	watch := cl.Watch(ctx, "leased")
	stopKeepalives()
	var deleted time.Time
	for r := range watch {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if len(r.Events) > 0 && r.Events[0].Type == "delete" {
			deleted = time.Now()
			break
		}
	}
	lived := deleted.Sub(time.Unix(0, lastRenewal.Load()))
	t.Logf("the lease expired %v after its last renewal (TTL %v)", lived, ttl)
	if lived < ttl-500*time.Millisecond {
		t.Errorf("the lease expired %v after its last renewal, before its TTL of %v", lived, ttl)
	}
	if _, err := cl.TimeToLive(ctx, l.ID); !errors.Is(err, client.ErrLeaseNotFound) {
		t.Errorf("the expired lease: %v, want ErrLeaseNotFound", err)
	}
}

// Sessions of separate clients increment a shared counter under a mutex
// while members, the leader among them, are SIGKILLed: the counter equals
// the number of holds, and no two sessions ever hold the mutex at once.
func TestMutexThroughKills(t *testing.T) {
	if testing.Short() {
		t.Skip("long: locks under SIGKILLs")
	}
	c := newCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var (
		holders, overlaps atomic.Int32
		holds             atomic.Int64
		wg                sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 2 {
		cl, err := client.New(c.endpoints(), client.WithRetryBackoff(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		s, err := concurrency.NewSession(ctx, cl, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := concurrency.NewMutex(s, "locks/e2e")
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := m.Lock(ctx); err != nil {
					t.Errorf("worker %d: lock: %v", w, err)
					return
				}
				if holders.Add(1) > 1 {
					overlaps.Add(1)
				}
				// Read and write the counter until the write is known to
				// have applied: after an unknown outcome, the counter's
				// value tells whether this hold's write is the one there.
				hold := fmt.Sprintf("%d-%d", w, holds.Load())
				for {
					got, err := cl.Get(ctx, "counter")
					n, mine := 0, false
					switch {
					case err == nil:
						count, who, _ := strings.Cut(string(got.KV.Value), " ")
						n, _ = strconv.Atoi(count)
						mine = who == hold
					case !errors.Is(err, client.ErrNotFound):
						continue
					}
					if mine {
						break
					}
					if _, err := cl.Put(ctx, "counter", []byte(fmt.Sprintf("%d %s", n+1, hold))); err == nil {
						break
					}
				}
				holds.Add(1)
				holders.Add(-1)
				for m.Unlock(ctx) != nil {
				}
			}
		}()
	}
	for round := range 3 {
		<-time.After(1500 * time.Millisecond) // the test's schedule
		victim := uint64(round%3 + 1)
		c.kill(victim)
		t.Logf("SIGKILLed member %d (%d holds so far)", victim, holds.Load())
		<-time.After(500 * time.Millisecond)
		c.start(victim, false)
	}
	<-time.After(time.Second)
	close(stop)
	wg.Wait()
	cl, _ := client.New(c.endpoints())
	var got *client.GetResponse
	testkit.AwaitCondition(t, "the counter reads", func() bool {
		var err error
		got, err = cl.Get(ctx, "counter")
		return err == nil
	}, 10*time.Second)
	if count, _, _ := strings.Cut(string(got.KV.Value), " "); count != strconv.FormatInt(holds.Load(), 10) {
		t.Errorf("counter %s after %d holds", got.KV.Value, holds.Load())
	}
	if overlaps.Load() != 0 || holds.Load() < 5 {
		t.Errorf("%d overlapping holds, %d holds in all", overlaps.Load(), holds.Load())
	}
}
