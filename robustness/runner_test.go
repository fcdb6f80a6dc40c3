//go:build linux

package robustness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/internal/dockercluster"
	"github.com/raftkv/raftkv/internal/failpoint"
	"github.com/raftkv/raftkv/linearizability"
	"github.com/raftkv/raftkv/testkit"
)

const (
	// members is the size of every scenario's cluster.
	members = 3
	// failpointPort is where each member serves gofail's HTTP endpoint,
	// on its loopback (GOFAIL_HTTP).
	failpointPort = 12381
	// anyWorkers fail over between the members; one more worker per
	// member talks to that member only.
	anyWorkers = 4
	// progressOps is how many operations must be answered before a fault,
	// and again after it healed.
	progressOps = 150
	// electionTimeout is the longest election timeout of a member (10
	// ticks of 100 ms, randomized up to twice that).
	electionTimeout = 2 * time.Second
)

// scenario is one fault, injected and healed while the clients run.
type scenario struct {
	name string
	// args are flags added to every member's command line.
	args []string
	// inject injects the fault and heals it; it returns once the cluster
	// should be whole again.
	inject func(r *run)
}

// run is one run of a scenario: its cluster, its clients, and what it
// counted.
type run struct {
	t     *testing.T
	name  string
	seed  uint64
	rng   *rand.Rand // the scenario's choices (victims)
	c     *dockercluster.Cluster
	rec   *linearizability.Recorder
	start time.Time

	// ids are the members at the end (a membership change alters them).
	ids []uint64

	answered atomic.Int64
	unique   uniqueWrites
	workers  []*linWorker
	byMember map[uint64]*linWorker
	stop     chan struct{}
	stopped  bool
	wg       sync.WaitGroup

	faults    int
	checked   bool // the history was checked
	linBad    bool // and found not linearizable
	undecided bool // or porcupine gave up
	serBad    int  // serializable reads that break their promise
	lost      int  // acknowledged unique writes missing on some member
	acked     int  // acknowledged unique writes
}

// runScenario runs sc once with seed, on a cluster of its own, and checks
// what the clients saw.
func runScenario(t *testing.T, sc scenario, seed uint64) {
	r := &run{t: t, name: sc.name, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed)),
		rec: linearizability.NewRecorder(), start: time.Now(), byMember: map[uint64]*linWorker{}}
	for id := uint64(1); id <= members; id++ {
		r.ids = append(r.ids, id)
	}
	t.Logf("seed %d; run again with: go test ./robustness -run 'TestRobustness/%s$' -count=1 -args -seed=%d", seed, sc.name, seed)
	t.Cleanup(func() {
		r.stopLoad()
		totals.add(r)
		if t.Failed() {
			t.Logf("FAILED: scenario %s, seed %d", sc.name, seed)
		}
	})
	r.c = dockercluster.NewWithConfig(t, members, dockercluster.Config{
		Args: sc.args,
		Env:  []string{fmt.Sprintf("GOFAIL_HTTP=127.0.0.1:%d", failpointPort)},
	})
	r.logf("member %d leads", r.c.WaitLeader())
	r.startLoad()
	r.awaitProgress("operations are answered before any fault", progressOps)
	sc.inject(r)
	r.awaitProgress("operations are answered once the fault healed", progressOps)
	r.stopLoad()
	r.logf("clients stopped")
	leader := r.c.WaitLeader(r.ids...)
	r.logf("members %v agree that member %d leads", r.ids, leader)
	r.finalReads()
	r.checkUnique()
	r.checkHistory()
}

// logf logs with the time since the start of the run and the operations
// answered so far.
func (r *run) logf(format string, args ...any) {
	r.t.Helper()
	r.t.Logf("%6.2fs [%5d ops] %s", time.Since(r.start).Seconds(), r.answered.Load(), fmt.Sprintf(format, args...))
}

// fault counts and logs a fault injected.
func (r *run) fault(format string, args ...any) {
	r.t.Helper()
	r.faults++
	r.logf("FAULT: "+format, args...)
}

// startLoad starts the workers: anyWorkers that fail over, each preferring
// another member, and one per member for that member only.
func (r *run) startLoad() {
	timeout := testkit.Dilated(2 * time.Second)
	// An attempt on one member gives up before the operation does, so that
	// a read goes on to another member when one hangs (paused, cut off).
	hc := r.c.HTTPClient(testkit.Dilated(1500 * time.Millisecond))
	prefix := fmt.Sprintf("%x-", r.seed&0xffffff)
	newWorker := func(id int, endpoints []string, member uint64) *linWorker {
		kv, err := client.New(endpoints, client.WithHTTPClient(hc), client.WithRetryBackoff(50*time.Millisecond))
		if err != nil {
			r.t.Fatal(err)
		}
		return &linWorker{id: id, kv: kv, rec: r.rec.Client(), rng: rand.New(rand.NewPCG(r.seed, uint64(id))),
			timeout: timeout, prefix: prefix, member: member, c: r.c, unique: &r.unique, answered: &r.answered}
	}
	for w := range anyWorkers {
		var endpoints []string
		for i := range members {
			endpoints = append(endpoints, dockercluster.Endpoint(uint64((w+i)%members+1)))
		}
		r.workers = append(r.workers, newWorker(w, endpoints, 0))
	}
	for id := uint64(1); id <= members; id++ {
		w := newWorker(anyWorkers+int(id), []string{dockercluster.Endpoint(id)}, id)
		r.workers = append(r.workers, w)
		r.byMember[id] = w
	}
	r.stop = make(chan struct{})
	for _, w := range r.workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			w.run(r.stop)
		}()
	}
}

// stopLoad stops the workers and waits for them; it may be called again.
func (r *run) stopLoad() {
	if r.stop == nil || r.stopped {
		return
	}
	r.stopped = true
	close(r.stop)
	r.wg.Wait()
	for _, w := range r.workers {
		w.kv.Close()
	}
}

// awaitProgress waits until n more operations are answered.
func (r *run) awaitProgress(desc string, n int64) {
	r.t.Helper()
	want := r.answered.Load() + n
	testkit.AwaitCondition(r.t, desc, func() bool { return r.answered.Load() >= want }, 30*time.Second)
	r.logf("%s", desc)
}

// awaitMember waits until the worker of member id has answered n more
// operations: the member serves again.
func (r *run) awaitMember(id uint64, n int64, desc string) {
	r.t.Helper()
	w := r.byMember[id]
	want := w.mine.Load() + n
	testkit.AwaitCondition(r.t, desc, func() bool { return w.mine.Load() >= want }, 30*time.Second)
	r.logf("%s", desc)
}

// hold lets a fault last d while the clients run: the length of the fault
// is the scenario's, not a wait for anything.
func (r *run) hold(d time.Duration) {
	<-time.After(d)
}

// leader returns the leader the running members agree on.
func (r *run) leader() uint64 {
	r.t.Helper()
	return r.c.WaitLeader()
}

// others returns the members of the run but id.
func (r *run) others(id uint64) []uint64 {
	var out []uint64
	for _, m := range r.ids {
		if m != id {
			out = append(out, m)
		}
	}
	return out
}

// follower picks one of the members that do not lead.
func (r *run) follower(leader uint64) uint64 {
	o := r.others(leader)
	return o[r.rng.IntN(len(o))]
}

// failpointRequest sends a request to gofail's endpoint on member id.
func (r *run) failpointRequest(id uint64, method, path, body string) (int, string) {
	r.t.Helper()
	hc := r.c.HTTPClient(testkit.Dilated(10 * time.Second))
	url := fmt.Sprintf("http://node%d:%d/%s", id, failpointPort, path)
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		r.t.Fatalf("failpoint endpoint of member %d: %s %s: %v", id, method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(bytes.TrimSpace(b))
}

// setFailpoint sets failpoint fp of member id to terms (gofail's, such as
// "sleep(200)").
func (r *run) setFailpoint(id uint64, fp failpoint.Name, terms string) {
	r.t.Helper()
	if code, body := r.failpointRequest(id, http.MethodPut, string(fp), terms); code != http.StatusNoContent {
		r.t.Fatalf("set failpoint %s=%s on member %d: %d %s", fp, terms, id, code, body)
	}
}

// clearFailpoint turns failpoint fp of member id off and returns how many
// times it acted.
func (r *run) clearFailpoint(id uint64, fp failpoint.Name) int {
	r.t.Helper()
	code, body := r.failpointRequest(id, http.MethodGet, string(fp)+"/count", "")
	if code != http.StatusOK {
		r.t.Fatalf("failpoint %s on member %d: count: %d %s", fp, id, code, body)
	}
	var n int
	if _, err := fmt.Sscan(body, &n); err != nil {
		r.t.Fatalf("failpoint %s on member %d: count %q: %v", fp, id, body, err)
	}
	if code, body := r.failpointRequest(id, http.MethodDelete, string(fp), ""); code != http.StatusNoContent {
		r.t.Fatalf("clear failpoint %s on member %d: %d %s", fp, id, code, body)
	}
	return n
}

// memberClient is a Go client of member id alone, for the final checks.
func (r *run) memberClient(id uint64) *client.Client {
	r.t.Helper()
	kv, err := client.New([]string{dockercluster.Endpoint(id)},
		client.WithHTTPClient(r.c.HTTPClient(testkit.Dilated(5*time.Second))), client.WithRetryBackoff(50*time.Millisecond))
	if err != nil {
		r.t.Fatal(err)
	}
	return kv
}

// retry calls f until it succeeds, at most 30 s (dilated): a member may
// still be catching up, or electing, right after a fault.
func (r *run) retry(desc string, f func(ctx context.Context) error) {
	r.t.Helper()
	deadline := time.Now().Add(testkit.Dilated(30 * time.Second))
	for {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(5*time.Second))
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: still failing after %v: %v", desc, testkit.Dilated(30*time.Second), err)
		}
		<-time.After(50 * time.Millisecond) // retry pacing
	}
}

// finalReads reads every key of the history through every member,
// linearizably, into the history: a write that was acknowledged and lost
// shows there.
func (r *run) finalReads() {
	r.t.Helper()
	for _, id := range r.ids {
		kv := r.memberClient(id)
		rec := r.rec.Client()
		for _, key := range singleKeys {
			r.retry(fmt.Sprintf("a final read of %s through member %d", key, id), func(ctx context.Context) error {
				op := rec.Call(linearizability.Input{Kind: linearizability.Get, Key: key, Member: id, Epoch: r.c.Run(id)})
				res, err := kv.Get(ctx, key)
				var apiErr *client.Error
				switch {
				case err == nil:
					op.Return(linearizability.Output{Found: true, Value: string(res.KV.Value), ModRevision: res.KV.ModRevision, Revision: res.Revision})
				case errors.Is(err, client.ErrNotFound) && errors.As(err, &apiErr):
					op.Return(linearizability.Output{Revision: apiErr.Revision})
				default:
					op.Discard()
					return err
				}
				return nil
			})
		}
		r.retry(fmt.Sprintf("a final read of the pair through member %d", id), func(ctx context.Context) error {
			op := rec.Call(linearizability.Input{Kind: linearizability.Range, Keys: pairKeys, Member: id, Epoch: r.c.Run(id)})
			res, err := kv.Range(ctx, pairKeys[0], pairEnd)
			if err != nil {
				op.Discard()
				return err
			}
			op.Return(linearizability.Output{Revision: res.Revision, KVs: kvsOf(res.KVs)})
			return nil
		})
		kv.Close()
	}
}

// checkUnique reads every unique key through every member (linearizable
// ranges, page by page) and counts the acknowledged writes missing or
// different: lost writes.
func (r *run) checkUnique() {
	r.t.Helper()
	acked := r.unique.snapshot()
	r.acked = len(acked)
	if len(acked) == 0 {
		r.t.Errorf("no write of a unique key was acknowledged: nothing to tell about lost writes")
		return
	}
	for _, id := range r.ids {
		kv := r.memberClient(id)
		got := map[string]string{}
		next := ""
		for {
			var page *client.RangeResponse
			r.retry(fmt.Sprintf("member %d reads the unique keys", id), func(ctx context.Context) error {
				opts := []client.OpOption{client.WithLimit(1000)}
				if next != "" {
					opts = append(opts, client.WithNext(next))
				}
				var err error
				page, err = kv.RangePrefix(ctx, uniquePrefix, opts...)
				return err
			})
			for _, e := range page.KVs {
				got[e.Key] = string(e.Value)
			}
			if !page.More {
				break
			}
			next = page.Next
		}
		kv.Close()
		var missing []string
		for k, v := range acked {
			if got[k] != v {
				missing = append(missing, fmt.Sprintf("%s=%q (reads %q)", k, v, got[k]))
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			r.lost += len(missing)
			r.t.Errorf("LOST WRITES: member %d misses %d of %d acknowledged writes (seed %d), such as %s",
				id, len(missing), len(acked), r.seed, strings.Join(missing[:min(5, len(missing))], ", "))
		}
	}
	r.logf("every one of %d acknowledged writes of unique keys reads back through members %v", len(acked), r.ids)
}

// checkHistory checks the recorded history: linearizable, and serializable
// reads within their promise.
func (r *run) checkHistory() {
	r.t.Helper()
	history := r.rec.History()
	n, unknown := r.rec.Stats()
	var serializable int
	for _, op := range history {
		if op.Input.(linearizability.Input).Serializable {
			serializable++
		}
	}
	start := time.Now()
	res, info := linearizability.Check(history, testkit.Dilated(60*time.Second))
	r.checked = true
	r.logf("checked %d operations (%d of unknown outcome, %d serializable reads) in %v: %v",
		n, unknown, serializable, time.Since(start).Round(time.Millisecond), res)
	if res != porcupine.Ok {
		r.linBad = res == porcupine.Illegal
		r.undecided = res == porcupine.Unknown
		what := "NOT LINEARIZABLE"
		if r.undecided {
			what = "not checked: porcupine gave up (the history is too large to decide)"
		}
		path, err := linearizability.VisualizeTemp(info, "raftkv-robustness-"+r.name)
		if err != nil {
			r.t.Errorf("history %s (scenario %s, seed %d); its visualization failed: %v", what, r.name, r.seed, err)
		} else {
			r.t.Errorf("history %s (scenario %s, seed %d): open %s in a browser", what, r.name, r.seed, path)
		}
	}
	if vs := linearizability.CheckSerializable(history); len(vs) > 0 {
		r.serBad = len(vs)
		for _, v := range vs[:min(10, len(vs))] {
			r.t.Errorf("SERIALIZABLE READ VIOLATION (seed %d): %v", r.seed, v)
		}
		r.t.Errorf("%d reads break what a read promises (scenario %s, seed %d)", len(vs), r.name, r.seed)
	}
}
