package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

// The real binary serves the operations routes: metrics that move with
// writes, health, version, and the profiler when --enable-pprof asks for
// it.
func TestOperationsRoutes(t *testing.T) {
	c := newCluster(t, 3, "--enable-pprof")
	leader := c.waitLeader()
	for range 10 {
		c.mustPut(leader, "metered", "v")
	}
	for id := uint64(1); id <= 3; id++ {
		code, body, err := c.do(http.MethodGet, c.url(id, api.PathMetrics), nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("member %d: GET /metrics: %d %v", id, code, err)
		}
		for _, want := range []string{"raftkv_raft_term ", "raftkv_raft_applied_index ", "raftkv_wal_fsync_duration_seconds_count ",
			`raftkv_http_requests_total{code="200",route="/v1/status"}`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("member %d: /metrics has no %s", id, want)
			}
		}
		if strings.Contains(string(body), "metered") {
			t.Errorf("member %d: /metrics names a key", id)
		}
		for _, path := range []string{api.PathLivez, api.PathReadyz, api.PathHealthz, api.PathPprof} {
			if code, body, err := c.do(http.MethodGet, c.url(id, path), nil); err != nil || code != http.StatusOK {
				t.Errorf("member %d: GET %s: %d %s %v", id, path, code, body, err)
			}
		}
	}
	code, body, err := c.do(http.MethodGet, c.url(leader, api.PathMetrics), nil)
	if err != nil || code != http.StatusOK || !strings.Contains(string(body), `raftkv_http_requests_total{code="204",route="/{key}"} 10`) {
		t.Errorf("the leader's /metrics does not count the 10 writes on route /{key}: %d %v", code, err)
	}
	var v api.VersionReply
	code, body, err = c.do(http.MethodGet, c.url(leader, api.PathVersion), nil)
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &v) != nil || v.Version == "" || !strings.HasPrefix(v.GoVersion, "go") {
		t.Errorf("GET /version: %d %s %v", code, body, err)
	}
}

// /readyz of a member is 503 while it is not serving — started with
// --join before the cluster added it — and 200 once it is a member that
// applied its log; /livez is 200 all along.
func TestReadyzOfAJoiningMember(t *testing.T) {
	c := newCluster(t, 3)
	leader := c.waitLeader()
	c.mustPut(leader, "before", "v")
	id := c.addSlot()
	c.start(id, true)
	if code, body, err := c.do(http.MethodGet, c.url(id, api.PathReadyz), nil); err != nil || code != http.StatusServiceUnavailable ||
		!strings.Contains(string(body), "not serving yet") {
		t.Errorf("GET /readyz of a member not yet added: %d %q %v, want 503 saying it is not serving yet", code, body, err)
	}
	if code, _, err := c.do(http.MethodGet, c.url(id, api.PathLivez), nil); err != nil || code != http.StatusOK {
		t.Errorf("GET /livez of a member not yet added: %d %v, want 200", code, err)
	}
	c.expect(leader, http.MethodPost, "/v1/members", fmt.Sprintf(`{"id":%d,"address":%q,"learner":true}`, id, c.peers[id-1]), http.StatusCreated, "")
	testkit.AwaitCondition(t, "the new member is ready", func() bool {
		code, _, err := c.do(http.MethodGet, c.url(id, api.PathReadyz), nil)
		return err == nil && code == http.StatusOK
	}, 30*time.Second)
	c.waitValue(id, "before", "v")
}
