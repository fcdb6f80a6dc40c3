// Package linearizability checks that histories of operations on raftkv
// are linearizable, with porcupine: a Recorder records what concurrent
// clients asked and were answered, with call and return times, and Check
// runs porcupine with Model, a sequential specification of the key space
// (get, put, compare-and-swap on the mod revision, delete; Range, a read
// of several keys at once; Txn, conditions on the mod revisions of several
// keys, then puts and deletes at one revision). The history is partitioned
// by the keys each operation touches together, so a history of single-key
// operations is checked key by key.
//
// Times come from the wall clock (NewRecorder) or from a logical clock
// (NewRecorderWithClock), such as the steps of the test kit's
// deterministic simulation: an operation whose answer was seen before
// another was sent precedes it.
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
// # Serializable reads
//
// A serializable read (Input.Serializable) is served from the member's own
// state without a read index: it may be stale, and Check, which holds
// every read to the latest state, leaves it out. CheckSerializable checks
// every read that says at which store revision it was served against a
// weaker specification, sound for any member that applies the one log in
// order (so that its state at store revision R is every member's at R):
//
//   - a value read was written by some write of the history (acknowledged
//     or of unknown outcome) called before the read returned, and at that
//     write's revision when it is known;
//   - the read is consistent with its revision R: no write of the key is
//     known to have a revision after the one it shows and up to R, and a
//     key read as absent has no put known up to R, unless a delete of
//     unknown revision may follow it;
//   - a member's reads never go back: a read served by a member
//     (Input.Member, within one Input.Epoch) after another of its
//     operations returned is at a revision at least that operation's (a
//     read's revision, or an acknowledged write's, which that member had
//     applied when it answered).
//
// Revisions of writes of unknown outcome are learned from the reads that
// show their values, so values must be unique per key. A stale read thus
// shows up as stale, never as a linearizability violation; a read of a
// state that no member held, or going back on its member, is a Violation.
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
//	for _, v := range linearizability.CheckSerializable(rec.History()) {
//		t.Errorf("read no member could serve: %v", v)
//	}
package linearizability
