package api

// Bounds of what one request may read or carry, so that no request can
// make a member build an answer of unbounded size. A request over a bound
// is a 400 that says the bound; an answer cut by one says so ("more",
// "prev_kvs_truncated").
const (
	// DefaultRangeLimit is the page size of a range (GET /v1/kv) and of
	// a range get of a transaction that gives no limit (or 0).
	DefaultRangeLimit = 1000
	// MaxRangeLimit is the largest limit a range takes. It also bounds
	// the keys one transaction branch may read: the limits of its range
	// gets (DefaultRangeLimit for a get without one), and
	// MaxDeletePrevKVs for each range delete with prev_kv, add up to at
	// most MaxRangeLimit.
	MaxRangeLimit = 10000
	// MaxRangeBytes bounds the keys and values (their raw bytes) of one
	// answer: a page of a range stops before the key that would take it
	// over MaxRangeBytes ("more" is then true and "next" continues after
	// the last key it holds), and so does each get and each prev_kvs of a
	// range delete of a transaction, the budget being shared by the whole
	// transaction answer. A page or a get always holds at least the first
	// key of its range, so following "next" always makes progress.
	MaxRangeBytes = 4 << 20
	// MaxTxnOps is the most compares, and the most ops in each branch, of
	// one transaction; a range delete with prev_kv counts as two ops (it
	// runs as a get of what it deletes, then the delete).
	MaxTxnOps = 128
	// MaxDeletePrevKVs is the most deleted keys that prev_kv returns for a
	// delete of a range or prefix (DELETE /v1/kv/<prefix>?prefix&prev_kv,
	// or a txn delete with range_end or prefix): the first ones in key
	// order. "deleted" still counts every key deleted, and
	// "prev_kvs_truncated" tells that some were left out. (A range
	// delete may delete any number of keys; only what it returns is
	// bounded.)
	MaxDeletePrevKVs = DefaultRangeLimit
)
