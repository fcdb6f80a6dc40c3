package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

// binPath is the raftkv binary under test, built once by TestMain with the
// race detector so that data races in real processes fail the run too;
// benchmarks (-bench) get a build without it, the one users run.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "raftkv-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "raftkv")
	args := []string{"build", "-race", "-o", binPath, "../cmd/raftkv"}
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		args = []string{"build", "-o", binPath, "../cmd/raftkv"}
	}
	build := exec.Command("go", args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build raftkv:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ports is e2e's band of ports: below the kernel's ephemeral range, apart
// from the bands of the packages tested in parallel.
var ports = testkit.NewPorts(20000, 32000)

// cluster is a set of raftkv processes on loopback.
type cluster struct {
	t      testing.TB
	dir    string
	peers  []string // peer address of member i+1
	http   []int    // HTTP port of member i+1
	procs  map[uint64]*proc
	args   []string // extra flags for every member
	mu     sync.Mutex
	client *http.Client
}

type proc struct {
	id     uint64
	cmd    *exec.Cmd
	log    *bytes.Buffer
	exited chan struct{}
	err    error
}

// newCluster starts n members and waits until they agree on a leader.
func newCluster(t testing.TB, n int, args ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, dir: t.TempDir(), procs: map[uint64]*proc{}, args: args,
		client: &http.Client{Timeout: 15 * time.Second}}
	for range n {
		c.addSlot()
	}
	for id := uint64(1); id <= uint64(n); id++ {
		c.start(id, false)
	}
	t.Cleanup(c.shutdown)
	c.waitLeader()
	return c
}

// addSlot reserves ports for one more member and returns its id.
func (c *cluster) addSlot() uint64 {
	c.peers = append(c.peers, fmt.Sprintf("127.0.0.1:%d", ports.MustNext(c.t)))
	c.http = append(c.http, ports.MustNext(c.t))
	return uint64(len(c.peers))
}

func (c *cluster) url(id uint64, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.http[id-1], path)
}

func (c *cluster) dataDir(id uint64) string {
	return filepath.Join(c.dir, fmt.Sprintf("raftkv-%d", id))
}

// start launches member id (again).
func (c *cluster) start(id uint64, join bool) {
	c.t.Helper()
	c.startWith(id, join)
}

// startWith launches member id (again) with extra flags.
func (c *cluster) startWith(id uint64, join bool, extra ...string) {
	c.t.Helper()
	peers := make([]string, len(c.peers))
	for i, p := range c.peers {
		peers[i] = "http://" + p
	}
	args := append([]string{
		"--id", fmt.Sprint(id), "--cluster", strings.Join(peers, ","),
		"--port", fmt.Sprint(c.http[id-1]), "--data-dir", c.dataDir(id),
	}, c.args...)
	args = append(args, extra...)
	if join {
		args = append(args, "--join")
	}
	cmd := exec.Command(binPath, args...)
	p := &proc{id: id, cmd: cmd, log: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout = &lockedWriter{mu: &c.mu, w: p.log}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start member %d: %v", id, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	c.procs[id] = p
	testkit.AwaitCondition(c.t, fmt.Sprintf("member %d serves HTTP", id), func() bool {
		select {
		case <-p.exited:
			c.t.Fatalf("member %d exited at start: %v\n%s", id, p.err, c.logOf(p))
		default:
		}
		_, err := c.status(id)
		return err == nil
	}, 20*time.Second)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (c *cluster) logOf(p *proc) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return p.log.String()
}

// kill sends SIGKILL to member id and waits until it is gone.
func (c *cluster) kill(id uint64) {
	c.t.Helper()
	p := c.procs[id]
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop sends SIGTERM to member id and waits for a clean exit.
func (c *cluster) stop(id uint64) {
	c.t.Helper()
	p := c.procs[id]
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(testkit.Dilated(20 * time.Second)):
		c.t.Fatalf("member %d did not stop on SIGTERM", id)
	}
	if p.err != nil {
		c.t.Errorf("member %d exited with %v\n%s", id, p.err, tail(c.logOf(p), 150))
	}
}

func (c *cluster) running(id uint64) bool {
	p, ok := c.procs[id]
	if !ok {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (c *cluster) shutdown() {
	for id, p := range c.procs {
		if c.running(id) {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.exited
			}
		}
		if c.t.Failed() {
			log := c.logOf(p)
			if i := strings.Index(log, "WARNING: DATA RACE"); i >= 0 {
				c.t.Logf("---- data race in member %d ----\n%s", id, head(log[i:], 120))
			}
			c.t.Logf("---- log of member %d ----\n%s", id, tail(log, 80))
		}
	}
}

func head(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[:lines]
	}
	return strings.Join(parts, "\n")
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

func (c *cluster) do(method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
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

// put writes key=value through member id and returns the HTTP status.
func (c *cluster) put(id uint64, key, value string) (int, error) {
	code, _, err := c.do(http.MethodPut, c.url(id, "/"+key), []byte(value))
	return code, err
}

// mustPut writes key=value and fails the test unless the answer is 204.
func (c *cluster) mustPut(id uint64, key, value string) {
	c.t.Helper()
	code, err := c.put(id, key, value)
	if err != nil || code != http.StatusNoContent {
		c.t.Fatalf("PUT /%s on member %d: status %d, err %v", key, id, code, err)
	}
}

// get reads key through member id.
func (c *cluster) get(id uint64, key string) (int, string, error) {
	code, body, err := c.do(http.MethodGet, c.url(id, "/"+key), nil)
	return code, string(body), err
}

func (c *cluster) status(id uint64) (api.StatusReply, error) {
	var st api.StatusReply
	code, body, err := c.do(http.MethodGet, c.url(id, "/v1/status"), nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("status %d: %s", code, body)
	}
	return st, json.Unmarshal(body, &st)
}

// waitLeader waits until every running member serves and names the same
// leader, and returns it.
func (c *cluster) waitLeader() uint64 {
	c.t.Helper()
	var leader uint64
	testkit.AwaitCondition(c.t, "running members agree on a leader", func() bool {
		leader = 0
		for id := range c.procs {
			if !c.running(id) {
				continue
			}
			st, err := c.status(id)
			if err != nil || !st.Serving || st.Leader == 0 || (leader != 0 && st.Leader != leader) {
				return false
			}
			leader = st.Leader
		}
		return leader != 0 && c.running(leader)
	}, 30*time.Second)
	return leader
}

// waitValue waits until a linearizable read of key on member id returns value.
func (c *cluster) waitValue(id uint64, key, value string) {
	c.t.Helper()
	testkit.AwaitCondition(c.t, fmt.Sprintf("member %d reads %s=%q", id, key, value), func() bool {
		code, got, err := c.get(id, key)
		return err == nil && code == http.StatusOK && got == value
	}, 30*time.Second)
}

// membersOf is the members a status lists, by id.
func membersOf(st api.StatusReply) map[uint64]api.Member {
	out := map[uint64]api.Member{}
	for _, m := range st.Members {
		out[m.ID] = m
	}
	return out
}
