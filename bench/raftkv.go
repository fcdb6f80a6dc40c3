package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/raftkv/raftkv/api"
)

// startTimeout bounds the wait for a cluster to elect a leader and serve.
const startTimeout = 90 * time.Second

// Raftkv is a three-member raftkv cluster of processes of the raftkv binary.
type Raftkv struct {
	members []*member
	urls    []string // HTTP API of member i+1
	dirs    []string
	status  *http.Client
	client  string // ClientNetHTTP, or ClientFastHTTP (also when empty)
}

// StartRaftkv starts len(peerPorts) raftkv members from bin on loopback,
// member i with its peer port peerPorts[i], its HTTP API on httpPorts[i]
// and its data and log under dir, and waits until they serve with a leader.
// Its workers talk to the leader through client (ClientFastHTTP, the
// default when empty, or ClientNetHTTP).
func StartRaftkv(ctx context.Context, bin, dir string, peerPorts, httpPorts []int, client string) (*Raftkv, error) {
	if err := CheckClient(client); err != nil {
		return nil, err
	}
	r := &Raftkv{status: &http.Client{Timeout: 2 * time.Second}, client: client}
	var peers []string
	for _, p := range peerPorts {
		peers = append(peers, fmt.Sprintf("http://127.0.0.1:%d", p))
	}
	for i := range peerPorts {
		id := i + 1
		data := filepath.Join(dir, fmt.Sprintf("raftkv-%d", id))
		argv := []string{bin,
			"--id", fmt.Sprint(id), "--cluster", strings.Join(peers, ","),
			"--port", fmt.Sprint(httpPorts[i]),
			"--listen-peer", fmt.Sprintf("127.0.0.1:%d", peerPorts[i]),
			"--listen-client", fmt.Sprintf("127.0.0.1:%d", httpPorts[i]),
			"--data-dir", data, "--log-level", "warn"}
		m, err := startMember(fmt.Sprintf("raftkv member %d", id), filepath.Join(dir, fmt.Sprintf("raftkv-%d.log", id)), argv)
		if err != nil {
			r.Stop()
			return nil, err
		}
		r.members = append(r.members, m)
		r.urls = append(r.urls, fmt.Sprintf("http://127.0.0.1:%d", httpPorts[i]))
		r.dirs = append(r.dirs, data)
	}
	if err := awaitReady(ctx, "raftkv", r.Check, func(ctx context.Context) error {
		_, err := r.leader(ctx, true)
		return err
	}); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// awaitReady polls ready (every member agrees on a leader) until it
// succeeds, the context ends or startTimeout passes; check fails it at
// once when a member has exited.
func awaitReady(ctx context.Context, system string, check func() error, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := check(); err != nil {
			return err
		}
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s cluster not ready after %v: %w", system, startTimeout, errors.Join(ctx.Err(), err))
		case <-tick.C:
		}
	}
}

// leader returns the index of the leader: the one member 1 knows, or with
// all, the one every member knows and serves with.
func (r *Raftkv) leader(ctx context.Context, all bool) (int, error) {
	leader := uint64(0)
	for i, u := range r.urls {
		st, err := r.getStatus(ctx, u)
		if err != nil {
			return 0, err
		}
		switch {
		case st.Leader == 0 || !st.Serving:
			return 0, fmt.Errorf("raftkv member %d: no leader yet or not serving", i+1)
		case leader != 0 && st.Leader != leader:
			return 0, fmt.Errorf("raftkv members disagree on the leader (%d, %d)", leader, st.Leader)
		}
		leader = st.Leader
		if !all {
			break
		}
	}
	if leader < 1 || int(leader) > len(r.urls) {
		return 0, fmt.Errorf("raftkv leader %d is not one of the members started", leader)
	}
	return int(leader) - 1, nil
}

func (r *Raftkv) getStatus(ctx context.Context, url string) (*api.StatusReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.status.Do(req)
	if err != nil {
		return nil, fmt.Errorf("raftkv status: %w", err)
	}
	defer resp.Body.Close()
	var st api.StatusReply
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("raftkv status of %s: %w", url, err)
	}
	return &st, nil
}

// Name implements System.
func (r *Raftkv) Name() string { return "raftkv" }

// PIDs implements System.
func (r *Raftkv) PIDs() []int { return pids(r.members) }

// DataDirs implements System.
func (r *Raftkv) DataDirs() []string { return r.dirs }

// Check implements System.
func (r *Raftkv) Check() error {
	for _, m := range r.members {
		if err := m.alive(); err != nil {
			return err
		}
	}
	return nil
}

// AfterWorkload implements System: raftkv bounds its history itself
// (--history-revisions, --history-mib).
func (r *Raftkv) AfterWorkload(context.Context) error { return nil }

// Stop implements System.
func (r *Raftkv) Stop() { killAll(r.members) }

// Connect implements System: a client of the leader's HTTP API, one
// keep-alive connection per worker.
func (r *Raftkv) Connect(ctx context.Context, clients int) (Client, error) {
	i, err := r.leader(ctx, false)
	if err != nil {
		return nil, err
	}
	if r.client == ClientNetHTTP {
		return NewHTTPClient(r.urls[i], clients), nil
	}
	return NewFastClient(r.urls[i], clients), nil
}

// HTTPClient is a Client of one raftkv member's HTTP API over plain
// net/http with keep-alive. It takes the fastest route of each operation
// (measured: the raftexample routes answered PUT at 64 clients 15-40%
// faster than the JSON API v1, linearizable GET about 10% faster; the
// client package, which speaks v1, was about as fast as v1): PUT /<key> with the value as the
// body (204 once committed and applied, as fsynced on a quorum as v1's
// PUT), GET /<key> (linearizable, the raw value), and for serializable
// reads, which only v1 has, GET /v1/kv/<key>?raw&consistency=serializable.
// Keys must need no escaping in a path and not start with "v1/".
type HTTPClient struct {
	base      string
	transport *http.Transport
	hc        *http.Client
}

// NewHTTPClient returns a client of the member at base (http://host:port)
// that keeps up to conns connections open.
func NewHTTPClient(base string, conns int) *HTTPClient {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &HTTPClient{base: base, transport: tr, hc: &http.Client{Transport: tr}}
}

// Put implements Client.
func (c *HTTPClient) Put(ctx context.Context, key string, value []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/"+key, bytes.NewReader(value))
	if err != nil {
		return err
	}
	return c.do(req, http.StatusNoContent)
}

// Get implements Client.
func (c *HTTPClient) Get(ctx context.Context, key string, serializable bool) error {
	u := c.base + "/" + key
	if serializable {
		u = c.base + "/v1/kv/" + key + "?raw&consistency=serializable"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return c.do(req, http.StatusOK)
}

// do sends req and reads the whole answer, so that the connection is
// reused; a status other than want is an error.
func (c *HTTPClient) do(req *http.Request, want int) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Path, resp.Status, body)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// Close implements Client.
func (c *HTTPClient) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}
