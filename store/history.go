package store

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/raftkv/raftkv/messages"
)

// Defaults of the history's bounds (HistoryLimits).
const (
	DefaultHistoryRevisions = 100_000
	DefaultHistoryBytes     = 64 << 20
)

// HistoryLimits bound the changes the store keeps: those of the last
// Revisions revisions, and fewer (whole revisions, oldest first) while they
// take more than Bytes. 0 means the default.
type HistoryLimits struct {
	Revisions int64
	Bytes     int64
}

// changeOverhead is what a change costs beyond its keys' and values'
// bytes.
const changeOverhead = 64

// change is one change of the history, in the store's own packed form: no
// allocation of its own, the items shared with the tree (or, for the key
// before, with what the tree held). A put's kv is the key after it; a
// delete has no kv, and prev is the key it deleted.
type change struct {
	rev int64
	del bool
	// bytes is what the change counts toward the history's byte limit,
	// set by history.add: dropping the change then reads neither item,
	// which by then have long left the CPU's caches.
	bytes uint32
	kv    item
	prev  item
}

func (c *change) hasPrev() bool { return c.prev.p != nil }

func (c *change) key() []byte {
	if c.del {
		return c.prev.key()
	}
	return c.kv.key()
}

// event is c as a watch reports it.
func (c *change) event() messages.Event {
	e := messages.Event{Type: messages.EventPut}
	if c.hasPrev() {
		p := c.prev.kv()
		e.PrevKV = &p
	}
	if c.del {
		e.Type, e.KV = messages.EventDelete, messages.KeyValue{Key: c.prev.key(), ModRevision: c.rev}
	} else {
		e.KV = c.kv.kv()
	}
	return e
}

func (c *change) size() uint32 {
	return uint32(changeOverhead + c.kv.size() + c.prev.size())
}

// history is the store's changes after revision oldest, in revision order.
// Reading the store at any revision R >= oldest is undoing the changes
// after R; a watch from revision S > oldest replays the changes from S.
type history struct {
	changes []change
	// oldest is the revision the history reaches back to: every change
	// after it is kept.
	oldest int64
	bytes  int64
	limits HistoryLimits
}

func newHistory(oldest int64, limits HistoryLimits) history {
	return history{oldest: oldest, limits: limits.orDefaults()}
}

func (l HistoryLimits) orDefaults() HistoryLimits {
	if l.Revisions <= 0 {
		l.Revisions = DefaultHistoryRevisions
	}
	if l.Bytes <= 0 {
		l.Bytes = DefaultHistoryBytes
	}
	return l
}

// add records c, a change at the current revision.
func (h *history) add(c change) {
	c.bytes = c.size()
	h.changes = append(h.changes, c)
	h.bytes += int64(c.bytes)
}

// trim drops what the limits no longer allow, at revision current.
func (h *history) trim(current int64) {
	h.dropThrough(current - h.limits.Revisions)
	for h.bytes > h.limits.Bytes && len(h.changes) > 0 {
		h.dropThrough(h.changes[0].rev)
	}
}

// dropThrough drops the changes of revisions <= rev, from the oldest on:
// one or two after a write, as the history moves along.
func (h *history) dropThrough(rev int64) {
	if rev <= h.oldest {
		return
	}
	i := 0
	for ; i < len(h.changes) && h.changes[i].rev <= rev; i++ {
		h.bytes -= int64(h.changes[i].bytes)
		h.changes[i] = change{} // lets the values go
	}
	h.changes = h.changes[i:]
	h.oldest = rev
}

// since returns the changes of revisions >= rev, shared with the history;
// the caller checks rev > h.oldest.
func (h *history) since(rev int64) []change {
	i := sort.Search(len(h.changes), func(i int) bool { return h.changes[i].rev >= rev })
	return h.changes[i:]
}

// before returns, for every key of [key, end) changed after rev, what it
// was at rev (nil if it did not exist), and those keys in order.
func (h *history) before(rev int64, key, end []byte) (map[string]*messages.KeyValue, []string) {
	at := map[string]*messages.KeyValue{}
	var keys []string
	after := h.since(rev + 1)
	// Newest first, so that the earliest change after rev has the last word.
	for i := len(after) - 1; i >= 0; i-- {
		c := &after[i]
		k := c.key()
		if !InRange(k, key, end) {
			continue
		}
		if _, seen := at[string(k)]; !seen {
			keys = append(keys, string(k))
		}
		var was *messages.KeyValue
		if c.hasPrev() {
			p := c.prev.kv()
			was = &p
		}
		at[string(k)] = was
	}
	sort.Strings(keys)
	return at, keys
}

// InRange says whether k is key (end empty) or in [key, end), an end of
// "\x00" meaning every key >= key: whether an Op of that Key and End
// covers k.
func InRange(k, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return bytes.Equal(k, key)
	case bytes.Equal(end, allKeys):
		return bytes.Compare(k, key) >= 0
	default:
		return bytes.Compare(k, key) >= 0 && bytes.Compare(k, end) < 0
	}
}

// OldestRevision is the oldest revision the store can still be read at:
// its history holds every change after it.
func (s *Store) OldestRevision() int64 { return s.hist.oldest }

// RangeAt reads op, an OpGet, as Range does but as the store was at
// revision rev (0: the current one). It fails with ErrFutureRevision for a
// revision the store has not reached, and with a *CompactedError for one
// older than OldestRevision.
func (s *Store) RangeAt(op messages.Op, rev int64) (messages.OpResult, error) {
	switch {
	case op.Type != messages.OpGet:
		return messages.OpResult{}, nil
	case rev > s.revision:
		return messages.OpResult{}, fmt.Errorf("read at revision %d, the store is at %d: %w", rev, s.revision, messages.ErrFutureRevision)
	case rev == 0 || rev == s.revision:
		return s.rangeOp(&op), nil
	case rev < s.hist.oldest:
		return messages.OpResult{}, &messages.CompactedError{Oldest: s.hist.oldest}
	}
	at, changed := s.hist.before(rev, op.Key, op.End)
	var res messages.OpResult
	emit := func(kv messages.KeyValue) bool {
		if op.Limit > 0 && int64(len(res.KVs)) >= op.Limit {
			res.More = true
			return false
		}
		res.KVs = append(res.KVs, kv)
		return true
	}
	// The current keys not changed since rev, merged in key order with
	// what the changed ones were at rev.
	next := 0
	emitChangedBefore := func(key []byte, all bool) bool {
		for ; next < len(changed) && (all || changed[next] < string(key)); next++ {
			if kv := at[changed[next]]; kv != nil && !emit(*kv) {
				return false
			}
		}
		return true
	}
	more := true
	s.ascend(&op, func(it item) bool {
		kv := it.kv()
		if more = emitChangedBefore(kv.Key, false); !more {
			return false
		}
		if _, ok := at[string(kv.Key)]; ok {
			return true
		}
		more = emit(kv)
		return more
	})
	if more {
		emitChangedBefore(nil, true)
	}
	return res, nil
}

// Changes returns the changes of revisions >= from, in revision order. It
// fails with a *CompactedError when some of them are no longer kept (from
// <= OldestRevision).
func (s *Store) Changes(from int64) ([]messages.Event, error) {
	if from <= s.hist.oldest {
		return nil, &messages.CompactedError{Oldest: s.hist.oldest}
	}
	changes := s.hist.since(from)
	events := make([]messages.Event, len(changes))
	for i := range changes {
		events[i] = changes[i].event()
	}
	return events, nil
}

// Compact drops the history before revision rev: the store can then be
// read at rev and later only. A revision the store has not reached fails
// with ErrFutureRevision, one already compacted with a *CompactedError.
func (s *Store) Compact(rev int64) error {
	switch {
	case rev > s.revision:
		return fmt.Errorf("compact to revision %d, the store is at %d: %w", rev, s.revision, messages.ErrFutureRevision)
	case rev <= s.hist.oldest:
		return &messages.CompactedError{Oldest: s.hist.oldest}
	}
	s.hist.dropThrough(rev)
	return nil
}
