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
	"strings"
	"syscall"
	"time"

	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/node"
)

func main() {
	id := flag.Uint64("id", 1, "member id (1-based position in --cluster)")
	cluster := flag.String("cluster", "http://127.0.0.1:12379", "comma-separated peer addresses of the members")
	port := flag.Int("port", 12380, "HTTP API port")
	join := flag.Bool("join", false, "join an existing cluster (after POST /<id> added this member)")
	dataDir := flag.String("data-dir", "", "data directory (default raftkv-<id>)")
	snapshotCount := flag.Uint64("snapshot-count", 10000, "applied entries between snapshots")
	catchUp := flag.Uint64("catch-up-entries", 10000, "entries kept behind a snapshot so a slow follower catches up without one")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if *dataDir == "" {
		*dataDir = fmt.Sprintf("raftkv-%d", *id)
	}
	if err := run(log, node.Config{
		ID: *id, Cluster: strings.Split(*cluster, ","), Join: *join,
		DataDir: *dataDir, SnapshotCount: *snapshotCount, CatchUpEntries: *catchUp, Logger: log,
	}, *port); err != nil {
		log.Error("raftkv stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, cfg node.Config, port int) error {
	if cfg.SnapshotCount == 0 {
		return errors.New("--snapshot-count must be at least 1")
	}
	lis, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		return fmt.Errorf("listen for HTTP: %w", err)
	}
	n, err := node.Start(cfg)
	if err != nil {
		lis.Close()
		return err
	}
	srv := &http.Server{Handler: httpapi.New(n.System().Root, n.Proposer(), log), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
		}
	}()
	log.Info("serving HTTP", "address", lis.Addr().String())

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
		log.Info("this member was removed from the cluster; exiting")
		return nil
	}
	return reason
}
