package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// kvPrefix is the path of the key routes; the key follows it.
const kvPrefix = V1Prefix + "kv/"

// isKVPath tells whether path is served by serveKV. These paths bypass the
// ServeMux, which would clean them ("a//b" and "a/../b" are keys too).
func isKVPath(path string) bool {
	return path == V1Prefix+"kv" || strings.HasPrefix(path, kvPrefix)
}

// serveKV serves /v1/kv (ranges) and /v1/kv/<key>. The key is the rest of
// the path, percent-decoded, taken as it is (slashes included).
func (s *Server) serveKV(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/kv" {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, http.MethodGet)
			return
		}
		s.rangeV1(w, r)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, kvPrefix)
	switch r.Method {
	case http.MethodGet:
		s.getV1(w, r, key)
	case http.MethodPut:
		s.putV1(w, r, key)
	case http.MethodDelete:
		s.deleteV1(w, r, key)
	default:
		methodNotAllowed(w, r, http.MethodGet, http.MethodPut, http.MethodDelete)
	}
}

// checkV1Key refuses an empty or too long key with 400.
func checkV1Key(key string) error {
	switch {
	case key == "":
		return badRequest("empty key: use /v1/kv/<key>")
	case len(key) > store.MaxKeySize:
		return fmt.Errorf("%w: key of %d bytes is over the limit of %d", store.ErrInvalid, len(key), store.MaxKeySize)
	}
	return nil
}

// etag is the entity tag of a key: its mod revision, quoted.
func etag(modRevision int64) string {
	return `"` + strconv.FormatInt(modRevision, 10) + `"`
}

// getV1 serves GET /v1/kv/<key>[?consistency=serializable][&raw][&revision=<r>].
func (s *Server) getV1(w http.ResponseWriter, r *http.Request, key string) {
	p, err := s.parseParams(r, "consistency", "raw", "revision")
	if err == nil {
		err = checkV1Key(key)
	}
	raw := false
	if err == nil {
		raw, err = p.flag("raw")
	}
	op := messages.Op{Type: messages.OpGet, Key: []byte(key)}
	if err == nil {
		op.Revision, err = p.revision()
	}
	if err != nil {
		s.failV1(w, err)
		return
	}
	reply, err := s.read(r.Context(), op, p.serializable, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	if len(reply.Result.KVs) == 0 {
		rev := reply.Revision
		setRevision(w, rev)
		writeJSON(w, http.StatusNotFound, api.ErrorReply{
			Error: fmt.Sprintf("key %q not found", key), Code: "key_not_found", Revision: &rev,
		})
		return
	}
	kv := reply.Result.KVs[0]
	w.Header().Set("ETag", etag(kv.ModRevision))
	if raw {
		h := w.Header()
		setRevision(w, reply.Revision)
		h.Set(HeaderCreateRevision, strconv.FormatInt(kv.CreateRevision, 10))
		h.Set(HeaderModRevision, strconv.FormatInt(kv.ModRevision, 10))
		h.Set(HeaderVersion, strconv.FormatInt(kv.Version, 10))
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.Itoa(len(kv.Value)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(kv.Value)
		return
	}
	writeV1(w, http.StatusOK, reply.Revision, api.GetReply{Revision: reply.Revision, KV: toKeyValue(kv)})
}

// conditions turns If-Match and If-None-Match into compares on key, checked
// by the state machine when the write applies. If-Match takes "*" (the key
// exists) or one entity tag "<mod_revision>"; If-None-Match takes only "*"
// (the key does not exist), and only where noneMatch allows it.
func conditions(r *http.Request, key string, noneMatch bool) ([]messages.Compare, error) {
	match, hasMatch, err := oneHeader(r, "If-Match")
	if err != nil {
		return nil, err
	}
	none, hasNone, err := oneHeader(r, "If-None-Match")
	if err != nil {
		return nil, err
	}
	switch {
	case hasMatch && hasNone:
		return nil, badRequest("If-Match and If-None-Match together: use one")
	case hasNone && !noneMatch:
		return nil, badRequest("If-None-Match is not supported on %s", r.Method)
	case hasNone:
		if none != "*" {
			return nil, badRequest(`If-None-Match: %q: only "*" (create only if absent) is supported`, none)
		}
		return []messages.Compare{{Key: []byte(key), Target: messages.TargetExists, Result: messages.Equal, Exists: false}}, nil
	case hasMatch:
		if match == "*" {
			return []messages.Compare{{Key: []byte(key), Target: messages.TargetExists, Result: messages.Equal, Exists: true}}, nil
		}
		tag := strings.TrimSuffix(strings.TrimPrefix(match, `"`), `"`)
		rev, err := strconv.ParseInt(tag, 10, 64)
		if err != nil || rev <= 0 || strings.Count(match, `"`)%2 != 0 {
			return nil, badRequest(`If-Match: %q: want "*" or one entity tag "<mod_revision>" as GET answers in ETag`, match)
		}
		return []messages.Compare{{Key: []byte(key), Target: messages.TargetModRevision, Result: messages.Equal, Revision: rev}}, nil
	}
	return nil, nil
}

// oneHeader returns the single value of header name, trimmed.
func oneHeader(r *http.Request, name string) (string, bool, error) {
	vals := r.Header.Values(name)
	switch len(vals) {
	case 0:
		return "", false, nil
	case 1:
		v := strings.TrimSpace(vals[0])
		if strings.Contains(v, ",") {
			return "", false, badRequest("%s: %q: only one entity tag is supported", name, v)
		}
		return v, true, nil
	default:
		return "", false, badRequest("%s given %d times", name, len(vals))
	}
}

// conditionalWrite applies the ops of a write on key through the raft log,
// if the compares cmps (none: always) hold when it applies. It answers the
// request itself and returns false when the write failed or a compare did
// not hold (412): the failure branch reads the key, so that a 412 can show
// its current state.
func (s *Server) conditionalWrite(w http.ResponseWriter, r *http.Request, key string, cmps []messages.Compare, ops []messages.Op, timeout time.Duration) (messages.TxnResult, bool) {
	txn := messages.Txn{Compares: cmps, Success: ops}
	if len(cmps) > 0 {
		txn.Failure = []messages.Op{{Type: messages.OpGet, Key: []byte(key)}}
	}
	res, err := s.txn(r.Context(), txn, timeout)
	if err != nil {
		s.failV1(w, err)
		return res, false
	}
	if !res.Succeeded {
		preconditionFailed(w, key, res)
		return res, false
	}
	return res, true
}

// preconditionFailed answers 412 with the key's current state, read in the
// same txn that found the condition false.
func preconditionFailed(w http.ResponseWriter, key string, res messages.TxnResult) {
	var cur *api.KeyValue
	if n := len(res.Responses); n > 0 && len(res.Responses[n-1].KVs) > 0 {
		kv := toKeyValue(res.Responses[n-1].KVs[0])
		cur = &kv
		w.Header().Set("ETag", etag(kv.ModRevision))
	}
	rev := res.Revision
	setRevision(w, rev)
	state := "does not exist"
	if cur != nil {
		state = fmt.Sprintf("is at mod_revision %d", cur.ModRevision)
	}
	writeJSON(w, http.StatusPreconditionFailed, api.ErrorReply{
		Error: fmt.Sprintf("precondition failed: key %q %s; nothing changed", key, state),
		Code:  "precondition_failed", Revision: &rev, KV: cur,
	})
}

// putV1 serves PUT /v1/kv/<key>[?prev_kv][&lease=<id>] with a JSON body
// {"value":"<base64>"} or, with Content-Type: application/octet-stream,
// the raw value; If-Match / If-None-Match make it conditional.
func (s *Server) putV1(w http.ResponseWriter, r *http.Request, key string) {
	p, err := s.parseParams(r, "prev_kv", "lease")
	if err == nil {
		err = checkV1Key(key)
	}
	prevKV := false
	if err == nil {
		prevKV, err = p.flag("prev_kv")
	}
	var lease int64
	if err == nil && p.q.Has("lease") {
		lease, err = parseLeaseID(p.q.Get("lease"))
	}
	var cmps []messages.Compare
	if err == nil {
		cmps, err = conditions(r, key, true)
	}
	if err != nil {
		s.failV1(w, err)
		return
	}
	var value []byte
	if isOctetStream(r) {
		var ok bool
		if value, ok = readBody(w, r, store.MaxValueSize); !ok {
			return
		}
	} else {
		var body api.PutRequest
		raw, ok := readBody(w, r, maxPutBodySize)
		if !ok {
			return
		}
		if err := decodePutBody(raw, &body); err != nil {
			s.failV1(w, err)
			return
		}
		value = body.Value
	}
	if valueTooLarge(w, len(value)) {
		return
	}
	op := messages.Op{Type: messages.OpPut, Key: []byte(key), Value: value, PrevKV: prevKV, Lease: lease}
	res, ok := s.conditionalWrite(w, r, key, cmps, []messages.Op{op}, p.timeout)
	if !ok {
		return
	}
	reply := api.PutReply{Revision: res.Revision}
	if len(res.Responses) > 0 && len(res.Responses[0].KVs) > 0 {
		kv := toKeyValue(res.Responses[0].KVs[0])
		reply.PrevKV = &kv
	}
	w.Header().Set("ETag", etag(res.Revision))
	writeV1(w, http.StatusOK, res.Revision, reply)
}

// howToPut says how to send a value, for the errors of a PUT body that is
// not what it should be.
const howToPut = `send {"value":"<base64>"} ({"value":""} for an empty value), ` +
	`or the raw bytes with Content-Type: application/octet-stream`

// decodePutBody reads the JSON body of PUT /v1/kv/<key> into v, refusing
// unknown fields, trailing data and a body that names no value (null, {}
// and {"value":null}, which are not the empty value {"value":""}). Its
// errors say how to send a value, since a client that sends something
// else usually meant to send the raw bytes (curl -d hello).
func decodePutBody(body []byte, v *api.PutRequest) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syntax *json.SyntaxError
	var corrupt base64.CorruptInputError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil && dec.More():
		return badRequest("malformed JSON body: data after the JSON value; %s", howToPut)
	case err == nil && v.Value == nil:
		return badRequest(`body has no "value"; %s`, howToPut)
	case err == nil:
		return nil
	case errors.As(err, &corrupt):
		return badRequest(`"value" is not standard base64 (%v): the bytes "hello" are {"value":"aGVsbG8="}; `+
			`or send the raw bytes with Content-Type: application/octet-stream`, corrupt)
	case errors.As(err, &syntax), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body is not JSON (%v); %s", err, howToPut)
	case errors.As(err, &typ):
		return badRequest("body is not a JSON object with a base64 \"value\" (%v); %s", err, howToPut)
	default:
		return badRequest("malformed JSON body: %v; %s", err, howToPut)
	}
}

func isOctetStream(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/octet-stream"
}

// deleteV1 serves DELETE /v1/kv/<key>[?prefix][&prev_kv]; If-Match makes a
// single-key delete conditional.
func (s *Server) deleteV1(w http.ResponseWriter, r *http.Request, key string) {
	p, err := s.parseParams(r, "prefix", "prev_kv")
	if err == nil {
		err = checkV1Key(key)
	}
	var prefix, prevKV bool
	if err == nil {
		prefix, err = p.flag("prefix")
	}
	if err == nil {
		prevKV, err = p.flag("prev_kv")
	}
	var cmps []messages.Compare
	if err == nil {
		cmps, err = conditions(r, key, false)
	}
	if err == nil && prefix && len(cmps) > 0 {
		err = badRequest("If-Match applies to a single key, not with ?prefix")
	}
	if err != nil {
		s.failV1(w, err)
		return
	}
	op := messages.Op{Type: messages.OpDelete, Key: []byte(key), PrevKV: prevKV}
	if prefix {
		op.End = prefixEnd(op.Key)
	}
	ops, deleteAt, prevAt := deleteOps(op)
	res, ok := s.conditionalWrite(w, r, key, cmps, ops, p.timeout)
	if !ok {
		return
	}
	reply := api.DeleteReply{Revision: res.Revision}
	if d := resultAt(res.Responses, deleteAt); d != nil {
		reply.Deleted = d.Deleted
	}
	if prev := resultAt(res.Responses, prevAt); prev != nil && len(prev.KVs) > 0 {
		reply.PrevKVs, reply.PrevKVsTruncated = prevKVs(*prev, prevAt != deleteAt, newBudget())
	}
	writeV1(w, http.StatusOK, res.Revision, reply)
}

// deleteOps returns the ops that run the delete op, and where their
// results are: the delete's own (its count) at deleteAt, the keys it
// deleted at prevAt (-1 without prev_kv). A range delete with prev_kv runs
// as a get of at most MaxDeletePrevKVs keys of its range, then the delete
// without prev_kv, both at one revision: so the keys it returns are
// bounded, however many it deletes.
func deleteOps(op messages.Op) (ops []messages.Op, deleteAt, prevAt int) {
	switch {
	case !op.PrevKV:
		return []messages.Op{op}, 0, -1
	case len(op.End) == 0:
		return []messages.Op{op}, 0, 0
	}
	get := messages.Op{Type: messages.OpGet, Key: op.Key, End: op.End, Limit: MaxDeletePrevKVs}
	op.PrevKV = false
	return []messages.Op{get, op}, 1, 0
}

// resultAt is results[i], or nil when there is none.
func resultAt(results []messages.OpResult, i int) *messages.OpResult {
	if i < 0 || i >= len(results) {
		return nil
	}
	return &results[i]
}

// prevKVs returns the deleted keys of result to answer: all of them for a
// single-key delete, and for a range delete (ranged, result is the get of
// deleteOps) as many as fit in b, and whether some deleted keys are left
// out.
func prevKVs(result messages.OpResult, ranged bool, b *budget) ([]api.KeyValue, bool) {
	if !ranged {
		b.add(result.KVs)
		return toKeyValues(result.KVs), false
	}
	n := b.take(result.KVs)
	return toKeyValues(result.KVs[:n]), result.More || n < len(result.KVs)
}

// rangeV1 serves GET /v1/kv: ?prefix=<p>, or ?start=<a>&end=<b> (either
// may be left out: from the first key, to the last), or neither (every
// key); ?limit=<n> caps a page (DefaultRangeLimit if none, at most
// MaxRangeLimit) and ?next=<token> continues one. A page also stops before
// the key that would take it over MaxRangeBytes of keys and values.
func (s *Server) rangeV1(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseParams(r, "prefix", "start", "end", "limit", "next", "consistency", "revision")
	if err != nil {
		s.failV1(w, err)
		return
	}
	op, err := rangeOp(p)
	if err != nil {
		s.failV1(w, err)
		return
	}
	reply, err := s.read(r.Context(), op, p.serializable, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	res := reply.Result
	n := newBudget().take(res.KVs)
	out := api.RangeReply{Revision: reply.Revision, KVs: toKeyValues(res.KVs[:n]), More: res.More || n < len(res.KVs)}
	if out.More && n > 0 {
		last := res.KVs[n-1].Key
		out.Next = encodeNext(append(bytes.Clone(last), 0))
	}
	writeV1(w, http.StatusOK, reply.Revision, out)
}

// rangeOp builds the read of a range request and checks it.
func rangeOp(p v1Params) (messages.Op, error) {
	q := p.q
	op := messages.Op{Type: messages.OpGet}
	switch {
	case q.Has("prefix") && (q.Has("start") || q.Has("end")):
		return op, badRequest("give either prefix or start/end, not both")
	case q.Has("prefix"):
		op.Key = []byte(q.Get("prefix"))
		op.End = prefixEnd(op.Key)
	default:
		op.Key = []byte(q.Get("start"))
		op.End = []byte(q.Get("end"))
		if len(op.End) == 0 {
			op.End = []byte(allKeysEnd)
		}
	}
	var limit int64
	if q.Has("limit") {
		n, err := strconv.ParseInt(q.Get("limit"), 10, 64)
		if err != nil {
			return op, badRequest("limit=%q: want a number from 0 (the default, %d) to %d", q.Get("limit"), DefaultRangeLimit, MaxRangeLimit)
		}
		limit = n
	}
	var err error
	if op.Limit, err = checkLimit(limit); err != nil {
		return op, badRequest("%v", err)
	}
	if op.Revision, err = p.revision(); err != nil {
		return op, err
	}
	if err := store.Validate(messages.Txn{Success: []messages.Op{op}}); err != nil {
		return op, err
	}
	if q.Has("next") {
		// A token is the last key of a page and a zero byte, so it may be
		// one byte longer than the longest key.
		from, err := decodeNext(q.Get("next"))
		if err != nil || len(from) > store.MaxKeySize+1 {
			return op, badRequest("next=%q is not a continuation token of this API", q.Get("next"))
		}
		if bytes.Compare(from, op.Key) > 0 {
			op.Key = from
		}
	}
	return op, nil
}
