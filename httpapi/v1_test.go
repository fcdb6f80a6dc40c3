package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/testkit"
)

// base is the URL of the single-node cluster that the tests of this file
// share; each test writes keys under a prefix of its own. node is that
// node, for the tests that serve its API themselves.
var (
	base string
	node *testkit.HTTPNode
)

// ports hands out the peer ports of the package's nodes, in the band of
// package httpapi (see testkit.Ports).
var ports = testkit.NewPorts(12000, 16000)

func TestMain(m *testing.M) {
	os.Exit(testkit.RunWithHTTPNode(m, ports, func(n *testkit.HTTPNode) { base, node = n.URL, n }))
}

// request sends one request to the server at url and returns status and
// body (status 0 on a transport error).
func request(url, method, path string, header map[string]string, body []byte) (int, []byte) {
	code, _, b := requestH(url, method, path, header, body)
	return code, b
}

func requestH(url, method, path string, header map[string]string, body []byte) (int, http.Header, []byte) {
	req, err := http.NewRequestWithContext(context.Background(), method, url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// call is one request of a test to the shared node.
type call struct {
	method, path string
	header       map[string]string
	body         string
}

type result struct {
	code   int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d %s: not JSON: %v", r.code, r.body, err)
	}
}

func (r result) revision(t *testing.T) int64 {
	t.Helper()
	rev, err := strconv.ParseInt(r.header.Get(httpapi.HeaderRevision), 10, 64)
	if err != nil {
		t.Fatalf("answer %d %s: no %s header", r.code, r.body, httpapi.HeaderRevision)
	}
	return rev
}

func do(t *testing.T, c call) result {
	t.Helper()
	code, h, b := requestH(base, c.method, c.path, c.header, []byte(c.body))
	if code == 0 {
		t.Fatalf("%s %s: %s", c.method, c.path, b)
	}
	return result{code, h, b}
}

// mustDo does c and fails the test unless the status is want.
func mustDo(t *testing.T, want int, c call) result {
	t.Helper()
	r := do(t, c)
	if r.code != want {
		t.Fatalf("%s %s: status %d %s, want %d", c.method, c.path, r.code, r.body, want)
	}
	return r
}

// clean deletes the keys a test left under prefix in an earlier run of
// the same process (go test -count).
func clean(t *testing.T, prefix string) {
	t.Helper()
	mustDo(t, http.StatusOK, call{method: http.MethodDelete, path: "/v1/kv/" + prefix + "?prefix"})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func putJSON(t *testing.T, key, value string) api.PutReply {
	t.Helper()
	var reply api.PutReply
	mustDo(t, http.StatusOK, call{method: http.MethodPut, path: "/v1/kv/" + key, body: `{"value":"` + b64(value) + `"}`}).json(t, &reply)
	return reply
}

func getJSON(t *testing.T, key string) (api.GetReply, result) {
	t.Helper()
	var reply api.GetReply
	r := mustDo(t, http.StatusOK, call{method: http.MethodGet, path: "/v1/kv/" + key})
	r.json(t, &reply)
	return reply, r
}

// errorOf checks the one error shape and returns it.
func errorOf(t *testing.T, r result) api.ErrorReply {
	t.Helper()
	var e api.ErrorReply
	r.json(t, &e)
	if e.Error == "" || e.Code == "" {
		t.Fatalf("error answer %d %s: want {\"error\", \"code\"}", r.code, r.body)
	}
	return e
}

func TestV1ErrorsAndStatusCodes(t *testing.T) {
	clean(t, "errs/")
	putJSON(t, "errs/k", "v")
	big := strings.Repeat("x", 1<<20+1)
	bigJSON := `{"value":"` + b64(big) + `"}`
	octet := map[string]string{"Content-Type": "application/octet-stream"}
	tests := []struct {
		call
		want  int
		code  string
		allow string
	}{
		// Membership changes are far apart in this table: see
		// TestMembersAndStatus of package client.
		{call{method: "DELETE", path: "/v1/members/9"}, 404, "member_not_found", ""},
		{call{method: "GET", path: "/v1/kv/errs/missing"}, 404, "key_not_found", ""},
		{call{method: "GET", path: "/v1/kv/"}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/", body: `{"value":""}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/" + strings.Repeat("k", 4097), body: `{"value":""}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `{"value":`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `{"value":"not base64!"}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `{"value":"dg==","valeu":1}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `{"value":"dg=="} {}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `null`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `{}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `{"value":null}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: ``}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/new", body: `null`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/new", body: `{}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/new", body: `{"value":null}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k?timeout=soon", body: `{"value":"dg=="}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k?timeout=-1s", body: `{"value":"dg=="}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k?prev_kv=maybe", body: `{"value":"dg=="}`}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv/errs/k?consistency=eventual"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv/errs/k?raw=yes"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv/errs/k?bogus=1"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv/errs/k?timeout=1s&timeout=2s"}, 400, "invalid", ""},
		{call{method: "PATCH", path: "/v1/kv/errs/k"}, 405, "method_not_allowed", "GET, PUT, DELETE"},
		{call{method: "POST", path: "/v1/kv"}, 405, "method_not_allowed", "GET"},
		{call{method: "GET", path: "/v1/txn"}, 405, "method_not_allowed", "POST"},
		{call{method: "PUT", path: "/v1/members"}, 405, "method_not_allowed", "GET, POST"},
		{call{method: "GET", path: "/v1/members/1"}, 405, "method_not_allowed", "DELETE"},
		{call{method: "POST", path: "/v1/status"}, 405, "method_not_allowed", "GET"},
		{call{method: "PUT", path: "/v1/kv/errs/k", header: octet, body: big}, 413, "too_large", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: bigJSON}, 413, "value_too_large", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", body: `{"value":"` + strings.Repeat("A", 2<<20) + `"}`}, 413, "too_large", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"put":{"key":"errs/k","value":"` + b64(big) + `"}}]}`}, 413, "value_too_large", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", header: map[string]string{"If-Match": "abc"}, body: `{}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", header: map[string]string{"If-Match": `"0"`}, body: `{}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", header: map[string]string{"If-Match": `"1", "2"`}, body: `{}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", header: map[string]string{"If-Match": `"1"`, "If-None-Match": "*"}, body: `{}`}, 400, "invalid", ""},
		{call{method: "PUT", path: "/v1/kv/errs/k", header: map[string]string{"If-None-Match": `"3"`}, body: `{}`}, 400, "invalid", ""},
		{call{method: "DELETE", path: "/v1/kv/errs/k", header: map[string]string{"If-None-Match": "*"}}, 400, "invalid", ""},
		{call{method: "DELETE", path: "/v1/kv/errs/k?prefix", header: map[string]string{"If-Match": `"3"`}}, 400, "invalid", ""},
		{call{method: "DELETE", path: "/v1/kv/?prefix"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv?prefix=a&start=b"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv?limit=-1"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv?limit=ten"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv?next=!!!"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/kv?start=" + strings.Repeat("k", 4097)}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"compare":[{"key":"a","target":"colour","result":"equal"}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"compare":[{"key":"a","target":"version","result":"about"}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"compare":[{"key":"a","target":"version","result":"equal","mod_revision":3}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"compare":[{"key":"a","target":"exists","result":"greater","exists":true}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"compare":[{"key":"","target":"version","result":"equal"}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"put":{"key":"a","value":""},"get":{"key":"a"}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"put":{"key":"","value":""}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"delete":{"key":"a","limit":3}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"get":{"key":"a","prefix":true,"range_end":"b"}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"get":{"key":"a","limit":-2}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"put":{"key":"a","key_base64":"YQ==","value":""}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"get":{"key":"a","range_end":"b","range_end_base64":"Yg=="}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"compare":[{"key":"a","key_base64":"YQ==","target":"version","result":"equal"}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/txn", body: `{"success":[{"get":{"key_base64":"not base64!"}}]}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/members", body: `{"id":0,"address":"127.0.0.1:1"}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/members", body: `{"id":7,"address":"nowhere"}`}, 400, "invalid", ""},
		{call{method: "POST", path: "/v1/members", body: `{"id":1,"address":"127.0.0.1:1"}`}, 409, "member_exists", ""},
		{call{method: "DELETE", path: "/v1/members/x"}, 400, "invalid", ""},
		{call{method: "GET", path: "/v1/nope"}, 404, "not_found", ""},
		// A deadline too short for a write to commit: 504, and the write
		// may still apply (so it goes to a key of its own).
		{call{method: "PUT", path: "/v1/kv/errs/late?timeout=1ns", body: `{"value":"dg=="}`}, 504, "deadline_exceeded", ""},
	}
	for i, tt := range tests {
		r := do(t, tt.call)
		if r.code != tt.want {
			t.Errorf("%d: %s %.60s: status %d %.200s, want %d", i, tt.method, tt.path, r.code, r.body, tt.want)
			continue
		}
		e := errorOf(t, r)
		if e.Code != tt.code {
			t.Errorf("%d: %s %.60s: code %q (%s), want %q", i, tt.method, tt.path, e.Code, e.Error, tt.code)
		}
		if got := r.header.Get("Allow"); got != tt.allow {
			t.Errorf("%d: %s %.60s: Allow %q, want %q", i, tt.method, tt.path, got, tt.allow)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%d: %s %.60s: Content-Type %q", i, tt.method, tt.path, ct)
		}
	}
	// None of it changed errs/k, nor created errs/new.
	got, _ := getJSON(t, "errs/k")
	if string(got.KV.Value) != "v" || got.KV.Version != 1 {
		t.Errorf("after bad requests errs/k = %q version %d, want v version 1", got.KV.Value, got.KV.Version)
	}
	mustDo(t, http.StatusNotFound, call{method: "GET", path: "/v1/kv/errs/new"})
}

func TestV1ReadRoutesCarryRevision(t *testing.T) {
	clean(t, "rev/")
	put := putJSON(t, "rev/k", "v")
	for i, c := range []call{
		{method: "GET", path: "/v1/kv/rev/k"},
		{method: "GET", path: "/v1/kv/rev/k?consistency=serializable"},
		{method: "GET", path: "/v1/kv/rev/k?consistency=linearizable&timeout=2s"},
		{method: "GET", path: "/v1/kv/rev/k?raw"},
		{method: "GET", path: "/v1/kv?prefix=rev/"},
		{method: "GET", path: "/v1/status"},
		{method: "GET", path: "/v1/members"},
		{method: "POST", path: "/v1/txn", body: `{}`},
	} {
		r := mustDo(t, http.StatusOK, c)
		if rev := r.revision(t); rev < put.Revision {
			t.Errorf("%d: %s %s: revision header %d, before the put's %d", i, c.method, c.path, rev, put.Revision)
		}
		if c.path == "/v1/kv/rev/k?raw" {
			continue
		}
		var body struct{ Revision *int64 }
		r.json(t, &body)
		if body.Revision == nil || *body.Revision != r.revision(t) {
			t.Errorf("%d: %s %s: JSON revision %v, header %d", i, c.method, c.path, body.Revision, r.revision(t))
		}
	}
	r := mustDo(t, http.StatusNotFound, call{method: "GET", path: "/v1/kv/rev/missing"})
	if e := errorOf(t, r); e.Revision == nil || *e.Revision != r.revision(t) {
		t.Errorf("404: revision %v, header %d", e.Revision, r.revision(t))
	}
}

func TestV1PutGet(t *testing.T) {
	clean(t, "pg/")
	first := putJSON(t, "pg/k", "one")
	got, r := getJSON(t, "pg/k")
	want := api.KeyValue{Key: "pg/k", Value: []byte("one"), CreateRevision: first.Revision, ModRevision: first.Revision, Version: 1}
	if !kvEqual(got.KV, want) || got.Revision < first.Revision {
		t.Fatalf("GET after PUT: %+v, want %+v at revision >= %d", got, want, first.Revision)
	}
	if tag := r.header.Get("ETag"); tag != fmt.Sprintf(`"%d"`, first.Revision) {
		t.Errorf("ETag %q, want \"%d\"", tag, first.Revision)
	}

	// prev_kv returns the value replaced; the revision grows by one.
	var second api.PutReply
	mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/pg/k?prev_kv", body: `{"value":"` + b64("two") + `"}`}).json(t, &second)
	if second.Revision <= first.Revision || second.PrevKV == nil || !kvEqual(*second.PrevKV, want) {
		t.Fatalf("PUT ?prev_kv: %+v, want revision > %d and prev %+v", second, first.Revision, want)
	}
	// Without prev_kv there is none.
	third := putJSON(t, "pg/k", "three")
	if third.PrevKV != nil {
		t.Errorf("PUT without prev_kv returned %+v", third.PrevKV)
	}

	// A raw body and a raw read, with the revision headers.
	raw := []byte{0, 1, 2, 0xff, '\n'}
	mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/pg/raw", header: map[string]string{"Content-Type": "application/octet-stream"}, body: string(raw)})
	r = mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv/pg/raw?raw"})
	if !bytes.Equal(r.body, raw) || r.header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("raw GET: %q %q, want %q", r.body, r.header.Get("Content-Type"), raw)
	}
	for _, h := range []string{httpapi.HeaderRevision, httpapi.HeaderModRevision, httpapi.HeaderCreateRevision, httpapi.HeaderVersion, "ETag"} {
		if r.header.Get(h) == "" {
			t.Errorf("raw GET: no %s header", h)
		}
	}
	got, _ = getJSON(t, "pg/raw")
	if !bytes.Equal(got.KV.Value, raw) {
		t.Errorf("JSON GET of raw value: %q", got.KV.Value)
	}

	// An empty value exists and reads back empty, not as missing.
	putJSON(t, "pg/empty", "")
	got, _ = getJSON(t, "pg/empty")
	if got.KV.Value == nil || len(got.KV.Value) != 0 {
		t.Errorf("empty value: %#v", got.KV.Value)
	}

	// A serializable read on the only member sees the write too.
	var ser api.GetReply
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv/pg/k?consistency=serializable"}).json(t, &ser)
	if string(ser.KV.Value) != "three" {
		t.Errorf("serializable read: %q", ser.KV.Value)
	}
}

func kvEqual(a, b api.KeyValue) bool {
	return a.Key == b.Key && bytes.Equal(a.Value, b.Value) && a.CreateRevision == b.CreateRevision &&
		a.ModRevision == b.ModRevision && a.Version == b.Version
}

func TestV1KeysAreTakenVerbatimFromThePath(t *testing.T) {
	clean(t, "keys/")
	tests := []struct{ path, key string }{
		{"/v1/kv/keys/a/b", "keys/a/b"},
		{"/v1/kv/keys/a%2Fb", "keys/a/b"},
		{"/v1/kv/keys/x//y", "keys/x//y"},
		{"/v1/kv/keys/../z", "keys/../z"},
		{"/v1/kv/keys/sp%20ace", "keys/sp ace"},
		{"/v1/kv/keys/%C3%A9t%C3%A9", "keys/été"},
		{"/v1/kv/keys/q%3Fmark", "keys/q?mark"},
	}
	for i, tt := range tests {
		mustDo(t, http.StatusOK, call{method: "PUT", path: tt.path, body: `{"value":"` + b64(strconv.Itoa(i)) + `"}`})
		var g api.GetReply
		mustDo(t, http.StatusOK, call{method: "GET", path: tt.path}).json(t, &g)
		if g.KV.Key != tt.key || string(g.KV.Value) != strconv.Itoa(i) {
			t.Errorf("%d: %s: key %q value %q, want %q %d", i, tt.path, g.KV.Key, g.KV.Value, tt.key, i)
		}
	}
}

func TestV1ConditionalPutAndDelete(t *testing.T) {
	clean(t, "cond/")
	first := putJSON(t, "cond/k", "v1")
	etagOf := func(rev int64) map[string]string { return map[string]string{"If-Match": fmt.Sprintf(`"%d"`, rev)} }

	// If-Match with the current revision applies.
	var ok api.PutReply
	r := mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/cond/k", header: etagOf(first.Revision), body: `{"value":"` + b64("v2") + `"}`})
	r.json(t, &ok)
	if r.header.Get("ETag") != fmt.Sprintf(`"%d"`, ok.Revision) {
		t.Errorf("conditional PUT: ETag %q, revision %d", r.header.Get("ETag"), ok.Revision)
	}

	// If-Match with a stale revision: 412 with the current kv, nothing changed.
	before, _ := getJSON(t, "cond/k")
	for i, c := range []call{
		{method: "PUT", path: "/v1/kv/cond/k", header: etagOf(first.Revision), body: `{"value":"` + b64("lost") + `"}`},
		{method: "PUT", path: "/v1/kv/cond/k", header: map[string]string{"If-None-Match": "*"}, body: `{"value":"` + b64("lost") + `"}`},
		{method: "DELETE", path: "/v1/kv/cond/k", header: etagOf(first.Revision)},
		{method: "PUT", path: "/v1/kv/cond/k", header: map[string]string{"If-Match": strconv.FormatInt(first.Revision, 10)}, body: `{"value":"` + b64("lost") + `"}`},
	} {
		r := mustDo(t, http.StatusPreconditionFailed, c)
		e := errorOf(t, r)
		if e.Code != "precondition_failed" || e.KV == nil || !kvEqual(*e.KV, before.KV) {
			t.Errorf("%d: 412 body %s, want the current kv %+v", i, r.body, before.KV)
		}
		if e.Revision == nil || *e.Revision != before.Revision || r.revision(t) != before.Revision {
			t.Errorf("%d: 412 revision %v header %d, want %d (nothing written)", i, e.Revision, r.revision(t), before.Revision)
		}
		if r.header.Get("ETag") != fmt.Sprintf(`"%d"`, before.KV.ModRevision) {
			t.Errorf("%d: 412 ETag %q", i, r.header.Get("ETag"))
		}
	}
	after, _ := getJSON(t, "cond/k")
	if !kvEqual(after.KV, before.KV) || after.Revision != before.Revision {
		t.Fatalf("failed conditions changed the key: %+v then %+v", before, after)
	}

	// If-None-Match: * creates only if absent; If-Match: * updates only if present.
	mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/cond/new", header: map[string]string{"If-None-Match": "*"}, body: `{"value":"` + b64("n") + `"}`})
	mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/cond/new", header: map[string]string{"If-Match": "*"}, body: `{"value":"` + b64("n2") + `"}`})
	r = mustDo(t, http.StatusPreconditionFailed, call{method: "PUT", path: "/v1/kv/cond/absent", header: map[string]string{"If-Match": "*"}, body: `{"value":""}`})
	if e := errorOf(t, r); e.KV != nil {
		t.Errorf("412 on an absent key has kv %+v", e.KV)
	}
	mustDo(t, http.StatusNotFound, call{method: "GET", path: "/v1/kv/cond/absent"})

	// A conditional delete with the right revision deletes.
	var del api.DeleteReply
	mustDo(t, http.StatusOK, call{method: "DELETE", path: "/v1/kv/cond/k?prev_kv", header: etagOf(after.KV.ModRevision)}).json(t, &del)
	if del.Deleted != 1 || len(del.PrevKVs) != 1 || !kvEqual(del.PrevKVs[0], after.KV) {
		t.Errorf("conditional DELETE: %+v", del)
	}
	mustDo(t, http.StatusNotFound, call{method: "GET", path: "/v1/kv/cond/k"})
	// Deleting a missing key is not an error: nothing to delete.
	mustDo(t, http.StatusOK, call{method: "DELETE", path: "/v1/kv/cond/k"}).json(t, &del)
	if del.Deleted != 0 {
		t.Errorf("second DELETE deleted %d", del.Deleted)
	}
}

func TestV1Txn(t *testing.T) {
	clean(t, "txn/")
	a := putJSON(t, "txn/a", "1")
	putJSON(t, "txn/b", "2")
	putJSON(t, "txn/c", "3")
	txn := func(body string) api.TxnReply {
		t.Helper()
		var reply api.TxnReply
		r := mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: body})
		r.json(t, &reply)
		if r.revision(t) != reply.Revision {
			t.Errorf("txn: header revision %d, JSON %d", r.revision(t), reply.Revision)
		}
		return reply
	}

	// Success branch: every compare holds.
	ok := txn(`{
		"compare": [
			{"key":"txn/a","target":"value","result":"equal","value":"` + b64("1") + `"},
			{"key":"txn/a","target":"mod_revision","result":"equal","mod_revision":` + strconv.FormatInt(a.Revision, 10) + `},
			{"key":"txn/a","target":"create_revision","result":"less","create_revision":` + strconv.FormatInt(a.Revision+1, 10) + `},
			{"key":"txn/a","target":"version","result":"greater","version":0},
			{"key":"txn/a","target":"exists","result":"equal","exists":true},
			{"key":"txn/none","target":"exists","result":"not_equal","exists":true},
			{"key":"txn/b","target":"VALUE","result":"NOT_EQUAL","value":"` + b64("9") + `"}
		],
		"success": [
			{"put":{"key":"txn/a","value":"` + b64("10") + `","prev_kv":true}},
			{"get":{"key":"txn/","prefix":true,"limit":2}},
			{"delete":{"key":"txn/c","prev_kv":true}},
			{"get":{"key":"txn/a"}}
		],
		"failure": [{"put":{"key":"txn/failed","value":""}}]
	}`)
	if !ok.Succeeded || ok.Revision <= a.Revision || len(ok.Responses) != 4 {
		t.Fatalf("txn success: %+v", ok)
	}
	if p := ok.Responses[0].Put; p == nil || p.PrevKV == nil || string(p.PrevKV.Value) != "1" {
		t.Errorf("put response: %+v", ok.Responses[0])
	}
	if g := ok.Responses[1].Get; g == nil || len(g.KVs) != 2 || !g.More || g.KVs[0].Key != "txn/a" || g.KVs[1].Key != "txn/b" {
		t.Errorf("get prefix limit 2: %+v", ok.Responses[1])
	}
	if d := ok.Responses[2].Delete; d == nil || d.Deleted != 1 || len(d.PrevKVs) != 1 || string(d.PrevKVs[0].Value) != "3" {
		t.Errorf("delete response: %+v", ok.Responses[2])
	}
	if g := ok.Responses[3].Get; g == nil || len(g.KVs) != 1 || string(g.KVs[0].Value) != "10" || g.KVs[0].ModRevision != ok.Revision {
		t.Errorf("get after put in the same txn: %+v", ok.Responses[3])
	}
	mustDo(t, http.StatusNotFound, call{method: "GET", path: "/v1/kv/txn/failed"})
	mustDo(t, http.StatusNotFound, call{method: "GET", path: "/v1/kv/txn/c"})

	// Failure branch: one compare is false; the failure ops run, the
	// success ops do not.
	failed := txn(`{
		"compare": [{"key":"txn/a","target":"value","result":"equal","value":"` + b64("1") + `"}],
		"success": [{"put":{"key":"txn/a","value":"` + b64("never") + `"}}],
		"failure": [{"get":{"key":"txn/a"}}, {"delete":{"key":"txn/","prefix":true}}]
	}`)
	if failed.Succeeded || len(failed.Responses) != 2 || failed.Responses[0].Get == nil || failed.Responses[1].Delete == nil {
		t.Fatalf("txn failure: %+v", failed)
	}
	if kvs := failed.Responses[0].Get.KVs; len(kvs) != 1 || string(kvs[0].Value) != "10" {
		t.Errorf("failure get: %+v", kvs)
	}
	if d := failed.Responses[1].Delete.Deleted; d != 2 {
		t.Errorf("failure delete prefix deleted %d, want 2 (txn/a, txn/b)", d)
	}
	var rng api.RangeReply
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv?prefix=txn/"}).json(t, &rng)
	if len(rng.KVs) != 0 {
		t.Errorf("after the failure branch deleted txn/: %+v", rng.KVs)
	}

	// A read-only txn does not bump the revision.
	before := failed.Revision
	ro := txn(`{"success":[{"get":{"key":"txn/a"}}]}`)
	if ro.Revision != before || !ro.Succeeded || ro.Responses[0].Get == nil {
		t.Errorf("read-only txn: %+v, want revision %d", ro, before)
	}
}

func TestV1RangePagination(t *testing.T) {
	clean(t, "pag")
	var want []string
	for i := range 23 {
		k := fmt.Sprintf("page/%02d", i)
		want = append(want, k)
		putJSON(t, k, strconv.Itoa(i))
	}
	putJSON(t, "pagf", "outside") // after the prefix in key order
	putJSON(t, "pag", "outside")  // before it

	for _, limit := range []int{1, 4, 23, 50} {
		var got []string
		next, pages := "", 0
		for {
			path := fmt.Sprintf("/v1/kv?prefix=page/&limit=%d", limit)
			if next != "" {
				path += "&next=" + next
			}
			var page api.RangeReply
			mustDo(t, http.StatusOK, call{method: "GET", path: path}).json(t, &page)
			pages++
			if len(page.KVs) > limit {
				t.Fatalf("limit %d: page of %d keys", limit, len(page.KVs))
			}
			for _, kv := range page.KVs {
				got = append(got, kv.Key)
			}
			if page.More != (page.Next != "") {
				t.Fatalf("limit %d: more %v with next %q", limit, page.More, page.Next)
			}
			if !page.More {
				break
			}
			next = page.Next
			if pages > 30 {
				t.Fatalf("limit %d: no end after %d pages", limit, pages)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("limit %d: pages gave %v, want %v", limit, got, want)
		}
	}

	// start/end: [page/05, page/08); start alone runs to the last key.
	var rng api.RangeReply
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv?start=page/05&end=page/08"}).json(t, &rng)
	if len(rng.KVs) != 3 || rng.KVs[0].Key != "page/05" || rng.KVs[2].Key != "page/07" || rng.More {
		t.Errorf("start/end: %+v", rng)
	}
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv?start=page/20"}).json(t, &rng)
	if len(rng.KVs) < 4 || rng.KVs[0].Key != "page/20" || rng.KVs[3].Key != "pagf" {
		t.Errorf("start only: %+v", rng.KVs)
	}
	// No parameter: every key, in order.
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv?consistency=serializable"}).json(t, &rng)
	for i := 1; i < len(rng.KVs); i++ {
		if rng.KVs[i-1].Key >= rng.KVs[i].Key {
			t.Fatalf("all keys out of order at %d: %q, %q", i, rng.KVs[i-1].Key, rng.KVs[i].Key)
		}
	}
	// An empty range answers an empty list, not null.
	r := mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv?prefix=nothing-here/"})
	if !bytes.Contains(r.body, []byte(`"kvs":[]`)) {
		t.Errorf("empty range: %s", r.body)
	}
}

func TestV1DeletePrefix(t *testing.T) {
	clean(t, "dp")
	for _, k := range []string{"dp/a", "dp/b", "dp/c/d", "dpx", "dp"} {
		putJSON(t, k, k)
	}
	var del api.DeleteReply
	r := mustDo(t, http.StatusOK, call{method: "DELETE", path: "/v1/kv/dp/?prefix&prev_kv"})
	r.json(t, &del)
	if del.Deleted != 3 || len(del.PrevKVs) != 3 || del.PrevKVs[2].Key != "dp/c/d" || r.revision(t) != del.Revision {
		t.Fatalf("DELETE dp/?prefix: %+v", del)
	}
	var rng api.RangeReply
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv?prefix=dp"}).json(t, &rng)
	if len(rng.KVs) != 2 || rng.KVs[0].Key != "dp" || rng.KVs[1].Key != "dpx" {
		t.Errorf("keys left after the prefix delete: %+v", rng.KVs)
	}
	// A prefix that matches nothing deletes nothing and keeps the revision.
	mustDo(t, http.StatusOK, call{method: "DELETE", path: "/v1/kv/dp/?prefix"}).json(t, &del)
	if del.Deleted != 0 || del.Revision != rng.Revision {
		t.Errorf("empty prefix delete: %+v, want revision %d", del, rng.Revision)
	}
}

func TestV1Members(t *testing.T) {
	var m api.MembersReply
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/members"}).json(t, &m)
	if len(m.Members) != 1 || m.Members[0].ID != 1 || m.Leader != 1 {
		t.Fatalf("members: %+v", m)
	}

	// Adding a member to a node of its own: a single member cannot commit
	// anything after that, so it is not the shared node.
	n, err := testkit.StartHTTPNode(t.TempDir(), ports)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	url := n.URL
	code, body := request(url, http.MethodPost, "/v1/members", nil, []byte(`{"id":2,"address":"http://127.0.0.1:1"}`))
	var added api.MemberReply
	if err := json.Unmarshal(body, &added); code != http.StatusCreated || err != nil || added.Member == nil || added.Member.Address != "127.0.0.1:1" {
		t.Fatalf("POST /v1/members: %d %s", code, body)
	}
	testkit.AwaitCondition(t, "member 2 is listed", func() bool {
		code, body := request(url, http.MethodGet, "/v1/members", nil, nil)
		return code == http.StatusOK && strings.Contains(string(body), `{"id":2,"address":"127.0.0.1:1","role":"voter"`)
	})
}
