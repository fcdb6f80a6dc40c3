package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/store"
)

// HeaderRevision is the header of every /v1 answer that knows the store
// revision: the revision the request was served at.
const HeaderRevision = api.HeaderRevision

// Headers of GET /v1/kv/<key>?raw, which has no JSON body to carry them.
const (
	HeaderCreateRevision = api.HeaderCreateRevision
	HeaderModRevision    = api.HeaderModRevision
	HeaderVersion        = api.HeaderVersion
)

// MaxTxnBodySize bounds the JSON body of POST /v1/txn. Its compares and
// ops are bounded too (MaxTxnOps), while it is decoded.
const MaxTxnBodySize = 4 << 20

// maxPutBodySize bounds the JSON body of PUT /v1/kv/<key>: a value of
// store.MaxValueSize in base64, and room for the rest of the JSON. A
// value over the limit is answered 413 either way.
var maxPutBodySize = int64(base64.StdEncoding.EncodedLen(store.MaxValueSize) + 4096)

// allKeysEnd is the range end that means "every key >= key".
const allKeysEnd = "\x00"

// errBadRequest marks a request refused before it reached the node; failV1
// answers it 400 "invalid". It never leaves the package.
var errBadRequest = errors.New("bad request")

// badRequest is a 400 with code "invalid".
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// v1Params are the query parameters common to /v1 routes.
type v1Params struct {
	q            url.Values
	timeout      time.Duration
	serializable bool
}

// parseParams reads the query: timeout= (a Go duration, default
// DefaultTimeout, at most MaxTimeout) and consistency= (linearizable or
// serializable) where allowed, and refuses any parameter not in allowed,
// so that a misspelt option never silently changes what a request does.
func (s *Server) parseParams(r *http.Request, allowed ...string) (v1Params, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return v1Params{}, badRequest("query: %v", err)
	}
	p := v1Params{q: q, timeout: s.timeout}
	for name, vals := range q {
		ok := name == "timeout"
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return v1Params{}, badRequest("unknown query parameter %q (this route takes timeout%s)", name, listParams(allowed))
		}
		if len(vals) > 1 {
			return v1Params{}, badRequest("query parameter %q given %d times", name, len(vals))
		}
	}
	if q.Has("timeout") {
		d, err := time.ParseDuration(q.Get("timeout"))
		if err != nil || d <= 0 {
			return v1Params{}, badRequest("timeout=%q: want a positive Go duration such as 500ms or 5s", q.Get("timeout"))
		}
		p.timeout = min(d, MaxTimeout)
	}
	switch c := q.Get("consistency"); c {
	case "", "linearizable":
	case "serializable":
		p.serializable = true
	default:
		return v1Params{}, badRequest("consistency=%q: want linearizable or serializable", c)
	}
	return p, nil
}

func listParams(names []string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(", ")
		b.WriteString(n)
	}
	return b.String()
}

// revision reads ?revision=: the revision to read the store at, 0 when
// absent (the current one).
func (p v1Params) revision() (int64, error) {
	if !p.q.Has("revision") {
		return 0, nil
	}
	rev, err := strconv.ParseInt(p.q.Get("revision"), 10, 64)
	if err != nil || rev <= 0 {
		return 0, badRequest("revision=%q: want a revision, a number from 1", p.q.Get("revision"))
	}
	return rev, nil
}

// flag reads a boolean query parameter: absent is false; present with no
// value, "true" or "1" is true; "false" or "0" is false.
func (p v1Params) flag(name string) (bool, error) {
	if !p.q.Has(name) {
		return false, nil
	}
	switch v := p.q.Get(name); v {
	case "", "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, badRequest("%s=%q: want true or false (or no value)", name, v)
	}
}

// setRevision sets the revision header.
func setRevision(w http.ResponseWriter, rev int64) {
	w.Header().Set(HeaderRevision, strconv.FormatInt(rev, 10))
}

// writeV1 writes a successful JSON answer with its revision header.
func writeV1(w http.ResponseWriter, status int, rev int64, v any) {
	setRevision(w, rev)
	writeJSON(w, status, v)
}

// failV1 writes err as a /v1 error answer: as fail does, with 504 for a
// deadline that passed.
func (s *Server) failV1(w http.ResponseWriter, err error) {
	s.fail(w, err, http.StatusGatewayTimeout)
}

// methodNotAllowed answers 405 with the Allow header.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	list := strings.Join(allow, ", ")
	w.Header().Set("Allow", list)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
		fmt.Sprintf("method %s not allowed on %s: use %s", r.Method, r.URL.Path, list))
}

// bodyPrealloc is the most readBody allocates for a body before its bytes
// arrive: a client that announces a large body and sends nothing must not
// cost more.
const bodyPrealloc = 16 << 10

// readBody reads at most limit bytes of the body; a larger body gets 413.
// A body that gives its length is read into one buffer of that size, up
// to bodyPrealloc (io.ReadAll would grow one from 512 bytes, copying a
// 16 KiB value eleven times). It answers the request itself when it
// returns false.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	size := bytes.MinRead
	if n := r.ContentLength; n > 0 && n <= limit {
		size += int(min(n, bodyPrealloc))
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	body := buf.Bytes()
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		bodyTooLarge(w, limit)
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("read body: %v", err))
		return nil, false
	}
	return body, true
}

// bodyTooLarge answers 413: the body is over limit bytes.
func bodyTooLarge(w http.ResponseWriter, limit int64) {
	writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body is over the limit of %d bytes", limit))
}

// jsonRequest reads the query parameters (timeout alone) and the small
// JSON body (1 KiB at most) of a request into v. It answers the request
// itself when it returns false.
func (s *Server) jsonRequest(w http.ResponseWriter, r *http.Request, v any) (v1Params, bool) {
	p, err := s.parseParams(r)
	if err != nil {
		s.failV1(w, err)
		return p, false
	}
	return p, decodeJSON(w, r, 1<<10, v)
}

// decodeJSON reads a JSON body of at most limit bytes into v, refusing
// unknown fields and trailing data. A body over the limit is a 413. It
// answers the request itself when it returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, ok := readBody(w, r, limit)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("malformed JSON body: %v", err))
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid", "malformed JSON body: data after the JSON value")
		return false
	}
	return true
}

// parseMemberID reads the member id of a path: an integer from 1 to
// membership.MaxID.
func parseMemberID(text string) (uint64, error) {
	id, err := strconv.ParseUint(text, 10, 64)
	if err != nil || membership.CheckID(id) != nil {
		return 0, badRequest("member id %q: must be an integer from 1 to %d", text, uint64(membership.MaxID))
	}
	return id, nil
}

// valueTooLarge answers 413 when value is over store.MaxValueSize.
func valueTooLarge(w http.ResponseWriter, n int) bool {
	if n <= store.MaxValueSize {
		return false
	}
	writeError(w, http.StatusRequestEntityTooLarge, "value_too_large",
		fmt.Sprintf("value of %d bytes is over the limit of %d", n, store.MaxValueSize))
	return true
}

// prefixEnd returns the range end that covers every key starting with
// prefix: the prefix with its last byte below 0xff incremented, or "\x00"
// (every key) when there is none.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte(allKeysEnd)
}

// encodeNext makes the continuation token that resumes a range at key.
func encodeNext(key []byte) string {
	return base64.RawURLEncoding.EncodeToString(key)
}

// decodeNext reads a continuation token of encodeNext.
func decodeNext(token string) ([]byte, error) {
	key, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, badRequest("next=%q is not a continuation token of this API", token)
	}
	return key, nil
}
