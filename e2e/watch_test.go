package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/testkit"
)

// watchLog is what one watcher delivered.
type watchLog struct {
	mu     sync.Mutex
	events []client.WatchEvent
	err    error
}

func (l *watchLog) follow(ch <-chan client.WatchResponse) {
	for r := range ch {
		l.mu.Lock()
		l.events = append(l.events, r.Events...)
		if r.Err != nil {
			l.err = r.Err
		}
		l.mu.Unlock()
	}
}

func (l *watchLog) last() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return 0
	}
	return l.events[len(l.events)-1].Revision
}

// Watchers see every change exactly once, in revision order, with no gap,
// while members (theirs among them) are SIGKILLed and restarted, snapshots
// are taken, and their streams resume on other members; each acknowledged
// write is among the changes, with its value.
func TestWatchersThroughKills(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 10 s of writes under SIGKILLs")
	}
	c := newCluster(t, 3, "--snapshot-count", "30")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eps := c.endpoints()
	writer, err := client.New(eps, client.WithRetryBackoff(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start, err := writer.Put(ctx, "watched/start", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	// Two watchers, each preferring another member.
	logs := []*watchLog{{}, {}}
	for i, l := range logs {
		order := append(slices.Clone(eps[i:]), eps[:i]...)
		wc, err := client.New(order, client.WithRetryBackoff(20*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		go l.follow(wc.Watch(ctx, "watched/", client.WithPrefix(), client.WithRevision(start.Revision)))
	}

	type write struct {
		key, value string
		rev        int64
	}
	var (
		mu    sync.Mutex
		acked []write
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			key, value := fmt.Sprintf("watched/%d", i%50), fmt.Sprint(i)
			wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
			r, err := writer.Put(wctx, key, []byte(value))
			wcancel()
			if err == nil {
				mu.Lock()
				acked = append(acked, write{key, value, r.Revision})
				mu.Unlock()
			}
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range 4 {
		<-time.After(time.Second + time.Duration(rng.IntN(1000))*time.Millisecond) // the test's schedule
		victim := uint64(round%3 + 1)
		c.kill(victim)
		t.Logf("SIGKILLed member %d", victim)
		<-time.After(500 * time.Millisecond)
		c.start(victim, false)
	}
	<-time.After(time.Second)
	close(stop)
	wg.Wait()
	c.waitLeader()

	final, err := writer.Range(ctx, "watched/", "watched0", client.WithLimit(1))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range logs {
		testkit.Eventually(func() bool { return l.last() >= final.Revision }, 30*time.Second)
		t.Logf("watcher %d at revision %d of %d", i, l.last(), final.Revision)
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 50 {
		t.Fatalf("only %d writes acknowledged", len(acked))
	}
	for i, l := range logs {
		l.mu.Lock()
		if l.err != nil && !errors.Is(l.err, context.Canceled) {
			t.Errorf("watcher %d ended with %v", i, l.err)
		}
		byRev := map[int64]client.WatchEvent{}
		for j, ev := range l.events {
			if want := start.Revision + int64(j); ev.Revision != want {
				t.Fatalf("watcher %d: change %d is at revision %d, want %d (every revision once, in order)", i, j, ev.Revision, want)
			}
			byRev[ev.Revision] = ev
		}
		if got := l.events[len(l.events)-1].Revision; got != final.Revision {
			t.Errorf("watcher %d reached revision %d, the store is at %d", i, got, final.Revision)
		}
		for _, w := range acked {
			ev, ok := byRev[w.rev]
			if !ok || ev.KV.Key != w.key || string(ev.KV.Value) != w.value {
				t.Errorf("watcher %d: acknowledged write %s=%s at %d shows as %+v", i, w.key, w.value, w.rev, ev)
				break
			}
		}
		t.Logf("watcher %d: %d changes, revisions %d to %d", i, len(l.events), start.Revision, final.Revision)
		l.mu.Unlock()
	}
}
