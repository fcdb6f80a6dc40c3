// Package linearizability checks that histories of operations on raftkv
// are linearizable, with porcupine: a Recorder records what concurrent
// clients asked and were answered, with call and return times, and Check
// runs porcupine with Model, a sequential specification of the key space
// (get, put, compare-and-swap on the mod revision, delete).
//
// It is not a test package so that several tests can share it: the
// end-to-end test of real processes under leader kills, and tests of an
// in-process cluster whose network is partitioned (where a serializable read
// on a cut-off follower must make the check fail).
//
// # Writes of unknown outcome
//
// A write whose answer was lost (timeout, connection reset) may have
// applied or not, and may still apply later. It is recorded with Op.Unknown:
// output Unknown and a return time at the end of time, so porcupine may
// place it anywhere after its call; placed last, its effect is never
// observed, which covers "never applied". A read that failed, and a write
// certainly refused before it reached the cluster, are dropped with
// Op.Discard: they had no effect.
//
// # Usage
//
//	rec := linearizability.NewRecorder()
//	// in each client goroutine:
//	c := rec.Client()
//	op := c.Call(linearizability.Input{Kind: linearizability.Put, Key: "k", Value: "v-1-7"})
//	res, err := kv.Put(ctx, "k", []byte("v-1-7"))
//	switch {
//	case err == nil:
//		op.Return(linearizability.Output{Revision: res.Revision})
//	case errors.Is(err, client.ErrUnknownOutcome):
//		op.Unknown()
//	default:
//		op.Discard()
//	}
//	// after all clients stopped:
//	result, info := linearizability.Check(rec.History(), time.Minute)
//	if result != porcupine.Ok {
//		path, _ := linearizability.VisualizeTemp(info, "raftkv-history")
//		t.Fatalf("history is not linearizable (%v): see %s", result, path)
//	}
package linearizability
