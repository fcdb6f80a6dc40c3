package metrics_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/metrics/metricstest"
	"github.com/raftkv/raftkv/testkit"
)

// record calls every recording method once, with values a test can
// recognise.
func record(m *metrics.Metrics) {
	m.ProposalsCommitted(3)
	m.ProposalsFailed(2)
	m.SetProposalsPending(5)
	m.ObserveApply(time.Millisecond)
	m.SetStoreKeys(7)
	m.SnapshotRestored()
	m.SnapshotWriting(false)
	m.SnapshotWriting(true)
	m.ObserveSnapshotWrite(time.Second, nil)
	m.ObserveSnapshotWrite(time.Second, errors.New("disk full"))
	m.ObserveWALFsync(2 * time.Millisecond)
	m.ObserveSnapshotSave(10 * time.Millisecond)
	m.SetDiskUsage(64<<20, 4096)
	m.ObserveReady(4, 3, 2)
	m.SetRaft(metrics.Raft{Term: 2, Commit: 10, Applied: 9, Leader: 1, IsLeader: true})
	m.LeaderChanged()
	p := m.Peer(2)
	p.Sent()
	p.Sent()
	p.SendFailed()
	p.Unreachable()
	p.SnapshotSent(false)
	p.SnapshotSent(true)
	m.ObserveHTTP("/v1/status", 200, time.Millisecond)
}

// Every method works on a nil *Metrics (and a nil *Peer), doing nothing.
func TestNilMetricsDoNothing(t *testing.T) {
	var m *metrics.Metrics
	record(m)
	m.ForgetPeer(2)
	if m.Registry() != nil {
		t.Error("a nil Metrics has a registry")
	}
	if m.Mailbox("raftnode") == nil || m.PeerMailbox(2) == nil {
		t.Error("a nil Metrics gives no mailbox producer")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("a nil Metrics' handler answered %d, want 404", rec.Code)
	}
}

func TestRecordedValues(t *testing.T) {
	m := metrics.New()
	record(m)
	reg := m.Registry()
	peer2 := prometheus.Labels{"peer": "2"}
	tests := []struct {
		name   string
		labels prometheus.Labels
		want   float64
	}{
		{"raftkv_proposals_committed_total", nil, 3},
		{"raftkv_proposals_failed_total", nil, 2},
		{"raftkv_proposals_pending", nil, 5},
		{"raftkv_store_keys", nil, 7},
		{"raftkv_snapshot_restores_total", nil, 1},
		{"raftkv_snapshot_write_failures_total", nil, 1},
		{"raftkv_snapshot_writing", nil, 1},
		{"raftkv_disk_wal_bytes", nil, 64 << 20},
		{"raftkv_disk_snapshot_bytes", nil, 4096},
		{"raftkv_raft_term", nil, 2},
		{"raftkv_raft_commit_index", nil, 10},
		{"raftkv_raft_applied_index", nil, 9},
		{"raftkv_raft_leader", nil, 1},
		{"raftkv_raft_is_leader", nil, 1},
		{"raftkv_raft_has_leader", nil, 1},
		{"raftkv_raft_leader_changes_total", nil, 1},
		{"raftkv_peer_sent_messages_total", peer2, 2},
		{"raftkv_peer_send_failures_total", peer2, 1},
		{"raftkv_peer_unreachable_total", peer2, 1},
		{"raftkv_peer_snapshot_sends_total", prometheus.Labels{"peer": "2", "result": "succeeded"}, 1},
		{"raftkv_peer_snapshot_sends_total", prometheus.Labels{"peer": "2", "result": "failed"}, 1},
	}
	for _, tt := range tests {
		if got := metricstest.Value(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	for _, h := range []string{"raftkv_apply_duration_seconds", "raftkv_snapshot_write_duration_seconds",
		"raftkv_wal_fsync_duration_seconds", "raftkv_snapshot_save_duration_seconds",
		"raftkv_raft_ready_entries", "raftkv_raft_ready_committed_entries", "raftkv_raft_ready_messages"} {
		if got := metricstest.Value(t, reg, h, nil); got != 1 {
			t.Errorf("%s has %v observations, want 1", h, got)
		}
	}

	m.SetRaft(metrics.Raft{Term: 3, Commit: 11, Applied: 11})
	for name, want := range map[string]float64{"raftkv_raft_leader": 0, "raftkv_raft_is_leader": 0, "raftkv_raft_has_leader": 0} {
		if got := metricstest.Value(t, reg, name, nil); got != want {
			t.Errorf("without a leader, %s = %v, want %v", name, got, want)
		}
	}

	// A removed member's series go: the peer label takes the members only.
	m.ForgetPeer(2)
	if n := count(t, reg, "raftkv_peer_sent_messages_total", "raftkv_peer_snapshot_sends_total"); n != 0 {
		t.Errorf("%d peer series left after ForgetPeer", n)
	}
}

// The metrics follow Prometheus's naming rules (promlint: units, _total
// on counters, no reserved suffixes...), and the handler serves them.
func TestNamesLintAndHandler(t *testing.T) {
	m := metrics.New()
	record(m)
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(families).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "raftkv_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
	for _, f := range families {
		if name := f.GetName(); !strings.HasPrefix(name, "raftkv_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("metric %s has none of the prefixes raftkv_, go_, process_", name)
		}
	}

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"raftkv_raft_term 2", `raftkv_peer_sent_messages_total{peer="2"} 2`, "raftkv_wal_fsync_duration_seconds_count 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the handler's answer lacks %q", want)
		}
	}
}

// blocker is an actor whose Receive waits on release for every user
// message: the messages sent after the first wait in its mailbox.
type blocker struct{ release chan struct{} }

func (b *blocker) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(string); ok {
		<-b.release
	}
}

// The mailbox gauge reads the messages waiting in a mailbox at each
// scrape: those behind the one being handled.
func TestMailboxLength(t *testing.T) {
	m := metrics.New()
	system := actor.NewActorSystem()
	defer system.Shutdown()
	release := make(chan struct{})
	props := actor.PropsFromProducer(func() actor.Actor { return &blocker{release: release} },
		actor.WithMailbox(m.Mailbox("raftnode")))
	pid := system.Root.Spawn(props)
	linkProps := actor.PropsFromProducer(func() actor.Actor { return &blocker{release: release} },
		actor.WithMailbox(m.PeerMailbox(3)))
	link := system.Root.Spawn(linkProps)
	for range 4 {
		system.Root.Send(pid, "work")
	}
	system.Root.Send(link, "work")
	reg := m.Registry()
	raftnode := prometheus.Labels{"actor": "raftnode"}
	awaitValue(t, reg, "raftkv_actor_mailbox_length", raftnode, 3)
	awaitValue(t, reg, "raftkv_actor_mailbox_length", prometheus.Labels{"actor": metrics.PeerActor, "peer": "3"}, 0)
	close(release)
	awaitValue(t, reg, "raftkv_actor_mailbox_length", raftnode, 0)

	m.ForgetPeer(3)
	if n := count(t, reg, "raftkv_actor_mailbox_length"); n != 1 {
		t.Errorf("%d mailbox series after the peer was forgotten, want 1", n)
	}
}

// awaitValue waits until the series of metric name with labels has the
// value want, failing the test after 10 s.
func awaitValue(t *testing.T, reg prometheus.Gatherer, name string, labels prometheus.Labels, want float64) {
	t.Helper()
	testkit.AwaitCondition(t, fmt.Sprintf("%s%v = %v", name, labels, want), func() bool {
		got, ok := metricstest.Find(t, reg, name, labels)
		return ok && got == want
	}, 10*time.Second)
}

// count is the number of series of the metrics names.
func count(t *testing.T, reg prometheus.Gatherer, names ...string) int {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		if slices.Contains(names, f.GetName()) {
			n += len(f.GetMetric())
		}
	}
	return n
}

// Requests are counted by route and code, however often each pair
// comes, and their durations by route.
func TestObserveHTTP(t *testing.T) {
	m := metrics.New()
	m.ObserveHTTP("/v1/status", 200, time.Millisecond)
	m.ObserveHTTP("/v1/status", 200, time.Millisecond)
	m.ObserveHTTP("/v1/status", 503, time.Millisecond)
	m.ObserveHTTP("/{key}", 200, time.Millisecond)
	reg := m.Registry()
	for _, tt := range []struct {
		route, code string
		want        float64
	}{{"/v1/status", "200", 2}, {"/v1/status", "503", 1}, {"/{key}", "200", 1}} {
		labels := prometheus.Labels{"route": tt.route, "code": tt.code}
		if got := metricstest.Value(t, reg, "raftkv_http_requests_total", labels); got != tt.want {
			t.Errorf("raftkv_http_requests_total%v = %v, want %v", labels, got, tt.want)
		}
	}
	for route, want := range map[string]float64{"/v1/status": 3, "/{key}": 1} {
		labels := prometheus.Labels{"route": route}
		if got := metricstest.Value(t, reg, "raftkv_http_request_duration_seconds", labels); got != want {
			t.Errorf("raftkv_http_request_duration_seconds%v has %v observations, want %v", labels, got, want)
		}
	}
}
