package linearizability

import (
	"fmt"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
)

// Kind is the kind of an operation.
type Kind uint8

// The operations the model knows.
const (
	// Get reads a key.
	Get Kind = iota + 1
	// Put sets a key unconditionally.
	Put
	// CAS sets a key only if its mod revision is Input.Expect (the key
	// exists at that revision), or, with Expect 0, only if it is absent.
	CAS
	// Delete deletes a key.
	Delete
)

func (k Kind) String() string {
	switch k {
	case Get:
		return "get"
	case Put:
		return "put"
	case CAS:
		return "cas"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Input is what a client asked.
type Input struct {
	Kind  Kind
	Key   string
	Value string // Put and CAS: the value written; make each one unique
	// Expect is the mod revision a CAS requires; 0 requires that the key
	// does not exist.
	Expect int64
}

// Output is what a client was answered.
type Output struct {
	// Unknown marks a write whose outcome is unknown (timeout, lost
	// connection): it may have applied or not. Such an operation has no
	// return time: it may take effect at any point after its call.
	Unknown bool
	// Found is, for a Get, whether the key exists; for a failed CAS,
	// whether the key existed; for a Delete, whether it deleted the key.
	Found bool
	// Value and ModRevision are what a Get read (or a failed CAS found).
	Value       string
	ModRevision int64
	// Succeeded tells whether a CAS applied.
	Succeeded bool
	// Revision is the revision of a successful Put or CAS: the key's new
	// mod revision. 0 when unknown.
	Revision int64
}

// unknownRev is the mod revision of a key written by a write whose outcome
// (and so revision) is unknown; the next read that sees it fixes it.
const unknownRev = -1

// state is the model's state of one key.
type state struct {
	exists bool
	value  string
	rev    int64 // mod revision, unknownRev when not known
}

// revMatches tells whether the known-or-unknown revision s.rev may be r.
func (s state) revMatches(r int64) bool { return s.rev == unknownRev || s.rev == r }

// after tells whether revision r may follow s: revisions grow.
func (s state) after(r int64) bool { return r == 0 || s.rev == unknownRev || r > s.rev }

// step is the sequential specification of one key of the store.
func step(st state, in Input, out Output) (bool, state) {
	switch in.Kind {
	case Get:
		if out.Unknown {
			return true, st // a read changes nothing
		}
		if !out.Found {
			return !st.exists, st
		}
		if !st.exists || st.value != out.Value || !st.revMatches(out.ModRevision) {
			return false, st
		}
		return true, state{exists: true, value: st.value, rev: out.ModRevision}
	case Put:
		if out.Unknown {
			return true, state{exists: true, value: in.Value, rev: unknownRev}
		}
		return st.after(out.Revision), state{exists: true, value: in.Value, rev: revOrUnknown(out.Revision)}
	case CAS:
		holds := casHolds(st, in.Expect)
		if out.Unknown {
			// Were it not applied, it can be placed after everything else,
			// where its effect is never seen.
			if holds {
				return true, state{exists: true, value: in.Value, rev: unknownRev}
			}
			return true, st
		}
		if out.Succeeded {
			if !holds || !st.after(out.Revision) {
				return false, st
			}
			return true, state{exists: true, value: in.Value, rev: revOrUnknown(out.Revision)}
		}
		// Failed: the condition must not hold in a state that matches
		// what the failure answer showed.
		if out.Found != st.exists {
			return false, st
		}
		if !out.Found {
			return in.Expect != 0, st
		}
		if st.value != out.Value || !st.revMatches(out.ModRevision) || out.ModRevision == in.Expect {
			return false, st
		}
		return true, state{exists: true, value: st.value, rev: out.ModRevision}
	case Delete:
		if out.Unknown {
			return true, state{}
		}
		return out.Found == st.exists, state{}
	}
	return false, st
}

// casHolds tells whether a CAS expecting expect may apply in st.
func casHolds(st state, expect int64) bool {
	if expect == 0 {
		return !st.exists
	}
	return st.exists && st.revMatches(expect)
}

func revOrUnknown(r int64) int64 {
	if r == 0 {
		return unknownRev
	}
	return r
}

// Model is the porcupine model of raftkv's key space: a map of keys to a
// value and its mod revision, partitioned by key (each key is checked on
// its own). Inputs are Input and outputs Output.
//
// Revisions are checked where they are known: a Get must read the mod
// revision of the write it reads, and the successful writes of one key
// carry growing revisions in the linearization order. After a write of
// unknown outcome the key's revision is unknown until a read shows it.
var Model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(Input).Key
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return state{} },
	Step: func(s, in, out any) (bool, any) {
		return step(s.(state), in.(Input), out.(Output))
	},
	Equal: func(a, b any) bool { return a.(state) == b.(state) },
	DescribeOperation: func(in, out any) string {
		return describe(in.(Input), out.(Output))
	},
	DescribeState: func(s any) string {
		st := s.(state)
		if !st.exists {
			return "absent"
		}
		if st.rev == unknownRev {
			return fmt.Sprintf("%q @?", st.value)
		}
		return fmt.Sprintf("%q @%d", st.value, st.rev)
	},
}

func describe(in Input, out Output) string {
	var b strings.Builder
	switch in.Kind {
	case Get:
		fmt.Fprintf(&b, "get(%s) -> ", in.Key)
	case Put:
		fmt.Fprintf(&b, "put(%s, %q) -> ", in.Key, in.Value)
	case CAS:
		fmt.Fprintf(&b, "cas(%s, @%d, %q) -> ", in.Key, in.Expect, in.Value)
	case Delete:
		fmt.Fprintf(&b, "delete(%s) -> ", in.Key)
	}
	switch {
	case out.Unknown:
		b.WriteString("unknown")
	case in.Kind == Get && !out.Found:
		b.WriteString("absent")
	case in.Kind == Get:
		fmt.Fprintf(&b, "%q @%d", out.Value, out.ModRevision)
	case in.Kind == Put:
		fmt.Fprintf(&b, "ok @%d", out.Revision)
	case in.Kind == CAS && out.Succeeded:
		fmt.Fprintf(&b, "ok @%d", out.Revision)
	case in.Kind == CAS && out.Found:
		fmt.Fprintf(&b, "failed, is %q @%d", out.Value, out.ModRevision)
	case in.Kind == CAS:
		b.WriteString("failed, absent")
	case in.Kind == Delete:
		fmt.Fprintf(&b, "deleted=%v", out.Found)
	}
	return b.String()
}
