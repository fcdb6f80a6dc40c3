package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/httpapi"
	rknode "github.com/raftkv/raftkv/node"
	"github.com/raftkv/raftkv/testkit"
)

// serveNode serves the API of n on a server of the test's own and returns
// its URL.
func serveNode(t *testing.T, n *rknode.Node) string {
	t.Helper()
	srv := httptest.NewServer(httpapi.New(n.System().Root, n.Proposer(), quiet))
	t.Cleanup(srv.Close)
	return srv.URL
}

// awaitHealth waits until GET url answers code with a body that contains
// want, and fails the test with the last answer if it does not within
// 10 s.
func awaitHealth(t *testing.T, url string, code int, want string) {
	t.Helper()
	var got string
	ok := testkit.Eventually(func() bool {
		c, body := request(url, "GET", "", nil, nil)
		got = fmt.Sprintf("%d %q", c, body)
		return c == code && strings.Contains(string(body), want)
	}, 10*time.Second)
	if !ok {
		t.Fatalf("GET %s: still %s after 10s, want %d containing %q", url, got, code, want)
	}
}

// mustAnswer checks that GET url answers code with a body that contains
// want, now.
func mustAnswer(t *testing.T, url string, code int, want string) {
	t.Helper()
	if c, body := request(url, "GET", "", nil, nil); c != code || !strings.Contains(string(body), want) {
		t.Errorf("GET %s: %d %q, want %d containing %q", url, c, body, code, want)
	}
}

// TestReadyzFlipsWithTheLeader checks /readyz through a member of three:
// 503 with the reason while the member knows no leader (cut off from the
// others, then with the others stopped), 200 again once it has one;
// /livez stays 200 while the member's node runs, and is 503 once it
// stopped.
func TestReadyzFlipsWithTheLeader(t *testing.T) {
	c := testkit.NewCluster(t, 3)
	leader := c.WaitLeader()
	id := uint64(1)
	if leader == 1 {
		id = 2
	}
	var others []uint64
	for _, o := range []uint64{1, 2, 3} {
		if o != id {
			others = append(others, o)
		}
	}
	url := serveNode(t, c.Node(id))
	awaitHealth(t, url+"/readyz", 200, "ok\n")
	mustAnswer(t, url+"/healthz", 200, "ok\n")

	c.Isolate(id)
	awaitHealth(t, url+"/readyz", 503, "leader")
	mustAnswer(t, url+"/healthz", 503, "leader")
	mustAnswer(t, url+"/readyz?verbose", 503, "[+]serving ok\n[-]leader failed: ")
	mustAnswer(t, url+"/readyz?exclude=leader", 200, "ok\n")
	mustAnswer(t, url+"/livez", 200, "ok\n")

	c.Heal()
	awaitHealth(t, url+"/readyz", 200, "ok\n")

	for _, o := range others {
		c.Stop(o)
	}
	awaitHealth(t, url+"/readyz", 503, "no leader")
	mustAnswer(t, url+"/livez", 200, "ok\n")
	for _, o := range others {
		c.Start(o)
	}
	awaitHealth(t, url+"/readyz", 200, "ok\n")

	c.Stop(id)
	awaitHealth(t, url+"/livez", 503, "node")
	mustAnswer(t, url+"/readyz", 503, "node")
}

// TestReadyzWhileNoSpaceAlarm checks that /readyz answers 503 naming the
// alarm while the NOSPACE alarm is raised (the member's disk runs low),
// that ?exclude=alarms leaves it out, and that it answers 200 again once
// the alarm is cleared.
func TestReadyzWhileNoSpaceAlarm(t *testing.T) {
	var free atomic.Uint64
	free.Store(10 << 30)
	// A one-member cluster sends nothing to peers (see testkit.NoPeers).
	n, err := rknode.Start(rknode.Config{ID: 1, Cluster: map[uint64]string{1: "member-1:1"}, Network: testkit.NoPeers(),
		DataDir: t.TempDir(), Logger: quiet,
		SpaceReserve: 1 << 30, FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	url := serveNode(t, n)
	awaitHealth(t, url+"/readyz", 200, "ok\n")

	free.Store(100 << 20)
	awaitHealth(t, url+"/readyz", 503, "NOSPACE alarm raised by member 1")
	mustAnswer(t, url+"/readyz?verbose", 503, "[-]alarms failed: NOSPACE alarm raised by member 1")
	mustAnswer(t, url+"/readyz?exclude=alarms", 200, "ok\n")
	mustAnswer(t, url+"/livez", 200, "ok\n")

	free.Store(10 << 30)
	awaitHealth(t, url+"/readyz", 200, "ok\n")
}
