package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// lease grant, show, keepalive and revoke, and their failures.
func TestLeaseCommands(t *testing.T) {
	c := newCLICluster(t, 1)
	id := strings.TrimSpace(c.must(t, "", "lease", "grant", "30s"))
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		t.Fatalf("lease grant printed %q", id)
	}
	c.must(t, "", "put", "l/a", "1", "--lease", id)
	if out := c.must(t, "", "lease", "show", id); !strings.HasSuffix(out, " 1 keys\nl/a\n") {
		t.Errorf("show printed %q, want l/a", out)
	}
	c.expect(t, ExitFailed, "not found", "", "put", "l/b", "1", "--lease", "424242")
	if out := c.must(t, "", "lease", "keepalive", id); out != "lease "+id+" renewed for 30s\n" {
		t.Errorf("keepalive printed %q", out)
	}
	if out := c.must(t, "", "lease", "show", id); !strings.HasPrefix(out, "lease "+id+": TTL 30s, ") {
		t.Errorf("show printed %q", out)
	}
	if out := c.must(t, "", "lease", "revoke", id); out != "lease "+id+" revoked\n" {
		t.Errorf("revoke printed %q", out)
	}
	c.expect(t, ExitFailed, "not found", "", "lease", "revoke", id)
	c.expect(t, ExitFailed, "not found", "", "lease", "keepalive", id)
	c.expect(t, ExitUsage, "Go duration", "", "lease", "grant", "soon")
	c.expect(t, ExitUsage, "ttl", "", "lease", "grant", "0s")
	c.expect(t, ExitUsage, "want a number", "", "lease", "show", "x")
}

// lock runs a command under the lock, with its exit code; two at once never
// overlap.
func TestLockCommand(t *testing.T) {
	c := newCLICluster(t, 1)
	r := c.run("", "lock", "jobs", "--", "sh", "-c", "echo under the lock; exit 3")
	if r.code != 3 || r.stdout != "under the lock\n" {
		t.Errorf("lock -- sh: %v, want exit 3 and the command's output", r)
	}
	marker := filepath.Join(t.TempDir(), "held")
	script := fmt.Sprintf("test ! -e %[1]s && touch %[1]s && sleep 0.2 && rm %[1]s", marker)
	var wg sync.WaitGroup
	results := make([]cliResult, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.run("", "lock", "jobs", "--", "sh", "-c", script)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != ExitOK {
			t.Errorf("lock %d: %v; two held the lock at once?", i, r)
		}
	}
}
