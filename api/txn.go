package api

// TxnRequest is the body of POST /v1/txn, like etcd's Txn: if every
// compare holds, the Success ops run, otherwise the Failure ops, all
// atomically at one revision. It has at most MaxTxnOps compares and
// MaxTxnOps ops in each branch.
type TxnRequest struct {
	Compare []TxnCompare `json:"compare,omitempty"`
	Success []TxnOp      `json:"success,omitempty"`
	Failure []TxnOp      `json:"failure,omitempty"`
}

// TxnCompare is one condition of a transaction. Target is one of "value",
// "mod_revision", "create_revision", "version", "exists"; Result one of
// "equal", "not_equal", "greater", "less" ("exists" takes only equal and
// not_equal). The field named like the target holds the operand. A missing
// key has an empty value and revisions and version 0. The key is in Key,
// or in KeyBase64 when it is not valid UTF-8 (either, not both: see
// SetKey and KeyBytes).
type TxnCompare struct {
	Key            string `json:"key,omitempty"`
	KeyBase64      []byte `json:"key_base64,omitempty"`
	Target         string `json:"target"`
	Result         string `json:"result"`
	Value          []byte `json:"value,omitempty"`
	ModRevision    int64  `json:"mod_revision,omitempty"`
	CreateRevision int64  `json:"create_revision,omitempty"`
	Version        int64  `json:"version,omitempty"`
	Exists         bool   `json:"exists,omitempty"`
}

// TxnOp is one operation of a transaction: exactly one of Put, Get, Delete.
type TxnOp struct {
	Put    *TxnPut   `json:"put,omitempty"`
	Get    *TxnRange `json:"get,omitempty"`
	Delete *TxnRange `json:"delete,omitempty"`
}

// TxnPut sets Key to Value; PrevKV returns the value it replaced. The key
// is in Key, or in KeyBase64 when it is not valid UTF-8 (either, not
// both).
type TxnPut struct {
	Key       string `json:"key,omitempty"`
	KeyBase64 []byte `json:"key_base64,omitempty"`
	Value     []byte `json:"value"`
	PrevKV    bool   `json:"prev_kv,omitempty"`
	// Lease attaches the key to a lease (0: none; the put detaches the
	// key from the lease it had).
	Lease int64 `json:"lease,omitempty"`
}

// TxnRange names a key, or a range of keys, for a get or a delete: Key
// alone is that key; with RangeEnd it is [Key, RangeEnd) (RangeEnd "\u0000"
// means every key >= Key); Prefix true makes it every key that starts with
// Key. Limit caps a get of a range (0: DefaultRangeLimit; at most
// MaxRangeLimit); PrevKV makes a delete return what it deleted (at most
// MaxDeletePrevKVs keys of a range). Key and RangeEnd that are not valid UTF-8 go in KeyBase64 and
// RangeEndBase64 instead (either field of each, not both: see SetKey,
// SetRangeEnd).
type TxnRange struct {
	Key            string `json:"key,omitempty"`
	KeyBase64      []byte `json:"key_base64,omitempty"`
	RangeEnd       string `json:"range_end,omitempty"`
	RangeEndBase64 []byte `json:"range_end_base64,omitempty"`
	Prefix         bool   `json:"prefix,omitempty"`
	Limit          int64  `json:"limit,omitempty"`
	PrevKV         bool   `json:"prev_kv,omitempty"`
}

// TxnReply is the answer of POST /v1/txn: which branch ran, the revision
// after it, and one response per op of that branch.
type TxnReply struct {
	Revision  int64           `json:"revision"`
	Succeeded bool            `json:"succeeded"`
	Responses []TxnOpResponse `json:"responses"`
}

// TxnOpResponse is the outcome of one TxnOp, under the same name.
type TxnOpResponse struct {
	Put    *TxnPutResponse    `json:"put,omitempty"`
	Get    *TxnGetResponse    `json:"get,omitempty"`
	Delete *TxnDeleteResponse `json:"delete,omitempty"`
}

// TxnPutResponse is the outcome of a put: the replaced value with prev_kv.
type TxnPutResponse struct {
	PrevKV *KeyValue `json:"prev_kv,omitempty"`
}

// TxnGetResponse is the outcome of a get: the keys found, in key order, and
// whether the range goes on past them (its limit, DefaultRangeLimit if it
// gave none, or the answer's MaxRangeBytes cut it).
type TxnGetResponse struct {
	KVs  []KeyValue `json:"kvs"`
	More bool       `json:"more"`
}

// TxnDeleteResponse is the outcome of a delete: how many keys it removed
// and, with prev_kv, what they held (for a range delete at most
// MaxDeletePrevKVs keys, and within the answer's MaxRangeBytes;
// PrevKVsTruncated tells that some were left out).
type TxnDeleteResponse struct {
	Deleted          int64      `json:"deleted"`
	PrevKVs          []KeyValue `json:"prev_kvs,omitempty"`
	PrevKVsTruncated bool       `json:"prev_kvs_truncated,omitempty"`
}
