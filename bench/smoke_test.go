package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain runs an etcd member when the smoke test starts this binary as
// one (as cmd/raftkv-bench does itself), and the tests otherwise.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == EtcdMemberCommand {
		os.Exit(EtcdMemberMain(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSmoke runs the tool's smoke mode end to end: three raftkv members
// and three etcd members (this test binary as etcd-member), one round of
// two 1-second workloads, the CSV, the table and the plots; and it checks
// that every member it started is gone afterwards.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six server processes")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	cfg := Smoke(DefaultConfig(t.TempDir()))
	cfg.Self = []string{self}
	cfg.RaftkvBin = buildRaftkv(ctx, t)
	cfg.WorkDir = t.TempDir()
	cfg.Progress = testWriter{t}
	var stdout bytes.Buffer
	out, err := Run(ctx, cfg, &stdout)
	t.Cleanup(func() { killLeftovers(t, out.PIDs) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("table:\n%s", stdout.String())

	if len(out.Results) != 4 {
		t.Errorf("%d results, want 2 workloads × 2 systems", len(out.Results))
	}
	for _, r := range out.Results {
		if r.Ops == 0 || r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 || r.ServerCPU <= 0 ||
			len(r.PeakRSS) != 3 || r.PeakRSS[0] == 0 || len(r.Disk) != 3 || r.Disk[0] == 0 {
			t.Errorf("implausible result %+v", r)
		}
	}
	for _, w := range SmokeWorkloads() {
		for _, want := range []string{"| " + w.Name() + " | raftkv |", "|  | etcd |", "|  | raftkv/etcd |"} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("table lacks %q", want)
			}
		}
	}
	f, err := os.Open(filepath.Join(cfg.Out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if recs, err := csv.NewReader(f).ReadAll(); err != nil || len(recs) != 5 {
		t.Errorf("results.csv: %d records, %v; want a header and 4 rows", len(recs), err)
	}
	for _, name := range []string{"table.md", "throughput-vs-clients.svg", "latency-vs-clients.svg", "latency-by-workload.svg", "latency-by-workload.png"} {
		if fi, err := os.Stat(filepath.Join(cfg.Out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	expectGone(t, out.PIDs, 6, cfg.WorkDir)
}

// expectGone fails the test unless n processes were started, none of
// pids runs any more, and the work dir is empty.
func expectGone(t *testing.T, pids []int, n int, work string) {
	t.Helper()
	if len(pids) != n {
		t.Errorf("%d processes started, want %d", len(pids), n)
	}
	for _, pid := range pids {
		if running(pid) {
			t.Errorf("pid %d still runs", pid)
		}
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("work dir not removed: %v", entries)
	}
}

// buildRaftkv builds cmd/raftkv into a temporary dir, with the race
// detector if this binary has it (its packages are then those the e2e
// tests build, in the build cache).
func buildRaftkv(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "raftkv")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "../cmd/raftkv")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build raftkv: %v\n%s", err, out)
	}
	return bin
}

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || !strings.HasPrefix(string(b[i+1:]), " Z")
}

// killLeftovers kills any member that Run left (it should leave none).
func killLeftovers(t *testing.T, pids []int) {
	for _, pid := range pids {
		if running(pid) {
			err := syscall.Kill(pid, syscall.SIGKILL)
			if err != nil && !errors.Is(err, syscall.ESRCH) {
				t.Errorf("kill leftover member %d: %v", pid, err)
			}
		}
	}
}

// testWriter sends the progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestStoreSmoke runs the --store-keys measure on a few keys: one member
// loaded, killed and restarted, its numbers plausible, and nothing left
// running or on disk.
func TestStoreSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process twice")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cfg := DefaultConfig(t.TempDir())
	work := t.TempDir()
	rep, err := MeasureStore(ctx, StoreConfig{RaftkvBin: buildRaftkv(ctx, t), WorkDir: work, Keys: 500, ValueSize: 100,
		PortLo: cfg.PortLo, PortHi: cfg.PortHi})
	t.Cleanup(func() { killLeftovers(t, rep.PIDs) })
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := WriteStoreReport(&table, rep); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", table.String())
	if want := uint64(500 * (len(Key(100, 0)) + 100)); rep.LiveBytes != want || rep.RSS == 0 || rep.HWM < rep.RSS ||
		rep.Disk == 0 || rep.Snapshots+rep.WAL > rep.Disk || rep.WAL == 0 || rep.Load <= 0 || rep.Restart <= 0 ||
		rep.Between.P99 <= 0 {
		t.Errorf("implausible report %+v (live data should be %d bytes)", rep, want)
	}
	expectGone(t, rep.PIDs, 2, work)
}
