package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/linearizability"
)

// TestLinearizableUnderLeaderKills runs concurrent clients doing puts, gets,
// compare-and-swaps and deletes on a few keys against three real members
// while the leader is SIGKILLed and restarted twice, and checks with
// porcupine that the recorded history is linearizable.
func TestLinearizableUnderLeaderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("long: a cluster under load for 12 s")
	}
	const (
		workers   = 5
		opTimeout = 3 * time.Second
		settle    = 2500 * time.Millisecond // load between disruptions
	)
	keys := []string{"lin/a", "lin/b", "lin/c"}
	c := newCluster(t, 3)
	endpoints := []string{c.url(1, ""), c.url(2, ""), c.url(3, "")}

	rec := linearizability.NewRecorder()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var okOps atomic.Int64
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	for w := range workers {
		// Worker w prefers member w%3+1 and fails over to the others.
		eps := append(append([]string(nil), endpoints[w%3:]...), endpoints[:w%3]...)
		kv, err := client.New(eps, client.WithRetryBackoff(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer kv.Close()
		lw := &linWorker{id: w, kv: kv, rec: rec.Client(), keys: keys, rng: rand.New(rand.NewPCG(seed, uint64(w))), timeout: opTimeout, ok: &okOps}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw.run(stop)
		}()
	}

	start := time.Now()
	progress := func(what string) {
		t.Logf("%6.1fs %s (%d ops answered)", time.Since(start).Seconds(), what, okOps.Load())
	}
	pause := func(d time.Duration) {
		// The load runs for fixed spans of time between disruptions: this
		// is the test's schedule, not a synchronisation.
		<-time.After(d)
	}
	pause(settle)
	for round := 1; round <= 2; round++ {
		leader := c.waitLeader()
		before := okOps.Load()
		c.kill(leader)
		progress(fmt.Sprintf("killed leader %d", leader))
		next := c.waitLeader()
		progress(fmt.Sprintf("member %d leads", next))
		c.start(leader, false)
		progress(fmt.Sprintf("restarted member %d", leader))
		pause(settle)
		if okOps.Load() == before {
			t.Fatalf("round %d: no operation succeeded after the leader change", round)
		}
	}
	close(stop)
	wg.Wait()
	progress("load stopped")

	history := rec.History()
	n, unknown := rec.Stats()
	if okOps.Load() < 100 {
		t.Fatalf("only %d operations succeeded: the load is too small to tell anything", okOps.Load())
	}
	checkStart := time.Now()
	res, info := linearizability.Check(history, 30*time.Second)
	t.Logf("checked %d operations (%d of unknown outcome) on %d keys in %v: %v",
		n, unknown, len(keys), time.Since(checkStart).Round(time.Millisecond), res)
	if res != porcupine.Ok {
		path, err := linearizability.VisualizeTemp(info, "raftkv-linearizability")
		if err != nil {
			t.Fatalf("history is not linearizable (%v); visualization failed: %v", res, err)
		}
		t.Fatalf("history is not linearizable (%v): open %s in a browser", res, path)
	}
}

// linWorker is one client of the linearizability test: a sequential
// client that picks a random operation on a random key, over and over.
type linWorker struct {
	id      int
	kv      *client.Client
	rec     *linearizability.Client
	keys    []string
	rng     *rand.Rand
	timeout time.Duration
	ok      *atomic.Int64
	seq     int
}

func (w *linWorker) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		key := w.keys[w.rng.IntN(len(w.keys))]
		switch r := w.rng.IntN(20); {
		case r < 8:
			w.get(key)
		case r < 14:
			w.put(key)
		case r < 19:
			// Read, then swap on the revision read.
			if kv, found, ok := w.get(key); ok {
				var expect int64
				if found {
					expect = kv.ModRevision
				}
				w.cas(key, expect)
			}
		default:
			w.delete(key)
		}
	}
}

func (w *linWorker) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), w.timeout)
}

func (w *linWorker) value() string {
	w.seq++
	return fmt.Sprintf("w%d-%d", w.id, w.seq)
}

// get reads key; ok is false when the read failed (it is then dropped
// from the history: a read changes nothing).
func (w *linWorker) get(key string) (kv client.KeyValue, found, ok bool) {
	ctx, cancel := w.ctx()
	defer cancel()
	op := w.rec.Call(linearizability.Input{Kind: linearizability.Get, Key: key})
	res, err := w.kv.Get(ctx, key)
	switch {
	case err == nil:
		op.Return(linearizability.Output{Found: true, Value: string(res.KV.Value), ModRevision: res.KV.ModRevision})
		w.ok.Add(1)
		return res.KV, true, true
	case errors.Is(err, client.ErrNotFound):
		op.Return(linearizability.Output{})
		w.ok.Add(1)
		return client.KeyValue{}, false, true
	default:
		op.Discard()
		return client.KeyValue{}, false, false
	}
}

// endWrite records the end of a write that failed: unknown when it may
// have reached a member, dropped when it certainly did not.
func endWrite(op *linearizability.Op, err error) {
	if errors.Is(err, client.ErrUnknownOutcome) {
		op.Unknown()
		return
	}
	op.Discard()
}

func (w *linWorker) put(key string) {
	ctx, cancel := w.ctx()
	defer cancel()
	v := w.value()
	op := w.rec.Call(linearizability.Input{Kind: linearizability.Put, Key: key, Value: v})
	res, err := w.kv.Put(ctx, key, []byte(v))
	if err != nil {
		endWrite(op, err)
		return
	}
	op.Return(linearizability.Output{Revision: res.Revision})
	w.ok.Add(1)
}

func (w *linWorker) cas(key string, expect int64) {
	ctx, cancel := w.ctx()
	defer cancel()
	v := w.value()
	op := w.rec.Call(linearizability.Input{Kind: linearizability.CAS, Key: key, Value: v, Expect: expect})
	cond := client.IfNotExists()
	if expect != 0 {
		cond = client.IfMatch(expect)
	}
	res, err := w.kv.Put(ctx, key, []byte(v), cond)
	var failed *client.Error
	switch {
	case err == nil:
		op.Return(linearizability.Output{Succeeded: true, Revision: res.Revision})
	case errors.Is(err, client.ErrPreconditionFailed) && errors.As(err, &failed):
		out := linearizability.Output{}
		if failed.KV != nil {
			out = linearizability.Output{Found: true, Value: string(failed.KV.Value), ModRevision: failed.KV.ModRevision}
		}
		op.Return(out)
	default:
		endWrite(op, err)
		return
	}
	w.ok.Add(1)
}

func (w *linWorker) delete(key string) {
	ctx, cancel := w.ctx()
	defer cancel()
	op := w.rec.Call(linearizability.Input{Kind: linearizability.Delete, Key: key})
	res, err := w.kv.Delete(ctx, key)
	if err != nil {
		endWrite(op, err)
		return
	}
	op.Return(linearizability.Output{Found: res.Deleted == 1})
	w.ok.Add(1)
}
