package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/testkit"
)

// endpoint is the HTTP API of a single-member cluster that runs in this
// test process, shared by the tests and the examples of the package.
var endpoint string

// ports hands out the ports of the package's node and of the endpoints
// nobody listens on, in the band of package client (see testkit.Ports).
var ports = testkit.NewPorts(16000, 20000)

func TestMain(m *testing.M) {
	os.Exit(testkit.RunWithHTTPNode(m, ports, func(n *testkit.HTTPNode) { endpoint = n.URL }))
}

func newClient(t *testing.T, endpoints ...string) *client.Client {
	t.Helper()
	c, err := client.New(endpoints, client.WithRetryBackoff(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(10*time.Second))
	t.Cleanup(cancel)
	return ctx
}

func TestPutGetDelete(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	put, err := c.Put(ctx, "kv/a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "kv/a")
	if err != nil || string(got.KV.Value) != "1" || got.KV.ModRevision != put.Revision || got.KV.Version != 1 || got.Revision < put.Revision {
		t.Fatalf("Get after Put (revision %d): %+v, %v", put.Revision, got, err)
	}
	put2, err := c.Put(ctx, "kv/a", []byte("2"), client.WithPrevKV())
	if err != nil || put2.PrevKV == nil || string(put2.PrevKV.Value) != "1" || put2.Revision <= put.Revision {
		t.Fatalf("Put with prev kv: %+v, %v", put2, err)
	}
	got, err = c.Get(ctx, "kv/a", client.WithSerializable())
	if err != nil || string(got.KV.Value) != "2" {
		t.Fatalf("serializable Get: %+v, %v", got, err)
	}
	del, err := c.Delete(ctx, "kv/a", client.WithPrevKV())
	if err != nil || del.Deleted != 1 || len(del.PrevKVs) != 1 || string(del.PrevKVs[0].Value) != "2" {
		t.Fatalf("Delete: %+v, %v", del, err)
	}
	if _, err := c.Get(ctx, "kv/a"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Get of a deleted key: %v, want ErrNotFound", err)
	}
	// Keys with slashes, spaces and such travel as they are.
	for _, k := range []string{"kv/x//y", "kv/../up", "kv/a b?c#d%e"} {
		if _, err := c.Put(ctx, k, []byte(k)); err != nil {
			t.Fatalf("Put %q: %v", k, err)
		}
		if got, err := c.Get(ctx, k); err != nil || got.KV.Key != k || string(got.KV.Value) != k {
			t.Fatalf("Get %q: %+v, %v", k, got, err)
		}
	}
}

func TestConditionalWrites(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	created, err := c.Put(ctx, "cas/k", []byte("v1"), client.IfNotExists())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Put(ctx, "cas/k", []byte("again"), client.IfNotExists())
	var apiErr *client.Error
	if !errors.Is(err, client.ErrPreconditionFailed) || !errors.As(err, &apiErr) || apiErr.KV == nil || string(apiErr.KV.Value) != "v1" {
		t.Fatalf("create of an existing key: %v, want ErrPreconditionFailed with the current kv", err)
	}
	if apiErr.Revision < created.Revision || apiErr.KV.ModRevision != created.Revision {
		t.Errorf("412: revision %d, kv %+v; created at %d", apiErr.Revision, apiErr.KV, created.Revision)
	}
	// CAS on the mod revision: the first wins, the second finds it changed.
	upd, err := c.Put(ctx, "cas/k", []byte("v2"), client.IfMatch(created.Revision))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Put(ctx, "cas/k", []byte("v3"), client.IfMatch(created.Revision))
	if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrPreconditionFailed) || apiErr.KV.ModRevision != upd.Revision {
		t.Fatalf("stale CAS: %v, want 412 showing revision %d", err, upd.Revision)
	}
	if _, err := c.Delete(ctx, "cas/k", client.IfMatch(created.Revision)); !errors.Is(err, client.ErrPreconditionFailed) {
		t.Fatalf("stale conditional delete: %v", err)
	}
	if got, err := c.Get(ctx, "cas/k"); err != nil || string(got.KV.Value) != "v2" {
		t.Fatalf("after failed conditions: %+v, %v", got, err)
	}
	if _, err := c.Put(ctx, "cas/none", nil, client.IfExists()); !errors.As(err, &apiErr) || apiErr.KV != nil {
		t.Fatalf("IfExists on a missing key: %v, kv %+v", err, apiErr)
	}
	if del, err := c.Delete(ctx, "cas/k", client.IfMatch(upd.Revision)); err != nil || del.Deleted != 1 {
		t.Fatalf("conditional delete: %+v, %v", del, err)
	}
}

func TestRangeAndDeletePrefix(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	var want []string
	for i := range 11 {
		k := fmt.Sprintf("rg/%02d", i)
		want = append(want, k)
		if _, err := c.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var opts []client.OpOption
	for {
		page, err := c.RangePrefix(ctx, "rg/", append(opts, client.WithLimit(3))...)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range page.KVs {
			got = append(got, kv.Key)
		}
		if !page.More {
			break
		}
		opts = []client.OpOption{client.WithNext(page.Next)}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pages: %v, want %v", got, want)
	}
	page, err := c.Range(ctx, "rg/03", "rg/06", client.WithSerializable())
	if err != nil || len(page.KVs) != 3 || page.KVs[0].Key != "rg/03" {
		t.Fatalf("Range [rg/03, rg/06): %+v, %v", page, err)
	}
	del, err := c.DeletePrefix(ctx, "rg/")
	if err != nil || del.Deleted != 11 {
		t.Fatalf("DeletePrefix: %+v, %v", del, err)
	}
	if page, err := c.RangePrefix(ctx, "rg/"); err != nil || len(page.KVs) != 0 {
		t.Fatalf("after DeletePrefix: %+v, %v", page, err)
	}
}

func TestTxn(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	if _, err := c.DeletePrefix(ctx, "tx/"); err != nil { // left by an earlier -count
		t.Fatal(err)
	}
	put, err := c.Put(ctx, "tx/a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Txn(ctx, client.TxnRequest{
		Compare: []client.Compare{
			client.CompareModRevision("tx/a", client.Equal, put.Revision),
			client.CompareValue("tx/a", client.Equal, []byte("1")),
			client.CompareVersion("tx/a", client.Less, 2),
			client.CompareCreateRevision("tx/a", client.Equal, put.Revision),
			client.CompareExists("tx/b", false),
		},
		Success: []client.Op{
			client.OpPut("tx/b", []byte("2")),
			client.OpPut("tx/a", []byte("10"), client.WithPrevKV()),
			client.OpGet("tx/", client.WithPrefix()),
		},
		Failure: []client.Op{client.OpGet("tx/a")},
	})
	if err != nil || !res.Succeeded || len(res.Responses) != 3 {
		t.Fatalf("Txn: %+v, %v", res, err)
	}
	if r := res.Responses[1]; r.Type != client.OpTypePut || r.PrevKV == nil || string(r.PrevKV.Value) != "1" {
		t.Errorf("put response: %+v", r)
	}
	if r := res.Responses[2]; r.Type != client.OpTypeGet || len(r.KVs) != 2 || string(r.KVs[0].Value) != "10" {
		t.Errorf("get response: %+v", r)
	}
	res, err = c.Txn(ctx, client.TxnRequest{
		Compare: []client.Compare{client.CompareValue("tx/a", client.Equal, []byte("1"))},
		Success: []client.Op{client.OpDelete("tx/", client.WithPrefix())},
		Failure: []client.Op{client.OpDelete("tx/", client.WithRangeEnd("tx/b"), client.WithPrevKV())},
	})
	if err != nil || res.Succeeded || len(res.Responses) != 1 || res.Responses[0].Deleted != 1 || res.Responses[0].PrevKVs[0].Key != "tx/a" {
		t.Fatalf("failing Txn: %+v, %v", res, err)
	}
	if _, err := c.Txn(ctx, client.TxnRequest{Success: []client.Op{client.OpPut("", nil)}}); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("Txn with an empty key: %v, want ErrInvalid", err)
	}
}

func TestMembersAndStatus(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	// The two membership changes are kept apart by the reads between them:
	// raftnode (as of this writing) may let raft drop a change proposed
	// right after another one was answered, before raft's Advance.
	if err := c.RemoveMember(ctx, 42); !errors.Is(err, client.ErrMemberNotFound) {
		t.Errorf("RemoveMember 42: %v, want ErrMemberNotFound", err)
	}
	m, err := c.Members(ctx)
	if err != nil || len(m.Members) != 1 || m.Members[0].ID != 1 || m.Leader != 1 {
		t.Fatalf("Members: %+v, %v", m, err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.ID != 1 || st.Leader != 1 || !st.Serving || len(st.Members) != 1 || st.Endpoint != endpoint {
		t.Fatalf("Status: %+v, %v", st, err)
	}
	if st.Name != "member-1" || st.Version == "" || st.Term < 1 || st.Keys < 1 || st.DataSizeBytes <= 0 {
		t.Errorf("Status: %+v, want member-1's name, a version, a term, the keys written and its data size", st)
	}
	if _, err := c.EndpointStatus(ctx, endpoint); err != nil {
		t.Fatal(err)
	}
	if err := c.AddMember(ctx, 1, "127.0.0.1:1"); !errors.Is(err, client.ErrMemberExists) {
		t.Errorf("AddMember of member 1: %v, want ErrMemberExists", err)
	}
}

func TestErrors(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	if _, err := c.Put(ctx, "", []byte("v")); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("empty key: %v", err)
	}
	if _, err := c.Put(ctx, "big", make([]byte, 1<<20+1)); !errors.Is(err, client.ErrTooLarge) {
		t.Errorf("value over 1 MiB: %v", err)
	}
	if _, err := client.New(nil); err == nil {
		t.Error("New without endpoints did not fail")
	}
	if _, err := client.New([]string{"ftp://x"}); err == nil {
		t.Error("New with an ftp endpoint did not fail")
	}
}

// closedEndpoint returns the URL of a port nobody listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("http://127.0.0.1:%d", ports.MustNext(t))
}

func TestFailoverPastADownMember(t *testing.T) {
	c, ctx := newClient(t, closedEndpoint(t), endpoint), testCtx(t)
	// A write that could not even connect is safe to send elsewhere.
	put, err := c.Put(ctx, "fo/k", []byte("v"))
	if err != nil {
		t.Fatalf("Put with the first endpoint down: %v", err)
	}
	got, err := c.Get(ctx, "fo/k")
	if err != nil || got.KV.ModRevision != put.Revision {
		t.Fatalf("Get with the first endpoint down: %+v, %v", got, err)
	}
	// With every endpoint down, the answer is ErrUnavailable.
	down := newClient(t, closedEndpoint(t), closedEndpoint(t))
	if _, err := down.Get(ctx, "fo/k"); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("Get with all endpoints down: %v, want ErrUnavailable", err)
	}
	if _, err := down.Put(ctx, "fo/k", nil); !errors.Is(err, client.ErrUnavailable) || errors.Is(err, client.ErrUnknownOutcome) {
		t.Fatalf("Put with all endpoints down: %v, want ErrUnavailable (it never left)", err)
	}
}

// fake is an HTTP member that answers every request with the same
// handler and counts them.
type fake struct {
	*httptest.Server
	hits atomic.Int32
}

func newFake(t *testing.T, h http.HandlerFunc) *fake {
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func answer(status int, code string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":"fake %s","code":%q}`, code, code)
	}
}

func TestWritesOfUnknownOutcomeAreNotRetried(t *testing.T) {
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	tests := []struct {
		name     string
		first    http.HandlerFunc
		unknown  bool // the write's outcome is unknown: not sent to the second
		matchErr error
	}{
		{"504 deadline", answer(http.StatusGatewayTimeout, "deadline_exceeded"), true, client.ErrTimeout},
		{"503 stopping", answer(http.StatusServiceUnavailable, "stopping"), true, client.ErrUnavailable},
		{"connection closed", hangUp, true, client.ErrUnknownOutcome},
		{"503 not ready", answer(http.StatusServiceUnavailable, "not_ready"), false, nil},
		{"503 no leader", answer(http.StatusServiceUnavailable, "no_leader"), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := newFake(t, tt.first)
			second := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"revision":7,"kv":{"key":"k","value":"dg==","mod_revision":7}}`)
			})
			c, ctx := newClient(t, first.URL, second.URL), testCtx(t)
			_, err := c.Put(ctx, "k", []byte("v"))
			if tt.unknown {
				if !errors.Is(err, client.ErrUnknownOutcome) || !errors.Is(err, tt.matchErr) || second.hits.Load() != 0 {
					t.Fatalf("Put: %v (second member hit %d times), want ErrUnknownOutcome and %v, not retried",
						err, second.hits.Load(), tt.matchErr)
				}
			} else if err != nil || second.hits.Load() != 1 {
				t.Fatalf("Put: %v (second member hit %d times), want it sent to the second member", err, second.hits.Load())
			}
			// A read is always safe to send elsewhere.
			second.hits.Store(0)
			c2 := newClient(t, first.URL, second.URL)
			got, err := c2.Get(ctx, "k")
			if err != nil || string(got.KV.Value) != "v" || second.hits.Load() != 1 {
				t.Fatalf("Get: %+v, %v (second hit %d times)", got, err, second.hits.Load())
			}
		})
	}
}

// TestNoSpaceIsADefiniteRefusal: a write refused by the NOSPACE alarm (507
// no_space) did not apply; the alarm is the cluster's, so it is not sent to
// another member either.
func TestNoSpaceIsADefiniteRefusal(t *testing.T) {
	first := newFake(t, answer(http.StatusInsufficientStorage, "no_space"))
	second := newFake(t, answer(http.StatusInsufficientStorage, "no_space"))
	c, ctx := newClient(t, first.URL, second.URL), testCtx(t)
	_, err := c.Put(ctx, "k", []byte("v"))
	if !errors.Is(err, client.ErrNoSpace) || errors.Is(err, client.ErrUnknownOutcome) || second.hits.Load() != 0 {
		t.Fatalf("Put: %v (second member hit %d times), want ErrNoSpace, a known outcome, not retried", err, second.hits.Load())
	}
}

func TestDeadlineIsPassedToTheMember(t *testing.T) {
	var got atomic.Value
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.Query().Get("timeout"))
		answer(http.StatusNotFound, "key_not_found")(w, r)
	})
	c := newClient(t, f.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.Get(ctx, "k"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	d, err := time.ParseDuration(got.Load().(string))
	if err != nil || d <= time.Second || d >= 2*time.Second {
		t.Fatalf("?timeout=%v (%v), want a little under the 2s left", got.Load(), err)
	}
	// Without a deadline the member's default applies.
	if _, err := c.Get(context.Background(), "k"); !errors.Is(err, client.ErrNotFound) || got.Load().(string) != "" {
		t.Fatalf("Get without deadline: %v, timeout %q", err, got.Load())
	}
}
