package api

import "time"

// HeaderRevision is the header of every answer that knows the store
// revision: the revision the request was served at.
const HeaderRevision = "X-Raftkv-Revision"

// Headers of GET /v1/kv/<key>?raw, which has no JSON body to carry them.
const (
	HeaderCreateRevision = "X-Raftkv-Create-Revision"
	HeaderModRevision    = "X-Raftkv-Mod-Revision"
	HeaderVersion        = "X-Raftkv-Version"
)

// MaxTimeout is the longest ?timeout= a member takes; a longer one is cut
// to it.
const MaxTimeout = time.Minute

// KeyValue is a key as the store holds it and as /v1 answers show it.
//
// The key is in Key when it is valid UTF-8, else in KeyBase64 (JSON
// "key_base64", standard base64) and Key is empty: an answer carries
// exactly one of "key" and "key_base64". KeyBytes returns the key
// whichever field holds it; SetKey sets the right one.
type KeyValue struct {
	Key       string `json:"key,omitempty"`
	KeyBase64 []byte `json:"key_base64,omitempty"`
	Value     []byte `json:"value"`
	// CreateRevision is the revision that created the key, ModRevision the
	// one that last wrote it (its entity tag), Version the number of writes
	// since it was created.
	CreateRevision int64 `json:"create_revision"`
	ModRevision    int64 `json:"mod_revision"`
	Version        int64 `json:"version"`
}

// GetReply is the answer of GET /v1/kv/<key>.
type GetReply struct {
	// Revision is the store revision the read was served at.
	Revision int64    `json:"revision"`
	KV       KeyValue `json:"kv"`
}

// PutRequest is the JSON body of PUT /v1/kv/<key> (unless the body is the
// raw value, sent with Content-Type: application/octet-stream).
type PutRequest struct {
	Value []byte `json:"value"`
}

// PutReply is the answer of PUT /v1/kv/<key>.
type PutReply struct {
	// Revision is the revision of the write: the key's new ModRevision.
	Revision int64 `json:"revision"`
	// PrevKV is the value the put replaced, when asked for with ?prev_kv
	// (the client's WithPrevKV); nil if the key did not exist.
	PrevKV *KeyValue `json:"prev_kv,omitempty"`
}

// DeleteReply is the answer of DELETE /v1/kv/<key>.
type DeleteReply struct {
	Revision int64 `json:"revision"`
	// Deleted is how many keys were deleted.
	Deleted int64 `json:"deleted"`
	// PrevKVs are the deleted keys, when asked for with ?prev_kv: at most
	// MaxDeletePrevKVs keys and MaxRangeBytes bytes of a prefix delete,
	// the first in key order; PrevKVsTruncated tells that some deleted
	// keys were left out.
	PrevKVs          []KeyValue `json:"prev_kvs,omitempty"`
	PrevKVsTruncated bool       `json:"prev_kvs_truncated,omitempty"`
}

// RangeReply is the answer of GET /v1/kv: one page of a range, in key
// order: at most the limit asked for (DefaultRangeLimit if none, at most
// MaxRangeLimit) and at most MaxRangeBytes of keys and values.
type RangeReply struct {
	Revision int64      `json:"revision"`
	KVs      []KeyValue `json:"kvs"`
	// More tells that the page ends before the range does (its limit or
	// its size cut it); Next is then the continuation token to pass as
	// ?next= (the client's WithNext) for the following page.
	More bool   `json:"more"`
	Next string `json:"next,omitempty"`
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
	// CompactRevision is, on a 410 compacted, the oldest revision the
	// members can still be read at.
	CompactRevision *int64 `json:"compact_revision,omitempty"`
}
