package node_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
	"github.com/raftkv/raftkv/testkit"
)

// scrape reads n's metrics as Prometheus does: through its handler.
func scrape(t *testing.T, n *node.Node) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(n.Metrics().Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return families
}

// metricValue is the value of the unlabelled gauge or counter name, or the
// sample count of the histogram name; -1 if the scrape lacks it.
func metricValue(families map[string]*dto.MetricFamily, name string) float64 {
	f, ok := families[name]
	if !ok || len(f.GetMetric()) == 0 {
		return -1
	}
	m := f.GetMetric()[0]
	switch f.GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_HISTOGRAM:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetGauge().GetValue()
}

// The metrics every member serves, leader or follower, once it has applied
// writes and talked to its peers.
var memberMetrics = []string{
	"raftkv_proposals_committed_total", "raftkv_proposals_failed_total", "raftkv_proposals_pending",
	"raftkv_apply_duration_seconds", "raftkv_store_keys", "raftkv_store_leases", "raftkv_watch_streams",
	"raftkv_wal_fsync_duration_seconds", "raftkv_disk_wal_bytes", "raftkv_disk_snapshot_bytes",
	"raftkv_raft_ready_entries", "raftkv_raft_ready_committed_entries", "raftkv_raft_ready_messages",
	"raftkv_raft_term", "raftkv_raft_commit_index", "raftkv_raft_applied_index",
	"raftkv_raft_leader", "raftkv_raft_is_leader", "raftkv_raft_has_leader", "raftkv_raft_leader_changes_total",
	"raftkv_peer_sent_messages_total", "raftkv_actor_mailbox_length",
}

// After writes through a member of a cluster, a scrape of its metrics
// shows them committed, applied and fsynced, in a term, under a leader;
// a follower serves the same metrics, its applied index moving with the
// leader's.
func TestMetricsAfterWrites(t *testing.T) {
	c := testkit.NewCluster(t, 3)
	leader := c.WaitLeader()
	var follower uint64
	for _, id := range c.Running() {
		if id != leader {
			follower = id
		}
	}
	before := metricValue(scrape(t, c.Node(follower)), "raftkv_raft_applied_index")

	const writes = 20
	for i := range writes {
		if err := c.Put(leader, fmt.Sprintf("metrics/%d", i), "v"); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	// raftnode hears of an apply just after the write's answer leaves:
	// wait until its status counts every write before taking its index.
	var st *messages.Status
	c.Await("the leader's status counts every write", func() bool {
		var err error
		st, err = c.Status(leader)
		return err == nil && st.Revision >= writes
	}, 10*time.Second)
	c.WaitApplied(st.Applied)

	lm := scrape(t, c.Node(leader))
	for name, ok := range map[string]bool{
		"committed proposals >= writes": metricValue(lm, "raftkv_proposals_committed_total") >= writes,
		"no pending proposal":           metricValue(lm, "raftkv_proposals_pending") == 0,
		"applied index >= status's":     metricValue(lm, "raftkv_raft_applied_index") >= float64(st.Applied),
		"commit index >= applied":       metricValue(lm, "raftkv_raft_commit_index") >= float64(st.Applied),
		"fsyncs observed":               metricValue(lm, "raftkv_wal_fsync_duration_seconds") > 0,
		"applies observed":              metricValue(lm, "raftkv_apply_duration_seconds") > 0,
		"term >= 1":                     metricValue(lm, "raftkv_raft_term") >= 1,
		"is the leader":                 metricValue(lm, "raftkv_raft_is_leader") == 1,
		"leader gauge names it":         metricValue(lm, "raftkv_raft_leader") == float64(leader),
		"keys >= writes":                metricValue(lm, "raftkv_store_keys") >= writes,
		"WAL bytes measured":            metricValue(lm, "raftkv_disk_wal_bytes") > 0,
	} {
		if !ok {
			t.Errorf("leader %d: want %s", leader, name)
		}
	}

	fm := scrape(t, c.Node(follower))
	for _, name := range memberMetrics {
		if _, ok := lm[name]; !ok {
			t.Errorf("the leader serves no %s", name)
		}
		if _, ok := fm[name]; !ok {
			t.Errorf("follower %d serves no %s", follower, name)
		}
	}
	if after := metricValue(fm, "raftkv_raft_applied_index"); after < before+writes {
		t.Errorf("follower %d: applied index gauge went from %v to %v over %d writes", follower, before, after, writes)
	}
	for name, ok := range map[string]bool{
		"not the leader":     metricValue(fm, "raftkv_raft_is_leader") == 0,
		"knows a leader":     metricValue(fm, "raftkv_raft_has_leader") == 1,
		"term of the leader": metricValue(fm, "raftkv_raft_term") == metricValue(lm, "raftkv_raft_term"),
		"fsyncs observed":    metricValue(fm, "raftkv_wal_fsync_duration_seconds") > 0,
	} {
		if !ok {
			t.Errorf("follower %d: want %s", follower, name)
		}
	}
}

// A member restarted while cut off reports, before it hears a leader, the
// term of its hard state (not 0), in its status and in its metrics; it
// keeps it while it only pre-votes, and follows the leader's once it is
// back.
func TestTermAfterRestart(t *testing.T) {
	c := testkit.NewCluster(t, 3, testkit.WithSeed(4), testkit.Deterministic(), testkit.WithRequestSteps(500))
	first := c.WaitLeader()
	// A second election, so that the term to remember is not the first.
	c.Isolate(first)
	c.Await("the others elect another leader", func() bool {
		for _, id := range c.Running() {
			if st, err := c.Status(id); err == nil && id != first && st.Leader != 0 && st.Leader != first {
				return true
			}
		}
		return false
	})
	c.Heal()
	leader := c.WaitLeader()
	if err := c.Put(leader, "term", "v"); err != nil {
		t.Fatal(err)
	}
	var member uint64
	for _, id := range c.Running() {
		if id != leader {
			member = id
		}
	}
	st, err := c.Status(member)
	if err != nil {
		t.Fatal(err)
	}
	term := st.Term
	if term < 2 {
		t.Fatalf("member %d is in term %d after two elections", member, term)
	}

	c.Isolate(member)
	c.Restart(member)
	check := func(when string) {
		t.Helper()
		st, err := c.Status(member)
		if err != nil {
			t.Fatal(err)
		}
		if st.Term != term || st.Leader != 0 || st.State == "leader" {
			t.Errorf("%s: status of member %d: term %d, leader %d, state %s; want term %d, no leader",
				when, member, st.Term, st.Leader, st.State, term)
		}
		if got := metricValue(scrape(t, c.Node(member)), "raftkv_raft_term"); got != float64(term) {
			t.Errorf("%s: member %d's raftkv_raft_term is %v, want %d", when, member, got, term)
		}
	}
	check("right after the restart")
	for range 200 { // many election timeouts of ticks, cut off: it pre-votes, never wins
		c.Step()
	}
	check("cut off for 200 steps")

	c.Heal()
	c.Await("the member follows a leader again", func() bool {
		st, err := c.Status(member)
		return err == nil && st.Leader != 0
	})
	lst, _ := c.Status(c.WaitLeader())
	if st, _ := c.Status(member); lst == nil || st.Term != lst.Term {
		t.Errorf("member %d is in term %d, its leader in %+v", member, st.Term, lst)
	}
}
