//go:build linux

package dockercluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

// Endpoint is the URL of member id's HTTP API, as HTTPClient reaches it:
// http://node<id>:12380.
func Endpoint(id uint64) string { return fmt.Sprintf("http://node%d:%d", id, HTTPPort) }

// HTTPClient returns an HTTP client, with the given timeout per request (0:
// none), that reaches any port of member id at the host name node<id>
// (Endpoint(id) for its HTTP API), inside the member's network namespace,
// whatever the state of its network. Every request dials anew, in the
// namespace of the member's process of the moment, so no connection
// outlives a restart. A member that is not running cannot be dialed: the
// error is a *net.OpError of Op "dial", as for a refused connection, so
// that the Go client knows the request never left. It is safe for
// concurrent use.
func (c *Cluster) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:       c.dial,
			DisableKeepAlives: true,
		},
	}
}

// runKey is the context key of RunContext.
type runKey struct{}

// RunContext returns a context for requests of HTTPClient that reach only
// run (Cluster.Run) of the member they are sent to: once the member was
// restarted, they fail to dial, as if it were down. A test that tells the
// runs of a member apart (reads that must be monotonic within one run)
// records the run it asks, and is sure that it is the run that answers.
func RunContext(ctx context.Context, run uint64) context.Context {
	return context.WithValue(ctx, runKey{}, run)
}

// dial opens a TCP connection to addr, node<id>:<port>, in member id's
// network namespace.
func (c *Cluster) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	fail := func(err error) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fail(err)
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(host, "node"), 10, 64)
	if !strings.HasPrefix(host, "node") || err != nil {
		return fail(fmt.Errorf("%s names no member (want node<id>)", host))
	}
	m, err := c.lookup(n)
	if err != nil {
		return fail(err)
	}
	c.mu.Lock()
	pid, run := m.pid, m.runs
	c.mu.Unlock()
	if pid == 0 {
		return fail(fmt.Errorf("member %d is not running", m.id))
	}
	if want, ok := ctx.Value(runKey{}).(uint64); ok && want != run {
		return fail(fmt.Errorf("member %d: run %d is over (run %d now)", m.id, want, run))
	}
	conn, err := dialInNetns(ctx, pid, net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fail(fmt.Errorf("member %d: %w", m.id, err))
	}
	return conn, nil
}

// dialInNetns dials addr over TCP in the network namespace of process pid.
// The socket is created in that namespace and stays there; the dialing
// thread switches into it and back, locked to its goroutine throughout.
// If it cannot switch back, the thread stays locked and the runtime
// discards it when the goroutine ends, so no goroutine ever runs in the
// wrong namespace.
func dialInNetns(ctx context.Context, pid int, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		conn, err, restored := dialFromThread(ctx, pid, addr)
		if restored {
			runtime.UnlockOSThread()
		}
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// dialFromThread does the work of dialInNetns on a locked thread; restored
// is false if the thread may be left in another namespace.
func dialFromThread(ctx context.Context, pid int, addr string) (conn net.Conn, err error, restored bool) {
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open own network namespace: %w", err), true
	}
	defer unix.Close(self)
	path := fmt.Sprintf("/proc/%d/ns/net", pid)
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s (the test must run in the Docker host's pid namespace): %w", path, err), true
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("enter %s: %w", path, err), true
	}
	var d net.Dialer
	conn, err = d.DialContext(ctx, "tcp", addr)
	if serr := unix.Setns(self, unix.CLONE_NEWNET); serr != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("return from %s: %w", path, serr), false
	}
	return conn, err, true
}

// Do sends one request to member id's HTTP API and returns the status and
// body.
func (c *Cluster) Do(id uint64, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, Endpoint(id)+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Put writes key=value through member id (PUT /<key>) and returns the
// HTTP status: 204 once the write is committed and applied.
func (c *Cluster) Put(id uint64, key, value string) (int, error) {
	code, _, err := c.Do(id, http.MethodPut, "/"+key, []byte(value))
	return code, err
}

// MustPut writes key=value through member id and fails the test unless it
// is acknowledged (204).
func (c *Cluster) MustPut(id uint64, key, value string) {
	c.t.Helper()
	if code, body, err := c.Do(id, http.MethodPut, "/"+key, []byte(value)); err != nil || code != http.StatusNoContent {
		c.t.Fatalf("PUT /%s through member %d: status %d %s, err %v", key, id, code, body, err)
	}
}

// Get reads key through member id (GET /<key>, linearizable).
func (c *Cluster) Get(id uint64, key string) (int, string, error) {
	code, body, err := c.Do(id, http.MethodGet, "/"+key, nil)
	return code, string(body), err
}

// Status returns member id's GET /v1/status.
func (c *Cluster) Status(id uint64) (api.StatusReply, error) {
	var st api.StatusReply
	code, body, err := c.Do(id, http.MethodGet, "/v1/status", nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("member %d: GET /v1/status: %d %s", id, code, body)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("member %d: GET /v1/status: %w", id, err)
	}
	return st, nil
}

// WaitLeader waits until members ids (by default every member that is
// Reachable) serve and name the same leader, one of them, and returns it.
func (c *Cluster) WaitLeader(ids ...uint64) uint64 {
	c.t.Helper()
	if len(ids) == 0 {
		ids = c.Reachable()
	}
	var leader uint64
	testkit.AwaitCondition(c.t, fmt.Sprintf("members %v agree on a leader among them", ids), func() bool {
		leader = 0
		for _, id := range ids {
			st, err := c.Status(id)
			if err != nil || !st.Serving || st.Leader == 0 || (leader != 0 && st.Leader != leader) {
				return false
			}
			leader = st.Leader
		}
		for _, id := range ids {
			if id == leader {
				return true
			}
		}
		return false
	}, 30*time.Second)
	return leader
}

// WaitValue waits until a linearizable read of key through member id
// returns value.
func (c *Cluster) WaitValue(id uint64, key, value string) {
	c.t.Helper()
	testkit.AwaitCondition(c.t, fmt.Sprintf("member %d reads %s=%q", id, key, value), func() bool {
		code, got, err := c.Get(id, key)
		return err == nil && code == http.StatusOK && got == value
	}, 30*time.Second)
}
