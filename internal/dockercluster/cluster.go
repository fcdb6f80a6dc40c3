//go:build linux

package dockercluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/raftkv/raftkv/testkit"
)

const (
	// PeerPort and HTTPPort are the ports every member uses in its
	// container: its peer address is node<id>:PeerPort, its HTTP API
	// http://node<id>:HTTPPort.
	PeerPort = 12379
	HTTPPort = 12380
)

// Config is the configuration of a cluster's members.
type Config struct {
	// Args are flags added to every member's command line.
	Args []string
	// Tmpfs lists the members whose /data is a tmpfs of the given size
	// ("96m", docker --tmpfs) instead of a volume: a small disk the test
	// can fill. A tmpfs does not outlive its container.
	Tmpfs map[uint64]string
	// Env are environment variables (NAME=value) of every member's
	// process, such as a failpoint's.
	Env []string
}

// Cluster is a raftkv cluster of containers on a private bridge network
// with a /24 subnet of its own. Member id runs in a container with the
// network alias node<id> (its peer address node<id>:12379) and its data
// in a named volume on /data. Everything it creates is removed when the
// test ends, failed or not. Its methods that change the cluster fail the
// test on an error: call them from the test's goroutine.
type Cluster struct {
	t       testing.TB
	name    string // prefix of every container, volume and network name
	network string // the network's name
	cfg     Config
	client  *http.Client // reaches any member, by its name

	mu         sync.Mutex
	subnet     string    // 10.213.x.0/24: room for fixed addresses (--ip)
	members    []*member // member id at index id-1
	containers []string  // every container created, to remove
	volumes    []string  // every volume created, to remove
	netMade    bool
}

// member is one container of a Cluster. Its fields after the first three
// are guarded by Cluster.mu.
type member struct {
	id        uint64
	container string
	volume    string

	created   bool
	running   bool
	paused    bool
	connected bool
	ip        string // on the cluster network; "" while disconnected
	pid       int    // of the container's process; 0 while not running
	runs      uint64 // how many times its process was started
}

// New creates the network for n members and starts them all, each with
// args added to its command line. It does not wait for a leader.
func New(t testing.TB, n int, args ...string) *Cluster {
	t.Helper()
	return NewWithConfig(t, n, Config{Args: args})
}

// NewWithConfig is New with a configuration of the members.
func NewWithConfig(t testing.TB, n int, cfg Config) *Cluster {
	t.Helper()
	Require(t)
	c := &Cluster{t: t, cfg: cfg, name: fmt.Sprintf("rkh-%s-%s", sanitize(t.Name()), RandomHex(3))}
	c.network = c.name + "-net"
	c.client = c.HTTPClient(testkit.Dilated(15 * time.Second))
	for range n {
		c.Add()
	}
	t.Cleanup(c.cleanup)
	c.createNetwork()
	for id := uint64(1); id <= uint64(n); id++ {
		c.Start(id)
	}
	return c
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// sanitize turns a test name into a piece of a Docker object name.
func sanitize(name string) string {
	s := strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-.")
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.ToLower(s)
}

// ctx returns a context for one docker command.
func (c *Cluster) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), testkit.Dilated(time.Minute))
}

// Docker runs a docker command and fails the test if it fails.
func (c *Cluster) Docker(args ...string) string {
	c.t.Helper()
	ctx, cancel := c.ctx()
	defer cancel()
	out, err := Docker(ctx, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// createNetwork creates the cluster's bridge network on a random /24 of
// 10.213.0.0/16, trying another one while Docker says it overlaps a
// network that exists.
func (c *Cluster) createNetwork() {
	c.t.Helper()
	var last error
	for range 32 {
		x, _ := rand.Int(rand.Reader, big.NewInt(256))
		subnet := fmt.Sprintf("10.213.%d.0/24", x.Int64())
		ctx, cancel := c.ctx()
		_, err := Docker(ctx, "network", "create", "--driver", "bridge", "--subnet", subnet,
			"--label", Label(), c.network)
		cancel()
		if err == nil {
			c.mu.Lock()
			c.subnet, c.netMade = subnet, true
			c.mu.Unlock()
			return
		}
		if !strings.Contains(strings.ToLower(err.Error()), "overlap") {
			c.t.Fatalf("create network %s: %v", c.network, err)
		}
		last = err
	}
	c.t.Fatalf("create network %s: no free /24 in 10.213.0.0/16: %v", c.network, last)
}

func (c *Cluster) member(id uint64) *member {
	c.t.Helper()
	m, err := c.lookup(id)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// lookup returns member id, without failing the test: for other
// goroutines than the test's.
func (c *Cluster) lookup(id uint64) (*member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id < 1 || id > uint64(len(c.members)) {
		return nil, fmt.Errorf("no member %d in a cluster of %d", id, len(c.members))
	}
	return c.members[id-1], nil
}

// Size is the number of members the cluster made room for (Add).
func (c *Cluster) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.members)
}

// clusterFlag is the --cluster flag of a member: every member so far.
func (c *Cluster) clusterFlag() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	peers := make([]string, len(c.members))
	for i := range c.members {
		peers[i] = fmt.Sprintf("http://node%d:%d", i+1, PeerPort)
	}
	return strings.Join(peers, ",")
}

// Start creates member id's volume and container and starts it, then
// waits until it answers HTTP. extra flags follow the cluster's own.
func (c *Cluster) Start(id uint64, extra ...string) {
	c.t.Helper()
	m := c.member(id)
	c.mu.Lock()
	if m.created {
		c.mu.Unlock()
		c.t.Fatalf("member %d: start: its container exists (restart it)", id)
	}
	m.created = true
	size := c.cfg.Tmpfs[id]
	if size == "" {
		c.volumes = append(c.volumes, m.volume)
	}
	c.containers = append(c.containers, m.container)
	c.mu.Unlock()
	mount := []string{"--tmpfs", "/data:size=" + size}
	if size == "" {
		c.Docker("volume", "create", "--label", Label(), m.volume)
		mount = []string{"-v", m.volume + ":/data"}
	}
	args := []string{"run", "-d", "--name", m.container, "--hostname", fmt.Sprintf("node%d", id),
		"--label", Label(), "--network", c.network, "--network-alias", fmt.Sprintf("node%d", id)}
	for _, e := range c.cfg.Env {
		args = append(args, "-e", e)
	}
	args = append(append(args, mount...), image,
		"--id", fmt.Sprint(id), "--cluster", c.clusterFlag(), "--port", fmt.Sprint(HTTPPort))
	args = append(append(args, c.cfg.Args...), extra...)
	c.Docker(args...)
	c.mu.Lock()
	m.connected = true
	c.mu.Unlock()
	c.started(m)
}

// Add makes room for one more member, node<id>, whose container is not
// created yet (Start it with --join once the cluster added it), and
// returns its id. Its --cluster lists every member up to it.
func (c *Cluster) Add() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := uint64(len(c.members) + 1)
	m := &member{id: id, container: fmt.Sprintf("%s-node%d", c.name, id), volume: fmt.Sprintf("%s-node%d-data", c.name, id)}
	c.members = append(c.members, m)
	return id
}

// Squat runs, at address ip of the cluster network, a container that is no
// member: a raftkv of a cluster of its own (member 1 of one), listening on
// the peer port, as a host that took over an address a member left.
func (c *Cluster) Squat(ip string) {
	c.t.Helper()
	name := c.name + "-squatter"
	c.mu.Lock()
	c.containers = append(c.containers, name)
	c.mu.Unlock()
	c.Docker("run", "-d", "--name", name, "--label", Label(), "--network", c.network, "--ip", ip,
		image, "--id", "1", "--cluster", fmt.Sprintf("http://%s:%d", ip, PeerPort), "--port", fmt.Sprint(HTTPPort))
}

// Restart starts the containers of members ids again (after Kill): same
// containers, same data volumes, same command lines; then waits until
// each answers HTTP.
func (c *Cluster) Restart(ids ...uint64) {
	c.t.Helper()
	args := []string{"start"}
	for _, id := range ids {
		args = append(args, c.member(id).container)
	}
	c.Docker(args...)
	for _, id := range ids {
		c.started(c.member(id))
	}
}

// started records the process and address of m's freshly started
// container and waits until it answers HTTP.
func (c *Cluster) started(m *member) {
	c.t.Helper()
	pid := c.PID(m.id)
	if pid == 0 {
		c.t.Fatalf("member %d exited at start:\n%s", m.id, c.Logs(m.id, 40))
	}
	ip := c.inspectIP(m)
	c.mu.Lock()
	m.running, m.paused, m.pid = true, false, pid
	m.ip = ip
	m.runs++
	c.mu.Unlock()
	testkit.AwaitCondition(c.t, fmt.Sprintf("member %d answers HTTP", m.id), func() bool {
		if _, err := c.Status(m.id); err == nil {
			return true
		}
		if c.PID(m.id) != pid {
			c.t.Fatalf("member %d exited at start:\n%s", m.id, c.Logs(m.id, 40))
		}
		return false
	}, 20*time.Second)
}

// Kill sends SIGKILL to the processes of members ids, all in one docker
// command, and waits until their containers have stopped. Their volumes,
// and so their data, stay.
func (c *Cluster) Kill(ids ...uint64) {
	c.t.Helper()
	kill, wait := []string{"kill"}, []string{"wait"}
	for _, id := range ids {
		m := c.member(id)
		c.mu.Lock()
		m.running = false // no new requests to it
		c.mu.Unlock()
		kill = append(kill, m.container)
		wait = append(wait, m.container)
	}
	c.Docker(kill...)
	c.Docker(wait...) // returns once they have stopped
	c.mu.Lock()
	for _, id := range ids {
		c.members[id-1].pid = 0
		c.members[id-1].paused = false
	}
	c.mu.Unlock()
}

// Pause stops member id's process with SIGSTOP: it keeps its connections
// and its state but answers nothing (connections to it still open: the
// kernel accepts them) until Resume.
func (c *Cluster) Pause(id uint64) {
	c.t.Helper()
	c.signal(id, unix.SIGSTOP, true)
}

// Resume continues member id's process after Pause (SIGCONT).
func (c *Cluster) Resume(id uint64) {
	c.t.Helper()
	c.signal(id, unix.SIGCONT, false)
}

func (c *Cluster) signal(id uint64, sig unix.Signal, paused bool) {
	c.t.Helper()
	m := c.member(id)
	c.mu.Lock()
	pid := m.pid
	c.mu.Unlock()
	if pid == 0 {
		c.t.Fatalf("member %d: %v: it is not running", id, sig)
	}
	if err := unix.Kill(pid, sig); err != nil {
		c.t.Fatalf("member %d: %v to pid %d: %v", id, sig, pid, err)
	}
	c.mu.Lock()
	m.paused = paused
	c.mu.Unlock()
}

// Disconnect cuts member id off the cluster network: it no longer reaches
// or is reached by the other members (nor through a published port); the
// test still reaches it in its namespace. IP(id) is "" until it is
// connected again: take the address before, to give it back.
func (c *Cluster) Disconnect(id uint64) {
	c.t.Helper()
	m := c.member(id)
	c.Docker("network", "disconnect", c.network, m.container)
	c.mu.Lock()
	m.connected, m.ip = false, ""
	c.mu.Unlock()
}

// Connect connects member id to the cluster network again, with its alias
// node<id>, at address ip, or at one Docker picks if ip is "".
func (c *Cluster) Connect(id uint64, ip string) {
	c.t.Helper()
	m := c.member(id)
	args := []string{"network", "connect", "--alias", fmt.Sprintf("node%d", id)}
	if ip != "" {
		args = append(args, "--ip", ip)
	}
	c.Docker(append(args, c.network, m.container)...)
	addr := c.inspectIP(m)
	c.mu.Lock()
	m.connected, m.ip = true, addr
	c.mu.Unlock()
}

// IP returns member id's address on the cluster network ("" while it is
// disconnected).
func (c *Cluster) IP(id uint64) string {
	m := c.member(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	return m.ip
}

func (c *Cluster) inspectIP(m *member) string {
	c.t.Helper()
	return c.Docker("inspect", "-f", fmt.Sprintf("{{with index .NetworkSettings.Networks %q}}{{.IPAddress}}{{end}}", c.network), m.container)
}

// PID returns the host pid of member id's process (docker inspect), 0 if
// its container is not running.
func (c *Cluster) PID(id uint64) int {
	c.t.Helper()
	out := c.Docker("inspect", "-f", "{{.State.Pid}}", c.member(id).container)
	pid, err := strconv.Atoi(out)
	if err != nil {
		c.t.Fatalf("member %d: pid %q: %v", id, out, err)
	}
	return pid
}

// Run tells which run of member id's process is the current one: 1 from
// its first start, one more at each restart (0 before its first start, or
// for no such member). A request whose context carries a run (RunContext)
// reaches only that run of the member. It is safe to call from any
// goroutine.
func (c *Cluster) Run(id uint64) uint64 {
	m, err := c.lookup(id)
	if err != nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return m.runs
}

// Container returns the name of member id's container.
func (c *Cluster) Container(id uint64) string { return c.member(id).container }

// Reachable returns the members that run, are not paused, and are
// connected to the network.
func (c *Cluster) Reachable() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []uint64
	for _, m := range c.members {
		if m.running && !m.paused && m.connected {
			ids = append(ids, m.id)
		}
	}
	return ids
}

// Logs returns the last lines of member id's container log (standard
// output and error).
func (c *Cluster) Logs(id uint64, lines int) string {
	m := c.member(id)
	ctx, cancel := c.ctx()
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "logs", "--tail", fmt.Sprint(lines), m.container).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(docker logs: %v: %s)", err, out)
	}
	return string(out)
}

// cleanup removes every container, volume and network of the cluster,
// after logging each container's log if the test failed or panicked.
func (c *Cluster) cleanup() {
	c.mu.Lock()
	containers := append([]string(nil), c.containers...)
	volumes := append([]string(nil), c.volumes...)
	members := append([]*member(nil), c.members...)
	netMade := c.netMade
	c.mu.Unlock()
	if c.t.Failed() || panicking() {
		for _, m := range members {
			c.mu.Lock()
			created := m.created
			c.mu.Unlock()
			if !created {
				continue
			}
			ctx, cancel := c.ctx()
			state, _ := Docker(ctx, "inspect", "-f", "{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}", m.container)
			cancel()
			c.t.Logf("---- member %d (%s, %s), last 80 log lines ----\n%s", m.id, m.container, state, c.Logs(m.id, 80))
		}
	}
	remove := func(args ...string) {
		ctx, cancel := c.ctx()
		defer cancel()
		if _, err := Docker(ctx, args...); err != nil && !strings.Contains(err.Error(), "No such") {
			c.t.Errorf("cleanup: %v", err)
		}
	}
	if len(containers) > 0 {
		remove(append([]string{"rm", "-f", "-v"}, containers...)...)
	}
	if len(volumes) > 0 {
		remove(append([]string{"volume", "rm", "-f"}, volumes...)...)
	}
	if netMade {
		remove("network", "rm", c.network)
	}
}

// panicking tells whether the calling goroutine is unwinding a panic. A
// test's cleanups run during its panic, before it is marked failed.
func panicking() bool {
	return bytes.Contains(debug.Stack(), []byte("\npanic("))
}
