// Command raftkv-bench compares raftkv with etcd on this machine, in one
// run: three raftkv members and three etcd members (each its own process,
// fsync on, on loopback), the same workloads through each one's own
// client at its leader, in alternating rounds. It prints a table of
// medians and raftkv/etcd ratios and writes a CSV and SVG plots.
//
//	go run ./cmd/raftkv-bench --out bench-results            # the full comparison
//	go run ./cmd/raftkv-bench --smoke --out /tmp/bench-smoke # a few seconds, to see that it works
//	go run ./cmd/raftkv-bench --store-keys 1000000           # one member's memory, disk and restart
//
// etcd-member is a hidden subcommand: the tool runs each etcd member as
// itself with it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/raftkv/raftkv/bench"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == bench.EtcdMemberCommand {
		os.Exit(bench.EtcdMemberMain(os.Args[2:], os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args and runs the comparison; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, ok, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "raftkv-bench:", err)
		return 2
	}
	if !ok {
		return 0
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "raftkv-bench: find own executable:", err)
		return 1
	}
	cfg.Self = []string{self}
	cfg.Progress = stderr
	if cfg.StoreKeys > 0 {
		err = measureStore(ctx, cfg, stdout)
	} else {
		_, err = bench.Run(ctx, cfg, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "raftkv-bench:", err)
		return 1
	}
	return 0
}

// measureStore runs the --store-keys measure and prints its table.
func measureStore(ctx context.Context, cfg bench.Config, stdout io.Writer) error {
	rep, err := bench.MeasureStore(ctx, bench.StoreConfig{RaftkvBin: cfg.RaftkvBin, WorkDir: cfg.WorkDir,
		Keys: cfg.StoreKeys, ValueSize: 100, PortLo: cfg.PortLo, PortHi: cfg.PortHi, RaftkvClient: cfg.RaftkvClient})
	if err != nil {
		return err
	}
	return bench.WriteStoreReport(stdout, rep)
}

// parseFlags returns the configuration of the command line, and false
// for --help.
func parseFlags(args []string, stderr io.Writer) (bench.Config, bool, error) {
	cfg := bench.DefaultConfig("bench-results")
	fs := flag.NewFlagSet("raftkv-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.RaftkvBin, "raftkv-bin", "", "raftkv `BINARY` to run (default: build ./cmd/raftkv of this module)")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "`DIR` of the results: results.csv, table.md, the SVG plots")
	fs.StringVar(&cfg.WorkDir, "workdir", "", "`DIR` in which to make the members' temporary data dir (default: the system's)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the members' data dirs and logs")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds: in each, every workload runs on raftkv and on etcd, one right after the other (which goes first alternates)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured `DURATION` of each workload in each round")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "`DURATION` of load before each measured window")
	fs.IntVar(&cfg.Keys, "keys", cfg.Keys, "`N` keys in each key space (one per value size)")
	fs.StringVar(&cfg.RaftkvClient, "raftkv-client", bench.ClientFastHTTP, "HTTP `CLIENT` of raftkv's workers: "+bench.ClientFastHTTP+" (the leanest measured) or "+bench.ClientNetHTTP)
	fs.IntVar(&cfg.EtcdConns, "etcd-conns", 0, "`N` gRPC connections that etcd's clients share (default: one, the fastest measured)")
	workloads := fs.String("workloads", "", "run only the workloads whose names contain one of these comma-separated `STRINGS` (put-100B-c64, get-lin, mix90...)")
	ports := fs.String("ports", bench.DefaultPorts, "`LO-HI` band of loopback ports for the members")
	fs.IntVar(&cfg.StoreKeys, "store-keys", 0, "instead of comparing with etcd, write `N` keys of 100 B to one raftkv member and report its memory, disk and restart time")
	smoke := fs.Bool("smoke", false, "one round of two workloads (PUT and linearizable GET at 16 clients), 1 s each: to see that it works")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, false, nil
		}
		return cfg, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := bench.CheckClient(cfg.RaftkvClient); err != nil {
		return cfg, false, fmt.Errorf("--raftkv-client: %w", err)
	}
	var err error
	if cfg.PortLo, cfg.PortHi, err = bench.ParsePortBand(*ports); err != nil {
		return cfg, false, err
	}
	if *smoke {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		smoked := bench.Smoke(cfg)
		// Flags given explicitly win over the smoke defaults.
		if !set["rounds"] {
			cfg.Rounds = smoked.Rounds
		}
		if !set["duration"] {
			cfg.Duration = smoked.Duration
		}
		if !set["warmup"] {
			cfg.Warmup = smoked.Warmup
		}
		if !set["keys"] {
			cfg.Keys = smoked.Keys
		}
		cfg.Workloads = smoked.Workloads
	}
	if cfg.Workloads, err = bench.SelectWorkloads(cfg.Workloads, *workloads); err != nil {
		return cfg, false, err
	}
	if cfg.Rounds < 1 || cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.Keys < 1 {
		return cfg, false, fmt.Errorf("want --rounds >= 1, --duration > 0, --warmup >= 0, --keys >= 1")
	}
	return cfg, true, nil
}
