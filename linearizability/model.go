package linearizability

import (
	"fmt"
	"slices"
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
	// Range reads the keys Input.Keys at once: what it finds (Output.KVs)
	// must be one state of all of them.
	Range
	// Txn is a transaction on several keys: if every condition of
	// Input.Conds holds, every write of Input.Writes applies at one
	// revision (Output.Revision); otherwise nothing changes and the
	// transaction reads the keys of its conditions (Output.KVs).
	Txn
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
	case Range:
		return "range"
	case Txn:
		return "txn"
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
	// Keys are the keys a Range reads.
	Keys []string
	// Conds and Writes make a Txn.
	Conds  []Cond
	Writes []Write
	// Serializable marks a read (Get or Range) served from the member's
	// own state without a read index: it may be stale, so Check leaves it
	// out and CheckSerializable checks it against a weaker specification.
	Serializable bool
	// Member is the member that served the operation (0: unknown), and
	// Epoch which run of it: CheckSerializable requires each member's
	// reads to be monotonic within one (Member, Epoch). A test that cannot
	// promise that a member's state survives its restarts bumps the epoch
	// at each restart.
	Member uint64
	Epoch  uint64
}

// Cond is a condition of a Txn: Key's mod revision is Expect, or, with
// Expect 0, Key does not exist.
type Cond struct {
	Key    string
	Expect int64
}

// Write is a write of a Txn: Key=Value, or the deletion of Key.
type Write struct {
	Key    string
	Value  string // make each one unique
	Delete bool
}

// KV is a key as a read found it.
type KV struct {
	Key         string
	Value       string
	ModRevision int64
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
	// Succeeded tells whether a CAS or Txn applied.
	Succeeded bool
	// Revision is the revision of a successful Put, CAS, Delete or Txn:
	// the written keys' new mod revision; for a read, or a CAS or Txn that
	// failed, the store revision it was served at. 0 when unknown. Check
	// uses the revisions of writes; CheckSerializable uses all of them.
	Revision int64
	// KVs are what a Range found, or what a failed Txn read of the keys of
	// its conditions; a key left out is absent.
	KVs []KV
}

// keys returns the keys an operation touches.
func (in Input) keys() []string {
	switch in.Kind {
	case Range:
		return in.Keys
	case Txn:
		ks := make([]string, 0, len(in.Conds)+len(in.Writes))
		for _, c := range in.Conds {
			ks = append(ks, c.Key)
		}
		for _, w := range in.Writes {
			ks = append(ks, w.Key)
		}
		return ks
	}
	return []string{in.Key}
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

// step is the sequential specification of one key of the store, for the
// single-key operations.
func step(st state, in Input, out Output) (bool, state) {
	switch in.Kind {
	case Get:
		if out.Unknown {
			return true, st // a read changes nothing
		}
		if !out.Found {
			return !st.exists, st
		}
		return readMatches(st, out.Value, out.ModRevision)
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

// readMatches tells whether a read of value at mod revision rev may see
// st, and returns st with its revision known.
func readMatches(st state, value string, rev int64) (bool, state) {
	if !st.exists || st.value != value || !st.revMatches(rev) {
		return false, st
	}
	return true, state{exists: true, value: st.value, rev: rev}
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

// keyState is one key of a keyspace.
type keyState struct {
	key string
	st  state
}

// keyspace is the model's state of the keys of one partition: the keys
// that exist or once held a value, in key order. A key that is absent with
// nothing known about it is left out, so that equal states are equal
// slices.
type keyspace []keyState

func (ks keyspace) get(key string) state {
	i, ok := slices.BinarySearchFunc(ks, key, func(e keyState, k string) int { return strings.Compare(e.key, k) })
	if !ok {
		return state{}
	}
	return ks[i].st
}

// with returns a copy of ks where key is in st.
func (ks keyspace) with(key string, st state) keyspace {
	i, ok := slices.BinarySearchFunc(ks, key, func(e keyState, k string) int { return strings.Compare(e.key, k) })
	out := make(keyspace, 0, len(ks)+1)
	out = append(out, ks[:i]...)
	if st != (state{}) {
		out = append(out, keyState{key: key, st: st})
	}
	if ok {
		i++
	}
	return append(out, ks[i:]...)
}

// stepSpace is the sequential specification of the store, on the keys of
// one partition.
func stepSpace(ks keyspace, in Input, out Output) (bool, keyspace) {
	switch in.Kind {
	case Range:
		if out.Unknown {
			return true, ks
		}
		return readKeys(ks, in.Keys, out.KVs)
	case Txn:
		return stepTxn(ks, in, out)
	}
	ok, next := step(ks.get(in.Key), in, out)
	if !ok {
		return false, ks
	}
	return true, ks.with(in.Key, next)
}

// stepTxn is the specification of a multi-key transaction.
func stepTxn(ks keyspace, in Input, out Output) (bool, keyspace) {
	holds := func(ks keyspace) bool {
		for _, c := range in.Conds {
			if !casHolds(ks.get(c.Key), c.Expect) {
				return false
			}
		}
		return true
	}
	apply := func(ks keyspace, rev int64) keyspace {
		for _, w := range in.Writes {
			if w.Delete {
				ks = ks.with(w.Key, state{})
			} else {
				ks = ks.with(w.Key, state{exists: true, value: w.Value, rev: rev})
			}
		}
		return ks
	}
	switch {
	case out.Unknown:
		if holds(ks) {
			return true, apply(ks, unknownRev)
		}
		return true, ks
	case out.Succeeded:
		if !holds(ks) {
			return false, ks
		}
		for _, w := range in.Writes {
			if st := ks.get(w.Key); !w.Delete && !st.after(out.Revision) {
				return false, ks
			}
		}
		return true, apply(ks, revOrUnknown(out.Revision))
	}
	// Failed: what it read of its conditions' keys is the state, and some
	// condition does not hold there.
	keys := make([]string, len(in.Conds))
	for i, c := range in.Conds {
		keys[i] = c.Key
	}
	ok, ks := readKeys(ks, keys, out.KVs)
	return ok && !holds(ks), ks
}

func findKV(kvs []KV, key string) (KV, bool) {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv, true
		}
	}
	return KV{}, false
}

// partition splits a history into groups of operations that share no key:
// the keys one operation touches (a Range, a Txn) are in one group. Groups
// come out in the order of their smallest key.
func partition(history []porcupine.Operation) [][]porcupine.Operation {
	parent := map[string]string{}
	var find func(string) string
	find = func(k string) string {
		p, ok := parent[k]
		if !ok {
			parent[k] = k
			return k
		}
		if p == k {
			return k
		}
		r := find(p)
		parent[k] = r
		return r
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if ra < rb {
			parent[rb] = ra
		} else {
			parent[ra] = rb
		}
	}
	for _, op := range history {
		ks := op.Input.(Input).keys()
		for _, k := range ks {
			find(k)
			union(ks[0], k)
		}
	}
	byRoot := map[string][]porcupine.Operation{}
	for _, op := range history {
		ks := op.Input.(Input).keys()
		root := ""
		if len(ks) > 0 {
			root = find(ks[0])
		}
		byRoot[root] = append(byRoot[root], op)
	}
	roots := make([]string, 0, len(byRoot))
	for r := range byRoot {
		roots = append(roots, r)
	}
	sort.Strings(roots)
	out := make([][]porcupine.Operation, 0, len(roots))
	for _, r := range roots {
		out = append(out, byRoot[r])
	}
	return out
}

// Model is the porcupine model of raftkv's key space: a map of keys to a
// value and its mod revision. The history is partitioned by key (each key
// is checked on its own), except that the keys one Range or Txn touches
// are checked together. Inputs are Input and outputs Output. Serializable
// reads must be left out (Check does; CheckSerializable checks them).
//
// Revisions are checked where they are known: a read must see the mod
// revision of the write it reads, and the successful writes of one key
// carry growing revisions in the linearization order. After a write of
// unknown outcome the key's revision is unknown until a read shows it.
var Model = porcupine.Model{
	Partition: partition,
	Init:      func() any { return keyspace(nil) },
	Step: func(s, in, out any) (bool, any) {
		return stepSpace(s.(keyspace), in.(Input), out.(Output))
	},
	Equal: func(a, b any) bool { return slices.Equal(a.(keyspace), b.(keyspace)) },
	DescribeOperation: func(in, out any) string {
		return describe(in.(Input), out.(Output))
	},
	DescribeState: func(s any) string {
		ks := s.(keyspace)
		if len(ks) == 0 {
			return "empty"
		}
		parts := make([]string, len(ks))
		for i, e := range ks {
			parts[i] = e.key + "=" + describeState(e.st)
		}
		return strings.Join(parts, ", ")
	},
}

func describeState(st state) string {
	if !st.exists {
		return "absent"
	}
	if st.rev == unknownRev {
		return fmt.Sprintf("%q @?", st.value)
	}
	return fmt.Sprintf("%q @%d", st.value, st.rev)
}

func describeKVs(keys []string, kvs []KV) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		if kv, ok := findKV(kvs, k); ok {
			parts[i] = fmt.Sprintf("%s=%q @%d", k, kv.Value, kv.ModRevision)
		} else {
			parts[i] = k + " absent"
		}
	}
	return strings.Join(parts, ", ")
}

func describe(in Input, out Output) string {
	var b strings.Builder
	if in.Member != 0 {
		fmt.Fprintf(&b, "[m%d] ", in.Member)
	}
	if in.Serializable {
		b.WriteString("serializable ")
	}
	var condKeys []string
	switch in.Kind {
	case Get:
		fmt.Fprintf(&b, "get(%s) -> ", in.Key)
	case Put:
		fmt.Fprintf(&b, "put(%s, %q) -> ", in.Key, in.Value)
	case CAS:
		fmt.Fprintf(&b, "cas(%s, @%d, %q) -> ", in.Key, in.Expect, in.Value)
	case Delete:
		fmt.Fprintf(&b, "delete(%s) -> ", in.Key)
	case Range:
		fmt.Fprintf(&b, "range(%s) -> ", strings.Join(in.Keys, ", "))
	case Txn:
		b.WriteString("txn(")
		for i, c := range in.Conds {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s@%d", c.Key, c.Expect)
			condKeys = append(condKeys, c.Key)
		}
		b.WriteString(" ?")
		for _, w := range in.Writes {
			if w.Delete {
				fmt.Fprintf(&b, " delete %s", w.Key)
			} else {
				fmt.Fprintf(&b, " %s=%q", w.Key, w.Value)
			}
		}
		b.WriteString(") -> ")
	default:
		fmt.Fprintf(&b, "%v -> ", in.Kind)
	}
	switch {
	case out.Unknown:
		b.WriteString("unknown")
	case in.Kind == Get && !out.Found:
		b.WriteString("absent")
	case in.Kind == Get:
		fmt.Fprintf(&b, "%q @%d", out.Value, out.ModRevision)
	case in.Kind == Range:
		b.WriteString(describeKVs(in.Keys, out.KVs))
	case in.Kind == Put:
		fmt.Fprintf(&b, "ok @%d", out.Revision)
	case (in.Kind == CAS || in.Kind == Txn) && out.Succeeded:
		fmt.Fprintf(&b, "ok @%d", out.Revision)
	case in.Kind == CAS && out.Found:
		fmt.Fprintf(&b, "failed, is %q @%d", out.Value, out.ModRevision)
	case in.Kind == CAS:
		b.WriteString("failed, absent")
	case in.Kind == Txn:
		b.WriteString("failed, " + describeKVs(condKeys, out.KVs))
	case in.Kind == Delete:
		fmt.Fprintf(&b, "deleted=%v", out.Found)
	}
	if out.Revision != 0 && !out.Unknown && (in.Kind == Get || in.Kind == Range || !out.Succeeded && (in.Kind == CAS || in.Kind == Txn)) {
		fmt.Fprintf(&b, " (at revision %d)", out.Revision)
	}
	return b.String()
}

// readKeys checks a read of keys that returned kvs (a key absent from kvs
// does not exist) against ks, and returns ks with what the read pinned down.
func readKeys(ks keyspace, keys []string, kvs []KV) (bool, keyspace) {
	for _, k := range keys {
		kv, found := findKV(kvs, k)
		st := ks.get(k)
		if !found {
			if st.exists {
				return false, ks
			}
			continue
		}
		ok, next := readMatches(st, kv.Value, kv.ModRevision)
		if !ok {
			return false, ks
		}
		ks = ks.with(k, next)
	}
	return true, ks
}
