package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

func TestReplicationToAllMembers(t *testing.T) {
	c := newCluster(t, 3)
	for id := uint64(1); id <= 3; id++ {
		c.mustPut(id, fmt.Sprintf("key-%d", id), fmt.Sprintf("value-%d", id))
	}
	for reader := uint64(1); reader <= 3; reader++ {
		for writer := uint64(1); writer <= 3; writer++ {
			// Reads are linearizable: no waiting needed after a 204.
			code, got, err := c.get(reader, fmt.Sprintf("key-%d", writer))
			if err != nil || code != http.StatusOK || got != fmt.Sprintf("value-%d", writer) {
				t.Errorf("member %d reads key-%d: status %d %q err %v", reader, writer, code, got, err)
			}
		}
	}
	if code, _, _ := c.get(2, "missing"); code != http.StatusNotFound {
		t.Errorf("missing key: status %d, want 404", code)
	}
}

func TestLeaderKillElectsNewLeaderAndRejoins(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "before", "1")
	old := c.waitLeader()
	c.kill(old)

	leader := c.waitLeader()
	if leader == old {
		t.Fatalf("leader is still the killed member %d", old)
	}
	for id := uint64(1); id <= 3; id++ {
		if id != old {
			c.mustPut(id, fmt.Sprintf("after-%d", id), "2")
		}
	}
	c.start(old, false)
	for id := uint64(1); id <= 3; id++ {
		if id != old {
			c.waitValue(old, fmt.Sprintf("after-%d", id), "2")
		}
	}
	c.waitValue(old, "before", "1")
}

func TestWriteWithoutQuorumFailsWithin503(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "k", "v")
	c.kill(2)
	c.kill(3)
	start := time.Now()
	code, err := c.put(1, "k", "lost?")
	if err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("write without quorum: status %d err %v, want 503", code, err)
	}
	if d := time.Since(start); d > testkit.Dilated(20*time.Second) {
		t.Errorf("write without quorum took %v, want a bounded wait", d)
	}
	// Once the member knows it has no leader, it says so at once, for
	// writes and linearizable reads alike: nothing was done, a client may
	// go elsewhere. A serializable read still answers.
	testkit.AwaitCondition(t, "member 1 knows it has no leader", func() bool {
		st, err := c.status(1)
		return err == nil && st.Leaderless
	}, 20*time.Second)
	for _, req := range []struct{ method, path, body string }{
		{http.MethodPut, "/k", "lost again?"},
		{http.MethodGet, "/k", ""},
		{http.MethodPut, "/v1/kv/k?timeout=30s", `{"value":"bG9zdA=="}`},
		{http.MethodGet, "/v1/kv/k?timeout=30s", ""},
		{http.MethodPost, "/v1/members?timeout=30s", `{"id":9,"address":"127.0.0.1:9"}`},
	} {
		start := time.Now()
		code, body, err := c.do(req.method, c.url(1, req.path), []byte(req.body))
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"no_leader"`) {
			t.Errorf("%s %s without a leader: %d %s %v, want 503 no_leader", req.method, req.path, code, body, err)
		}
		if d := time.Since(start); d > testkit.Dilated(10*time.Second) {
			t.Errorf("%s %s without a leader took %v, want an answer at once, not at the deadline", req.method, req.path, d)
		}
	}
	if code, body, err := c.do(http.MethodGet, c.url(1, "/v1/kv/k?consistency=serializable"), nil); err != nil || code != http.StatusOK {
		t.Errorf("serializable read without a leader: %d %s %v, want 200", code, body, err)
	}
	// The old value is still what a quorum agrees on once members return.
	c.start(2, false)
	c.waitLeader()
	code, got, _ := c.get(2, "k")
	if code != http.StatusOK || (got != "v" && got != "lost?") {
		t.Errorf("after quorum returns: status %d value %q", code, got)
	}
}

func TestFullClusterRestartKeepsData(t *testing.T) {
	c := newCluster(t, 3)
	for i := range 30 {
		c.mustPut(uint64(i%3+1), fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
	for id := uint64(1); id <= 3; id++ {
		c.stop(id)
	}
	for id := uint64(1); id <= 3; id++ {
		c.start(id, false)
	}
	c.waitLeader()
	for i := range 30 {
		c.waitValue(uint64((i+1)%3+1), fmt.Sprintf("k%02d", i), fmt.Sprint(i))
	}
}

func TestSnapshotCompactionAndRestart(t *testing.T) {
	c := newCluster(t, 3, "--snapshot-count", "20", "--catch-up-entries", "5")
	lagger := c.waitLeader()%3 + 1 // a follower
	up := []uint64{lagger%3 + 1, (lagger+1)%3 + 1}
	c.kill(lagger)
	for i := range 120 {
		c.mustPut(up[i%2], fmt.Sprintf("k%03d", i), fmt.Sprint(i))
	}
	for _, id := range up {
		snaps, _ := filepath.Glob(filepath.Join(c.dataDir(id), "snap", "*.snap"))
		if len(snaps) == 0 || len(snaps) > 5 {
			t.Errorf("member %d has %d snapshot files, want 1..5 (old ones purged)", id, len(snaps))
		}
	}
	// The lagging member missed everything and the log it needs is
	// compacted away: it must catch up from a snapshot sent by the leader.
	c.start(lagger, false)
	c.waitValue(lagger, "k119", "119")
	code, got, _ := c.get(lagger, "k000")
	if code != http.StatusOK || got != "0" {
		t.Errorf("member %d after snapshot catch-up reads k000: %d %q", lagger, code, got)
	}
	// A full restart recovers from snapshot + WAL.
	for id := uint64(1); id <= 3; id++ {
		c.stop(id)
	}
	for id := uint64(1); id <= 3; id++ {
		c.start(id, false)
	}
	c.waitLeader()
	for i := 0; i < 120; i += 7 {
		c.waitValue(uint64(i%3+1), fmt.Sprintf("k%03d", i), fmt.Sprint(i))
	}
}

func TestAddAndRemoveMember(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "k", "v")
	id := c.addSlot()
	code, _, err := c.do(http.MethodPost, c.url(1, fmt.Sprintf("/%d", id)), []byte("http://"+c.peers[id-1]))
	if err != nil || code != http.StatusNoContent {
		t.Fatalf("POST /%d: status %d err %v", id, code, err)
	}
	c.start(id, true)
	c.waitValue(id, "k", "v")
	c.mustPut(id, "from-new", "yes")
	c.waitValue(2, "from-new", "yes")

	// Adding it again is refused and changes nothing.
	code, body, _ := c.do(http.MethodPost, c.url(2, fmt.Sprintf("/%d", id)), []byte(c.peers[id-1]))
	if code != http.StatusConflict {
		t.Errorf("adding an existing member: status %d %s, want 409", code, body)
	}

	// Removing member 3 makes its process exit on its own.
	code, _, err = c.do(http.MethodDelete, c.url(1, "/3"), nil)
	if err != nil || code != http.StatusNoContent {
		t.Fatalf("DELETE /3: status %d err %v", code, err)
	}
	select {
	case <-c.procs[3].exited:
	case <-time.After(testkit.Dilated(20 * time.Second)):
		t.Fatal("removed member 3 did not shut down")
	}
	if err := c.procs[3].err; err != nil {
		t.Errorf("removed member 3 exited with %v, want a clean exit", err)
	}
	// It refuses to start again from its data dir, and says why.
	removed := exec.Command(binPath, "--id", "3", "--cluster", strings.Join(c.peers[:3], ","),
		"--port", fmt.Sprint(c.http[2]), "--data-dir", c.dataDir(3))
	out, err := removed.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "removed from its cluster") {
		t.Errorf("restarting removed member 3: %v\n%s\nwant a refusal that says it was removed", err, tail(string(out), 10))
	}
	// Membership changes right after a leader change may time out (raft
	// refuses a change while the previous one is unapplied): clients retry.
	testkit.AwaitCondition(t, "DELETE /3 gets an answer other than 503", func() bool {
		code, body, _ = c.do(http.MethodDelete, c.url(1, "/3"), nil)
		return code != http.StatusServiceUnavailable
	}, 30*time.Second)
	if code != http.StatusNotFound {
		t.Errorf("removing a removed member: status %d %s, want 404", code, body)
	}
	st, err := c.status(1)
	if err != nil {
		t.Fatal(err)
	}
	if ms := membersOf(st); ms[3] != (api.Member{}) || len(ms) != 3 {
		t.Errorf("members after add 4 and remove 3: %v", st.Members)
	}
	c.mustPut(4, "after-remove", "ok")
	c.waitValue(1, "after-remove", "ok")
}

func TestBadInputChangesNothing(t *testing.T) {
	c := newCluster(t, 1)
	c.mustPut(1, "k", "v")
	big := strings.Repeat("x", 1<<20+1)
	tests := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPut, "/", "v", http.StatusBadRequest},
		{http.MethodPut, "/" + strings.Repeat("k", 4097), "v", http.StatusBadRequest},
		{http.MethodPut, "/k", big, http.StatusRequestEntityTooLarge},
		{http.MethodPatch, "/k", "v", http.StatusMethodNotAllowed},
		{http.MethodPost, "/abc", "127.0.0.1:1", http.StatusBadRequest},
		{http.MethodPost, "/0", "127.0.0.1:1", http.StatusBadRequest},
		{http.MethodPost, "/7", "not an address", http.StatusBadRequest},
		{http.MethodPost, "/1", "127.0.0.1:12379", http.StatusConflict},
		{http.MethodPost, "/18446744073709551615", "127.0.0.1:7777", http.StatusBadRequest}, // no member can have that id
		{http.MethodPost, "/9007199254740992", "127.0.0.1:7777", http.StatusBadRequest},
		{http.MethodPost, "/v1/members", `{"id":18446744073709551615,"address":"127.0.0.1:7777"}`, http.StatusBadRequest},
		{http.MethodPost, "/v1/members", `{"id":7,"address":"` + c.peers[0] + `"}`, http.StatusConflict}, // member 1's address
		{http.MethodPost, "/7", "http://" + c.peers[0] + "/", http.StatusConflict},                       // the same, spelt otherwise
		{http.MethodPost, "/v1/members", `{"id":7,"address":"host/x:1"}`, http.StatusBadRequest},
		{http.MethodPost, "/v1/members/1/promote", "", http.StatusConflict},
		{http.MethodPost, "/v1/members/9/promote", "", http.StatusNotFound},
		{http.MethodDelete, "/1", "", http.StatusConflict}, // the last voter
		{http.MethodDelete, "/9", "", http.StatusNotFound},
		{http.MethodDelete, "/x", "", http.StatusBadRequest},
	}
	for i, tt := range tests {
		code, body, err := c.do(tt.method, c.url(1, tt.path), []byte(tt.body))
		if err != nil || code != tt.want {
			t.Errorf("%d: %s %.40s: status %d %s err %v, want %d", i, tt.method, tt.path, code, body, err, tt.want)
			continue
		}
		if !strings.Contains(string(body), `"error"`) {
			t.Errorf("%d: %s %.40s: body %q has no error reason", i, tt.method, tt.path, body)
		}
	}
	code, got, _ := c.get(1, "k")
	if code != http.StatusOK || got != "v" {
		t.Errorf("after bad input k = %d %q, want 200 v", code, got)
	}
	st, _ := c.status(1)
	if len(st.Members) != 1 {
		t.Errorf("bad member requests changed membership: %v", st.Members)
	}
}

// A member that stops cleanly, and starts again, is an expected disconnect
// for the others: nobody logs an error for it.
func TestCleanStopLogsNoError(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "k", "v")
	for _, id := range []uint64{3, 2} {
		c.stop(id)
		c.mustPut(1, "while-down", fmt.Sprint(id))
		c.start(id, false)
		c.waitValue(id, "while-down", fmt.Sprint(id))
	}
	for id := uint64(1); id <= 3; id++ {
		for _, line := range strings.Split(c.logOf(c.procs[id]), "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("member %d logged an error: %s", id, line)
			}
		}
	}
}
