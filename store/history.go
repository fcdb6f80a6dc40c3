package store

import (
	"bytes"
	"fmt"
	"slices"
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

// eventOverhead is what an event costs beyond its keys' and values' bytes.
const eventOverhead = 96

// history is the store's changes after revision oldest, in revision order.
// Reading the store at any revision R >= oldest is undoing the changes
// after R; a watch from revision S > oldest replays the changes from S.
type history struct {
	events []messages.Event
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

func eventBytes(e *messages.Event) int64 {
	n := int64(eventOverhead + len(e.KV.Key) + len(e.KV.Value))
	if e.PrevKV != nil {
		n += int64(len(e.PrevKV.Value))
	}
	return n
}

// add records e, a change at the current revision.
func (h *history) add(e messages.Event) {
	h.events = append(h.events, e)
	h.bytes += eventBytes(&e)
}

// trim drops what the limits no longer allow, at revision current.
func (h *history) trim(current int64) {
	h.dropThrough(current - h.limits.Revisions)
	for h.bytes > h.limits.Bytes && len(h.events) > 0 {
		h.dropThrough(h.events[0].Revision())
	}
}

// dropThrough drops the changes of revisions <= rev.
func (h *history) dropThrough(rev int64) {
	if rev <= h.oldest {
		return
	}
	i := sort.Search(len(h.events), func(i int) bool { return h.events[i].Revision() > rev })
	for j := range i {
		h.bytes -= eventBytes(&h.events[j])
		h.events[j] = messages.Event{} // lets the values go
	}
	h.events = h.events[i:]
	h.oldest = rev
}

// since returns the changes of revisions >= rev, shared with the history;
// the caller checks rev > h.oldest.
func (h *history) since(rev int64) []messages.Event {
	i := sort.Search(len(h.events), func(i int) bool { return h.events[i].Revision() >= rev })
	return h.events[i:]
}

// before returns, for every key of [key, end) changed after rev, what it
// was at rev (nil if it did not exist), and those keys in order.
func (h *history) before(rev int64, key, end []byte) (map[string]*messages.KeyValue, []string) {
	at := map[string]*messages.KeyValue{}
	var keys []string
	after := h.since(rev + 1)
	// Newest first, so that the earliest change after rev has the last word.
	for i := len(after) - 1; i >= 0; i-- {
		e := &after[i]
		if !InRange(e.KV.Key, key, end) {
			continue
		}
		k := string(e.KV.Key)
		if _, seen := at[k]; !seen {
			keys = append(keys, k)
		}
		at[k] = e.PrevKV
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
	return slices.Clone(s.hist.since(from)), nil
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
