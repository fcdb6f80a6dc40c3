package httpapi_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/metrics"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serveShared serves the API of the package's shared node with opts on a
// server of the test's own, and returns its URL.
func serveShared(t *testing.T, opts ...httpapi.Option) string {
	t.Helper()
	srv := httptest.NewServer(httpapi.New(node.Node.System().Root, node.Node.Proposer(), quiet, opts...))
	t.Cleanup(srv.Close)
	return srv.URL
}

// reservedPaths are the paths of the operations routes, which the
// raftexample routes do not take as keys.
var reservedPaths = []string{api.PathMetrics, api.PathLivez, api.PathReadyz, api.PathHealthz, api.PathVersion, api.PathUI}

// TestOperationsRoutes checks what each operations route answers.
func TestOperationsRoutes(t *testing.T) {
	url := serveShared(t, httpapi.WithMetrics(metrics.New()))
	html := map[string]string{"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
	tests := []struct {
		method, path string
		header       map[string]string
		code         int
		contentType  string
		body         string // a piece of the body
	}{
		{"GET", "/livez", nil, 200, "text/plain", "ok\n"},
		{"HEAD", "/livez", nil, 200, "text/plain", ""},
		{"GET", "/readyz", nil, 200, "text/plain", "ok\n"},
		{"GET", "/healthz", nil, 200, "text/plain", "ok\n"},
		{"GET", "/readyz?verbose", nil, 200, "text/plain",
			"[+]node ok\n[+]serving ok\n[+]leader ok\n[+]applied ok\n[+]alarms ok\nreadyz check passed\n"},
		{"GET", "/livez?verbose", nil, 200, "text/plain", "[+]node ok\nlivez check passed\n"},
		{"GET", "/readyz?exclude=disk", nil, 400, "application/json", `no such check`},
		{"GET", "/version", nil, 200, "application/json", `"go_version":"go`},
		{"GET", "/metrics", nil, 200, "text/plain", "go_goroutines"},
		{"GET", "/ui", nil, 200, "text/html", "<title>raftkv status</title>"},
		{"GET", "/", html, 200, "text/html", "<title>raftkv status</title>"},
		{"GET", "/", nil, 400, "application/json", "empty key"}, // curl's Accept: the raftexample route
		{"PUT", "/metrics", nil, 405, "application/json", `the key \"metrics\" is reached through /v1/kv/metrics`},
		{"POST", "/readyz", nil, 405, "application/json", "/v1/kv/readyz"},
		{"DELETE", "/ui", nil, 405, "application/json", "/v1/kv/ui"},
		{"GET", "/debug/pprof/", nil, 404, "application/json", "start the member with --enable-pprof"},
		{"PUT", "/debug/pprof/heap", nil, 404, "application/json", "--enable-pprof"},
		{"GET", "/debug/pprof", nil, 404, "application/json", "--enable-pprof"},
	}
	for _, tt := range tests {
		code, h, body := requestH(url, tt.method, tt.path, tt.header, nil)
		if code != tt.code || !strings.HasPrefix(h.Get("Content-Type"), tt.contentType) || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %s: %d (%s) %.300q; want %d (%s) containing %q", tt.method, tt.path, code, h.Get("Content-Type"), body,
				tt.code, tt.contentType, tt.body)
		}
	}
	var v api.VersionReply
	_, _, body := requestH(url, "GET", "/version", nil, nil)
	if err := json.Unmarshal(body, &v); err != nil || v.Version == "" || v.Commit == "" || v.GoVersion == "" {
		t.Errorf("GET /version: %s (%v): want version, commit and go_version", body, err)
	}
	if _, h, _ := requestH(url, "GET", "/ui", nil, nil); !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("GET /ui: Content-Security-Policy %q, want one that allows nothing external", h.Get("Content-Security-Policy"))
	}
	if _, h, _ := requestH(url, "PUT", "/metrics", nil, nil); h.Get("Allow") != "GET, HEAD" {
		t.Errorf("PUT /metrics: Allow %q, want GET, HEAD", h.Get("Allow"))
	}
}

// TestReservedNamesAreKeysUnderV1 checks that the keys named like the
// reserved paths are reached through /v1/kv/<name>, and that the
// raftexample routes still take the paths beside them as keys.
func TestReservedNamesAreKeysUnderV1(t *testing.T) {
	url := serveShared(t, httpapi.WithMetrics(metrics.New()))
	for _, path := range append(reservedPaths, "/debug/pprof/heap") {
		key := strings.TrimPrefix(path, "/")
		if code, body := request(url, "PUT", "/v1/kv/"+key, nil, []byte(`{"value":"`+b64("v of "+key)+`"}`)); code != 200 {
			t.Fatalf("PUT /v1/kv/%s: %d %s", key, code, body)
		}
		if code, body := request(url, "GET", "/v1/kv/"+key+"?raw", nil, nil); code != 200 || string(body) != "v of "+key {
			t.Errorf("GET /v1/kv/%s?raw: %d %q, want 200 %q", key, code, body, "v of "+key)
		}
	}
	for _, path := range []string{"/metricsx", "/ui/x", "/livez/", "/versions"} {
		if code, body := request(url, "PUT", path, nil, []byte("x")); code != http.StatusNoContent {
			t.Errorf("PUT %s: %d %s, want 204 (a key of the raftexample routes)", path, code, body)
		}
		if code, body := request(url, "GET", path, nil, nil); code != 200 || string(body) != "x" {
			t.Errorf("GET %s: %d %q, want 200 x", path, code, body)
		}
	}
}

// TestPprofOption checks that WithPprof serves the profiler, and that
// without WithMetrics /metrics is a 404 (the path stays reserved).
func TestPprofOption(t *testing.T) {
	url := serveShared(t, httpapi.WithPprof())
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
		{"/debug/pprof/cmdline", 200, ""},
		{"/metrics", 404, "serves no metrics"},
	}
	for _, tt := range tests {
		if code, body := request(url, "GET", tt.path, nil, nil); code != tt.code || !strings.Contains(string(body), tt.body) {
			t.Errorf("GET %s: %d %.200q, want %d containing %q", tt.path, code, body, tt.code, tt.body)
		}
	}
	// Without a trailing slash: a redirect to the index.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url + "/debug/pprof")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/debug/pprof/" {
		t.Errorf("GET /debug/pprof: %d to %q, want 301 to /debug/pprof/", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestHTTPMetrics checks that every request is counted by route label and
// status code, with its latency, and that no raw key becomes a label.
func TestHTTPMetrics(t *testing.T) {
	url := serveShared(t, httpapi.WithMetrics(metrics.New()))
	const secret = "secret-key-4a1f"
	calls := []struct {
		method, path, body string
		code               int
	}{
		{"PUT", "/v1/kv/" + secret, `{"value":"eA=="}`, 200},
		{"GET", "/v1/kv/" + secret, "", 200},
		{"GET", "/v1/kv/" + secret + "-missing", "", 404},
		{"PUT", "/v1/kv/" + secret, "not json", 400},
		{"GET", "/v1/kv?prefix=" + secret, "", 200},
		{"PUT", "/" + secret + "-raftexample", "x", 204},
		{"GET", "/" + secret + "-raftexample", "", 200},
		{"GET", "/v1/" + secret, "", 404},
		{"GET", "/livez", "", 200},
		{"GET", "/v1/status", "", 200},
	}
	for _, c := range calls {
		if code, body := request(url, c.method, c.path, nil, []byte(c.body)); code != c.code {
			t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.code)
		}
	}
	code, body := request(url, "GET", "/metrics", nil, nil)
	if code != 200 {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	text := string(body)
	if strings.Contains(text, secret) {
		t.Errorf("a raw key is in the metrics:\n%s", grep(text, secret))
	}
	for _, want := range []string{
		`raftkv_http_requests_total{code="200",route="/v1/kv/{key}"} 2`,
		`raftkv_http_requests_total{code="404",route="/v1/kv/{key}"} 1`,
		`raftkv_http_requests_total{code="400",route="/v1/kv/{key}"} 1`,
		`raftkv_http_requests_total{code="200",route="/v1/kv"} 1`,
		`raftkv_http_requests_total{code="204",route="/{key}"} 1`,
		`raftkv_http_requests_total{code="200",route="/{key}"} 1`,
		`raftkv_http_requests_total{code="404",route="other"} 1`,
		`raftkv_http_requests_total{code="200",route="/livez"} 1`,
		`raftkv_http_requests_total{code="200",route="/v1/status"} 1`,
		`raftkv_http_request_duration_seconds_count{route="/v1/kv/{key}"} 4`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s; they have:\n%s", want, grep(text, "raftkv_http_requests_total"))
		}
	}
	// Every route label is a route's pattern.
	label := regexp.MustCompile(`route="([^"]*)"`)
	for _, m := range label.FindAllStringSubmatch(text, -1) {
		if !strings.HasPrefix(m[1], "/") && m[1] != "other" {
			t.Errorf("route label %q is not a pattern", m[1])
		}
	}
}

// grep is the lines of text that contain s.
func grep(text, s string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// TestRaftexampleKeyTooLarge checks that a key over the limit on the
// raftexample routes is a 400 with code invalid, as on /v1/.
func TestRaftexampleKeyTooLarge(t *testing.T) {
	for _, method := range []string{"PUT", "GET"} {
		code, body := request(base, method, "/"+strings.Repeat("k", 4097), nil, []byte("v"))
		var e api.ErrorReply
		if err := json.Unmarshal(body, &e); code != 400 || err != nil || e.Code != "invalid" || !strings.Contains(e.Error, "over the limit of 4096") {
			t.Errorf("%s of a 4097-byte key: %d %s, want 400 invalid saying the limit", method, code, body)
		}
	}
}

// TestPutBodyNotJSONSaysHowToSendAValue checks the answer to curl's
// habit, -d hello on a JSON route.
func TestPutBodyNotJSONSaysHowToSendAValue(t *testing.T) {
	code, body := request(base, "PUT", "/v1/kv/ops/hello", nil, []byte("hello"))
	var e api.ErrorReply
	if err := json.Unmarshal(body, &e); code != 400 || err != nil || e.Code != "invalid" {
		t.Fatalf("PUT -d hello: %d %s, want 400 invalid", code, body)
	}
	for _, want := range []string{"body is not JSON", `{"value":"<base64>"}`, "Content-Type: application/octet-stream"} {
		if !strings.Contains(e.Error, want) {
			t.Errorf("PUT -d hello: error %q does not say %q", e.Error, want)
		}
	}
	if code, _ := request(base, "GET", "/v1/kv/ops/hello", nil, nil); code != 404 {
		t.Errorf("GET after the refused PUT: %d, want 404", code)
	}
}
