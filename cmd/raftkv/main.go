// Command raftkv runs one member of a raftkv cluster: a replicated,
// strongly consistent key-value store with raftexample's command line and
// HTTP API. Given a command first (raftkv get KEY, raftkv members, ...),
// it talks to a cluster instead: see package cli, and raftkv help.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/raftkv/raftkv/cli"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/internal/gcpace"
	"github.com/raftkv/raftkv/node"
	"github.com/raftkv/raftkv/store"
)

func main() {
	os.Exit(raftkv(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// raftkv runs the command line args (without the program name) and
// returns the exit code. A first argument that is not a flag is a command
// for a cluster (package cli); otherwise raftkv runs a member, until a
// signal stops it or it is removed.
func raftkv(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if cmd, ok := cli.CommandLine(args); ok {
		return cli.Run(cmd, stdin, stdout, stderr, getenv)
	}
	o, code, ok := parseFlags(args, getenv, stdout, stderr)
	if !ok {
		return code
	}
	log, err := newLogger(stderr, o.logFormat, o.logLevel)
	if err != nil { // parseFlags checked the flags
		fmt.Fprintf(stderr, "raftkv: %v\n", err)
		return 2
	}
	slog.SetDefault(log)
	if err := run(log, o); err != nil {
		log.Error("raftkv stopped", "err", err)
		return 1
	}
	return 0
}

// config turns the flags into a node's configuration and the HTTP listen
// address.
func (o options) config(log *slog.Logger) (node.Config, string, error) {
	if o.snapshotCount == 0 {
		return node.Config{}, "", errors.New("--snapshot-count must be at least 1")
	}
	if o.historyRevisions < 0 || o.historyMiB < 0 || o.historyMiB > 1<<20 {
		return node.Config{}, "", fmt.Errorf("--history-revisions %d, --history-mib %d: want a number of revisions and 1 to %d MiB (0: the default)",
			o.historyRevisions, o.historyMiB, 1<<20)
	}
	if o.spaceReserveMiB == 0 || o.spaceReserveMiB > 1<<20 {
		return node.Config{}, "", fmt.Errorf("--space-reserve %d: want 1 to %d MiB", o.spaceReserveMiB, 1<<20)
	}
	cluster, err := node.ParseCluster(strings.Split(o.cluster, ","))
	if err != nil {
		return node.Config{}, "", fmt.Errorf("--cluster: %w", err)
	}
	listenClient := o.listenClient
	if listenClient == "" {
		listenClient = net.JoinHostPort("", strconv.Itoa(o.port))
	}
	_, clientPort, err := net.SplitHostPort(listenClient)
	if err != nil {
		return node.Config{}, "", fmt.Errorf("--listen-client %q: %w", listenClient, err)
	}
	peerAddr := o.advertisePeer
	if peerAddr == "" {
		peerAddr = cluster[o.id]
	}
	advertiseClient := o.advertiseClient
	if host, _, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(peerAddr, "http://"), "https://")); advertiseClient == "" && err == nil {
		advertiseClient = "http://" + net.JoinHostPort(host, clientPort)
	}
	dataDir := o.dataDir
	if dataDir == "" {
		dataDir = fmt.Sprintf("raftkv-%d", o.id)
	}
	return node.Config{
		ID: o.id, Name: o.name, Cluster: cluster, Join: o.join,
		ListenPeer: o.listenPeer, AdvertisePeer: o.advertisePeer, AdvertiseClient: advertiseClient,
		DataDir: dataDir, SnapshotCount: o.snapshotCount, CatchUpEntries: o.catchUp, Logger: log,
		SpaceReserve: o.spaceReserveMiB << 20, RepairWAL: o.repairWAL,
		History: store.HistoryLimits{Revisions: o.historyRevisions, Bytes: o.historyMiB << 20},
	}, listenClient, nil
}

// httpLimits raises the file descriptor limit and returns the cap on HTTP
// connections that leaves the member room for its files.
func (o options) httpLimits(log *slog.Logger) (int, error) {
	lim, err := raiseFDLimit()
	if err != nil {
		log.Warn("could not raise the file descriptor limit to its hard limit", "soft", lim.soft, "hard", lim.hard, "err", err)
	}
	maxConns, warning, err := connectionLimit(o.maxConnections, o.maxConnectionsSet, lim)
	if err != nil {
		return 0, err
	}
	if warning != "" {
		log.Warn(warning)
	}
	if lim.known {
		log.Info("file descriptors", "limit", lim.soft, "hard_limit", lim.hard, "max_http_connections", maxConns, "reserved", fdReserve)
	}
	return maxConns, nil
}

// drainTimeout is how long a stopping member waits for the HTTP requests
// in flight to finish.
const drainTimeout = 5 * time.Second

// paceGC keeps the collector's pace to the live heap (gcpace) until the
// returned stop is called.
func paceGC() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		gcpace.Run(ctx, time.Second)
	}()
	return func() {
		cancel()
		<-done
	}
}

// run runs a member until a signal stops it (nil) or it stops on its own
// (why; nil if it was removed from the cluster).
func run(log *slog.Logger, o options) error {
	cfg, listenClient, err := o.config(log)
	if err != nil {
		return err
	}
	log = log.With("local_member", cfg.ID) // as the node's own lines
	maxConns, err := o.httpLimits(log)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", listenClient)
	if err != nil {
		return fmt.Errorf("listen for HTTP: %w", err)
	}
	n, err := node.Start(cfg)
	if err != nil {
		lis.Close()
		return err
	}
	if os.Getenv("GOGC") == "" { // an operator's GOGC wins
		defer paceGC()()
	}
	opts := []httpapi.Option{httpapi.WithMetrics(n.Metrics())}
	if o.enablePprof {
		opts = append(opts, httpapi.WithPprof())
	}
	handler := httpapi.New(n.System().Root, n.Proposer(), log, opts...)
	srv := httpapi.NewServer(handler, httpapi.ServerConfig{Logger: log})
	go func() {
		if err := srv.Serve(httpapi.LimitListener(lis, maxConns)); err != nil {
			log.Error("http server", "err", err)
		}
	}()
	hc := srv.Config()
	log.Info("serving HTTP", "name", cfg.Name, "address", lis.Addr().String(), "advertised", cfg.AdvertiseClient, "max_connections", maxConns,
		"read_header_timeout", hc.ReadHeaderTimeout, "read_timeout", hc.ReadTimeout, "write_timeout", hc.WriteTimeout, "idle_timeout", hc.IdleTimeout)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	var reason error
	select {
	case s := <-sig:
		log.Info("signal received, stopping", "signal", s.String())
	case <-n.Done():
		reason = n.Err()
	}
	// Stop accepting requests and let those in flight finish while this
	// member still leads; then hand the leadership over, so that the
	// others go on writing without waiting out an election, and stop the
	// node, which syncs and closes the WAL last.
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("HTTP requests still in flight after the drain timeout; cutting them off", "timeout", drainTimeout, "err", err)
	}
	n.Shutdown()
	log.Info("stopped")
	if errors.Is(reason, node.ErrRemoved) {
		log.Info("this member was removed from the cluster; exiting", "reason", reason)
		return nil
	}
	return reason
}
