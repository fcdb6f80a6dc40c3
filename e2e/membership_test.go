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

// expect sends a request to member id and fails the test unless the answer
// has status want (and, for an error, code).
func (c *cluster) expect(id uint64, method, path, body string, want int, code string) []byte {
	c.t.Helper()
	got, b, err := c.do(method, c.url(id, path), []byte(body))
	if err != nil || got != want || (code != "" && !strings.Contains(string(b), `"code":"`+code+`"`)) {
		c.t.Fatalf("%s %s on member %d: %d %s %v; want %d %s", method, path, id, got, b, err, want, code)
	}
	return b
}

// countLines counts the lines of member id's log that contain s.
func (c *cluster) countLines(id uint64, s string) int {
	return strings.Count(c.logOf(c.procs[id]), s)
}

// A member added after the log was compacted must get a snapshot that
// describes a membership including it, or it rejects the snapshot and the
// leader sends it again, in a loop. raftkv sends a snapshot of the current
// state, made for the receiver: the new member catches up, and the leader
// sends it one snapshot, not thousands.
func TestNewMemberCatchesUpAfterCompaction(t *testing.T) {
	c := newCluster(t, 3, "--snapshot-count", "50", "--catch-up-entries", "10")
	for i := range 400 {
		c.mustPut(uint64(i%3+1), fmt.Sprintf("k%03d", i), fmt.Sprint(i))
	}
	leader := c.waitLeader()
	id := c.addSlot()
	c.expect(leader, http.MethodPost, fmt.Sprintf("/%d", id), "http://"+c.peers[id-1], http.StatusNoContent, "")
	c.start(id, true)
	c.waitValue(id, "k399", "399")
	for i := 0; i < 400; i += 37 {
		code, got, err := c.get(id, fmt.Sprintf("k%03d", i))
		if err != nil || code != http.StatusOK || got != fmt.Sprint(i) {
			t.Errorf("new member reads k%03d: %d %q %v", i, code, got, err)
		}
	}
	if n := c.countLines(id, "ignored snapshot"); n > 0 {
		t.Errorf("the new member ignored %d snapshots", n)
	}
	sent := 0
	for m := uint64(1); m <= 3; m++ {
		sent += c.countLines(m, `msg="sending a snapshot"`)
	}
	if sent == 0 || sent > 3 {
		t.Errorf("the members sent %d snapshots to the new one, want 1 (a few at most)", sent)
	}
}

// A change the cluster refuses changes nothing anywhere: adding an existing
// id under a new address (409) once moved that member's address on the
// members that had no link to it yet, and after a restart the cluster lost
// it for good.
func TestRefusedChangeChangesNothing(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "k", "v")
	before, err := c.status(1)
	if err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= 3; id++ {
		c.expect(id, http.MethodPost, "/v1/members", `{"id":2,"address":"127.0.0.1:1"}`, http.StatusConflict, "member_exists")
		c.expect(id, http.MethodPost, "/2", "127.0.0.1:1", http.StatusConflict, "member_exists")
	}
	for id := uint64(1); id <= 3; id++ {
		st, err := c.status(id)
		if err != nil || membersOf(st)[2].Address != membersOf(before)[2].Address {
			t.Errorf("member %d lists member 2 at %q (%v), want %q", id, membersOf(st)[2].Address, err, membersOf(before)[2].Address)
		}
	}
	for id := uint64(1); id <= 3; id++ {
		c.stop(id)
	}
	for id := uint64(1); id <= 3; id++ {
		c.start(id, false)
	}
	c.waitLeader()
	c.mustPut(2, "after", "restart")
	for id := uint64(1); id <= 3; id++ {
		c.waitValue(id, "after", "restart")
	}
}

// Removing the only voter would leave a cluster that can never commit
// again, and once did: every restart then failed with "removed all
// voters". It is refused, and the member goes on serving.
func TestRemovingTheLastVoterIsRefused(t *testing.T) {
	c := newCluster(t, 1)
	c.mustPut(1, "k", "v")
	c.expect(1, http.MethodDelete, "/1", "", http.StatusConflict, "unsafe_change")
	c.expect(1, http.MethodDelete, "/v1/members/1", "", http.StatusConflict, "unsafe_change")
	c.stop(1)
	c.start(1, false)
	c.waitLeader()
	c.waitValue(1, "k", "v")
}

// Replacing a failed member: remove it (allowed while the others form a
// quorum; removing a healthy member is not, as it would leave too few
// voters that respond), add a learner, let it catch up, promote it.
func TestReplaceAFailedMember(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "k", "v")
	c.kill(3)
	leader := c.waitLeader()
	healthy := 3 - leader // of members 1 and 2, the one that does not lead
	// The leader learns that member 3 stopped answering within an election
	// timeout.
	testkit.AwaitCondition(t, "the leader sees member 3 unreachable", func() bool {
		st, err := c.status(leader)
		m := membersOf(st)[3]
		return err == nil && m.Reachable != nil && !*m.Reachable
	}, 20*time.Second)
	c.expect(leader, http.MethodDelete, fmt.Sprintf("/v1/members/%d", healthy), "", http.StatusConflict, "unsafe_change")
	c.expect(healthy, http.MethodDelete, "/v1/members/3", "", http.StatusOK, "")

	id := c.addSlot()
	c.expect(healthy, http.MethodPost, "/v1/members",
		fmt.Sprintf(`{"id":%d,"address":%q,"learner":true}`, id, c.peers[id-1]), http.StatusCreated, "")
	// Promoting it before it has the log is refused.
	c.expect(leader, http.MethodPost, fmt.Sprintf("/v1/members/%d/promote", id), "", http.StatusConflict, "learner_not_ready")
	c.start(id, true)
	c.waitValue(id, "k", "v")
	testkit.AwaitCondition(t, "the learner is promoted", func() bool {
		code, _, err := c.do(http.MethodPost, c.url(leader, fmt.Sprintf("/v1/members/%d/promote", id)), nil)
		return err == nil && code == http.StatusOK
	}, 20*time.Second)
	// The promotion applied on the leader; the new member applies it a
	// moment later.
	want := fmt.Sprint(map[uint64]string{1: "voter", 2: "voter", id: "voter"})
	testkit.AwaitCondition(t, "the new member sees itself a voter beside 1 and 2", func() bool {
		var members api.MembersReply
		if err := json.Unmarshal(c.expect(id, http.MethodGet, "/v1/members", "", http.StatusOK, ""), &members); err != nil {
			t.Fatal(err)
		}
		roles := map[uint64]string{}
		for _, m := range members.Members {
			roles[m.ID] = m.Role
		}
		return fmt.Sprint(roles) == want
	}, 10*time.Second)
	c.mustPut(id, "via", "new member")
	c.waitValue(healthy, "via", "new member")
}

// A member reached by its peers under another name than the one it
// advertises (here the cluster added it as 127.0.0.1:port, and it calls
// itself localhost:port) once sent every message that arrived for that
// name back out to it, looping at full CPU. It now takes them, catches up,
// and warns about the name.
func TestMemberReachedUnderAnotherName(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "k", "v")
	id := c.addSlot()
	c.expect(1, http.MethodPost, "/v1/members", fmt.Sprintf(`{"id":%d,"address":%q}`, id, c.peers[id-1]), http.StatusCreated, "")
	port := c.peers[id-1][strings.LastIndex(c.peers[id-1], ":")+1:]
	c.startWith(id, true, "--advertise-peer", "localhost:"+port)
	c.waitValue(id, "k", "v")
	c.mustPut(id, "from", "alias")
	c.waitValue(1, "from", "alias")
	if c.countLines(id, "reaches this one by another name") == 0 {
		t.Error("the member did not warn that it is reached under another name")
	}
}

// A member that starts with --join before the cluster added it knows no
// membership and does not serve; once added, it catches up and serves. A
// member restarted reports its term at once.
func TestJoiningMemberServesOnlyOnceAMember(t *testing.T) {
	c := newCluster(t, 3)
	c.mustPut(1, "k", "v")
	id := c.addSlot()
	c.start(id, true)
	st, err := c.status(id)
	if err != nil || st.Serving || len(st.Members) != 0 {
		t.Fatalf("status of a member not added yet: %+v %v; want not serving, no members", st, err)
	}
	c.expect(id, http.MethodGet, "/k", "", http.StatusServiceUnavailable, "not_ready")
	c.expect(1, http.MethodPost, fmt.Sprintf("/%d", id), c.peers[id-1], http.StatusNoContent, "")
	c.waitValue(id, "k", "v")

	before, err := c.status(2)
	if err != nil {
		t.Fatal(err)
	}
	c.stop(2)
	c.start(2, false)
	if st, err := c.status(2); err != nil || st.Term < before.Term {
		t.Errorf("status right after a restart: %+v %v; want term at least %d", st, err, before.Term)
	}
}
