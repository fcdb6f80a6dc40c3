package concurrency_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/client/concurrency"
	"github.com/raftkv/raftkv/testkit"
)

// endpoint is the HTTP API of a single-member cluster in this test process.
var endpoint string

var ports = testkit.NewPorts(11500, 12000)

func TestMain(m *testing.M) {
	os.Exit(testkit.RunWithHTTPNode(m, ports, func(n *testkit.HTTPNode) { endpoint = n.URL }))
}

func ctxOf(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(d))
	t.Cleanup(cancel)
	return ctx
}

func session(t *testing.T, ttl time.Duration) *concurrency.Session {
	t.Helper()
	c, err := client.New([]string{endpoint})
	if err != nil {
		t.Fatal(err)
	}
	s, err := concurrency.NewSession(ctxOf(t, 5*time.Second), c, ttl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// Competing sessions increment a shared counter under the mutex: the
// counter ends at the number of holds, and no two ever hold it at once.
func TestMutexExclusion(t *testing.T) {
	const workers, rounds = 3, 8
	ctx := ctxOf(t, 60*time.Second)
	var holders, maxHolders atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		s := session(t, 5*time.Second)
		c := s.Client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := concurrency.NewMutex(s, "locks/counter")
			for range rounds {
				if err := m.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				if n := holders.Add(1); n > maxHolders.Load() {
					maxHolders.Store(n)
				}
				n := 0
				if got, err := c.Get(ctx, "counter"); err == nil {
					n, _ = strconv.Atoi(string(got.KV.Value))
				}
				if _, err := c.Put(ctx, "counter", []byte(strconv.Itoa(n+1))); err != nil {
					t.Error(err)
				}
				holders.Add(-1)
				if err := m.Unlock(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c, _ := client.New([]string{endpoint})
	got, err := c.Get(ctx, "counter")
	if err != nil || string(got.KV.Value) != strconv.Itoa(workers*rounds) {
		t.Errorf("counter %+v, %v; want %d", got, err, workers*rounds)
	}
	if maxHolders.Load() != 1 {
		t.Errorf("%d sessions held the mutex at once", maxHolders.Load())
	}
}

// When the holder's lease ends (its process died), the next waiter gets
// the mutex; a waiter whose context ends gives up its place.
func TestMutexHandsOn(t *testing.T) {
	ctx := ctxOf(t, 30*time.Second)
	a, b, c := session(t, 5*time.Second), session(t, 5*time.Second), session(t, 5*time.Second)
	ma, mb, mc := concurrency.NewMutex(a, "locks/h"), concurrency.NewMutex(b, "locks/h"), concurrency.NewMutex(c, "locks/h")
	if err := ma.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := mc.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a lock held elsewhere: %v, want the deadline", err)
	}
	got := make(chan error, 1)
	go func() { got <- mb.Lock(ctx) }()
	if _, err := a.Client().Revoke(ctx, a.Lease()); err != nil { // a dies: its lease goes
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the waiter never got the mutex its holder lost")
	}
	page, err := b.Client().RangePrefix(ctx, "locks/h/")
	if err != nil || len(page.KVs) != 1 || string(page.KVs[0].KeyBytes()) != mb.Key() {
		t.Errorf("keys under the mutex: %+v, %v; want only the holder's", page, err)
	}
}

// One leader at a time: the first candidate leads, observers see it, and
// when it resigns the next one leads.
func TestElection(t *testing.T) {
	ctx := ctxOf(t, 30*time.Second)
	a, b := session(t, 5*time.Second), session(t, 5*time.Second)
	ea, eb := concurrency.NewElection(a, "elect/e"), concurrency.NewElection(b, "elect/e")
	if _, err := ea.Leader(ctx); !errors.Is(err, concurrency.ErrNoLeader) {
		t.Errorf("leader before any campaign: %v, want ErrNoLeader", err)
	}
	if err := ea.Campaign(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	observed := eb.Observe(ctx)
	if l := <-observed; string(l.Value) != "a" {
		t.Errorf("observed %q, want a", l.Value)
	}
	won := make(chan error, 1)
	go func() { won <- eb.Campaign(ctx, []byte("b")) }()
	if err := ea.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-won; err != nil {
		t.Fatal(err)
	}
	if l := <-observed; string(l.Value) != "b" {
		t.Errorf("observed %q after the resignation, want b", l.Value)
	}
	if l, err := ea.Leader(ctx); err != nil || string(l.Value) != "b" {
		t.Errorf("leader: %+v, %v; want b", l, err)
	}
}
