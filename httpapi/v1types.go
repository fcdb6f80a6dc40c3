package httpapi

import "github.com/raftkv/raftkv/messages"

// The JSON shapes of the /v1 API. Values are []byte, which encoding/json
// writes and reads as standard base64 (like etcd's JSON gateway); keys are
// plain strings. Every answer has the store revision it was served at.

// KeyValue is a key as /v1 answers show it.
type KeyValue struct {
	Key            string `json:"key"`
	Value          []byte `json:"value"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
	Version        int64  `json:"version"`
}

// GetReply is the answer of GET /v1/kv/<key>.
type GetReply struct {
	Revision int64    `json:"revision"`
	KV       KeyValue `json:"kv"`
}

// PutRequest is the JSON body of PUT /v1/kv/<key> (unless the body is the
// raw value, sent with Content-Type: application/octet-stream).
type PutRequest struct {
	Value []byte `json:"value"`
}

// PutReply is the answer of PUT /v1/kv/<key>: the revision of the write
// (which is the key's new mod_revision) and, with ?prev_kv, the value it
// replaced.
type PutReply struct {
	Revision int64     `json:"revision"`
	PrevKV   *KeyValue `json:"prev_kv,omitempty"`
}

// DeleteReply is the answer of DELETE /v1/kv/<key>: how many keys were
// deleted and, with ?prev_kv, what they held.
type DeleteReply struct {
	Revision int64      `json:"revision"`
	Deleted  int64      `json:"deleted"`
	PrevKVs  []KeyValue `json:"prev_kvs,omitempty"`
}

// RangeReply is the answer of GET /v1/kv: the keys found in key order, and
// when a limit cut the range, More and the continuation token Next to pass
// as ?next= to get the following page.
type RangeReply struct {
	Revision int64      `json:"revision"`
	KVs      []KeyValue `json:"kvs"`
	More     bool       `json:"more"`
	Next     string     `json:"next,omitempty"`
}

// ErrorReply is the JSON of every error answer: a message, a stable code,
// and, when the request read the store (404 key_not_found, 412
// precondition_failed), the revision it read at; a 412 also has the key's
// current state in KV (absent when the key does not exist).
type ErrorReply struct {
	Error    string    `json:"error"`
	Code     string    `json:"code"`
	Revision *int64    `json:"revision,omitempty"`
	KV       *KeyValue `json:"kv,omitempty"`
}

// TxnRequest is the body of POST /v1/txn, like etcd's Txn: if every
// compare holds, the Success ops run, otherwise the Failure ops, all
// atomically at one revision.
type TxnRequest struct {
	Compare []TxnCompare `json:"compare,omitempty"`
	Success []TxnOp      `json:"success,omitempty"`
	Failure []TxnOp      `json:"failure,omitempty"`
}

// TxnCompare is one condition of a transaction. Target is one of "value",
// "mod_revision", "create_revision", "version", "exists"; Result one of
// "equal", "not_equal", "greater", "less" ("exists" takes only equal and
// not_equal). The field named like the target holds the operand. A missing
// key has an empty value and revisions and version 0.
type TxnCompare struct {
	Key            string `json:"key"`
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

// TxnPut sets Key to Value; PrevKV returns the value it replaced.
type TxnPut struct {
	Key    string `json:"key"`
	Value  []byte `json:"value"`
	PrevKV bool   `json:"prev_kv,omitempty"`
}

// TxnRange names a key, or a range of keys, for a get or a delete: Key
// alone is that key; with RangeEnd it is [Key, RangeEnd) (RangeEnd "\u0000"
// means every key >= Key); Prefix true makes it every key that starts with
// Key. Limit caps a get; PrevKV makes a delete return what it deleted.
type TxnRange struct {
	Key      string `json:"key"`
	RangeEnd string `json:"range_end,omitempty"`
	Prefix   bool   `json:"prefix,omitempty"`
	Limit    int64  `json:"limit,omitempty"`
	PrevKV   bool   `json:"prev_kv,omitempty"`
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
// whether the limit cut the range.
type TxnGetResponse struct {
	KVs  []KeyValue `json:"kvs"`
	More bool       `json:"more"`
}

// TxnDeleteResponse is the outcome of a delete: how many keys it removed
// and, with prev_kv, what they held.
type TxnDeleteResponse struct {
	Deleted int64      `json:"deleted"`
	PrevKVs []KeyValue `json:"prev_kvs,omitempty"`
}

// Member is one member of the cluster.
type Member struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"`
}

// MembersReply is the answer of GET /v1/members, sorted by id, as the
// answering node knows them.
type MembersReply struct {
	Revision int64    `json:"revision"`
	Leader   uint64   `json:"leader"`
	Members  []Member `json:"members"`
}

// AddMemberRequest is the body of POST /v1/members: the new member's id
// and peer address (host:port).
type AddMemberRequest struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"`
}

// MemberReply is the answer of POST /v1/members and DELETE
// /v1/members/<id>.
type MemberReply struct {
	Revision int64   `json:"revision"`
	Member   *Member `json:"member,omitempty"`
}

func toKeyValue(kv messages.KeyValue) KeyValue {
	v := kv.Value
	if v == nil {
		v = []byte{}
	}
	return KeyValue{
		Key: string(kv.Key), Value: v,
		CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version,
	}
}

func toKeyValues(kvs []messages.KeyValue) []KeyValue {
	out := make([]KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = toKeyValue(kv)
	}
	return out
}
