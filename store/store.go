package store

import (
	"bytes"
	"cmp"

	"github.com/google/btree"

	"github.com/raftkv/raftkv/messages"
)

// btreeDegree is the degree of the key tree; 32 is what etcd's in-memory
// index uses.
const btreeDegree = 32

// maxPrealloc caps the capacity a limited range allocates up front.
const maxPrealloc = 1024

// allKeys is the End of a range that means "every key >= Key".
var allKeys = []byte{0}

// Store is the KV state machine. Not safe for concurrent use: one actor (the
// applier) owns it. View gives a point-in-time copy that other goroutines
// may read while the owner goes on.
//
// The tree holds items (one packed allocation per key, see item) ordered
// by key bytes. A stored item is never modified after insertion (see the
// package doc), so results may share its bytes.
type Store struct {
	tree     *btreeKV
	revision int64
	hist     history
	leases   leases
	// scratch is the reused buffer of the probes that look keys up.
	scratch []byte
	// shareValues says that the values Apply is given never change, so
	// that big ones are kept by reference (ShareValues).
	shareValues bool
}

// btreeKV is the key tree: stored items ordered by key bytes.
type btreeKV = btree.BTreeG[item]

func newTree() *btreeKV {
	return btree.NewG(btreeDegree, lessItem)
}

// New returns an empty store at revision 0.
func New() *Store {
	return &Store{tree: newTree(), hist: newHistory(0, HistoryLimits{}), leases: newLeases()}
}

// SetHistoryLimits bounds the history of changes the store keeps (see
// HistoryLimits); changes beyond the new limits are dropped at once.
func (s *Store) SetHistoryLimits(l HistoryLimits) {
	s.hist.limits = l.orDefaults()
	s.hist.trim(s.revision)
}

// ShareValues lets the store keep the values of puts by reference rather
// than copy them, when they are big enough (1 KiB) for the copy to cost
// more than the reference: the caller promises that the bytes of the
// values it hands Apply never change. The applier's values are slices of
// raft entries, which nobody modifies; kept, they keep the entry's data
// alive, so that a value in raft's log and in the store is in memory
// once. Snapshots read into a store (ReadSnapshot) are copied all the
// same.
func (s *Store) ShareValues() { s.shareValues = true }

// Revision returns the store revision: 0 for a new store, one more for every
// transaction that wrote.
func (s *Store) Revision() int64 { return s.revision }

// Len returns the number of keys in the store.
func (s *Store) Len() int { return s.tree.Len() }

// Apply applies txn atomically and deterministically at the next revision.
//
// The compares are evaluated against the state before the txn; if all of them
// hold (or there are none) the Success ops run, otherwise the Failure ops.
// The ops of the executed branch run in order, each seeing the effects of the
// ones before it, so a Get after a Put of the same txn reads the new value.
// If the branch wrote anything (a Put, or a Delete that removed at least one
// key) the store revision grows by exactly one and every write of the txn
// carries that revision as ModRevision.
//
// A Put sets CreateRevision on create and keeps it on update, sets
// ModRevision to the new revision and increments Version (1 on create; two
// Puts of one key in one txn increment it twice). A Delete removes Key, or
// every key of [Key, End) when End is set (End "\x00": every key >= Key);
// Limit does not apply to deletes. PrevKV on a Put or Delete returns the
// previous KeyValue(s) in OpResult.KVs; Deleted counts the keys removed. A
// Get reads like Range.
//
// The result has one OpResult per op of the executed branch, in order, and
// the store revision after the txn. Apply never panics: an op of an unknown
// type changes nothing and gets an empty OpResult, and a Compare of an
// unknown target or result does not hold. Size limits are Validate's job and
// are not enforced here.
func (s *Store) Apply(txn messages.Txn) messages.TxnResult {
	succeeded := true
	for i := range txn.Compares {
		if !s.compare(&txn.Compares[i]) {
			succeeded = false
			break
		}
	}
	ops := txn.Success
	if !succeeded {
		ops = txn.Failure
	}
	next := s.revision + 1
	wrote := false
	var responses []messages.OpResult
	if len(ops) > 0 {
		responses = make([]messages.OpResult, len(ops))
	}
	for i := range ops {
		op := &ops[i]
		switch op.Type {
		case messages.OpGet:
			responses[i] = s.rangeOp(op)
		case messages.OpPut:
			responses[i] = s.put(op, next)
			wrote = true
		case messages.OpDelete:
			responses[i] = s.deleteOp(op, next)
			if responses[i].Deleted > 0 {
				wrote = true
			}
		default:
			// Unknown op type: skipped, empty OpResult (see the doc).
		}
	}
	if wrote {
		s.revision = next
		s.hist.trim(next)
	}
	return messages.TxnResult{Succeeded: succeeded, Revision: s.revision, Responses: responses}
}

// Range reads op, which must be an OpGet (any other type gives an empty
// result): Key alone reads that single key; Key and End read the range
// [Key, End), where End "\x00" means every key >= Key, so an empty Key with
// End "\x00" reads everything. Keys come in ascending order. op.Limit > 0
// caps the number of keys returned, and More tells that the limit cut the
// results; Limit <= 0 means no limit. Range returns the result and the current
// store revision. The returned slices are shared with the store (see the
// package doc).
func (s *Store) Range(op messages.Op) (messages.OpResult, int64) {
	if op.Type != messages.OpGet {
		return messages.OpResult{}, s.revision
	}
	return s.rangeOp(&op), s.revision
}

// get returns the stored item of key, and whether there is one.
func (s *Store) get(key []byte) (item, bool) {
	var p item
	s.scratch, p = probe(s.scratch, key)
	return s.tree.Get(p)
}

// ascend calls fn for every stored item that op (a Get or Delete) covers, in
// key order, until fn returns false. fn must not modify the tree.
func (s *Store) ascend(op *messages.Op, fn func(item) bool) {
	switch {
	case len(op.End) == 0:
		if it, ok := s.get(op.Key); ok {
			fn(it)
		}
	case bytes.Equal(op.End, allKeys):
		_, from := probe(nil, op.Key)
		s.tree.AscendGreaterOrEqual(from, fn)
	case bytes.Compare(op.Key, op.End) < 0:
		_, from := probe(nil, op.Key)
		_, to := probe(nil, op.End)
		s.tree.AscendRange(from, to, fn)
	default:
		// End <= Key: the range is empty.
	}
}

func (s *Store) rangeOp(op *messages.Op) messages.OpResult {
	var res messages.OpResult
	if op.Limit > 0 && len(op.End) != 0 {
		res.KVs = make([]messages.KeyValue, 0, min(op.Limit, maxPrealloc))
	}
	s.ascend(op, func(it item) bool {
		if op.Limit > 0 && int64(len(res.KVs)) >= op.Limit {
			res.More = true
			return false
		}
		res.KVs = append(res.KVs, it.kv())
		return true
	})
	if len(res.KVs) == 0 {
		res.KVs = nil // found nothing: nil, whatever was preallocated
	}
	return res
}

func (s *Store) put(op *messages.Op, rev int64) messages.OpResult {
	kv := messages.KeyValue{Key: op.Key, Value: op.Value, CreateRevision: rev, ModRevision: rev, Version: 1}
	var res messages.OpResult
	c := change{rev: rev}
	if prev, ok := s.get(op.Key); ok {
		p := prev.kv()
		kv.CreateRevision, kv.Version = p.CreateRevision, p.Version+1
		if op.PrevKV {
			res.KVs = []messages.KeyValue{p}
		}
		c.prev = prev
	}
	// The item copies the key, and the value unless the caller's are
	// shared (ShareValues).
	if s.shareValues {
		c.kv = newSharedItem(&kv)
	} else {
		c.kv = newItem(&kv)
	}
	s.tree.ReplaceOrInsert(c.kv)
	s.leases.attach(op.Key, op.Lease)
	s.hist.add(c)
	return res
}

func (s *Store) deleteOp(op *messages.Op, rev int64) messages.OpResult {
	var doomed []item
	s.ascend(op, func(it item) bool {
		doomed = append(doomed, it)
		return true
	})
	var res messages.OpResult
	for _, it := range doomed {
		s.tree.Delete(it)
		s.leases.attach(it.key(), 0)
		if op.PrevKV {
			res.KVs = append(res.KVs, it.kv())
		}
		s.hist.add(change{rev: rev, del: true, prev: it})
	}
	res.Deleted = int64(len(doomed))
	return res
}

// compare reports whether c holds in the current state. A missing key has a
// nil value and revisions and version 0.
func (s *Store) compare(c *messages.Compare) bool {
	it, found := s.get(c.Key)
	if c.Target == messages.TargetExists {
		switch c.Result {
		case messages.Equal:
			return found == c.Exists
		case messages.NotEqual:
			return found != c.Exists
		default:
			return false
		}
	}
	var cur messages.KeyValue
	if found {
		cur = it.kv()
	}
	var order int
	switch c.Target {
	case messages.TargetValue:
		order = bytes.Compare(cur.Value, c.Value)
	case messages.TargetModRevision:
		order = cmp.Compare(cur.ModRevision, c.Revision)
	case messages.TargetCreateRevision:
		order = cmp.Compare(cur.CreateRevision, c.Revision)
	case messages.TargetVersion:
		order = cmp.Compare(cur.Version, c.Revision)
	default:
		return false
	}
	switch c.Result {
	case messages.Equal:
		return order == 0
	case messages.NotEqual:
		return order != 0
	case messages.Greater:
		return order > 0
	case messages.Less:
		return order < 0
	default:
		return false
	}
}
