//go:build linux

package hosts

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/internal/dockercluster"
	"github.com/raftkv/raftkv/testkit"
)

// TestFullDiskRaisesNoSpaceAlarm: member 3 keeps its data on a small
// tmpfs, which the test fills until less than the member's
// --space-reserve is free. Every member then shows the NOSPACE alarm in
// its status and refuses writes with 507 no_space, wherever they are sent;
// reads keep being served. Once the filler is removed the alarm clears,
// writes resume, and nothing acknowledged was lost — the member never
// stopped.
func TestFullDiskRaisesNoSpaceAlarm(t *testing.T) {
	// The WAL preallocates 16 MiB segments, the one it writes and the
	// next one: 64 MiB leaves room for both and the reserve, and less
	// than 40 MiB free once both are there.
	c := newHostClusterOnTmpfs(t, 3, map[uint64]string{3: "64m"}, "--space-reserve", "16")
	c.WaitLeader()
	for i := range 20 {
		c.MustPut(uint64(i%3+1), fmt.Sprintf("before-%d", i), fmt.Sprint(i))
	}

	dataDir := fmt.Sprintf("/proc/%d/root/data", c.PID(3))
	var fs unix.Statfs_t
	testkit.AwaitCondition(t, "member 3 has preallocated its two WAL segments", func() bool {
		if err := unix.Statfs(dataDir, &fs); err != nil {
			t.Fatalf("statfs of member 3's data dir: %v", err)
		}
		return int64(fs.Bavail)*fs.Bsize < 40<<20
	}, 20*time.Second)
	free := int64(fs.Bavail) * fs.Bsize
	filler := filepath.Join(dataDir, "filler")
	if err := os.WriteFile(filler, make([]byte, free-8<<20), 0o600); err != nil {
		t.Fatalf("fill member 3's disk to 8 MiB free: %v", err)
	}
	t.Logf("member 3 had %d MiB free; filled it to 8 MiB", free>>20)

	noSpace := []api.Alarm{{Member: 3, Alarm: api.AlarmNoSpace}}
	for id := uint64(1); id <= 3; id++ {
		testkit.AwaitCondition(t, fmt.Sprintf("member %d shows member 3's NOSPACE alarm", id), func() bool {
			st, err := c.Status(id)
			return err == nil && slices.Equal(st.Alarms, noSpace)
		}, 20*time.Second)
	}
	for id := uint64(1); id <= 3; id++ {
		code, body, err := c.Do(id, http.MethodPut, "/v1/kv/during", []byte(`{"value":"eA=="}`))
		if err != nil || code != http.StatusInsufficientStorage || !jsonHasCode(body, "no_space") {
			t.Errorf("PUT through member %d under the alarm: %d %s (%v), want 507 no_space", id, code, body, err)
		}
		if code, got, err := c.Get(id, "before-7"); err != nil || code != http.StatusOK || got != "7" {
			t.Errorf("GET through member %d under the alarm: %d %q (%v), want 200 7", id, code, got, err)
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatalf("remove the filler: %v", err)
	}
	for id := uint64(1); id <= 3; id++ {
		testkit.AwaitCondition(t, fmt.Sprintf("member %d shows no alarm", id), func() bool {
			st, err := c.Status(id)
			return err == nil && len(st.Alarms) == 0
		}, 20*time.Second)
	}
	for id := uint64(1); id <= 3; id++ {
		c.MustPut(id, fmt.Sprintf("after-%d", id), "x")
	}
	for i := range 20 {
		for id := uint64(1); id <= 3; id++ {
			if code, got, err := c.Get(id, fmt.Sprintf("before-%d", i)); err != nil || code != http.StatusOK || got != fmt.Sprint(i) {
				t.Errorf("member %d: before-%d = %d %q (%v), want 200 %d", id, i, code, got, err, i)
			}
		}
	}
	if code, _, err := c.Get(1, "during"); err != nil || code != http.StatusNotFound {
		t.Errorf("the refused write: GET /during = %d (%v), want 404", code, err)
	}
}

// jsonHasCode tells that body is an error answer with code.
func jsonHasCode(body []byte, code string) bool {
	var e api.ErrorReply
	return json.Unmarshal(body, &e) == nil && e.Code == code
}

// TestStartOnASmallDiskSaysWhy: a new member whose data dir has less room
// than a WAL segment does not start, and says why and what to do.
func TestStartOnASmallDiskSaysWhy(t *testing.T) {
	dockercluster.Require(t)
	name := fmt.Sprintf("rkh-smalldisk-%s", dockercluster.RandomHex(3))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = dockercluster.Docker(ctx, "rm", "-f", name)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := dockercluster.Docker(ctx, "run", "--name", name, "--label", dockercluster.Label(), "--network", "none",
		"--tmpfs", "/data:size=10m", dockercluster.Image(), "--id", "1", "--cluster", "http://127.0.0.1:12379")
	if err == nil {
		t.Fatal("a member started on a 10 MiB disk")
	}
	// The member's log (its standard error) is in err.
	if logs := err.Error(); !strings.Contains(logs, "preallocates segments of 16 MiB") || !strings.Contains(logs, "MiB free") {
		t.Errorf("the member stopped without saying that its disk is too small:\n%s", logs)
	}
}
