package httpapi_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

// FuzzHTTPAPI sends arbitrary requests — method, target, a header and a
// body of the fuzzer's choosing, as raw bytes over TCP — to the package's
// member, served as raftkv serves its API (fuzz targets run after the
// tests, so what they write disturbs none). Whatever comes, the
// member answers; a 5xx is only 503, 504 or 507 and never an unexpected
// error (503 internal, which a handler's panic also gives); and a request
// that is refused (4xx, 507) changes nothing: a write before and after it
// (a barrier: the log applies in order) finds the store revision moved
// only by the barriers.
func FuzzHTTPAPI(f *testing.F) {
	addr := strings.TrimPrefix(base, "http://")

	for _, seed := range []struct{ method, target, hname, hvalue, body string }{
		{"GET", "/v1/kv/a", "", "", ""},
		{"PUT", "/v1/kv/a?prev_kv=true", "Content-Type", "application/json", `{"value":"YQ=="}`},
		{"PUT", "/v1/kv/a", "", "", `{}`},
		{"PUT", "/v1/kv/%FF%00", "", "", `{"value":null}`},
		{"GET", "/v1/kv?prefix=a&limit=100000", "", "", ""},
		{"GET", "/v1/kv?start=b&end=a&serializable=true", "", "", ""},
		{"DELETE", "/v1/kv/a?prefix=true&prev_kv=true", "", "", ""},
		{"PUT", "/v1/kv/a?if_mod_revision=-1", "", "", `{"value":"Yg=="}`},
		{"POST", "/v1/txn", "", "", `{"compare":[{"key":"a","target":"version","result":"equal","version":0}],"success":[{"put":{"key":"a","value":"Yw=="}}]}`},
		{"POST", "/v1/txn", "Content-Length", "99999999", `{"success":[{"get":{"key":"a","limit":-1}}]}`},
		{"DELETE", "/v1/members/1", "", "", ""},
		{"POST", "/v1/members/1/promote", "", "", ""},
		{"GET", "/v1/status?timeout=1ns", "", "", ""},
		{"PUT", "/a?timeout=-3s", "", "", "x"},
		{"DELETE", "/1", "", "", ""},
		{"BREW", "/", "Transfer-Encoding", "chunked", "zz\r\n"},
		{"GET", "/v1/kv/" + strings.Repeat("k", 5000), "X", strings.Repeat("v", 70000), ""},
	} {
		f.Add(seed.method, seed.target, seed.hname, seed.hvalue, []byte(seed.body))
	}

	f.Fuzz(func(t *testing.T, method, target, hname, hvalue string, body []byte) {
		// One request each: no line breaks that would make the request
		// line or the header into several.
		method, target = oneLine(method), oneLine(target)
		hname, hvalue = oneLine(hname), oneLine(hvalue)
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		if addsMember(method, target) {
			// Allowed for a cluster of one, which then has no quorum until
			// the new member starts: the membership tests cover it.
			return
		}
		before := barrier(t, base)
		status, respBody := raw(t, addr, method, target, hname, hvalue, body)
		var e api.ErrorReply
		_ = json.Unmarshal(respBody, &e)
		if status >= 500 && status != http.StatusServiceUnavailable &&
			status != http.StatusGatewayTimeout && status != http.StatusInsufficientStorage {
			t.Fatalf("%s %.80s: %d %s, want no 5xx other than 503, 504, 507", method, target, status, respBody)
		}
		if e.Code == "internal" {
			t.Fatalf("%s %.80s: %d %s: an unexpected error", method, target, status, respBody)
		}
		after := barrier(t, base)
		refused := status == 0 || status >= 400 && status < 500 || status == http.StatusInsufficientStorage
		if refused && after != before+1 {
			t.Fatalf("%s %.80s: refused (%d %s), yet the store moved from revision %d to %d, not only by the barrier",
				method, target, status, respBody, before, after)
		}
	})
}

// oneLine drops the line breaks of s.
func oneLine(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// raw sends one request as bytes and reads its answer: its status and
// body, or status 0 if the member closed the connection without one (as
// net/http may for a request it refuses before its end).
func raw(t *testing.T, addr, method, target, hname, hvalue string, body []byte) (int, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testkit.Dilated(5*time.Second))
	if err != nil {
		t.Fatalf("dial the member: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testkit.Dilated(time.Minute)))
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, addr)
	if hname != "" {
		fmt.Fprintf(&req, "%s: %s\r\n", hname, hvalue)
	}
	fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n", len(body))
	// The member may answer, and close, before it read it all. The end of
	// what is sent is the end of the request: a body framed otherwise by
	// the fuzzer's header (Transfer-Encoding: chunked) that never ends
	// is refused at once, not after the body's read timeout.
	_, _ = conn.Write(append([]byte(req.String()), body...))
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, nil
	}
	if err != nil {
		t.Fatalf("%s %.80s: no answer: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body) // may be cut short by the member's close
	return resp.StatusCode, b
}

// barrier writes the key __fuzz_barrier and returns the store revision
// of the write.
func barrier(t *testing.T, url string) int64 {
	t.Helper()
	code, header, b := requestH(url, http.MethodPut, "/v1/kv/__fuzz_barrier", nil, []byte(`{"value":""}`))
	rev, err := strconv.ParseInt(header.Get(api.HeaderRevision), 10, 64)
	if code != http.StatusOK || err != nil {
		t.Fatalf("barrier write: %d %s (revision %q): the member no longer takes writes", code, b, header.Get(api.HeaderRevision))
	}
	return rev
}

// addsMember tells whether the request would be routed to adding a member
// (POST /v1/members, or raftexample's POST /<id>).
func addsMember(method, target string) bool {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
	if err != nil || req.Method != http.MethodPost {
		return false
	}
	p := req.URL.Path
	return p == "/v1/members" || p == "/v1/members/" || !strings.HasPrefix(p, "/v1/")
}
