package httpapi

import (
	"fmt"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
)

// Bounds of the answers, as package api states them (see there).
const (
	DefaultRangeLimit = api.DefaultRangeLimit
	MaxRangeLimit     = api.MaxRangeLimit
	MaxRangeBytes     = api.MaxRangeBytes
	MaxTxnOps         = api.MaxTxnOps
	MaxDeletePrevKVs  = api.MaxDeletePrevKVs
)

// The store takes its keys and results as they are: the bounds on what a
// read returns are those of the ops this package builds. Every range read
// it builds has a Limit (so the store collects at most MaxRangeLimit keys
// per answer), a range delete with prev_kv runs as a get of at most
// MaxDeletePrevKVs keys followed by the delete (so a delete of a million
// keys does not copy them into its result), and the bytes of keys and
// values an answer holds are counted while it is written (budget).

// budget counts the bytes of keys and values an answer holds, against
// MaxRangeBytes.
type budget struct{ used, max int }

func newBudget() *budget { return &budget{max: MaxRangeBytes} }

// size is what a key takes of a budget: its key and value bytes.
func size(kv *messages.KeyValue) int { return len(kv.Key) + len(kv.Value) }

// take returns how many of kvs, in order, fit in what is left of b (at
// least the first one, so that a page always makes progress), and counts
// them.
func (b *budget) take(kvs []messages.KeyValue) int {
	for i := range kvs {
		n := size(&kvs[i])
		if i > 0 && b.used+n > b.max {
			return i
		}
		b.used += n
	}
	return len(kvs)
}

// add counts kvs, which the answer holds whatever their size (the value
// a put replaced, the key a single delete removed).
func (b *budget) add(kvs []messages.KeyValue) {
	for i := range kvs {
		b.used += size(&kvs[i])
	}
}

// checkLimit checks the limit of a range read and returns the one to use:
// DefaultRangeLimit for none (0).
func checkLimit(limit int64) (int64, error) {
	switch {
	case limit < 0:
		return 0, fmt.Errorf("limit %d: want a number from 0 (the default, %d) to %d", limit, DefaultRangeLimit, MaxRangeLimit)
	case limit == 0:
		return DefaultRangeLimit, nil
	case limit > MaxRangeLimit:
		return 0, fmt.Errorf("limit %d is over the maximum of %d keys a page: page through the range with next", limit, MaxRangeLimit)
	}
	return limit, nil
}
