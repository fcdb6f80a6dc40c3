package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

func TestPrefixEnd(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"a", "b"},
		{"ab", "ac"},
		{"a\xff", "b"},
		{"a\xff\xff", "b"},
		{"\xff", "\x00"},
		{"\xff\xff", "\x00"},
		{"", "\x00"},
		{"a\x00", "a\x01"},
	}
	for i, tt := range tests {
		if got := prefixEnd([]byte(tt.prefix)); !bytes.Equal(got, []byte(tt.want)) {
			t.Errorf("%d: prefixEnd(%q) = %q, want %q", i, tt.prefix, got, tt.want)
		}
	}
	// The input is not modified.
	p := []byte("az")
	prefixEnd(p)
	if string(p) != "az" {
		t.Errorf("prefixEnd modified its input: %q", p)
	}
}

func TestNextTokenRoundTrip(t *testing.T) {
	for i, key := range []string{"", "a", "a\x00", "\xff\xfe/ü", "key with spaces"} {
		got, err := decodeNext(encodeNext([]byte(key)))
		if err != nil || string(got) != key {
			t.Errorf("%d: token of %q decodes to %q, %v", i, key, got, err)
		}
	}
}

// TestTxnReplyIsStreamedAsTheShape checks that the answer writeTxnReply
// writes piece by piece is the JSON of api.TxnReply.
func TestTxnReplyIsStreamedAsTheShape(t *testing.T) {
	kv := messages.KeyValue{Key: []byte("k\xff"), Value: []byte("v"), CreateRevision: 2, ModRevision: 3, Version: 2}
	ops := []opPlan{
		{typ: messages.OpPut, at: 0, prevAt: -1},
		{typ: messages.OpGet, at: 1, prevAt: -1, ranged: true},
		{typ: messages.OpDelete, at: 3, prevAt: 2, ranged: true},
		{typ: messages.OpDelete, at: 4, prevAt: -1},
	}
	results := []messages.OpResult{
		{KVs: []messages.KeyValue{kv}},
		{KVs: []messages.KeyValue{kv, kv}, More: true},
		{KVs: []messages.KeyValue{kv}, More: true},
		{Deleted: 5},
		{Deleted: 0},
	}
	for _, res := range []messages.TxnResult{
		{Succeeded: true, Revision: 9, Responses: results},
		{Succeeded: false, Revision: 9},
	} {
		plan := ops
		if !res.Succeeded {
			plan = nil
		}
		rec := httptest.NewRecorder()
		writeTxnReply(rec, res, plan)
		want := api.TxnReply{Revision: res.Revision, Succeeded: res.Succeeded, Responses: []api.TxnOpResponse{}}
		b := newBudget()
		for _, o := range plan {
			want.Responses = append(want.Responses, o.response(res.Responses, b))
		}
		wantJSON, _ := json.Marshal(want)
		if got := rec.Body.String(); got != string(wantJSON)+"\n" {
			t.Errorf("streamed %s\nwant     %s", got, wantJSON)
		}
		if rec.Header().Get(HeaderRevision) != "9" || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", rec.Header())
		}
	}
}

// TestBoundsFitTheStore checks that a txn within this package's bounds is
// within the store's.
func TestBoundsFitTheStore(t *testing.T) {
	if MaxTxnOps > store.MaxTxnOps {
		t.Errorf("MaxTxnOps %d is over the store's %d", MaxTxnOps, store.MaxTxnOps)
	}
}

func TestBudget(t *testing.T) {
	kvs := func(sizes ...int) []messages.KeyValue {
		var out []messages.KeyValue
		for _, n := range sizes {
			out = append(out, messages.KeyValue{Key: []byte("k"), Value: make([]byte, n-1)})
		}
		return out
	}
	b := &budget{max: 10}
	if n := b.take(kvs(4, 4, 4)); n != 2 || b.used != 8 {
		t.Errorf("take 4,4,4 of 10: %d (used %d), want 2", n, b.used)
	}
	if n := b.take(kvs(4, 1)); n != 1 || b.used != 12 {
		t.Errorf("take past the budget: %d (used %d), want the first key only", n, b.used)
	}
	if n := (&budget{max: 10}).take(kvs(20, 1)); n != 1 {
		t.Errorf("a key over the budget alone: %d, want 1", n)
	}
	if n := (&budget{max: 10}).take(nil); n != 0 {
		t.Errorf("nothing: %d", n)
	}
}

// A client that announces a large body and sends little costs no more
// than bodyPrealloc: what readBody allocates follows the bytes that come.
// (The least of a few tries: another goroutine's allocations can only add
// to the count.)
func TestReadBodyPreallocatesLittle(t *testing.T) {
	least := uint64(math.MaxUint64)
	for range 5 {
		r := httptest.NewRequest(http.MethodPut, "/k", io.MultiReader(strings.NewReader("ten bytes!"), iotest.ErrReader(io.ErrUnexpectedEOF)))
		r.ContentLength = 1 << 20
		w := httptest.NewRecorder()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, ok := readBody(w, r, 1<<20)
		runtime.ReadMemStats(&after)
		if ok || w.Code != http.StatusBadRequest {
			t.Fatalf("a body cut short: ok %v, status %d; want 400", ok, w.Code)
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	if least > 2*bodyPrealloc {
		t.Errorf("reading 10 bytes of an announced MiB allocated %d bytes, want at most %d", least, 2*bodyPrealloc)
	}
}
