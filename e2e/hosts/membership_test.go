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
	"github.com/raftkv/raftkv/internal/dockercluster"
	"github.com/raftkv/raftkv/testkit"
)

// expect sends a request to member id and fails the test unless the
// answer has status want.
func (c *hostCluster) expect(id uint64, method, path, body string, want int) []byte {
	c.t.Helper()
	code, b, err := c.Do(id, method, path, []byte(body))
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
	leader := c.WaitLeader()
	moved := leader%3 + 1 // a follower
	old := c.IP(moved)
	c.Disconnect(moved)
	c.Squat(old)
	var others []uint64
	for id := uint64(1); id <= 3; id++ {
		if id != moved {
			others = append(others, id)
		}
	}
	for i := range 5 {
		c.MustPut(others[i%2], fmt.Sprintf("away-%d", i), "x")
	}
	c.Connect(moved, "")
	if c.IP(moved) == old {
		t.Fatalf("member %d came back at its old address %s, taken by another host", moved, old)
	}
	c.WaitLeader()
	for i := range 5 {
		c.WaitValue(moved, fmt.Sprintf("away-%d", i), "x")
	}
	c.MustPut(moved, "back", "at "+c.IP(moved))
	for _, id := range others {
		c.WaitValue(id, "back", "at "+c.IP(moved))
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
	leader := c.WaitLeader()
	value := strings.Repeat("v", 1<<20-64)
	for i := range 70 {
		c.MustPut(leader, fmt.Sprintf("big-%02d", i), fmt.Sprintf("%02d%s", i, value))
	}
	c.MustPut(leader, "last", "written")

	id := c.Add()
	c.expect(leader, http.MethodPost, "/v1/members",
		fmt.Sprintf(`{"id":%d,"address":"node%d:%d","learner":true}`, id, id, dockercluster.PeerPort), http.StatusCreated)
	start := time.Now()
	c.Start(id, "--join")
	c.WaitValue(id, "last", "written")
	t.Logf("the learner caught up in %v", time.Since(start))
	for _, i := range []int{0, 35, 69} {
		code, got, err := c.Get(id, fmt.Sprintf("big-%02d", i))
		if err != nil || code != http.StatusOK || got != fmt.Sprintf("%02d%s", i, value) {
			t.Errorf("learner reads big-%02d: %d, %d bytes, %v", i, code, len(got), err)
		}
	}
	testkit.AwaitCondition(t, "the learner is promoted", func() bool {
		code, _, err := c.Do(leader, http.MethodPost, fmt.Sprintf("/v1/members/%d/promote", id), nil)
		return err == nil && code == http.StatusOK
	}, 30*time.Second)

	gone := leader%3 + 1 // a voter that does not lead
	c.expect(id, http.MethodDelete, fmt.Sprintf("/v1/members/%d", gone), "", http.StatusOK)
	testkit.AwaitCondition(t, fmt.Sprintf("removed member %d stops", gone), func() bool {
		return c.PID(gone) == 0
	}, 30*time.Second)
	if state := c.Docker("inspect", "-f", "{{.State.ExitCode}}", c.Container(gone)); state != "0" {
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
	c.MustPut(id, "after", "membership changes")
}
