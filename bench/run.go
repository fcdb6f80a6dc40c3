package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	etcdversion "go.etcd.io/etcd/api/v3/version"
)

// Config is what a run compares.
type Config struct {
	// RaftkvBin is the raftkv binary; empty: Run builds ./cmd/raftkv of
	// the module it is run in.
	RaftkvBin string
	// Self is the command line that runs this tool (os.Executable()), to
	// which Run appends EtcdMemberCommand and its flags for each etcd member.
	Self []string
	// Out is the directory of the results: results.csv, table.md and
	// the plots.
	Out string
	// WorkDir is where the temporary directory of the members' data and
	// logs is made (empty: the system's temporary directory); Keep keeps
	// it after the run.
	WorkDir string
	Keep    bool
	// Rounds of each system: in each, every workload runs on both
	// systems, one right after the other, raftkv first in odd rounds and
	// etcd first in even ones (Schedule).
	Rounds int
	// Warmup is driven before each measured window of Duration.
	Warmup, Duration time.Duration
	Workloads        []Workload
	// Keys is the size of each key space (one per value size).
	Keys int
	// RaftkvClient is the HTTP client of raftkv's workers: ClientFastHTTP
	// (the default when empty) or ClientNetHTTP.
	RaftkvClient string
	// EtcdConns is the number of gRPC connections of etcd's clients (0:
	// one).
	EtcdConns int
	// PortLo and PortHi bound the loopback ports of the members.
	PortLo, PortHi int
	// StoreKeys, when > 0, asks raftkv-bench for MeasureStore with that
	// many keys instead of Run.
	StoreKeys int
	// Progress gets a line per measured workload, and what Run does.
	Progress io.Writer
}

// DefaultConfig is a full comparison: 3 rounds of every default workload,
// 10 s each after 2 s of warm-up, results into out.
func DefaultConfig(out string) Config {
	lo, hi, _ := ParsePortBand(DefaultPorts)
	return Config{
		Out: out, Rounds: 3, Warmup: 2 * time.Second, Duration: 10 * time.Second,
		Workloads: DefaultWorkloads(), Keys: 10000, PortLo: lo, PortHi: hi, Progress: io.Discard,
	}
}

// Smoke turns c into the smoke run: one round of the two smoke workloads,
// 1 s each after a quarter of a second of warm-up, on 1000 keys.
func Smoke(c Config) Config {
	c.Rounds, c.Warmup, c.Duration = 1, 250*time.Millisecond, time.Second
	c.Workloads, c.Keys = SmokeWorkloads(), 1000
	return c
}

// Outcome is what a run measured and wrote.
type Outcome struct {
	Results []Result
	Rows    []Row
	Files   []string // the CSV, the table and the plots
	PIDs    []int    // of every member started (all gone when Run returns)
}

// Run starts both clusters, drives the workloads in rounds (Schedule),
// writes the CSV, the table and the plots into c.Out, prints the table to
// stdout, and stops every process it started, also on failure.
func Run(ctx context.Context, c Config, stdout io.Writer) (out Outcome, err error) {
	if c.Rounds < 1 || c.Duration <= 0 || c.Keys < 1 || len(c.Workloads) == 0 || len(c.Self) == 0 {
		return out, errors.New("bench: want rounds, duration, keys, workloads and the command of this tool")
	}
	progress := c.Progress
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return out, fmt.Errorf("bench: results dir: %w", err)
	}
	work, err := os.MkdirTemp(c.WorkDir, "raftkv-bench-")
	if err != nil {
		return out, fmt.Errorf("bench: work dir: %w", err)
	}
	defer func() {
		if c.Keep {
			fmt.Fprintf(progress, "kept the members' data and logs in %s\n", work)
		} else if rerr := os.RemoveAll(work); rerr != nil && err == nil {
			err = fmt.Errorf("bench: remove work dir: %w", rerr)
		}
	}()

	bin := c.RaftkvBin
	if bin == "" {
		bin = filepath.Join(work, "raftkv")
		fmt.Fprintln(progress, "building raftkv...")
		if err := BuildRaftkv(ctx, bin); err != nil {
			return out, err
		}
	}
	fmt.Fprintln(progress, Machine())

	band := newPortBand(c.PortLo, c.PortHi)
	ports, err := band.takeN(12)
	if err != nil {
		return out, fmt.Errorf("bench: %w", err)
	}
	var rk *Raftkv
	var et *Etcd
	rkErr := make(chan error, 1)
	go func() {
		var err error
		rk, err = StartRaftkv(ctx, bin, work, ports[0:3], ports[3:6], c.RaftkvClient)
		rkErr <- err
	}()
	et, etErr := StartEtcd(ctx, c.Self, work, ports[6:9], ports[9:12], c.EtcdConns)
	if err := errors.Join(<-rkErr, etErr); err != nil {
		if rk != nil {
			rk.Stop()
		}
		if et != nil {
			et.Stop()
		}
		return out, fmt.Errorf("bench: start clusters: %w", err)
	}
	defer rk.Stop()
	defer et.Stop()
	systems := []System{rk, et}
	out.PIDs = append(rk.PIDs(), et.PIDs()...)
	fmt.Fprintf(progress, "three raftkv members (pids %v) and three etcd members (pids %v) up, data in %s\n", rk.PIDs(), et.PIDs(), work)

	for _, sys := range systems {
		if err := preload(ctx, sys, c); err != nil {
			return out, err
		}
	}
	for _, st := range Schedule(c.Rounds, len(c.Workloads)) {
		r, err := measure(ctx, systems[st.System], st.Round, c.Workloads[st.Workload], c)
		if err != nil {
			return out, err
		}
		fmt.Fprintln(progress, ProgressLine(r))
		out.Results = append(out.Results, r)
	}

	out.Rows = Compare(out.Results, c.Workloads)
	out.Files, err = writeOutputs(c.Out, out.Results, out.Rows)
	if err != nil {
		return out, err
	}
	fmt.Fprintf(stdout, "raftkv vs etcd, three members each on loopback, both driven at their leader; medians over %d round(s) of %v; raftkv/etcd = median of the rounds' ratios (min–max)\n\n", c.Rounds, c.Duration)
	if err := WriteTable(stdout, out.Rows); err != nil {
		return out, fmt.Errorf("bench: print table: %w", err)
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", strings.Join(out.Files, ", "))
	return out, nil
}

// Step is one measured window of a run: a workload (an index into the
// run's workloads) on a system (0 raftkv, 1 etcd) in a round.
type Step struct{ Round, Workload, System int }

// Schedule orders the windows of a run. The two systems' windows of a
// workload follow each other, so that the ratio of each round compares
// measurements taken within seconds of each other (on a shared machine,
// conditions drift over minutes); which system goes first alternates from
// round to round, and each system meets the workloads in the same order
// in every round.
func Schedule(rounds, workloads int) []Step {
	var steps []Step
	for round := 1; round <= rounds; round++ {
		first := (round - 1) % 2
		for w := range workloads {
			steps = append(steps, Step{round, w, first}, Step{round, w, 1 - first})
		}
	}
	return steps
}

// preload writes the key spaces that the workloads read.
func preload(ctx context.Context, sys System, c Config) error {
	var sizes []int
	for _, w := range c.Workloads {
		if w.Reads() && !slices.Contains(sizes, w.ValueSize) {
			sizes = append(sizes, w.ValueSize)
		}
	}
	for _, size := range sizes {
		cl, err := sys.Connect(ctx, 64)
		if err != nil {
			return fmt.Errorf("bench: preload %s: %w", sys.Name(), err)
		}
		err = Preload(ctx, cl, size, c.Keys, 64, nil)
		cl.Close()
		if err != nil {
			return fmt.Errorf("bench: preload %s: %w", sys.Name(), err)
		}
	}
	return sys.AfterWorkload(ctx)
}

// measure drives one workload on one system and reads what its members
// used meanwhile.
func measure(ctx context.Context, sys System, round int, w Workload, c Config) (Result, error) {
	fail := func(err error) (Result, error) {
		return Result{}, fmt.Errorf("bench: round %d, %s, %s: %w", round, sys.Name(), w.Name(), err)
	}
	if err := sys.Check(); err != nil {
		return fail(err)
	}
	cl, err := sys.Connect(ctx, w.Clients)
	if err != nil {
		return fail(err)
	}
	mon := NewMonitor(sys.PIDs())
	s, err := Drive(ctx, cl, w, c.Keys, c.Warmup, c.Duration, Hooks{Start: mon.Start, End: mon.End})
	cl.Close()
	if err != nil {
		return fail(err)
	}
	if err := sys.Check(); err != nil {
		return fail(err)
	}
	usage, err := mon.Usage()
	if err != nil {
		return fail(err)
	}
	r := Result{
		System: sys.Name(), Round: round, Workload: w, Ops: s.Ops, Errors: s.Errors, Window: s.Window,
		Latency: Summarize(s.Latencies), ServerCPU: usage.ServerCPU, ClientCPU: usage.ClientCPU,
		PeakRSS: usage.PeakRSS, HWM: usage.HWM,
	}
	for _, dir := range sys.DataDirs() {
		du, err := DiskUsage(dir)
		if err != nil {
			return fail(err)
		}
		r.Disk = append(r.Disk, du)
	}
	if s.Ops == 0 {
		return fail(fmt.Errorf("no operation succeeded (%d failed; the first: %v)", s.Errors, s.FirstError))
	}
	if s.Errors > 0 {
		fmt.Fprintf(os.Stderr, "bench: round %d, %s, %s: %d operations failed; the first: %v\n", round, sys.Name(), w.Name(), s.Errors, s.FirstError)
	}
	if err := sys.AfterWorkload(ctx); err != nil {
		return fail(err)
	}
	return r, nil
}

// ProgressLine says what one measured window gave.
func ProgressLine(r Result) string {
	return fmt.Sprintf("round %d %-6s %-18s %9s ops/s  p50 %s  p99 %s  max %s ms  server CPU %s µs/op  errors %d",
		r.Round, r.System, r.Workload.Name(), thousands(r.OpsPerSec()),
		sig3(msf(r.Latency.P50)), sig3(msf(r.Latency.P99)), sig3(msf(r.Latency.Max)),
		sig3(us(r.ServerCPUPerOp())), r.Errors)
}

// writeOutputs writes results.csv, table.md and the plots into dir.
func writeOutputs(dir string, results []Result, rows []Row) ([]string, error) {
	csvPath := filepath.Join(dir, "results.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	err = WriteCSV(f, results)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", csvPath, err)
	}
	tablePath := filepath.Join(dir, "table.md")
	var table strings.Builder
	fmt.Fprintf(&table, "%s\n\n", Machine())
	if err := WriteTable(&table, rows); err != nil {
		return nil, err
	}
	if err := os.WriteFile(tablePath, []byte(table.String()), 0o644); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	plots, err := WritePlots(dir, rows)
	if err != nil {
		return nil, fmt.Errorf("bench: plots: %w", err)
	}
	return append([]string{csvPath, tablePath}, plots...), nil
}

// BuildRaftkv builds the raftkv binary of the module the tool runs in
// (go build github.com/raftkv/raftkv/cmd/raftkv) into bin.
func BuildRaftkv(ctx context.Context, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/raftkv/raftkv/cmd/raftkv")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bench: build raftkv (run from the raftkv module, or give --raftkv-bin): %w\n%s", err, out)
	}
	return nil
}

// Machine says what the run ran on: CPUs, kernel, Go and etcd versions.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		model = CPUModel(string(b))
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("machine: %d × %s, %s, %s; etcd %s (embed)", runtime.NumCPU(), model, kernel, runtime.Version(), etcdversion.Version)
}

// CPUModel returns the first "model name" of a /proc/cpuinfo text.
func CPUModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}
