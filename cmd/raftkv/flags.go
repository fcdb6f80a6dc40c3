package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/raftkv/raftkv/cli"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/internal/version"
	"github.com/raftkv/raftkv/node"
	"github.com/raftkv/raftkv/store"
)

// options are the command line's flags.
type options struct {
	id                            uint64
	name                          string
	cluster                       string
	port                          int
	join                          bool
	dataDir                       string
	snapshotCount, catchUp        uint64
	historyRevisions              int64
	historyMiB                    int64
	listenPeer, advertisePeer     string
	listenClient, advertiseClient string
	maxConnections                int
	maxConnectionsSet             bool // given on the command line or in the environment
	spaceReserveMiB               uint64
	repairWAL                     bool
	logFormat, logLevel           string
	enablePprof                   bool
}

// defineFlags defines the flags of a member on fs, bound to o.
func defineFlags(fs *flag.FlagSet, o *options) {
	fs.Uint64Var(&o.id, "id", 1, "member `ID` (1 to 2^53-1); with a positional --cluster, its 1-based position there")
	fs.StringVar(&o.name, "name", "", "a human `NAME` of this member, for people (default member-<id>)")
	fs.StringVar(&o.cluster, "cluster", "http://127.0.0.1:12379",
		"comma-separated peer `ADDRESSES` of the members: host:port each (member i is entry i), or id=host:port each")
	fs.IntVar(&o.port, "port", 12380, "HTTP API `PORT`, on every interface")
	fs.BoolVar(&o.join, "join", false, "join an existing cluster, after it added this member (POST /<id> or POST /v1/members)")
	fs.StringVar(&o.dataDir, "data-dir", "", "`DIR` of this member's data: WAL and snapshots (default raftkv-<id>)")
	fs.Uint64Var(&o.snapshotCount, "snapshot-count", 10000, "`N` applied entries between snapshots")
	fs.Int64Var(&o.historyRevisions, "history-revisions", store.DefaultHistoryRevisions,
		"`N` revisions of changes kept for reads at past revisions and watches")
	fs.Int64Var(&o.historyMiB, "history-mib", store.DefaultHistoryBytes>>20, "`MIB` at most of changes kept (the oldest revisions go first)")
	fs.Uint64Var(&o.catchUp, "catch-up-entries", 10000, "`N` entries kept behind a snapshot so a slow follower catches up without one")
	fs.StringVar(&o.listenPeer, "listen-peer", "", "where to listen for peers, `HOST:PORT` (default: every interface, at the port of this member's peer address)")
	fs.StringVar(&o.advertisePeer, "advertise-peer", "", "this member's peer address as the others reach it, `HOST:PORT` (default: its --cluster entry)")
	fs.StringVar(&o.listenClient, "listen-client", "", "where to serve the HTTP API, `HOST:PORT` (default: every interface at --port)")
	fs.StringVar(&o.advertiseClient, "advertise-client", "",
		"`URL` of this member's HTTP API for clients, published in the membership (default: http://<host of the peer address>:<HTTP port>)")
	fs.IntVar(&o.maxConnections, "max-connections", httpapi.DefaultMaxConnections,
		"the most HTTP connections open at once, `N` (more wait to be accepted); must leave 256 of the file descriptor limit (ulimit -n) for the member's files")
	fs.Uint64Var(&o.spaceReserveMiB, "space-reserve", node.DefaultSpaceReserve>>20,
		"`MIB` of free space the data dir's file system must keep: below it the member raises the cluster's NOSPACE alarm and writes are refused (507) until space is free again")
	fs.BoolVar(&o.repairWAL, "repair-wal", false,
		"start even if the WAL is damaged, cutting it at the damage and discarding everything after it (may lose acknowledged writes of this member; see the README)")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `FORMAT` on stderr: text or json (one object per line)")
	fs.StringVar(&o.logLevel, "log-level", "info", "least `LEVEL` logged: debug, info, warn or error")
	fs.BoolVar(&o.enablePprof, "enable-pprof", false,
		"serve Go's profiler on /debug/pprof/ of the HTTP API (CPU and heap profiles; anyone who reaches the API can read them)")
}

// parseFlags reads a member's command line (args without the program
// name) and the environment. It returns the options and true to go on, or
// the exit code and false when there is nothing to run: --help (usage to
// stdout, 0), --version (0), or an error (said on stderr with the usage,
// 2).
func parseFlags(args []string, getenv func(string) string, stdout, stderr io.Writer) (options, int, bool) {
	var o options
	fs := flag.NewFlagSet("raftkv", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	defineFlags(fs, &o)
	showVersion := fs.Bool("version", false, "print the version, the commit and the Go version, and exit")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout, fs)
		return o, 0, false
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q: a member takes flags only (a command goes first: raftkv %s ...)", fs.Arg(0), fs.Arg(0))
	}
	if err == nil && *showVersion {
		fmt.Fprintln(stdout, version.Get().String())
		return o, 0, false
	}
	if err == nil {
		_, err = cli.ApplyEnv(fs, getenv, func(name string) bool { return name == "version" })
	}
	if err == nil {
		_, err = newLogger(io.Discard, o.logFormat, o.logLevel)
	}
	if err != nil {
		fmt.Fprintf(stderr, "raftkv: %v%s\n%s", err, commandFlagHint(err), synopsis)
		return o, 2, false
	}
	fs.Visit(func(f *flag.Flag) { o.maxConnectionsSet = o.maxConnectionsSet || f.Name == "max-connections" })
	if o.name == "" {
		o.name = fmt.Sprintf("member-%d", o.id)
	}
	return o, 0, true
}

// commandFlagHint is what to add to the error of a flag a member does not
// have but the commands do, given without a command (raftkv --endpoints
// URLS): it needs one.
func commandFlagHint(err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return ""
	}
	switch name = strings.TrimPrefix(name, "-"); name {
	case "o":
		return " (-o is a flag of the commands: give one, as in raftkv -o json get KEY)"
	case "endpoints", "timeout", "output":
		return fmt.Sprintf(" (--%s is a flag of the commands: give one, as in raftkv --%s ... get KEY)", name, name)
	}
	return ""
}

// newLogger returns the logger of --log-format and --log-level, writing
// to w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var l slog.Level
	switch strings.ToLower(level) {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// synopsis is the start of the usage, and what a wrong command line gets.
const synopsis = `Usage:
  raftkv [FLAGS]                  run a member of a raftkv cluster (raftkv --help lists the flags)
  raftkv COMMAND [ARGS] [FLAGS]   talk to a cluster (raftkv help lists the commands)
`

// usage writes how to run raftkv: a member's flags, each with its
// environment variable, then the commands.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `%s
Flags of a member. Each is also read from the environment variable named
after it (--data-dir from %s); the command line wins.
`, synopsis, cli.EnvName("data-dir"))
	fs.VisitAll(func(f *flag.Flag) {
		name, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		var notes []string
		if f.Name != "version" {
			notes = append(notes, "env "+cli.EnvName(f.Name))
		}
		if f.DefValue != "" && f.DefValue != "false" {
			notes = append(notes, "default "+f.DefValue)
		}
		if len(notes) > 0 {
			line += "  (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, text)
	})
	fmt.Fprintln(w, "  --help\n      print this help and exit\n\nCommands (a member's HTTP API at --endpoints, default "+cli.DefaultEndpoints+"):")
	cli.WriteCommands(w)
}
