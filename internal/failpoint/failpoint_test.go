//go:build failpoints

package failpoint

import (
	"testing"
	"time"

	gofail "go.etcd.io/gofail/runtime"
)

// TestInjectFollowsTerms: with the tag failpoints, every name of Names is
// known to gofail, off by default, and a sleep set at run time makes
// Inject take that long, until the failpoint is disabled again.
func TestInjectFollowsTerms(t *testing.T) {
	for _, n := range Names {
		if _, _, err := gofail.Status(string(n)); err != gofail.ErrDisabled {
			t.Errorf("failpoint %s: status error %v, want it registered and off", n, err)
		}
	}
	start := time.Now()
	Inject(PersisterBeforeSave)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Inject of a failpoint that is off took %v", d)
	}
	if err := gofail.Enable(string(PersisterBeforeSave), "sleep(100)"); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	Inject(PersisterBeforeSave)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("Inject under sleep(100) returned after %v", d)
	}
	if _, count, err := gofail.Status(string(PersisterBeforeSave)); err != nil || count != 1 {
		t.Errorf("failpoint count %d (%v), want 1", count, err)
	}
	if err := gofail.Disable(string(PersisterBeforeSave)); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Inject of a name missing from Names did not panic")
		}
	}()
	Inject("noSuchFailpoint")
}
