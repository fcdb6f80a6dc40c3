package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/testkit"
)

// TestServedAsNetHTTPServesIt sends the same requests to the package's
// member as raftkv serves it (fasthttp's server, PUT and GET /<key>
// natively) and to its handler under net/http's server, and finds the
// same answers: status, Content-Type, body. The native key routes must
// leave alone what the ServeMux routes elsewhere or redirects.
func TestServedAsNetHTTPServesIt(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ref := httptest.NewServer(httpapi.New(node.Node.System().Root, node.Node.Proposer(), quiet))
	defer ref.Close()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, tt := range []struct {
		method, target, accept, body string
		statusOnly                   bool // the body tells the time, or is the server's own
	}{
		{method: "PUT", target: "/native-a", body: "v1"},
		{method: "GET", target: "/native-a"},
		{method: "GET", target: "/native-a?x=1"},
		{method: "GET", target: "/native-missing"},
		{method: "PUT", target: "/native/dir/key/", body: "v2"},
		{method: "GET", target: "/native/dir/key/"},
		{method: "PUT", target: "/native%20sp", body: "v3"},
		{method: "GET", target: "/native%20sp"},
		{method: "GET", target: "/native sp", statusOnly: true}, // net/http's 400 is plain text
		{method: "GET", target: "/native//x"},
		{method: "GET", target: "/native/./x"},
		{method: "GET", target: "/native/../x"},
		{method: "GET", target: "/native/.."},
		{method: "GET", target: "/native/.hidden"},
		{method: "PUT", target: "/", body: "v"},
		{method: "GET", target: "/"},
		{method: "GET", target: "/", accept: "text/html", statusOnly: true},
		{method: "GET", target: "/" + strings.Repeat("k", 4097)},
		{method: "PUT", target: "/native-big", body: strings.Repeat("x", 1<<20+1)},
		{method: "PUT", target: "/native-empty"},
		{method: "GET", target: "/native-empty"},
		{method: "PATCH", target: "/native-a", body: "v"},
		{method: "HEAD", target: "/native-a"},
		{method: "DELETE", target: "/native-a"},
		{method: "GET", target: "/v1"},
		{method: "GET", target: "/v1/"},
		{method: "GET", target: "/v1/nothing"},
		{method: "GET", target: "/v1/kv/native-a"},
		{method: "GET", target: "/v1/kv?prefix=native&limit=2"},
		{method: "GET", target: "/v1/kv/native-a?revision=abc"},
		{method: "PUT", target: "/v1/kv/native-j", body: `{"value":"dg=="}`, statusOnly: true}, // a new revision each
		{method: "PUT", target: "/v1/kv/native-j", body: `{"value":`},
		{method: "POST", target: "/v1/txn", body: `{"success":[{"get":{"key":"bmF0aXZlLWE="}}]}`},
		{method: "POST", target: "/v1/kv/native-a", body: "x"},
		{method: "GET", target: "/v1/status", statusOnly: true},
		{method: "GET", target: "/version"},
		{method: "GET", target: "/metrics"},
		{method: "GET", target: "/metricsx"},
		{method: "GET", target: "/livez", statusOnly: true},
		{method: "GET", target: "/ui", statusOnly: true},
		{method: "GET", target: "/ui/x"},
		{method: "GET", target: "/debug/pprof/"},
		{method: "GET", target: "/debug/pprof/heap"},
		{method: "GET", target: "/debug/pprofx"},
		{method: "PUT", target: "/version", body: "v"},
	} {
		var answers [2]string
		for i, url := range []string{base, ref.URL} {
			req, err := http.NewRequest(tt.method, url+tt.target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.target != req.URL.RequestURI() { // sent as it is: "/native sp" included
				req.URL.Opaque = tt.target
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.target, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answers[i] = resp.Status
			if !tt.statusOnly {
				answers[i] += fmt.Sprintf(" %q %q %q %s", resp.Header.Get("Content-Type"), resp.Header.Get("Allow"),
					resp.Header.Get(api.HeaderRevision), body)
			}
		}
		if answers[0] != answers[1] {
			t.Errorf("%s %.40s:\nserved:  %.300s\nnet/http: %.300s", tt.method, tt.target, answers[0], answers[1])
		}
	}
}

// TestRefusedRequestsGetJSONErrors sends what the server refuses before
// any route sees it: a request line and headers over MaxHeaderBytes (431),
// a body over the largest any route takes (413), a malformed target
// (400). Each gets the API's JSON error saying why.
func TestRefusedRequestsGetJSONErrors(t *testing.T) {
	addr := strings.TrimPrefix(base, "http://")
	for _, tt := range []struct {
		name, request string
		status        int
		says          string
	}{
		{"headers", "GET /native-a HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("v", httpapi.DefaultMaxHeaderBytes) + "\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge, "headers are over the limit of 65536 bytes"},
		{"body", "POST /v1/txn HTTP/1.1\r\nHost: x\r\nContent-Length: 4194305\r\n\r\n",
			http.StatusRequestEntityTooLarge, "body is over the limit of 4194304 bytes"},
		{"target", "GET /v1/kv/%zz HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusBadRequest, "malformed request target"},
	} {
		c, err := net.DialTimeout("tcp", addr, testkit.Dilated(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, tt.request)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			c.Close()
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" ||
			!bytes.Contains(body, []byte(`"error"`)) || !bytes.Contains(body, []byte(tt.says)) {
			t.Errorf("%s: %s %s %s, want %d and an error saying %q", tt.name, resp.Status, resp.Header.Get("Content-Type"), body, tt.status, tt.says)
		}
	}
}
