package testkit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/node"
)

// HTTPNode is a one-member raftkv cluster running in the test process,
// with its HTTP API (package httpapi) served as raftkv serves it
// (httpapi.NewServer, its timeouts and connection cap): what
// the tests of the API and of the Go client talk to. Its logs are
// discarded.
//
// Package httpapi's own tests may use it from their external test package
// (httpapi_test) only: testkit imports httpapi, so a test file of package
// httpapi that imported testkit would be an import cycle.
type HTTPNode struct {
	// URL is the base URL of the HTTP API, such as "http://127.0.0.1:41234".
	URL string
	// Node is the member (id 1).
	Node *node.Node

	srv    *httpapi.HTTPServer
	served chan struct{} // closed when srv.Serve returns
}

// StartHTTPNode starts member 1 of a one-member cluster, with its peer
// address on a port of ports and its data in dir, serves its HTTP API, and
// returns once the member takes writes: a PUT of the key "__ready" was
// committed and applied. It gives up after 20 s (dilated by TimeFactor).
// It takes no testing.TB, so that TestMain can share one node among the
// tests of a package; Stop shuts it down.
func StartHTTPNode(dir string, ports *Ports) (*HTTPNode, error) {
	port, err := ports.Next()
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := node.Start(node.Config{ID: 1, Cluster: map[uint64]string{1: fmt.Sprintf("127.0.0.1:%d", port)}, DataDir: dir, Logger: quiet,
		Network: NoPeers()})
	if err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		n.Stop()
		return nil, err
	}
	// Served as raftkv serves it: its timeouts, its connection cap.
	srv := httpapi.NewServer(httpapi.New(n.System().Root, n.Proposer(), quiet), httpapi.ServerConfig{Logger: quiet})
	h := &HTTPNode{URL: "http://" + lis.Addr().String(), Node: n, srv: srv, served: make(chan struct{})}
	go func() {
		defer close(h.served)
		_ = srv.Serve(httpapi.LimitListener(lis, httpapi.DefaultMaxConnections))
	}()
	deadline := time.Now().Add(Dilated(20 * time.Second))
	for {
		err := h.putReady()
		if err == nil {
			return h, nil
		}
		if time.Now().After(deadline) {
			h.Stop()
			return nil, fmt.Errorf("testkit: node does not take writes: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// NoPeers is a node's network (node.Config.Network) that drops every
// message to another member: the transport of a one-member node in a test
// process. A node on it opens no peer port and starts no protoactor
// remote, whose start sets gRPC's global logger (grpclog.SetLoggerV2)
// while the gRPC servers and clients of the process's other nodes read it,
// which the race detector reports.
func NoPeers() *actor.Props {
	return actor.PropsFromFunc(func(actor.Context) {})
}

// putReady writes the key "__ready" once.
func (h *HTTPNode) putReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), Dilated(time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.URL+"/v1/kv/__ready", strings.NewReader(`{"value":""}`))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT /v1/kv/__ready: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// RunWithHTTPNode runs the tests of a package against one HTTPNode that
// they share; it is the body of a TestMain:
//
//	var endpoint string
//
//	func TestMain(m *testing.M) {
//		os.Exit(testkit.RunWithHTTPNode(m, ports, func(n *testkit.HTTPNode) { endpoint = n.URL }))
//	}
//
// It starts the node in a temporary directory with its peer port from
// ports, calls started with it, runs the tests, stops the node and removes
// the directory. It returns the exit code: m.Run's, or 1 (after printing
// why to stderr) when the node did not start.
func RunWithHTTPNode(m *testing.M, ports *Ports, started func(*HTTPNode)) int {
	dir, err := os.MkdirTemp("", "raftkv-httpnode-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	n, err := StartHTTPNode(dir, ports)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start node:", err)
		return 1
	}
	defer n.Stop()
	started(n)
	return m.Run()
}

// Stop shuts down the HTTP server (ending its watch streams, waiting up
// to 10 s, dilated, for the requests in flight), then the member.
func (h *HTTPNode) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), Dilated(10*time.Second))
	defer cancel()
	_ = h.srv.Shutdown(ctx)
	<-h.served
	h.Node.Stop()
}
