// Command raftkv runs one member of a raftkv cluster: a replicated,
// strongly consistent key-value store with raftexample's command line and
// HTTP API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/node"
)

func main() {
	id := flag.Uint64("id", 1, "member id; with a positional --cluster, its 1-based position there")
	cluster := flag.String("cluster", "http://127.0.0.1:12379",
		"comma-separated peer addresses of the members: host:port each (member i is entry i), or id=host:port each")
	port := flag.Int("port", 12380, "HTTP API port, on every interface")
	join := flag.Bool("join", false, "join an existing cluster, after it added this member (POST /<id> or POST /v1/members)")
	dataDir := flag.String("data-dir", "", "data directory (default raftkv-<id>)")
	snapshotCount := flag.Uint64("snapshot-count", 10000, "applied entries between snapshots")
	catchUp := flag.Uint64("catch-up-entries", 10000, "entries kept behind a snapshot so a slow follower catches up without one")
	listenPeer := flag.String("listen-peer", "", "where to listen for peers, host:port (default: every interface, at the port of this member's peer address)")
	advertisePeer := flag.String("advertise-peer", "", "this member's peer address as the others reach it, host:port (default: its --cluster entry)")
	listenClient := flag.String("listen-client", "", "where to serve the HTTP API, host:port (default: every interface at --port)")
	advertiseClient := flag.String("advertise-client", "", "URL of this member's HTTP API for clients, published in the membership (default: http://<host of the peer address>:<HTTP port>)")
	maxConnections := flag.Int("max-connections", httpapi.DefaultMaxConnections,
		"most HTTP connections open at once (more wait to be accepted); must leave 256 of the file descriptor limit (ulimit -n) for the member's files")
	spaceReserve := flag.Uint64("space-reserve", node.DefaultSpaceReserve>>20,
		"MiB of free space the data dir's file system must keep: below it the member raises the cluster's NOSPACE alarm and writes are refused (507) until space is free again")
	repairWAL := flag.Bool("repair-wal", false,
		"start even if the WAL is damaged, cutting it at the damage and discarding everything after it (may lose acknowledged writes of this member; see the README)")
	flag.Parse()
	explicit := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(log, options{
		id: *id, cluster: *cluster, port: *port, join: *join, dataDir: *dataDir,
		snapshotCount: *snapshotCount, catchUp: *catchUp,
		listenPeer: *listenPeer, advertisePeer: *advertisePeer,
		listenClient: *listenClient, advertiseClient: *advertiseClient,
		maxConnections: *maxConnections, maxConnectionsSet: explicit["max-connections"],
		spaceReserveMiB: *spaceReserve, repairWAL: *repairWAL,
	}); err != nil {
		log.Error("raftkv stopped", "err", err)
		os.Exit(1)
	}
}

// options are the command line's flags.
type options struct {
	id                            uint64
	cluster                       string
	port                          int
	join                          bool
	dataDir                       string
	snapshotCount, catchUp        uint64
	listenPeer, advertisePeer     string
	listenClient, advertiseClient string
	maxConnections                int
	maxConnectionsSet             bool // given on the command line
	spaceReserveMiB               uint64
	repairWAL                     bool
}

// config turns the flags into a node's configuration and the HTTP listen
// address.
func (o options) config(log *slog.Logger) (node.Config, string, error) {
	if o.snapshotCount == 0 {
		return node.Config{}, "", errors.New("--snapshot-count must be at least 1")
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
		ID: o.id, Cluster: cluster, Join: o.join,
		ListenPeer: o.listenPeer, AdvertisePeer: o.advertisePeer, AdvertiseClient: advertiseClient,
		DataDir: dataDir, SnapshotCount: o.snapshotCount, CatchUpEntries: o.catchUp, Logger: log,
		SpaceReserve: o.spaceReserveMiB << 20, RepairWAL: o.repairWAL,
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

func run(log *slog.Logger, o options) error {
	cfg, listenClient, err := o.config(log)
	if err != nil {
		return err
	}
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
	srv := httpapi.NewServer(httpapi.New(n.System().Root, n.Proposer(), log), httpapi.ServerConfig{Logger: log})
	go func() {
		if err := srv.Serve(httpapi.LimitListener(lis, maxConns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	log.Info("serving HTTP", "address", lis.Addr().String(), "advertised", cfg.AdvertiseClient, "max_connections", maxConns,
		"read_timeout", srv.ReadTimeout, "write_timeout", srv.WriteTimeout, "idle_timeout", srv.IdleTimeout)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	var reason error
	select {
	case s := <-sig:
		log.Info("signal received, stopping", "signal", s.String())
	case <-n.Done():
		reason = n.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("HTTP server did not shut down cleanly", "err", err)
	}
	n.Stop()
	if errors.Is(reason, node.ErrRemoved) {
		log.Info("this member was removed from the cluster; exiting", "reason", reason)
		return nil
	}
	return reason
}
