//go:build linux

package robustness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/internal/dockercluster"
	"github.com/raftkv/raftkv/linearizability"
)

// The keys of the checked history: single keys for gets, puts, CASes and
// deletes, and a pair that ranges and transactions read and write together
// (porcupine checks each group of keys on its own). Unique keys, one write
// each, are checked for lost writes at the end instead.
var (
	singleKeys = []string{"k/0", "k/1", "k/2"}
	pairKeys   = []string{"t/a", "t/b"}
)

// uniquePrefix starts every unique key; pairEnd ends the range of the pair.
const (
	uniquePrefix = "u/"
	pairEnd      = "t/c"
)

// linWorker is one client of a scenario: a sequential client that picks a
// random operation on a random key, over and over, and records each with
// its outcome. A worker of no member fails over between all of them
// through the Go client; a worker of one member talks to that member only
// and tags its operations with it and with the member's run, for the
// checks of serializable reads.
type linWorker struct {
	id      int
	kv      *client.Client
	rec     *linearizability.Client
	rng     *rand.Rand
	timeout time.Duration
	prefix  string // of its values, unique to the scenario run

	member uint64                 // 0: any member
	c      *dockercluster.Cluster // to tell member's run

	unique   *uniqueWrites
	answered *atomic.Int64 // operations answered, of every worker of the run
	mine     atomic.Int64  // operations answered, of this worker
	seq      int
}

// run picks and does operations until stop is closed.
func (w *linWorker) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if w.member != 0 {
			w.memberOp()
		} else {
			w.anyOp()
		}
	}
}

// anyOp is one operation of a worker that fails over.
func (w *linWorker) anyOp() {
	key := singleKeys[w.rng.IntN(len(singleKeys))]
	switch r := w.rng.IntN(100); {
	case r < 25:
		w.get(key, false)
	case r < 45:
		w.put(key)
	case r < 62:
		// Read, then swap on the revision read.
		if out, ok := w.get(key, false); ok {
			var expect int64
			if out.Found {
				expect = out.ModRevision
			}
			w.cas(key, expect)
		}
	case r < 68:
		w.delete(key)
	case r < 80:
		// Read the pair, then write both on the revisions read.
		if out, ok := w.rangePair(false); ok {
			w.txn(out)
		}
	case r < 88:
		w.rangePair(false)
	default:
		w.putUnique()
	}
}

// memberOp is one operation of a worker of one member: mostly reads,
// serializable and linearizable, and some writes.
func (w *linWorker) memberOp() {
	key := singleKeys[w.rng.IntN(len(singleKeys))]
	switch r := w.rng.IntN(100); {
	case r < 35:
		w.get(key, true)
	case r < 60:
		w.get(key, false)
	case r < 70:
		w.rangePair(true)
	case r < 80:
		w.rangePair(false)
	default:
		w.put(key)
	}
}

// call starts an operation: its context, and in it the member's run (a
// worker of one member records the run it asks, and only that run may
// answer).
func (w *linWorker) call(in linearizability.Input) (context.Context, context.CancelFunc, *linearizability.Op) {
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	if w.member != 0 {
		in.Member = w.member
		in.Epoch = w.c.Run(w.member)
		ctx = dockercluster.RunContext(ctx, in.Epoch)
	}
	return ctx, cancel, w.rec.Call(in)
}

func (w *linWorker) value() string {
	w.seq++
	return fmt.Sprintf("%sw%d-%d", w.prefix, w.id, w.seq)
}

func (w *linWorker) answer(op *linearizability.Op, out linearizability.Output) {
	op.Return(out)
	w.answered.Add(1)
	w.mine.Add(1)
}

func readOption(serializable bool) []client.OpOption {
	if serializable {
		return []client.OpOption{client.WithSerializable()}
	}
	return nil
}

// get reads key; ok is false when the read failed (it is then dropped
// from the history: a read changes nothing).
func (w *linWorker) get(key string, serializable bool) (out linearizability.Output, ok bool) {
	ctx, cancel, op := w.call(linearizability.Input{Kind: linearizability.Get, Key: key, Serializable: serializable})
	defer cancel()
	res, err := w.kv.Get(ctx, key, readOption(serializable)...)
	var apiErr *client.Error
	switch {
	case err == nil:
		out = linearizability.Output{Found: true, Value: string(res.KV.Value), ModRevision: res.KV.ModRevision, Revision: res.Revision}
	case errors.Is(err, client.ErrNotFound) && errors.As(err, &apiErr):
		out = linearizability.Output{Revision: apiErr.Revision}
	default:
		op.Discard()
		return out, false
	}
	w.answer(op, out)
	return out, true
}

// rangePair reads both keys of the pair at once.
func (w *linWorker) rangePair(serializable bool) (out linearizability.Output, ok bool) {
	ctx, cancel, op := w.call(linearizability.Input{Kind: linearizability.Range, Keys: pairKeys, Serializable: serializable})
	defer cancel()
	res, err := w.kv.Range(ctx, pairKeys[0], pairEnd, readOption(serializable)...)
	if err != nil {
		op.Discard()
		return out, false
	}
	out = linearizability.Output{Revision: res.Revision, KVs: kvsOf(res.KVs)}
	w.answer(op, out)
	return out, true
}

func kvsOf(kvs []client.KeyValue) []linearizability.KV {
	out := make([]linearizability.KV, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, linearizability.KV{Key: kv.Key, Value: string(kv.Value), ModRevision: kv.ModRevision})
	}
	return out
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
	v := w.value()
	ctx, cancel, op := w.call(linearizability.Input{Kind: linearizability.Put, Key: key, Value: v})
	defer cancel()
	res, err := w.kv.Put(ctx, key, []byte(v))
	if err != nil {
		endWrite(op, err)
		return
	}
	w.answer(op, linearizability.Output{Revision: res.Revision})
}

func (w *linWorker) cas(key string, expect int64) {
	v := w.value()
	ctx, cancel, op := w.call(linearizability.Input{Kind: linearizability.CAS, Key: key, Value: v, Expect: expect})
	defer cancel()
	cond := client.IfNotExists()
	if expect != 0 {
		cond = client.IfMatch(expect)
	}
	res, err := w.kv.Put(ctx, key, []byte(v), cond)
	var failed *client.Error
	switch {
	case err == nil:
		w.answer(op, linearizability.Output{Succeeded: true, Revision: res.Revision})
	case errors.Is(err, client.ErrPreconditionFailed) && errors.As(err, &failed):
		out := linearizability.Output{Revision: failed.Revision}
		if failed.KV != nil {
			out.Found, out.Value, out.ModRevision = true, string(failed.KV.Value), failed.KV.ModRevision
		}
		w.answer(op, out)
	default:
		endWrite(op, err)
	}
}

func (w *linWorker) delete(key string) {
	ctx, cancel, op := w.call(linearizability.Input{Kind: linearizability.Delete, Key: key})
	defer cancel()
	res, err := w.kv.Delete(ctx, key)
	if err != nil {
		endWrite(op, err)
		return
	}
	w.answer(op, linearizability.Output{Found: res.Deleted == 1, Revision: res.Revision})
}

// txn writes both keys of the pair if neither changed since read saw
// them; one time in five it deletes the second instead. If it fails, it
// reads both.
func (w *linWorker) txn(read linearizability.Output) {
	in := linearizability.Input{Kind: linearizability.Txn}
	var req client.TxnRequest
	for i, key := range pairKeys {
		var expect int64
		for _, kv := range read.KVs {
			if kv.Key == key {
				expect = kv.ModRevision
			}
		}
		in.Conds = append(in.Conds, linearizability.Cond{Key: key, Expect: expect})
		if expect == 0 {
			req.Compare = append(req.Compare, client.CompareExists(key, false))
		} else {
			req.Compare = append(req.Compare, client.CompareModRevision(key, client.Equal, expect))
		}
		if i == 1 && w.rng.IntN(5) == 0 {
			in.Writes = append(in.Writes, linearizability.Write{Key: key, Delete: true})
			req.Success = append(req.Success, client.OpDelete(key))
		} else {
			v := w.value()
			in.Writes = append(in.Writes, linearizability.Write{Key: key, Value: v})
			req.Success = append(req.Success, client.OpPut(key, []byte(v)))
		}
		req.Failure = append(req.Failure, client.OpGet(key))
	}
	ctx, cancel, op := w.call(in)
	defer cancel()
	res, err := w.kv.Txn(ctx, req)
	if err != nil {
		endWrite(op, err)
		return
	}
	if res.Succeeded {
		w.answer(op, linearizability.Output{Succeeded: true, Revision: res.Revision})
		return
	}
	out := linearizability.Output{Revision: res.Revision}
	for _, r := range res.Responses {
		out.KVs = append(out.KVs, kvsOf(r.KVs)...)
	}
	w.answer(op, out)
}

// putUnique writes a key of its own, once: acknowledged, it must read back
// at the end.
func (w *linWorker) putUnique() {
	v := w.value()
	key := uniquePrefix + v
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	defer cancel()
	if _, err := w.kv.Put(ctx, key, []byte(v)); err != nil {
		return // no answer, or a refusal: it may or may not be there
	}
	w.unique.ack(key, v)
	w.answered.Add(1)
	w.mine.Add(1)
}

// uniqueWrites are the writes of unique keys that were acknowledged.
type uniqueWrites struct {
	mu    sync.Mutex
	acked map[string]string
}

func (u *uniqueWrites) ack(key, value string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.acked == nil {
		u.acked = map[string]string{}
	}
	u.acked[key] = value
}

func (u *uniqueWrites) snapshot() map[string]string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.acked)
}
