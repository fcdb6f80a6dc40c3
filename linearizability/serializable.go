package linearizability

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/anishathalye/porcupine"
)

// Violation is an operation of a history that no correct cluster could
// have answered, with the reason.
type Violation struct {
	Op     porcupine.Operation
	Reason string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (call %d, return %d): %s",
		describe(v.Op.Input.(Input), v.Op.Output.(Output)), v.Op.Call, v.Op.Return, v.Reason)
}

// CheckSerializable checks the reads of history against what a serializable
// read promises, and returns the reads that break it (nil when none do).
//
// A serializable read is served from the member's own applied state,
// without asking the leader: it may be stale, and Check, which holds every
// read to the latest state, leaves it out. What it may not do is show a
// state that no member could ever hold. Every member applies one log, in
// order, and the store revision counts the writes applied, so the state of
// a member at store revision R is the same on every member: each key holds
// the last write to it at a revision up to R. CheckSerializable requires,
// of every read that says at which store revision it was served
// (Output.Revision; serializable and linearizable ones alike):
//
//   - it shows only values that some write of the history wrote
//     (acknowledged or of unknown outcome), called before the read
//     returned, and at that write's revision when it is known;
//   - it is consistent with its own revision R: a key read at mod
//     revision r shows no write of the key known to have a revision in
//     (r, R], and a key read as absent has no put known at a revision up
//     to R unless a delete of unknown revision might follow it;
//   - reads do not go back in time on a member: a read served by a member
//     (Input.Member, within one Input.Epoch) that is called after another
//     operation of that member returned is served at a revision at least
//     that operation's: the revision of the earlier read, or of the
//     earlier acknowledged write (the member that answers a write has
//     applied it).
//
// Revisions of writes are known from their answers, and those of writes
// of unknown outcome from the reads that show their values; values must be
// unique per key for that (a value written twice tells nothing). A stale
// read thus shows up here only if it is not a state the member held at
// some point: a value of the past, consistent with its revision, is fine.
func CheckSerializable(history []porcupine.Operation) []Violation {
	h := newRevisionIndex(history)
	var out []Violation
	out = append(out, h.violations...)
	for _, op := range history {
		for _, r := range readsOf(op) {
			if reason := h.checkRead(op, r); reason != "" {
				out = append(out, Violation{Op: op, Reason: reason})
			}
		}
	}
	out = append(out, checkSessions(history)...)
	slices.SortStableFunc(out, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Op.Call, b.Op.Call), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

// write is one write of a key in a history.
type write struct {
	op      porcupine.Operation
	key     string
	value   string
	delete  bool
	rev     int64 // 0 while unknown
	learned bool  // rev was learned from a read
}

// keyRead is what an operation read of one key, at store revision at.
type keyRead struct {
	key   string
	found bool
	value string
	rev   int64
	at    int64
}

// writesOf returns the writes op made or may have made.
func writesOf(op porcupine.Operation) []*write {
	in, out := op.Input.(Input), op.Output.(Output)
	rev := out.Revision
	if out.Unknown {
		rev = 0
	}
	switch in.Kind {
	case Put:
		return []*write{{op: op, key: in.Key, value: in.Value, rev: rev}}
	case CAS:
		if out.Unknown || out.Succeeded {
			return []*write{{op: op, key: in.Key, value: in.Value, rev: rev}}
		}
	case Delete:
		if out.Unknown || out.Found {
			return []*write{{op: op, key: in.Key, delete: true, rev: rev}}
		}
	case Txn:
		if out.Unknown || out.Succeeded {
			ws := make([]*write, len(in.Writes))
			for i, w := range in.Writes {
				ws[i] = &write{op: op, key: w.Key, value: w.Value, delete: w.Delete, rev: rev}
			}
			return ws
		}
	}
	return nil
}

// readsOf returns what op read, key by key.
func readsOf(op porcupine.Operation) []keyRead {
	in, out := op.Input.(Input), op.Output.(Output)
	if out.Unknown {
		return nil
	}
	switch {
	case in.Kind == Get:
		return []keyRead{{key: in.Key, found: out.Found, value: out.Value, rev: out.ModRevision, at: out.Revision}}
	case in.Kind == CAS && !out.Succeeded:
		return []keyRead{{key: in.Key, found: out.Found, value: out.Value, rev: out.ModRevision, at: out.Revision}}
	case in.Kind == Range:
		return kvReads(in.Keys, out)
	case in.Kind == Txn && !out.Succeeded:
		keys := make([]string, len(in.Conds))
		for i, c := range in.Conds {
			keys[i] = c.Key
		}
		return kvReads(keys, out)
	}
	return nil
}

func kvReads(keys []string, out Output) []keyRead {
	rs := make([]keyRead, len(keys))
	for i, k := range keys {
		kv, found := findKV(out.KVs, k)
		rs[i] = keyRead{key: k, found: found, value: kv.Value, rev: kv.ModRevision, at: out.Revision}
	}
	return rs
}

// revisionIndex knows the writes of a history by key and value, and their
// revisions where the history tells them.
type revisionIndex struct {
	byValue    map[string]map[string]*write // key, value; nil: written more than once
	byKey      map[string][]*write          // every write of a key
	violations []Violation
}

func newRevisionIndex(history []porcupine.Operation) *revisionIndex {
	h := &revisionIndex{byValue: map[string]map[string]*write{}, byKey: map[string][]*write{}}
	for _, op := range history {
		for _, w := range writesOf(op) {
			h.byKey[w.key] = append(h.byKey[w.key], w)
			if w.delete {
				continue
			}
			vs := h.byValue[w.key]
			if vs == nil {
				vs = map[string]*write{}
				h.byValue[w.key] = vs
			}
			if _, dup := vs[w.value]; dup {
				vs[w.value] = nil
			} else {
				vs[w.value] = w
			}
		}
	}
	// Reads tell the revisions of the writes they show.
	for _, op := range history {
		for _, r := range readsOf(op) {
			if !r.found || r.rev == 0 {
				continue
			}
			w := h.byValue[r.key][r.value]
			if w == nil {
				continue
			}
			switch {
			case w.rev == 0:
				w.rev, w.learned = r.rev, true
			case w.rev != r.rev && w.learned:
				h.violations = append(h.violations, Violation{Op: op, Reason: fmt.Sprintf(
					"shows %s=%q at mod revision %d, another read showed it at %d", r.key, r.value, r.rev, w.rev)})
			}
		}
	}
	// Two writes of one key at one revision cannot be.
	for key, ws := range h.byKey {
		seen := map[int64]*write{}
		for _, w := range ws {
			if w.rev == 0 {
				continue
			}
			if other, ok := seen[w.rev]; ok && (other.op.ClientId != w.op.ClientId || other.op.Call != w.op.Call) {
				h.violations = append(h.violations, Violation{Op: w.op, Reason: fmt.Sprintf(
					"writes %s at revision %d, as another write of it does", key, w.rev)})
			}
			seen[w.rev] = w
		}
	}
	return h
}

// checkRead says what is wrong with read r of op, or "".
func (h *revisionIndex) checkRead(op porcupine.Operation, r keyRead) string {
	if r.found {
		vs, known := h.byValue[r.key]
		w, ok := vs[r.value]
		switch {
		case !known || !ok:
			return fmt.Sprintf("shows %s=%q, a value that no write wrote", r.key, r.value)
		case w == nil:
			// written more than once: which write it shows is unknown
		case w.op.Call > op.Return:
			return fmt.Sprintf("shows %s=%q before the write of it was called (at %d)", r.key, r.value, w.op.Call)
		case w.rev != 0 && !w.learned && r.rev != w.rev:
			return fmt.Sprintf("shows %s=%q at mod revision %d, but that write was answered with revision %d", r.key, r.value, r.rev, w.rev)
		}
	}
	if r.at == 0 {
		return ""
	}
	if r.found && r.rev > r.at {
		return fmt.Sprintf("shows %s at mod revision %d, after the store revision %d it was served at", r.key, r.rev, r.at)
	}
	// The last write of the key known up to the read's revision.
	var last *write
	for _, w := range h.byKey[r.key] {
		if w.rev != 0 && w.rev <= r.at && (last == nil || w.rev > last.rev) {
			last = w
		}
	}
	if r.found {
		if last != nil && last.rev > r.rev {
			return fmt.Sprintf("shows %s=%q at mod revision %d at store revision %d, but %s at revision %d is known",
				r.key, r.value, r.rev, r.at, describeWrite(last), last.rev)
		}
		return ""
	}
	if last == nil || last.delete {
		return ""
	}
	// Absent at r.at although last put it: only a delete of unknown
	// revision, called before the read returned, may lie between.
	for _, w := range h.byKey[r.key] {
		if w.delete && w.rev == 0 && w.op.Call < op.Return {
			return ""
		}
	}
	return fmt.Sprintf("shows %s absent at store revision %d, but %s at revision %d is known, and no delete after it",
		r.key, r.at, describeWrite(last), last.rev)
}

func describeWrite(w *write) string {
	if w.delete {
		return "the delete of " + w.key
	}
	return fmt.Sprintf("the write %s=%q", w.key, w.value)
}

// sessionEvent is an operation of one member that tells the revision the
// member had reached: when it returned (floor), or when it was served
// (read).
type sessionEvent struct {
	op    porcupine.Operation
	floor int64 // the member's revision was at least this when it returned
	read  bool  // a read: served at floor
}

// checkSessions checks that no member's reads go back in time.
func checkSessions(history []porcupine.Operation) []Violation {
	type session struct{ member, epoch uint64 }
	sessions := map[session][]sessionEvent{}
	for _, op := range history {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Member == 0 || out.Unknown || out.Revision == 0 {
			continue
		}
		ev := sessionEvent{op: op, floor: out.Revision}
		switch in.Kind {
		case Get, Range:
			ev.read = true
		case Delete:
			if !out.Found {
				continue // deleted nothing: the revision says nothing more
			}
		}
		s := session{in.Member, in.Epoch}
		sessions[s] = append(sessions[s], ev)
	}
	var out []Violation
	for _, evs := range sessions {
		byReturn := slices.Clone(evs)
		slices.SortFunc(byReturn, func(a, b sessionEvent) int { return cmp.Compare(a.op.Return, b.op.Return) })
		byCall := slices.Clone(evs)
		slices.SortFunc(byCall, func(a, b sessionEvent) int { return cmp.Compare(a.op.Call, b.op.Call) })
		// Sweep the reads in call order, with the highest floor of the
		// operations that returned before.
		var best *sessionEvent
		j := 0
		for _, ev := range byCall {
			for ; j < len(byReturn) && byReturn[j].op.Return < ev.op.Call; j++ {
				if best == nil || byReturn[j].floor > best.floor {
					best = &byReturn[j]
				}
			}
			if ev.read && best != nil && ev.floor < best.floor {
				in := ev.op.Input.(Input)
				out = append(out, Violation{Op: ev.op, Reason: fmt.Sprintf(
					"member %d served it at revision %d, after it had reached revision %d (%s)",
					in.Member, ev.floor, best.floor, describe(best.op.Input.(Input), best.op.Output.(Output)))})
			}
		}
	}
	return out
}
