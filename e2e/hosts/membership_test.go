//go:build linux

package hosts

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

// expect sends a request to member id and fails the test unless the
// answer has status want.
func (c *hostCluster) expect(id uint64, method, path, body string, want int) []byte {
	c.t.Helper()
	code, b, err := c.do(id, method, path, []byte(body))
	if err != nil || code != want {
		c.t.Fatalf("%s %s on member %d: %d %s %v; want %d", method, path, id, code, b, err, want)
	}
	return b
}

// TestMemberMovesToANewAddress: a member is cut off, another host takes
// the address it had (a raftkv of another cluster, listening on the peer
// port), and the member comes back at a new address. The cluster reaches
// it again by name and it catches up; nobody mistakes the host at its old
// address for it.
func TestMemberMovesToANewAddress(t *testing.T) {
	c := newHostCluster(t, 3)
	leader := c.waitLeader()
	moved := leader%3 + 1 // a follower
	old := c.ip(moved)
	c.disconnect(moved)
	c.squat(old)
	var others []uint64
	for id := uint64(1); id <= 3; id++ {
		if id != moved {
			others = append(others, id)
		}
	}
	for i := range 5 {
		c.mustPut(others[i%2], fmt.Sprintf("away-%d", i), "x")
	}
	c.connect(moved, "")
	if c.ip(moved) == old {
		t.Fatalf("member %d came back at its old address %s, taken by another host", moved, old)
	}
	c.waitLeader()
	for i := range 5 {
		c.waitValue(moved, fmt.Sprintf("away-%d", i), "x")
	}
	c.mustPut(moved, "back", "at "+c.ip(moved))
	for _, id := range others {
		c.waitValue(id, "back", "at "+c.ip(moved))
	}
}

// TestLearnerJoinsFromALargeSnapshot: with more than 64 MiB in the store
// and the log compacted, a learner added to the cluster gets the store as
// a snapshot streamed in chunks (far over gRPC's message limits), catches
// up, is promoted to voter, and a voter is removed: it stops cleanly.
func TestLearnerJoinsFromALargeSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("long: writes 70 MiB")
	}
	c := newHostCluster(t, 3, "--snapshot-count", "20", "--catch-up-entries", "5")
	leader := c.waitLeader()
	value := strings.Repeat("v", 1<<20-64)
	for i := range 70 {
		c.mustPut(leader, fmt.Sprintf("big-%02d", i), fmt.Sprintf("%02d%s", i, value))
	}
	c.mustPut(leader, "last", "written")

	id := c.add()
	c.expect(leader, http.MethodPost, "/v1/members",
		fmt.Sprintf(`{"id":%d,"address":"node%d:%d","learner":true}`, id, id, peerPort), http.StatusCreated)
	start := time.Now()
	c.start(id, "--join")
	c.waitValue(id, "last", "written")
	t.Logf("the learner caught up in %v", time.Since(start))
	for _, i := range []int{0, 35, 69} {
		code, got, err := c.get(id, fmt.Sprintf("big-%02d", i))
		if err != nil || code != http.StatusOK || got != fmt.Sprintf("%02d%s", i, value) {
			t.Errorf("learner reads big-%02d: %d, %d bytes, %v", i, code, len(got), err)
		}
	}
	testkit.AwaitCondition(t, "the learner is promoted", func() bool {
		code, _, err := c.do(leader, http.MethodPost, fmt.Sprintf("/v1/members/%d/promote", id), nil)
		return err == nil && code == http.StatusOK
	}, 30*time.Second)

	gone := leader%3 + 1 // a voter that does not lead
	c.expect(id, http.MethodDelete, fmt.Sprintf("/v1/members/%d", gone), "", http.StatusOK)
	testkit.AwaitCondition(t, fmt.Sprintf("removed member %d stops", gone), func() bool {
		return c.pid(gone) == 0
	}, 30*time.Second)
	if state := c.docker("inspect", "-f", "{{.State.ExitCode}}", c.member(gone).container); state != "0" {
		t.Errorf("removed member %d exited with code %s, want 0", gone, state)
	}
	var members api.MembersReply
	if err := json.Unmarshal(c.expect(id, http.MethodGet, "/v1/members", "", http.StatusOK), &members); err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, m := range members.Members {
		roles = append(roles, fmt.Sprintf("%d:%s", m.ID, m.Role))
	}
	if len(members.Members) != 3 || strings.Contains(strings.Join(roles, " "), "learner") {
		t.Errorf("members %v, want three voters", roles)
	}
	c.mustPut(id, "after", "membership changes")
}
