package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/internal/version"
	"github.com/raftkv/raftkv/testkit"
)

func status(t *testing.T) (api.StatusReply, map[string]json.RawMessage) {
	t.Helper()
	r := mustDo(t, http.StatusOK, call{method: http.MethodGet, path: "/v1/status"})
	var reply api.StatusReply
	r.json(t, &reply)
	var fields map[string]json.RawMessage
	r.json(t, &fields)
	return reply, fields
}

// GET /v1/status tells who the member is (id, name, version), its raft
// state, what its store holds (revision, keys) and takes on disk, and the
// members with their role and, on the leader, reachability; its JSON
// fields are snake_case.
func TestStatus(t *testing.T) {
	clean(t, "status/")
	before, fields := status(t)
	for _, name := range []string{"id", "name", "version", "leader", "state", "term", "commit", "applied", "serving",
		"revision", "keys", "data_size_bytes", "cluster_id", "members"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("the status has no field %q: %v", name, fields)
		}
	}
	if before.ID != 1 || before.Name != "member-1" || before.Version != version.Get().Version {
		t.Errorf("status %+v, want member 1 named member-1 running %s", before, version.Get().Version)
	}
	if before.Leader != 1 || before.State != "leader" || before.Term < 1 || !before.Serving ||
		before.Commit < before.Applied || before.Applied == 0 {
		t.Errorf("status %+v, want the serving leader of a term >= 1, applied <= commit", before)
	}
	if before.DataSizeBytes <= 0 {
		t.Errorf("data_size_bytes %d, want the WAL's preallocated segment at least", before.DataSizeBytes)
	}
	if len(before.Members) != 1 {
		t.Fatalf("members %+v, want one", before.Members)
	}
	if m := before.Members[0]; m.ID != 1 || m.Role != api.RoleVoter || !m.IsLeader || m.Reachable == nil || !*m.Reachable {
		t.Errorf("member %+v, want voter 1, the leader, reachable", m)
	}

	putJSON(t, "status/a", "1")
	put := putJSON(t, "status/b", "2")
	// The status is raftnode's view, which hears of an apply right after
	// the write's answer leaves: it shows the keys soon, not at once.
	var after api.StatusReply
	if !testkit.Eventually(func() bool {
		after, _ = status(t)
		return after.Keys == before.Keys+2 && after.Revision >= put.Revision && after.Applied > before.Applied
	}) {
		t.Errorf("after two new keys: keys %d, revision %d, applied %d; before: keys %d, applied %d, put at revision %d",
			after.Keys, after.Revision, after.Applied, before.Keys, before.Applied, put.Revision)
	}
}
