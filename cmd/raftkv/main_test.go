package main

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/cli"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/internal/version"
	"github.com/raftkv/raftkv/node"
)

func TestConnectionLimit(t *testing.T) {
	known := func(soft uint64) fdLimit { return fdLimit{soft: soft, hard: soft, known: true} }
	tests := []struct {
		requested int
		explicit  bool
		lim       fdLimit
		want      int
		warn      bool
		err       string
	}{
		{1024, false, known(1 << 20), 1024, false, ""},
		{1024, true, known(1 << 20), 1024, false, ""},
		{1024, true, known(1024 + fdReserve), 1024, false, ""},
		// An explicit value that leaves no reserve is refused, saying the most it may be.
		{1024, true, known(1024), 0, false, "--max-connections 1024 would leave fewer than 256 of the 1024 file descriptors"},
		{1024, true, known(1024), 0, false, "give at most 768"},
		{5000, true, known(4096), 0, false, "give at most 3840"},
		// The default is lowered to fit, with a warning.
		{1024, false, known(1024), 1024 - fdReserve, true, ""},
		{1024, false, known(fdReserve), 0, false, "leaves no room for HTTP connections"},
		{0, true, known(1 << 20), 0, false, "must be at least 1"},
		{-3, true, fdLimit{}, 0, false, "must be at least 1"},
		// Where the limit is not known, the flag is taken as it is.
		{1 << 20, true, fdLimit{}, 1 << 20, false, ""},
	}
	for i, tt := range tests {
		got, warning, err := connectionLimit(tt.requested, tt.explicit, tt.lim)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%d: %d (explicit %v) of %+v: %v, want an error saying %q", i, tt.requested, tt.explicit, tt.lim, err, tt.err)
			}
		case err != nil || got != tt.want || (warning != "") != tt.warn:
			t.Errorf("%d: %d (explicit %v) of %+v: %d, %q, %v; want %d (warning %v)", i, tt.requested, tt.explicit, tt.lim, got, warning, err, tt.want, tt.warn)
		}
	}
}

// TestRunRefusesTooManyConnections checks that a --max-connections the
// file descriptor limit cannot hold stops raftkv before it starts a node.
func TestRunRefusesTooManyConnections(t *testing.T) {
	lim, err := raiseFDLimit()
	if !lim.known {
		t.Skipf("the file descriptor limit is not known here (%v)", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := options{id: 1, cluster: "http://127.0.0.1:1", port: 1, snapshotCount: 1, dataDir: t.TempDir(), spaceReserveMiB: 128,
		maxConnections: int(min(lim.soft, 1<<30)), maxConnectionsSet: true}
	err = run(quiet, o)
	if err == nil || !strings.Contains(err.Error(), "--max-connections") || !strings.Contains(err.Error(), "file descriptors") {
		t.Fatalf("run with --max-connections %d under a limit of %d: %v", o.maxConnections, lim.soft, err)
	}
}

func TestConfigOfDiskFlags(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := options{id: 1, cluster: "http://127.0.0.1:1", port: 1, snapshotCount: 1, spaceReserveMiB: 64, repairWAL: true}
	cfg, _, err := o.config(quiet)
	if err != nil || cfg.SpaceReserve != 64<<20 || !cfg.RepairWAL {
		t.Fatalf("config: reserve %d, repair %v, %v; want 64 MiB and repair", cfg.SpaceReserve, cfg.RepairWAL, err)
	}
	for _, mib := range []uint64{0, 1<<20 + 1} {
		o.spaceReserveMiB = mib
		if _, _, err := o.config(quiet); err == nil || !strings.Contains(err.Error(), "--space-reserve") {
			t.Errorf("--space-reserve %d: %v, want an error that names the flag", mib, err)
		}
	}
}

// parsed is what one parseFlags did.
type parsed struct {
	o              options
	code           int
	ok             bool
	stdout, stderr string
}

// parse runs parseFlags on args with the environment vars.
func parse(args []string, vars map[string]string) parsed {
	var stdout, stderr bytes.Buffer
	o, code, ok := parseFlags(args, func(name string) string { return vars[name] }, &stdout, &stderr)
	return parsed{o, code, ok, stdout.String(), stderr.String()}
}

func TestParseFlagsDefaults(t *testing.T) {
	p := parse(nil, nil)
	want := options{id: 1, name: "member-1", cluster: "http://127.0.0.1:12379", port: 12380, snapshotCount: 10000, catchUp: 10000,
		historyRevisions: 100000, historyMiB: 64, maxConnections: httpapi.DefaultMaxConnections, spaceReserveMiB: node.DefaultSpaceReserve >> 20, logFormat: "text", logLevel: "info"}
	if !p.ok || p.code != 0 || p.o != want || p.stdout != "" || p.stderr != "" {
		t.Fatalf("parseFlags of nothing: %+v\nwant %+v", p, want)
	}
}

func TestParseFlagsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"RAFTKV_ID": "3", "RAFTKV_NAME": "db-3", "RAFTKV_CLUSTER": "1=a:1,2=b:1,3=c:1", "RAFTKV_PORT": "32380",
		"RAFTKV_JOIN": "true", "RAFTKV_DATA_DIR": "/var/lib/raftkv", "RAFTKV_SNAPSHOT_COUNT": "7", "RAFTKV_CATCH_UP_ENTRIES": "8",
		"RAFTKV_LISTEN_PEER": ":3379", "RAFTKV_ADVERTISE_PEER": "c:1", "RAFTKV_LISTEN_CLIENT": ":3380",
		"RAFTKV_ADVERTISE_CLIENT": "http://c:3380", "RAFTKV_MAX_CONNECTIONS": "99", "RAFTKV_SPACE_RESERVE": "5",
		"RAFTKV_REPAIR_WAL": "1", "RAFTKV_LOG_FORMAT": "json", "RAFTKV_LOG_LEVEL": "debug",
		"RAFTKV_HISTORY_REVISIONS": "9", "RAFTKV_HISTORY_MIB": "3",
		// Not flags of a member: left alone.
		"RAFTKV_ENDPOINTS": "http://x:1", "RAFTKV_VERSION": "true",
	}
	p := parse(nil, env)
	want := options{id: 3, name: "db-3", cluster: "1=a:1,2=b:1,3=c:1", port: 32380, join: true, dataDir: "/var/lib/raftkv",
		snapshotCount: 7, catchUp: 8, listenPeer: ":3379", advertisePeer: "c:1", listenClient: ":3380", advertiseClient: "http://c:3380",
		maxConnections: 99, maxConnectionsSet: true, spaceReserveMiB: 5, repairWAL: true, logFormat: "json", logLevel: "debug",
		historyRevisions: 9, historyMiB: 3}
	if !p.ok || p.o != want || p.stdout != "" || p.stderr != "" {
		t.Fatalf("parseFlags from the environment: %+v\nwant %+v", p, want)
	}
}

func TestParseFlagsCommandLineWins(t *testing.T) {
	env := map[string]string{"RAFTKV_ID": "3", "RAFTKV_PORT": "32380", "RAFTKV_JOIN": "true", "RAFTKV_LOG_LEVEL": "bogus", "RAFTKV_DATA_DIR": "/env"}
	p := parse([]string{"--id", "2", "--port=22380", "--join=false", "--log-level", "warn"}, env)
	if !p.ok || p.o.id != 2 || p.o.port != 22380 || p.o.join || p.o.logLevel != "warn" || p.o.dataDir != "/env" || p.o.name != "member-2" {
		t.Fatalf("parseFlags with flags and environment: %+v; want the flags' id 2, port 22380, no join, level warn, and the environment's data dir", p)
	}
	// --max-connections counts as given when either sets it.
	if p := parse(nil, nil); p.o.maxConnectionsSet {
		t.Errorf("--max-connections set without a flag or variable")
	}
	if p := parse([]string{"--max-connections", "5"}, nil); !p.o.maxConnectionsSet || p.o.maxConnections != 5 {
		t.Errorf("--max-connections 5: %+v", p.o)
	}
}

func TestParseFlagsErrorsExit2(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		err  string
	}{
		{args: []string{"--log-format", "xml"}, err: `--log-format "xml": want text or json`},
		{args: []string{"--log-level", "loud"}, err: `--log-level "loud": want debug, info, warn or error`},
		{env: map[string]string{"RAFTKV_LOG_FORMAT": "xml"}, err: `--log-format "xml"`},
		{args: []string{"--id", "1", "get", "k"}, err: `unexpected argument "get": a member takes flags only (a command goes first: raftkv get ...)`},
		{args: []string{"--join", "extra"}, err: `unexpected argument "extra"`},
		{args: []string{"--bogus"}, err: "flag provided but not defined: -bogus"},
		{args: []string{"--port", "http"}, err: `invalid value "http" for flag -port`},
		{args: []string{"--id"}, err: "flag needs an argument: -id"},
		{env: map[string]string{"RAFTKV_PORT": "http"}, err: `RAFTKV_PORT="http": invalid value for --port`},
		{env: map[string]string{"RAFTKV_JOIN": "yes"}, err: `RAFTKV_JOIN="yes": invalid value for --join`},
		// A flag of the commands without a command says that it needs one.
		{args: []string{"--endpoints", "http://h:1"}, err: "--endpoints is a flag of the commands: give one"},
		{args: []string{"-o", "json"}, err: "-o is a flag of the commands: give one"},
	}
	for _, tt := range tests {
		p := parse(tt.args, tt.env)
		if p.ok || p.code != 2 || !strings.Contains(p.stderr, tt.err) || !strings.Contains(p.stderr, "Usage:") || p.stdout != "" {
			t.Errorf("parseFlags %q (env %v): %+v; want exit 2 and stderr saying %q with the usage", tt.args, tt.env, p, tt.err)
		}
	}
}

// The global flags of the commands may come before the command, as
// etcdctl's do: raftkv runs the command, not a member.
func TestGlobalFlagsBeforeTheCommand(t *testing.T) {
	var stdout, stderr strings.Builder
	code := raftkv([]string{"--endpoints", "http://127.0.0.1:1", "--timeout=1s", "get", "k"}, strings.NewReader(""), &stdout, &stderr,
		func(string) string { return "" })
	if code != cli.ExitUnavailable || !strings.Contains(stderr.String(), "127.0.0.1:1") {
		t.Errorf("raftkv --endpoints <closed port> get k: exit %d, stderr %q; want %d naming the endpoint", code, stderr.String(), cli.ExitUnavailable)
	}
}

func TestParseFlagsHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--id", "2", "-help"}} {
		p := parse(args, nil)
		if p.ok || p.code != 0 || p.stderr != "" {
			t.Fatalf("parseFlags %q: %+v; want exit 0 and nothing on stderr", args, p)
		}
		// Every flag, with its variable, and the commands.
		fs := flag.NewFlagSet("raftkv", flag.ContinueOnError)
		defineFlags(fs, &options{})
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(p.stdout, "--"+f.Name+" ") || !strings.Contains(p.stdout, "env "+cli.EnvName(f.Name)) {
				t.Errorf("--help does not show --%s with %s:\n%s", f.Name, cli.EnvName(f.Name), p.stdout)
			}
		})
		for _, w := range []string{"--version", "--help", "raftkv COMMAND", "put KEY VALUE", "members add ID ADDRESS", "endpoint health"} {
			if !strings.Contains(p.stdout, w) {
				t.Errorf("--help does not say %q:\n%s", w, p.stdout)
			}
		}
	}
}

func TestParseFlagsVersion(t *testing.T) {
	p := parse([]string{"--version"}, map[string]string{"RAFTKV_PORT": "not even read"})
	want := version.Get()
	if p.ok || p.code != 0 || p.stderr != "" || p.stdout != want.String()+"\n" ||
		!strings.Contains(p.stdout, want.Commit) || !strings.Contains(p.stdout, runtime.Version()) {
		t.Fatalf("parseFlags --version: %+v; want %q", p, want.String())
	}
}
