package linearizability_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftkv/raftkv/linearizability"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
)

// TestCheckCatchesStaleReadOnIsolatedFollower is the proof that the check
// can see a stale read: a follower cut off from the cluster keeps serving
// the value it had, through serializable reads, after the majority wrote
// newer ones. Those reads, made after the writes were acknowledged, must
// make the history illegal.
func TestCheckCatchesStaleReadOnIsolatedFollower(t *testing.T) {
	history, follower := isolatedFollowerReads(t, true)

	res, info := linearizability.Check(history, 10*time.Second)
	if res != porcupine.Illegal {
		t.Fatalf("history with stale reads on isolated member %d checks as %v, want %v: the check cannot see a stale read",
			follower, res, porcupine.Illegal)
	}
	// What a failing run shows its reader can be drawn.
	if err := linearizability.Visualize(info, filepath.Join(t.TempDir(), "stale-read.html")); err != nil {
		t.Errorf("visualize the illegal history: %v", err)
	}
	// It is the reads that make it illegal: the writes alone are fine.
	var writes []porcupine.Operation
	for _, op := range history {
		if op.Input.(linearizability.Input).Kind != linearizability.Get {
			writes = append(writes, op)
		}
	}
	if res, _ := linearizability.Check(writes, 10*time.Second); res != porcupine.Ok {
		t.Fatalf("the writes alone check as %v, want %v", res, porcupine.Ok)
	}
}

// TestStaleSerializableReadsAreNoViolation: the same stale reads, marked as
// serializable, are what a serializable read may return — the state the
// cut-off member held — so Check leaves them out and CheckSerializable
// finds nothing wrong; a read showing a value that no write wrote is a
// violation.
func TestStaleSerializableReadsAreNoViolation(t *testing.T) {
	history, follower := isolatedFollowerReads(t, true)
	var reads int
	for i, op := range history {
		in := op.Input.(linearizability.Input)
		if in.Kind == linearizability.Get {
			in.Serializable = true
			history[i].Input = in
			reads++
		}
	}
	if res, _ := linearizability.Check(history, 10*time.Second); res != porcupine.Ok {
		t.Fatalf("history with %d stale serializable reads on isolated member %d checks as %v, want %v", reads, follower, res, porcupine.Ok)
	}
	if v := linearizability.CheckSerializable(history); len(v) != 0 {
		t.Fatalf("stale serializable reads on isolated member %d: %v", follower, v)
	}
	forged := history[len(history)-1].Output.(linearizability.Output)
	forged.Value = "never written"
	history[len(history)-1].Output = forged
	if v := linearizability.CheckSerializable(history); len(v) != 1 {
		t.Errorf("a read of a value no write wrote: %d violations %v, want 1", len(v), v)
	}
}

// TestLinearizableReadsOnIsolatedFollowerCheckOK is the positive control of
// TestCheckCatchesStaleReadOnIsolatedFollower: the same scenario with
// linearizable reads. On the cut-off follower they fail instead of
// answering stale data, and after the network heals they read the
// majority's writes; the history is linearizable.
func TestLinearizableReadsOnIsolatedFollowerCheckOK(t *testing.T) {
	history, follower := isolatedFollowerReads(t, false)
	res, info := linearizability.Check(history, 10*time.Second)
	if res != porcupine.Ok {
		path, _ := linearizability.VisualizeTemp(info, "raftkv-linearizable-read")
		t.Fatalf("history with linearizable reads on member %d checks as %v, want %v: see %s", follower, res, porcupine.Ok, path)
	}
}

// isolatedFollowerReads writes k=v1 through the leader, isolates a
// follower that has applied it, writes k twice more through the majority,
// then reads k on the follower: serializable reads while it is cut off, or
// linearizable reads while it is cut off and after the network heals. It
// returns the recorded history and the follower.
func isolatedFollowerReads(t *testing.T, serializable bool) ([]porcupine.Operation, uint64) {
	c := testkit.NewCluster(t, 3)
	leader := c.WaitLeader()
	follower := leader%3 + 1
	rec := linearizability.NewRecorder()
	writer := &kvClient{c: c, rec: rec.Client(), timeout: testkit.Dilated(2 * time.Second)}
	reader := &kvClient{c: c, rec: rec.Client(), timeout: testkit.Dilated(500 * time.Millisecond)}

	first := writer.putUntilAcked(t, c.Running(), "k", "v1")
	// The follower holds v1 before it is cut off. (Not the leader's applied
	// index: raftnode hears of an apply just after the write's answer
	// leaves, so it may not count v1 yet.)
	c.Await("the follower holds v1", func() bool {
		v, err := c.Request(follower, &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte("k")}, Serializable: true},
			testkit.Dilated(time.Second))
		r, ok := v.(*messages.ReadReply)
		return err == nil && ok && len(r.Result.KVs) == 1 && string(r.Result.KVs[0].Value) == first
	}, 10*time.Second)

	c.Isolate(follower)
	majority := make([]uint64, 0, 2)
	for _, id := range c.Running() {
		if id != follower {
			majority = append(majority, id)
		}
	}
	writer.putUntilAcked(t, majority, "k", "v2")
	last := writer.putUntilAcked(t, majority, "k", "v3")

	if serializable {
		for i := range 3 {
			out, err := reader.get(follower, "k", true)
			if err != nil {
				t.Fatalf("serializable read %d on isolated member %d: %v", i, follower, err)
			}
			if !out.Found || out.Value != first {
				t.Fatalf("serializable read %d on isolated member %d: %+v, want its stale %q", i, follower, out, first)
			}
		}
		return rec.History(), follower
	}

	for i := range 2 {
		if out, err := reader.get(follower, "k", false); err == nil {
			t.Fatalf("linearizable read %d on isolated member %d answered %+v, want an error", i, follower, out)
		}
	}
	c.Heal()
	var out linearizability.Output
	testkit.AwaitCondition(t, fmt.Sprintf("a linearizable read on healed member %d answers", follower), func() bool {
		var err error
		out, err = reader.get(follower, "k", false)
		return err == nil
	}, 20*time.Second)
	if out.Value != last {
		t.Errorf("linearizable read on healed member %d: %+v, want the majority's %q", follower, out, last)
	}
	return rec.History(), follower
}

// TestConcurrentClientsLinearizableAcrossIsolation runs concurrent clients
// doing linearizable gets, puts and compare-and-swaps on a few keys through
// every member of an in-process cluster (two clients per member), while
// first the leader and then a follower is cut off and healed. The recorded
// history must be linearizable.
func TestConcurrentClientsLinearizableAcrossIsolation(t *testing.T) {
	const workers = 6
	keys := []string{"a", "b", "c"}
	c := testkit.NewCluster(t, 3)
	c.WaitLeader()

	rec := linearizability.NewRecorder()
	seed := uint64(time.Now().UnixNano())
	t.Logf("worker seed %d", seed)
	stop := make(chan struct{})
	var answered atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		cl := &kvClient{c: c, rec: rec.Client(), timeout: testkit.Dilated(time.Second)}
		member := uint64(w%c.Size() + 1)
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				if cl.randomOp(rng, member, keys, fmt.Sprintf("w%d-%d", w, seq)) {
					answered.Add(1)
				}
			}
		}()
	}

	start := time.Now()
	phase := func(what string, d time.Duration) {
		before := answered.Load()
		// The load runs for a fixed span between disruptions: this is
		// the test's schedule, not a synchronisation.
		<-time.After(d)
		n := answered.Load() - before
		t.Logf("%5.1fs %s: %d operations answered", time.Since(start).Seconds(), what, n)
		if n == 0 {
			t.Errorf("%s: no operation answered", what)
		}
	}
	phase("all connected", time.Second)
	leader := c.WaitLeader()
	c.Isolate(leader)
	phase(fmt.Sprintf("leader %d isolated", leader), 2*time.Second)
	c.Heal()
	phase("healed", time.Second)
	follower := c.WaitLeader()%3 + 1
	c.Isolate(follower)
	phase(fmt.Sprintf("follower %d isolated", follower), 2*time.Second)
	c.Heal()
	phase("healed", time.Second)
	close(stop)
	wg.Wait()

	n, unknown := rec.Stats()
	checkStart := time.Now()
	res, info := linearizability.Check(rec.History(), 30*time.Second)
	t.Logf("checked %d operations (%d of unknown outcome) in %v: %v", n, unknown, time.Since(checkStart).Round(time.Millisecond), res)
	if res != porcupine.Ok {
		path, _ := linearizability.VisualizeTemp(info, "raftkv-isolation")
		t.Fatalf("history is not linearizable (%v): see %s", res, path)
	}
}

// kvClient is one sequential client of an in-process cluster whose
// operations are recorded.
type kvClient struct {
	c       *testkit.Cluster
	rec     *linearizability.Client
	timeout time.Duration
}

// randomOp does one random operation through member id: a linearizable
// get, a put, or a get followed by a compare-and-swap on the mod revision
// read. It tells whether the (last) operation was answered.
func (k *kvClient) randomOp(rng *rand.Rand, id uint64, keys []string, value string) bool {
	key := keys[rng.IntN(len(keys))]
	switch r := rng.IntN(10); {
	case r < 4:
		_, err := k.get(id, key, false)
		return err == nil
	case r < 7:
		return k.put(id, key, value)
	default:
		out, err := k.get(id, key, false)
		if err != nil {
			return false
		}
		_, err = k.cas(id, key, out.ModRevision, value) // 0 when absent: create
		return err == nil
	}
}

// putUntilAcked writes key through the leader among members until a write
// is acknowledged, and returns the value that was. Attempts that fail stay
// in the history as writes of unknown outcome, each with its own value.
func (k *kvClient) putUntilAcked(t *testing.T, members []uint64, key, value string) string {
	t.Helper()
	attempt := 0
	acked := ""
	testkit.AwaitCondition(t, fmt.Sprintf("a write of %s is acknowledged", key), func() bool {
		leader := leaderAmong(k.c, members)
		if leader == 0 {
			return false
		}
		v := value
		if attempt > 0 {
			v = fmt.Sprintf("%s.%d", value, attempt)
		}
		attempt++
		if k.put(leader, key, v) {
			acked = v
			return true
		}
		return false
	}, 20*time.Second)
	return acked
}

// leaderAmong returns the leader that one of members names, if it is one
// of members, or 0.
func leaderAmong(c *testkit.Cluster, members []uint64) uint64 {
	for _, id := range members {
		st, err := c.Status(id)
		if err != nil || st.Leader == 0 {
			continue
		}
		for _, m := range members {
			if m == st.Leader {
				return m
			}
		}
	}
	return 0
}

func (k *kvClient) txn(id uint64, txn messages.Txn) (messages.TxnResult, error) {
	v, err := k.c.Request(id, &messages.ClientTxn{Txn: txn}, k.timeout)
	if err != nil {
		return messages.TxnResult{}, err
	}
	r, ok := v.(*messages.TxnReply)
	if !ok {
		return messages.TxnResult{}, fmt.Errorf("unexpected answer %T", v)
	}
	return r.Result, r.Err
}

// endWrite records a write that got no success answer: dropped when it
// certainly never reached raft (a member down, not ready, or refusing it
// for want of a leader), of unknown outcome otherwise.
func endWrite(op *linearizability.Op, err error) {
	if errors.Is(err, testkit.ErrMemberDown) || errors.Is(err, messages.ErrNotReady) || errors.Is(err, messages.ErrNoLeader) {
		op.Discard()
		return
	}
	op.Unknown()
}

// put writes key=value through member id and tells whether it was
// acknowledged.
func (k *kvClient) put(id uint64, key, value string) bool {
	op := k.rec.Call(linearizability.Input{Kind: linearizability.Put, Key: key, Value: value, Member: id})
	res, err := k.txn(id, messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}}})
	if err != nil {
		endWrite(op, err)
		return false
	}
	op.Return(linearizability.Output{Revision: res.Revision})
	return true
}

// cas writes key=value through member id if the key's mod revision is
// expect (0: if the key is absent). A failed swap reads the key in the
// same transaction, as the model wants to see what it found.
func (k *kvClient) cas(id uint64, key string, expect int64, value string) (linearizability.Output, error) {
	op := k.rec.Call(linearizability.Input{Kind: linearizability.CAS, Key: key, Value: value, Expect: expect})
	res, err := k.txn(id, messages.Txn{
		Compares: []messages.Compare{{Key: []byte(key), Target: messages.TargetModRevision, Result: messages.Equal, Revision: expect}},
		Success:  []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}},
		Failure:  []messages.Op{{Type: messages.OpGet, Key: []byte(key)}},
	})
	if err != nil {
		endWrite(op, err)
		return linearizability.Output{}, err
	}
	out := linearizability.Output{Succeeded: true, Revision: res.Revision}
	if !res.Succeeded {
		out = linearizability.Output{}
		if len(res.Responses) == 1 && len(res.Responses[0].KVs) == 1 {
			kv := res.Responses[0].KVs[0]
			out = linearizability.Output{Found: true, Value: string(kv.Value), ModRevision: kv.ModRevision}
		}
	}
	op.Return(out)
	return out, nil
}

// get reads key through member id; a read that fails is dropped from the
// history (it changed nothing).
func (k *kvClient) get(id uint64, key string, serializable bool) (linearizability.Output, error) {
	op := k.rec.Call(linearizability.Input{Kind: linearizability.Get, Key: key, Member: id})
	v, err := k.c.Request(id, &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte(key)}, Serializable: serializable}, k.timeout)
	var r *messages.ReadReply
	if err == nil {
		var ok bool
		if r, ok = v.(*messages.ReadReply); !ok {
			err = fmt.Errorf("unexpected answer %T", v)
		} else {
			err = r.Err
		}
	}
	if err != nil {
		op.Discard()
		return linearizability.Output{}, err
	}
	out := linearizability.Output{Revision: r.Revision}
	if kvs := r.Result.KVs; len(kvs) > 0 {
		out = linearizability.Output{Found: true, Value: string(kvs[0].Value), ModRevision: kvs[0].ModRevision, Revision: r.Revision}
	}
	op.Return(out)
	return out, nil
}
