//go:build linux

package robustness

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftkv/raftkv/internal/dockercluster"
)

var (
	seedFlag = flag.Uint64("seed", 0,
		"seed of the scenarios' choices (operations, keys, victims); 0: a new one for each scenario run")
	soakDuration = flag.Duration("soak.duration", 0,
		"TestSoak runs the scenarios in a loop for this long (0: TestSoak is skipped)")
)

func TestMain(m *testing.M) {
	start := time.Now()
	// The members run raftkv built with the failpoints of package
	// failpoint (a slow disk), evaluated with gofail.
	code := dockercluster.Main(m, dockercluster.Options{Name: "robustness", Tags: []string{"failpoints"}})
	if s := totals.String(time.Since(start)); s != "" {
		fmt.Print(s)
	}
	os.Exit(code)
}

// totals are the figures of every scenario run of the test binary.
var totals summary

// summary adds up scenario runs.
type summary struct {
	mu         sync.Mutex
	runs       int
	ops        int // recorded in histories
	unknown    int // of them, writes of unknown outcome
	unique     int // acknowledged writes of unique keys
	faults     int
	histories  int // checked
	linBad     int // histories not linearizable
	undecided  int // histories porcupine gave up on
	serBad     int // serializable reads that break their promise
	lostWrites int
	failed     []string // scenario and seed of each failed run
}

// add counts run r.
func (s *summary) add(r *run) {
	ops, unknown := r.rec.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs++
	s.ops += ops
	s.unknown += unknown
	s.unique += r.acked
	s.faults += r.faults
	if r.checked {
		s.histories++
	}
	if r.linBad {
		s.linBad++
	}
	if r.undecided {
		s.undecided++
	}
	s.serBad += r.serBad
	s.lostWrites += r.lost
	if r.t.Failed() {
		s.failed = append(s.failed, fmt.Sprintf("%s (seed %d)", r.name, r.seed))
	}
}

// String is the summary to print, "" when no scenario ran.
func (s *summary) String(elapsed time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "robustness summary: %d scenario runs in %v\n", s.runs, elapsed.Round(time.Second))
	fmt.Fprintf(&b, "  operations:        %d recorded (%d writes of unknown outcome), %d acknowledged writes of unique keys\n",
		s.ops, s.unknown, s.unique)
	fmt.Fprintf(&b, "  faults injected:   %d\n", s.faults)
	fmt.Fprintf(&b, "  histories checked: %d\n", s.histories)
	fmt.Fprintf(&b, "  violations:        %d (histories not linearizable %d, undecided %d, serializable reads %d)\n",
		s.linBad+s.undecided+s.serBad, s.linBad, s.undecided, s.serBad)
	fmt.Fprintf(&b, "  lost writes:       %d\n", s.lostWrites)
	if len(s.failed) > 0 {
		fmt.Fprintf(&b, "  failed runs:       %s\n", strings.Join(s.failed, ", "))
	}
	return b.String()
}
