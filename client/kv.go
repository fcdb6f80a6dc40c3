package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/raftkv/raftkv/api"
)

// The answers of the key calls are the JSON shapes of the API (package
// api), under the names of this package.

// KeyValue is a key as the store holds it: its key, Value, CreateRevision,
// ModRevision (its entity tag, for IfMatch) and Version. KeyBytes returns
// the key, whatever its bytes: the field Key holds it only when it is valid
// UTF-8 (KeyBase64 otherwise, as the JSON carried it), so read keys that
// may not be UTF-8 with KeyBytes. In JSON its value is base64.
type KeyValue = api.KeyValue

// GetResponse is the answer of Get: the key and the store revision the
// read was served at.
type GetResponse = api.GetReply

// PutResponse is the answer of Put: the revision of the write (the key's
// new ModRevision) and, with WithPrevKV, the value it replaced in PrevKV
// (nil if the key did not exist).
type PutResponse = api.PutReply

// DeleteResponse is the answer of Delete and DeletePrefix: how many keys
// were deleted and, with WithPrevKV, their values in PrevKVs (for
// DeletePrefix, the first api.MaxDeletePrevKVs keys at most;
// PrevKVsTruncated tells that some were left out).
type DeleteResponse = api.DeleteReply

// RangeResponse is one page of a range, in key order: at most the limit
// (the server's default page, api.DefaultRangeLimit keys, without
// WithLimit) and at most api.MaxRangeBytes of keys and values. More tells
// that the range goes on; Next is then the token to pass WithNext for the
// following page.
type RangeResponse = api.RangeReply

// OpOption configures one call (or one Op of a transaction).
type OpOption func(*opConfig)

type opConfig struct {
	prevKV       bool
	ifMatch      string // If-Match value
	ifNoneMatch  bool
	serializable bool
	limit        int64
	next         string
	prefix       bool
	end          string
	revision     int64
	lease        int64
}

func configure(opts []OpOption) opConfig {
	var cfg opConfig
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// WithPrevKV makes a put or delete return the value(s) it replaced.
func WithPrevKV() OpOption { return func(c *opConfig) { c.prevKV = true } }

// IfMatch makes a put or delete apply only if the key is still at
// modRevision (its ModRevision, the ETag of a GET); otherwise the call fails
// with ErrPreconditionFailed and changes nothing. The state machine checks
// the condition when the write applies.
func IfMatch(modRevision int64) OpOption {
	return func(c *opConfig) { c.ifMatch = `"` + strconv.FormatInt(modRevision, 10) + `"` }
}

// IfExists makes a put or delete apply only if the key exists.
func IfExists() OpOption { return func(c *opConfig) { c.ifMatch = "*" } }

// IfNotExists makes a put apply only if the key does not exist (create).
func IfNotExists() OpOption { return func(c *opConfig) { c.ifNoneMatch = true } }

// WithSerializable makes a read answer from the member's local state
// without a round of the cluster: faster, and available without a quorum,
// but possibly stale (it may miss writes already acknowledged).
func WithSerializable() OpOption { return func(c *opConfig) { c.serializable = true } }

// WithLimit caps the keys a range (or a get Op) returns: from 1 to
// api.MaxRangeLimit (a larger one is ErrInvalid); 0 or none is the
// server's default page, api.DefaultRangeLimit. A page may hold fewer keys
// when they are large (api.MaxRangeBytes); follow Next for the rest.
func WithLimit(n int64) OpOption { return func(c *opConfig) { c.limit = n } }

// WithNext continues a range after the page whose RangeResponse.Next is
// token.
func WithNext(token string) OpOption { return func(c *opConfig) { c.next = token } }

// WithPrefix makes a get or delete Op of a transaction act on every key
// that starts with its key.
func WithPrefix() OpOption { return func(c *opConfig) { c.prefix = true } }

// WithRangeEnd makes a get or delete Op of a transaction act on the keys
// [key, end); end "\x00" means every key >= key.
func WithRangeEnd(end string) OpOption { return func(c *opConfig) { c.end = end } }

// WithRevision makes a get or range read the store as it was at revision
// rev, within the history the members keep (older: ErrCompacted); makes a
// Watch start at rev.
func WithRevision(rev int64) OpOption { return func(c *opConfig) { c.revision = rev } }

// WithLease attaches the key of a put (or of a put Op) to lease id: the
// key goes when the lease ends. A lease that does not exist fails the put
// with ErrLeaseNotFound.
func WithLease(id int64) OpOption { return func(c *opConfig) { c.lease = id } }

func kvPath(key string) string { return "/v1/kv/" + url.PathEscape(key) }

func (cfg opConfig) readQuery() url.Values {
	q := url.Values{}
	if cfg.serializable {
		q.Set("consistency", "serializable")
	}
	if cfg.revision > 0 {
		q.Set("revision", strconv.FormatInt(cfg.revision, 10))
	}
	return q
}

func (cfg opConfig) conditionHeader() http.Header {
	h := http.Header{}
	if cfg.ifMatch != "" {
		h.Set("If-Match", cfg.ifMatch)
	}
	if cfg.ifNoneMatch {
		h.Set("If-None-Match", "*")
	}
	return h
}

// Put sets key to value. Options: WithPrevKV, WithLease, IfMatch,
// IfExists, IfNotExists. A put is never sent twice: if its answer is lost after it
// may have reached a member, Put returns an error matching
// ErrUnknownOutcome.
func (c *Client) Put(ctx context.Context, key string, value []byte, opts ...OpOption) (*PutResponse, error) {
	cfg := configure(opts)
	h := cfg.conditionHeader()
	h.Set("Content-Type", "application/octet-stream")
	q := url.Values{}
	if cfg.prevKV {
		q.Set("prev_kv", "true")
	}
	if cfg.lease != 0 {
		q.Set("lease", strconv.FormatInt(cfg.lease, 10))
	}
	if value == nil {
		value = []byte{}
	}
	var out PutResponse
	err := c.call(ctx, &request{method: http.MethodPut, path: kvPath(key), query: q, header: h, body: value}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Get reads key, linearizably unless WithSerializable; WithRevision reads
// it as it was at a past revision. A missing key is an error matching
// ErrNotFound.
func (c *Client) Get(ctx context.Context, key string, opts ...OpOption) (*GetResponse, error) {
	cfg := configure(opts)
	var out GetResponse
	err := c.call(ctx, &request{method: http.MethodGet, path: kvPath(key), query: cfg.readQuery(), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes key; deleting a missing key succeeds with Deleted 0.
// Options: WithPrevKV, IfMatch, IfExists. Like Put, it is never sent twice.
func (c *Client) Delete(ctx context.Context, key string, opts ...OpOption) (*DeleteResponse, error) {
	return c.delete(ctx, key, false, opts)
}

// DeletePrefix deletes every key that starts with prefix (which must not
// be empty). Option: WithPrevKV.
func (c *Client) DeletePrefix(ctx context.Context, prefix string, opts ...OpOption) (*DeleteResponse, error) {
	return c.delete(ctx, prefix, true, opts)
}

func (c *Client) delete(ctx context.Context, key string, prefix bool, opts []OpOption) (*DeleteResponse, error) {
	cfg := configure(opts)
	q := url.Values{}
	if cfg.prevKV {
		q.Set("prev_kv", "true")
	}
	if prefix {
		q.Set("prefix", "true")
	}
	var out DeleteResponse
	err := c.call(ctx, &request{method: http.MethodDelete, path: kvPath(key), query: q, header: cfg.conditionHeader()}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Range reads one page of the keys [start, end) in key order: an empty
// start is the first key, an empty end is past the last. A page holds the
// keys of WithLimit (api.DefaultRangeLimit without it), fewer if they hold
// more than api.MaxRangeBytes; when More is set, call again WithNext(Next)
// for the next page. Options: WithLimit, WithNext, WithSerializable. Each
// page is its own read: a range of several pages is not one snapshot.
func (c *Client) Range(ctx context.Context, start, end string, opts ...OpOption) (*RangeResponse, error) {
	q := url.Values{}
	if start != "" {
		q.Set("start", start)
	}
	if end != "" {
		q.Set("end", end)
	}
	return c.rangeQuery(ctx, q, opts)
}

// RangePrefix reads one page of the keys that start with prefix (every key
// for an empty prefix), in key order; pages as Range. Options as Range.
func (c *Client) RangePrefix(ctx context.Context, prefix string, opts ...OpOption) (*RangeResponse, error) {
	q := url.Values{}
	q.Set("prefix", prefix)
	return c.rangeQuery(ctx, q, opts)
}

func (c *Client) rangeQuery(ctx context.Context, q url.Values, opts []OpOption) (*RangeResponse, error) {
	cfg := configure(opts)
	for k, v := range cfg.readQuery() {
		q[k] = v
	}
	if cfg.limit > 0 {
		q.Set("limit", strconv.FormatInt(cfg.limit, 10))
	}
	if cfg.next != "" {
		q.Set("next", cfg.next)
	}
	var out RangeResponse
	if err := c.call(ctx, &request{method: http.MethodGet, path: "/v1/kv", query: q, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
