package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
)

// ready is the status of a member that passes every readiness check.
func ready() messages.Status {
	return messages.Status{ID: 2, Leader: 1, Term: 3, State: "follower", Commit: 100, Applied: 100, Serving: true}
}

// TestReadiness checks each readiness check on statuses that fail it, and
// only it.
func TestReadiness(t *testing.T) {
	tests := []struct {
		name string
		edit func(*messages.Status)
		// failed maps each failing check to a piece of its reason.
		failed map[string]string
	}{
		{"ready", func(*messages.Status) {}, nil},
		{"leader itself", func(st *messages.Status) { st.Leader, st.State = 2, "leader" }, nil},
		{"replaying", func(st *messages.Status) { st.Serving = false }, map[string]string{api.CheckServing: "replaying its log"}},
		{"election under way", func(st *messages.Status) { st.Leader, st.State = 0, "candidate" },
			map[string]string{api.CheckLeader: "election is under way"}},
		{"leaderless", func(st *messages.Status) { st.Leader, st.Leaderless = 0, true },
			map[string]string{api.CheckLeader: "no leader for over an election timeout"}},
		{"lag at the bound", func(st *messages.Status) { st.Commit, st.Applied = 20_000, 20_000-MaxApplyLag }, nil},
		{"lag over the bound", func(st *messages.Status) { st.Commit, st.Applied = 20_001, 20_000-MaxApplyLag },
			map[string]string{api.CheckApplied: "applied index 10000 is 10001 entries behind commit index 20001"}},
		{"applied ahead of a stale commit", func(st *messages.Status) { st.Commit, st.Applied = 5, 90_000 }, nil},
		{"one alarm", func(st *messages.Status) { st.Alarms = []uint64{3} },
			map[string]string{api.CheckAlarms: "NOSPACE alarm raised by member 3"}},
		{"two alarms", func(st *messages.Status) { st.Alarms = []uint64{1, 3} },
			map[string]string{api.CheckAlarms: "raised by members 1, 3"}},
		{"everything wrong", func(st *messages.Status) {
			*st = messages.Status{Commit: MaxApplyLag + 1, Leaderless: true, Alarms: []uint64{1}}
		}, map[string]string{api.CheckServing: "not serving", api.CheckLeader: "no leader",
			api.CheckApplied: "behind", api.CheckAlarms: "NOSPACE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ready()
			tt.edit(&st)
			checks := readiness(&st)
			var names []string
			for _, c := range checks {
				names = append(names, c.name)
				want, fails := tt.failed[c.name]
				switch {
				case fails && !strings.Contains(c.reason, want):
					t.Errorf("check %s: reason %q, want one containing %q", c.name, c.reason, want)
				case !fails && c.reason != "":
					t.Errorf("check %s failed (%q), want it passed", c.name, c.reason)
				}
			}
			if want := readyChecks[1:]; !slices.Equal(names, want) {
				t.Errorf("checks %v, want %v", names, want)
			}
		})
	}
}

// TestHealthParams checks the query parameters of the health endpoints.
func TestHealthParams(t *testing.T) {
	tests := []struct {
		query   string
		verbose bool
		exclude []string
		timeout time.Duration
		err     string // a piece of the error, "" if none
	}{
		{"", false, nil, DefaultHealthTimeout, ""},
		{"verbose", true, nil, DefaultHealthTimeout, ""},
		{"verbose=false", false, nil, DefaultHealthTimeout, ""},
		{"verbose=maybe", false, nil, 0, "want true or false"},
		{"exclude=alarms", false, []string{"alarms"}, DefaultHealthTimeout, ""},
		{"exclude=alarms,leader&exclude=applied", false, []string{"alarms", "leader", "applied"}, DefaultHealthTimeout, ""},
		{"exclude=disk", false, nil, 0, `exclude="disk": no such check (the checks are node, serving, leader, applied, alarms)`},
		{"timeout=250ms&verbose", true, nil, 250 * time.Millisecond, ""},
		{"timeout=1h", false, nil, MaxTimeout, ""},
		{"timeout=0s", false, nil, 0, "want a positive Go duration"},
		{"timeout=soon", false, nil, 0, "want a positive Go duration"},
		{"wait=1s", false, nil, 0, `unknown query parameter "wait"`},
		{"%zz", false, nil, 0, "query"},
	}
	for _, tt := range tests {
		verbose, exclude, timeout, err := healthParams(tt.query, readyChecks)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one containing %q", tt.query, err, tt.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.query, err)
		case verbose != tt.verbose || !slices.Equal(exclude, tt.exclude) || timeout != tt.timeout:
			t.Errorf("%q: verbose %v, exclude %v, timeout %v; want %v, %v, %v", tt.query, verbose, exclude, timeout,
				tt.verbose, tt.exclude, tt.timeout)
		}
	}
}

// TestWriteHealth checks the answers of a health endpoint: 200 "ok" or
// 503 with the reasons, and the verbose list.
func TestWriteHealth(t *testing.T) {
	passed := []check{{"node", ""}, {"leader", ""}}
	failed := []check{{"node", ""}, {"leader", "no leader known"}, {"alarms", "NOSPACE alarm raised by member 3"}}
	tests := []struct {
		name    string
		results []check
		exclude []string
		verbose bool
		code    int
		body    string
	}{
		{"passed", passed, nil, false, http.StatusOK, "ok\n"},
		{"passed verbose", passed, nil, true, http.StatusOK, "[+]node ok\n[+]leader ok\nreadyz check passed\n"},
		{"failed", failed, nil, false, http.StatusServiceUnavailable, "no leader known; NOSPACE alarm raised by member 3\n"},
		{"failed verbose", failed, nil, true, http.StatusServiceUnavailable,
			"[+]node ok\n[-]leader failed: no leader known\n[-]alarms failed: NOSPACE alarm raised by member 3\nreadyz check failed\n"},
		{"one excluded", failed, []string{"alarms"}, false, http.StatusServiceUnavailable, "no leader known\n"},
		{"all excluded", failed, []string{"alarms", "leader"}, true, http.StatusOK,
			"[+]node ok\n[+]leader excluded: failed: no leader known\n[+]alarms excluded: failed: NOSPACE alarm raised by member 3\nreadyz check passed\n"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		writeHealth(rec, "readyz", tt.results, tt.exclude, tt.verbose)
		if rec.Code != tt.code || rec.Body.String() != tt.body {
			t.Errorf("%s: %d %q, want %d %q", tt.name, rec.Code, rec.Body, tt.code, tt.body)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q, want text/plain", tt.name, ct)
		}
	}
}

// TestRouteLabel checks that a route label is a pattern, never a raw
// path.
func TestRouteLabel(t *testing.T) {
	tests := []struct {
		method, path, pattern string
		want                  string
	}{
		{"GET", "/secret", "/", "/{key}"},
		{"PUT", "/a/b", "/", "/{key}"},
		{"GET", "/", "/", "/{key}"},
		{"POST", "/4", "/", "/{id}"},
		{"DELETE", "/4", "/", "/{id}"},
		{"GET", "/v1/nope", "/", "other"},
		{"GET", "/v1", "/", "other"},
		{"GET", "/v1/members", "/v1/members", "/v1/members"},
		{"GET", "/v1/members/", "/v1/members/", "/v1/members"},
		{"DELETE", "/v1/members/7", "/v1/members/", "/v1/members/{id}"},
		{"POST", "/v1/members/7/promote", "/v1/members/", "/v1/members/{id}/promote"},
		{"GET", "/v1/status", "/v1/status", "/v1/status"},
		{"GET", "/metrics", "GET /metrics", "/metrics"},
		{"GET", "/debug/pprof/heap", "/debug/pprof/", "/debug/pprof/"},
		{"GET", "/x/../y", "", "other"},
	}
	for _, tt := range tests {
		if got := routeLabel(tt.method, tt.path, tt.pattern); got != tt.want {
			t.Errorf("routeLabel(%s %s, pattern %q) = %q, want %q", tt.method, tt.path, tt.pattern, got, tt.want)
		}
	}
}

// TestDispatchRoute checks the labels of requests as the Server routes
// them: every route has its pattern, every key path a bounded label.
func TestDispatchRoute(t *testing.T) {
	s := New(nil, nil, quiet)
	tests := []struct {
		method, target, accept, want string
	}{
		{"GET", "/v1/kv/users/ada", "", "/v1/kv/{key}"},
		{"PUT", "/v1/kv/secret/key", "", "/v1/kv/{key}"},
		{"GET", "/v1/kv/", "", "/v1/kv/{key}"},
		{"GET", "/v1/kv", "", "/v1/kv"},
		{"GET", "/v1/kv?prefix=users/", "", "/v1/kv"},
		{"GET", "/greeting", "", "/{key}"},
		{"GET", "/", "", "/{key}"},
		{"GET", "/", "text/html,application/xhtml+xml,*/*;q=0.8", "/"},
		{"POST", "/4", "", "/{id}"},
		{"GET", "/v1/status", "", "/v1/status"},
		{"POST", "/v1/txn", "", "/v1/txn"},
		{"GET", "/v1/members", "", "/v1/members"},
		{"POST", "/v1/members/4/promote", "", "/v1/members/{id}/promote"},
		{"DELETE", "/v1/members/4", "", "/v1/members/{id}"},
		{"GET", "/v1/snapshot", "", "/v1/snapshot"},
		{"GET", "/v1/secret", "", "other"},
		{"GET", "/metrics", "", "/metrics"},
		{"GET", "/livez", "", "/livez"},
		{"GET", "/readyz?verbose", "", "/readyz"},
		{"GET", "/healthz", "", "/healthz"},
		{"GET", "/version", "", "/version"},
		{"GET", "/ui", "", "/ui"},
		{"GET", "/debug/pprof/", "", "/debug/pprof/"},
		{"GET", "/debug/pprof/goroutine", "", "/debug/pprof/"},
		{"GET", "/debug/pprof", "", "/debug/pprof"},
		{"OPTIONS", "*", "", "other"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if _, got := s.dispatch(r); got != tt.want {
			t.Errorf("%s %s (Accept %q): route %q, want %q", tt.method, tt.target, tt.accept, got, tt.want)
		}
	}
}

// TestPrefersHTML checks which Accept headers get the status page on /.
func TestPrefersHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false}, // curl
		{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", true}, // Firefox
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7", true},
		{"application/json", false},
		{"application/json, text/html;q=0.5", false},
		{"text/html;q=0", false},
		{"text/html;q=0.5, application/json;q=0.5", true},
		{"text/html;q=oops", false},
		{"application/xhtml+xml", true},
		{";;;, text/html", true},
	}
	for _, tt := range tests {
		if got := prefersHTML(tt.accept); got != tt.want {
			t.Errorf("prefersHTML(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

// TestDecodePutBody checks that a JSON PUT body that is not what it
// should be is a 400 saying how to send a value.
func TestDecodePutBody(t *testing.T) {
	tests := []struct {
		body  string
		value string // the value decoded, when ok
		err   string // a piece of the error, "" if none
	}{
		{`{"value":"aGVsbG8="}`, "hello", ""},
		{`{"value":""}`, "", ""},
		{` {"value":"eA=="} `, "x", ""},
		{`hello`, "", "body is not JSON"},
		{``, "", "body is not JSON"},
		{`{"value":`, "", "body is not JSON"},
		{`{"value":"hello"}`, "", `"value" is not standard base64`},
		{`{"value":3}`, "", `body is not a JSON object with a base64 "value"`},
		{`"hello"`, "", `body is not a JSON object with a base64 "value"`},
		{`{"value":"eA=="} {}`, "", "data after the JSON value"},
		{`null`, "", `body has no "value"`},
		{`{}`, "", `body has no "value"`},
		{`{"value":null}`, "", `body has no "value"`},
		{`{"valeu":"eA=="}`, "", `malformed JSON body: json: unknown field "valeu"`},
	}
	for _, tt := range tests {
		var req api.PutRequest
		err := decodePutBody([]byte(tt.body), &req)
		if tt.err == "" {
			if err != nil || string(req.Value) != tt.value {
				t.Errorf("%q: value %q, %v; want %q", tt.body, req.Value, err, tt.value)
			}
			continue
		}
		switch {
		case err == nil:
			t.Errorf("%q: no error, want %q", tt.body, tt.err)
		case !strings.Contains(err.Error(), tt.err):
			t.Errorf("%q: %v, want an error containing %q", tt.body, err, tt.err)
		case !errors.Is(err, errBadRequest):
			t.Errorf("%q: %v is not a bad request (400)", tt.body, err)
		case !strings.Contains(err.Error(), "application/octet-stream"):
			t.Errorf("%q: %v does not say how to send raw bytes", tt.body, err)
		}
	}
}

// TestAsteriskRequest checks that "OPTIONS *", which names no route, is
// answered 400, as the ServeMux answers it.
func TestAsteriskRequest(t *testing.T) {
	rec := httptest.NewRecorder()
	New(nil, nil, quiet).ServeHTTP(rec, httptest.NewRequest(http.MethodOptions, "*", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("OPTIONS *: %d, want 400", rec.Code)
	}
}
