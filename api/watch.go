package api

import "time"

// PathWatch is the prefix of the watch route: GET /v1/watch/<key>, answered
// as Server-Sent Events.
const PathWatch = "/v1/watch/"

// PathCompact is the route that drops the history before a revision.
const PathCompact = "/v1/compact"

// Server-Sent Event types of a watch.
const (
	// EventPut and EventDelete carry a WatchEvent; the id of the last
	// event of each revision is that revision.
	EventPut    = "put"
	EventDelete = "delete"
	// EventProgress carries a Progress: the watch is current to Revision.
	EventProgress = "progress"
	// EventCompacted carries a Compacted: the start revision is older than
	// the history kept; the stream ends.
	EventCompacted = "compacted"
	// EventDropped carries an ErrorReply: the client read too slowly, or
	// the member is stopping; the stream ends, resume it with Last-Event-ID.
	EventDropped = "dropped"
)

// WatchEvent is one change in a watch's stream: the key after it (after a
// delete, only the key and ModRevision, the delete's revision), and with
// ?prev_kv the key before it.
type WatchEvent struct {
	Type     string    `json:"type"`
	Revision int64     `json:"revision"`
	KV       KeyValue  `json:"kv"`
	PrevKV   *KeyValue `json:"prev_kv,omitempty"`
}

// Progress is a watch's bookmark: no change of its range up to Revision.
type Progress struct {
	Revision int64 `json:"revision"`
}

// Compacted says that a watch or read asked for a revision older than the
// history the members keep; CompactRevision is the oldest one kept.
type Compacted struct {
	Error           string `json:"error"`
	Code            string `json:"code"`
	CompactRevision int64  `json:"compact_revision"`
}

// CompactRequest is the JSON body of POST /v1/compact: drop the history
// before Revision.
type CompactRequest struct {
	Revision int64 `json:"revision"`
}

// CompactReply is the answer of POST /v1/compact.
type CompactReply struct {
	// Revision is the store's revision when the compaction applied.
	Revision        int64 `json:"revision"`
	CompactRevision int64 `json:"compact_revision"`
}

// PathLeases is the route of leases: POST to grant one, and
// /v1/leases/<id> (GET, DELETE), /v1/leases/<id>/keepalive (POST).
const PathLeases = "/v1/leases"

// Bounds of a lease's TTL.
const (
	MinLeaseTTL = time.Second
	MaxLeaseTTL = 7 * 24 * time.Hour
)

// LeaseGrantRequest is the JSON body of POST /v1/leases: the TTL as a Go
// duration ("10s", "1m30s"), from MinLeaseTTL to MaxLeaseTTL, rounded up to
// whole seconds.
type LeaseGrantRequest struct {
	TTL string `json:"ttl"`
}

// LeaseReply is the answer of a grant and of a keepalive: the lease's id
// (below 2^53, so that JavaScript reads it exactly) and its TTL.
type LeaseReply struct {
	ID       int64  `json:"id"`
	TTL      string `json:"ttl"`
	Revision int64  `json:"revision"`
}

// LeaseInfoReply is the answer of GET /v1/leases/<id>: its TTL, the time it
// has left as the member reckons it (the leader's reckoning decides), and
// its keys in key order.
type LeaseInfoReply struct {
	ID        int64      `json:"id"`
	TTL       string     `json:"ttl"`
	Remaining string     `json:"remaining"`
	Keys      []LeaseKey `json:"keys"`
	Revision  int64      `json:"revision"`
}

// LeaseKey is a key attached to a lease: in Key when it is valid UTF-8,
// else in KeyBase64.
type LeaseKey struct {
	Key       string `json:"key,omitempty"`
	KeyBase64 []byte `json:"key_base64,omitempty"`
}
