//go:build linux

// Package hosts tests raftkv across separate hosts: each member runs in a
// container of its own, on a private Docker network, and reaches the
// others by name (node1..nodeN), as in deploy/docker-compose.yml. Tests cut
// members off the network, kill and restart them, and talk to every member
// over HTTP from inside its own network namespace, so that a member the
// network no longer reaches still answers the test.
//
// TestMain builds a static raftkv (CGO_ENABLED=0) and an image from the
// repository's Dockerfile, FROM scratch, so no registry is needed. Without
// a Docker engine every test is skipped. The tests must run as root on the
// Docker host (they enter containers' network namespaces).
//
// Everything a run creates carries the label runLabel=<run id>: a reaper
// process removes whatever is left of it when the test binary exits, even
// by a panic or a timeout.
package hosts

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

const (
	// runLabel marks every container, volume, network and image of a run.
	runLabel = "io.raftkv.e2e.hosts.run"
	// reaperEnv, set, makes the test binary a reaper (see startReaper).
	reaperEnv = "RAFTKV_E2E_HOSTS_REAPER"
	// peerPort and httpPort are the ports every member uses in its container.
	peerPort = 12379
	httpPort = 12380
)

var (
	// skipReason, if set, is why no test of the package can run.
	skipReason string
	// runID names this run; image is the image under test, built by TestMain.
	runID string
	image string
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(reaperEnv); spec != "" {
		reap(spec)
		os.Exit(0)
	}
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if skipReason = unavailable(); skipReason != "" {
		fmt.Fprintf(os.Stderr, "e2e/hosts: skipping every test: %s\n", skipReason)
		return m.Run()
	}
	runID = fmt.Sprintf("%d-%s", os.Getpid(), randomHex(3))
	image = "raftkv-test:" + runID

	// The reaper comes first, so that nothing this run creates can outlive it.
	reaper, err := startReaper()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e/hosts: start the reaper: %v\n", err)
		return 1
	}
	defer reaper.finish()

	dir, err := os.MkdirTemp("", "raftkv-e2e-hosts-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e/hosts:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	if err := buildImage(dir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/hosts: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e/hosts: built %s in %.1fs\n", image, time.Since(start).Seconds())
	return m.Run()
}

// unavailable says why the tests cannot run here, or "" if they can.
func unavailable() string {
	if _, err := exec.LookPath("docker"); err != nil {
		return "no Docker engine: the docker command is not on PATH"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("no Docker engine answers (docker version: %v: %s)", err, firstLine(string(out)))
	}
	if !hasCapSysAdmin() {
		return "not root: entering a container's network namespace needs CAP_SYS_ADMIN"
	}
	return ""
}

// hasCapSysAdmin tells whether this process may setns(2) into another
// network namespace.
func hasCapSysAdmin() bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(rest), 16, 64)
			return err == nil && caps&(1<<unix.CAP_SYS_ADMIN) != 0
		}
	}
	return false
}

// buildImage builds a static raftkv and the image under test from a build
// context of its own in dir (the Dockerfile and the binary where the
// Dockerfile expects it), independent of the working tree's bin/.
func buildImage(dir string) error {
	root, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "bin", "linux", "raftkv")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/raftkv")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build a static raftkv: %v\n%s", err, out)
	}
	for _, name := range []string{"Dockerfile", ".dockerignore"} {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "build", "--force-rm",
		"--label", runLabel+"="+runID, "-t", image, dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker build: %v\n%s", err, out)
	}
	return nil
}

// reaper is a process that removes what this run left behind (containers,
// volumes and networks labelled with the run id, and the image) once this
// process is gone, however it went: it waits for the end of a pipe that
// only this process holds. Tests remove what they create themselves
// (t.Cleanup); the reaper covers the image after a panic, and everything
// after a timeout or a kill, when no cleanup runs.
type reaper struct {
	cmd  *exec.Cmd
	pipe *os.File
}

func startReaper() (*reaper, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), reaperEnv+"="+runID+" "+image)
	cmd.Stdin = r
	cmd.Stderr = os.Stderr
	// A process group of its own: a Ctrl-C of the terminal stops the tests
	// but not their reaper.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	return &reaper{cmd: cmd, pipe: w}, nil
}

// finish lets the reaper clean up now and waits until it is done.
func (r *reaper) finish() {
	r.pipe.Close()
	done := make(chan struct{})
	go func() {
		_ = r.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		fmt.Fprintln(os.Stderr, "e2e/hosts: the reaper is still cleaning up; leaving it to finish")
	}
}

// reap is the reaper process: spec is "<run id> <image>".
func reap(spec string) {
	// Outlive the terminal and the pipes of `go test`.
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	id, img, _ := strings.Cut(spec, " ")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test binary is gone
	filter := "label=" + runLabel + "=" + id
	list := func(args ...string) []string {
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			return nil
		}
		return strings.Fields(string(out))
	}
	remove := func(what string, args []string, names []string) {
		if len(names) == 0 {
			return
		}
		fmt.Fprintf(os.Stderr, "e2e/hosts: reaper: removing leftover %s %s\n", what, strings.Join(names, " "))
		if out, err := exec.Command("docker", append(args, names...)...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e/hosts: reaper: %v: %s\n", err, out)
		}
	}
	remove("containers", []string{"rm", "-f", "-v"}, list("ps", "-aq", "--filter", filter))
	remove("volumes", []string{"volume", "rm", "-f"}, list("volume", "ls", "-q", "--filter", filter))
	remove("networks", []string{"network", "rm"}, list("network", "ls", "-q", "--filter", filter))
	if img != "" && len(list("images", "-q", img)) > 0 {
		// By tag: an image that also has another tag keeps it.
		if out, err := exec.Command("docker", "rmi", img).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e/hosts: reaper: remove image %s: %v: %s\n", img, err, out)
		}
	}
}

// requireDocker skips the test when the package cannot run here.
func requireDocker(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// docker runs the docker command with args and returns its trimmed
// standard output; the error has its standard error.
func docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// hostCluster is a raftkv cluster of containers on a private bridge
// network with a /24 subnet of its own. Member id runs in a container
// with the network alias node<id> (its peer address node<id>:12379) and
// its data in a named volume on /data. Everything it creates is removed
// when the test ends, failed or not.
type hostCluster struct {
	t       *testing.T
	name    string            // prefix of every container, volume and network name
	network string            // the network's name
	subnet  string            // its subnet, 10.213.x.0/24: room for fixed addresses (--ip)
	args    []string          // extra flags for every member
	tmpfs   map[uint64]string // members whose /data is a tmpfs of this size (docker --tmpfs), not a volume

	mu         sync.Mutex
	members    []*member // member id at index id-1
	containers []string  // every container created, to remove
	volumes    []string  // every volume created, to remove
	netMade    bool
}

// member is one container of a hostCluster.
type member struct {
	id        uint64
	container string
	volume    string
	client    *http.Client // reaches the member in its network namespace

	// guarded by hostCluster.mu
	created   bool
	running   bool
	connected bool
	ip        string // on the cluster network; "" while disconnected
	pid       int    // of the container's process; 0 while not running
}

// newHostCluster creates the network for n members and starts them all,
// each with args added to its command line. It does not wait for a leader.
func newHostCluster(t *testing.T, n int, args ...string) *hostCluster {
	t.Helper()
	return newHostClusterOnTmpfs(t, n, nil, args...)
}

// newHostClusterOnTmpfs is newHostCluster where the members in tmpfs keep
// their data on a tmpfs of the given size ("96m") instead of a volume: a
// small disk the test can fill. A tmpfs does not outlive its container.
func newHostClusterOnTmpfs(t *testing.T, n int, tmpfs map[uint64]string, args ...string) *hostCluster {
	t.Helper()
	requireDocker(t)
	c := &hostCluster{t: t, args: args, tmpfs: tmpfs,
		name: fmt.Sprintf("rkh-%s-%s", sanitize(t.Name()), randomHex(3))}
	c.network = c.name + "-net"
	for range n {
		c.add()
	}
	t.Cleanup(c.cleanup)
	c.createNetwork()
	for id := uint64(1); id <= uint64(n); id++ {
		c.start(id)
	}
	return c
}

// clientFor is an HTTP client that reaches member m in its network
// namespace.
func (c *hostCluster) clientFor(m *member) *http.Client {
	return &http.Client{
		Timeout: testkit.Dilated(15 * time.Second),
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return c.dialMember(ctx, m)
			},
			// Every request dials anew, in the namespace of the member's
			// process of the moment: no connection outlives a restart.
			DisableKeepAlives: true,
		},
	}
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ctx returns a context for one docker command.
func (c *hostCluster) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), testkit.Dilated(time.Minute))
}

// docker runs a docker command and fails the test if it fails.
func (c *hostCluster) docker(args ...string) string {
	c.t.Helper()
	ctx, cancel := c.ctx()
	defer cancel()
	out, err := docker(ctx, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// createNetwork creates the cluster's bridge network on a random /24 of
// 10.213.0.0/16, trying another one while Docker says it overlaps a
// network that exists.
func (c *hostCluster) createNetwork() {
	c.t.Helper()
	var last error
	for range 32 {
		x, _ := rand.Int(rand.Reader, big.NewInt(256))
		subnet := fmt.Sprintf("10.213.%d.0/24", x.Int64())
		ctx, cancel := c.ctx()
		_, err := docker(ctx, "network", "create", "--driver", "bridge", "--subnet", subnet,
			"--label", runLabel+"="+runID, c.network)
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

func (c *hostCluster) member(id uint64) *member {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if id < 1 || id > uint64(len(c.members)) {
		c.t.Fatalf("no member %d in a cluster of %d", id, len(c.members))
	}
	return c.members[id-1]
}

// clusterFlag is the --cluster flag of a member: every member so far.
func (c *hostCluster) clusterFlag() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	peers := make([]string, len(c.members))
	for i := range c.members {
		peers[i] = fmt.Sprintf("http://node%d:%d", i+1, peerPort)
	}
	return strings.Join(peers, ",")
}

// start creates member id's volume and container and starts it, then waits
// until it answers HTTP. extra flags follow the cluster's own.
func (c *hostCluster) start(id uint64, extra ...string) {
	c.t.Helper()
	m := c.member(id)
	c.mu.Lock()
	if m.created {
		c.mu.Unlock()
		c.t.Fatalf("member %d: start: its container exists (restart it)", id)
	}
	m.created = true
	size := c.tmpfs[id]
	if size == "" {
		c.volumes = append(c.volumes, m.volume)
	}
	c.containers = append(c.containers, m.container)
	c.mu.Unlock()
	label := runLabel + "=" + runID
	mount := []string{"--tmpfs", "/data:size=" + size}
	if size == "" {
		c.docker("volume", "create", "--label", label, m.volume)
		mount = []string{"-v", m.volume + ":/data"}
	}
	args := []string{"run", "-d", "--name", m.container, "--hostname", fmt.Sprintf("node%d", id),
		"--label", label, "--network", c.network, "--network-alias", fmt.Sprintf("node%d", id)}
	args = append(append(args, mount...), image,
		"--id", fmt.Sprint(id), "--cluster", c.clusterFlag(), "--port", fmt.Sprint(httpPort))
	args = append(append(args, c.args...), extra...)
	c.docker(args...)
	c.mu.Lock()
	m.connected = true
	c.mu.Unlock()
	c.started(m)
}

// add makes room for one more member, node<id>, whose container is not
// created yet (start it with --join once the cluster added it), and
// returns its id. Its --cluster lists every member up to it.
func (c *hostCluster) add() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := uint64(len(c.members) + 1)
	m := &member{id: id, container: fmt.Sprintf("%s-node%d", c.name, id), volume: fmt.Sprintf("%s-node%d-data", c.name, id)}
	m.client = c.clientFor(m)
	c.members = append(c.members, m)
	return id
}

// squat runs, at address ip of the cluster network, a container that is no
// member: a raftkv of a cluster of its own (member 1 of one), listening on
// the peer port, as a host that took over an address a member left.
func (c *hostCluster) squat(ip string) {
	c.t.Helper()
	name := c.name + "-squatter"
	c.mu.Lock()
	c.containers = append(c.containers, name)
	c.mu.Unlock()
	c.docker("run", "-d", "--name", name, "--label", runLabel+"="+runID, "--network", c.network, "--ip", ip,
		image, "--id", "1", "--cluster", fmt.Sprintf("http://%s:%d", ip, peerPort), "--port", fmt.Sprint(httpPort))
}

// restart starts member id's container again (after kill): same
// container, same data volume, same command line.
func (c *hostCluster) restart(id uint64) {
	c.t.Helper()
	m := c.member(id)
	c.docker("start", m.container)
	c.started(m)
}

// started records the process and address of m's freshly started
// container and waits until it answers HTTP.
func (c *hostCluster) started(m *member) {
	c.t.Helper()
	pid := c.pid(m.id)
	if pid == 0 {
		c.t.Fatalf("member %d exited at start:\n%s", m.id, c.logs(m, 40))
	}
	ip := c.inspectIP(m)
	c.mu.Lock()
	m.running, m.pid = true, pid
	m.ip = ip
	c.mu.Unlock()
	testkit.AwaitCondition(c.t, fmt.Sprintf("member %d answers HTTP", m.id), func() bool {
		if _, err := c.status(m.id); err == nil {
			return true
		}
		if c.pid(m.id) != pid {
			c.t.Fatalf("member %d exited at start:\n%s", m.id, c.logs(m, 40))
		}
		return false
	}, 20*time.Second)
}

// kill sends SIGKILL to member id's process and waits until its container
// has stopped. Its volume, and so its data, stays.
func (c *hostCluster) kill(id uint64) {
	c.t.Helper()
	m := c.member(id)
	c.mu.Lock()
	m.running = false // no new requests to it
	c.mu.Unlock()
	c.docker("kill", m.container)
	c.docker("wait", m.container) // returns once it has stopped
	c.mu.Lock()
	m.pid = 0
	c.mu.Unlock()
}

// disconnect cuts member id off the cluster network: it no longer reaches
// or is reached by the other members (nor through a published port); the
// test still reaches it in its namespace. ip(id) is "" until it is
// connected again: take the address before, to give it back.
func (c *hostCluster) disconnect(id uint64) {
	c.t.Helper()
	m := c.member(id)
	c.docker("network", "disconnect", c.network, m.container)
	c.mu.Lock()
	m.connected, m.ip = false, ""
	c.mu.Unlock()
}

// connect connects member id to the cluster network again, with its alias
// node<id>, at address ip, or at one Docker picks if ip is "".
func (c *hostCluster) connect(id uint64, ip string) {
	c.t.Helper()
	m := c.member(id)
	args := []string{"network", "connect", "--alias", fmt.Sprintf("node%d", id)}
	if ip != "" {
		args = append(args, "--ip", ip)
	}
	c.docker(append(args, c.network, m.container)...)
	addr := c.inspectIP(m)
	c.mu.Lock()
	m.connected, m.ip = true, addr
	c.mu.Unlock()
}

// ip returns member id's address on the cluster network ("" while it is
// disconnected).
func (c *hostCluster) ip(id uint64) string {
	m := c.member(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	return m.ip
}

func (c *hostCluster) inspectIP(m *member) string {
	c.t.Helper()
	return c.docker("inspect", "-f", fmt.Sprintf("{{with index .NetworkSettings.Networks %q}}{{.IPAddress}}{{end}}", c.network), m.container)
}

// pid returns the host pid of member id's process (docker inspect), 0 if
// its container is not running.
func (c *hostCluster) pid(id uint64) int {
	c.t.Helper()
	out := c.docker("inspect", "-f", "{{.State.Pid}}", c.member(id).container)
	pid, err := strconv.Atoi(out)
	if err != nil {
		c.t.Fatalf("member %d: pid %q: %v", id, out, err)
	}
	return pid
}

// reachable returns the members that run and are connected to the network.
func (c *hostCluster) reachable() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []uint64
	for _, m := range c.members {
		if m.running && m.connected {
			ids = append(ids, m.id)
		}
	}
	return ids
}

// logs returns the last lines of member m's container log.
func (c *hostCluster) logs(m *member, lines int) string {
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
func (c *hostCluster) cleanup() {
	c.mu.Lock()
	containers := append([]string(nil), c.containers...)
	volumes := append([]string(nil), c.volumes...)
	netMade := c.netMade
	c.mu.Unlock()
	if c.t.Failed() || panicking() {
		for _, m := range c.members {
			if !m.created {
				continue
			}
			ctx, cancel := c.ctx()
			state, _ := docker(ctx, "inspect", "-f", "{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}", m.container)
			cancel()
			c.t.Logf("---- member %d (%s, %s), last 80 log lines ----\n%s", m.id, m.container, state, c.logs(m, 80))
		}
	}
	remove := func(args ...string) {
		ctx, cancel := c.ctx()
		defer cancel()
		if _, err := docker(ctx, args...); err != nil && !strings.Contains(err.Error(), "No such") {
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

// dialMember opens a TCP connection to member m's HTTP port from inside
// its container's network namespace, whatever the state of its network.
func (c *hostCluster) dialMember(ctx context.Context, m *member) (net.Conn, error) {
	c.mu.Lock()
	pid := m.pid
	c.mu.Unlock()
	if pid == 0 {
		return nil, fmt.Errorf("member %d is not running", m.id)
	}
	conn, err := dialInNetns(ctx, pid, fmt.Sprintf("127.0.0.1:%d", httpPort))
	if err != nil {
		return nil, fmt.Errorf("member %d: %w", m.id, err)
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

// do sends one request to member id and returns the status and body.
func (c *hostCluster) do(id uint64, method, path string, body []byte) (int, []byte, error) {
	m := c.member(id)
	req, err := http.NewRequestWithContext(context.Background(), method,
		fmt.Sprintf("http://node%d:%d%s", id, httpPort, path), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// put writes key=value through member id (PUT /<key>) and returns the
// HTTP status: 204 once the write is committed and applied.
func (c *hostCluster) put(id uint64, key, value string) (int, error) {
	code, _, err := c.do(id, http.MethodPut, "/"+key, []byte(value))
	return code, err
}

// mustPut writes key=value through member id and fails the test unless it
// is acknowledged (204).
func (c *hostCluster) mustPut(id uint64, key, value string) {
	c.t.Helper()
	if code, body, err := c.do(id, http.MethodPut, "/"+key, []byte(value)); err != nil || code != http.StatusNoContent {
		c.t.Fatalf("PUT /%s through member %d: status %d %s, err %v", key, id, code, body, err)
	}
}

// get reads key through member id (GET /<key>, linearizable).
func (c *hostCluster) get(id uint64, key string) (int, string, error) {
	code, body, err := c.do(id, http.MethodGet, "/"+key, nil)
	return code, string(body), err
}

// status returns member id's GET /v1/status.
func (c *hostCluster) status(id uint64) (api.StatusReply, error) {
	var st api.StatusReply
	code, body, err := c.do(id, http.MethodGet, "/v1/status", nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("member %d: GET /v1/status: %d %s", id, code, body)
	}
	return st, json.Unmarshal(body, &st)
}

// waitLeader waits until members ids (by default every member that runs
// and is connected) serve and name the same leader, one of them, and
// returns it.
func (c *hostCluster) waitLeader(ids ...uint64) uint64 {
	c.t.Helper()
	if len(ids) == 0 {
		ids = c.reachable()
	}
	var leader uint64
	testkit.AwaitCondition(c.t, fmt.Sprintf("members %v agree on a leader among them", ids), func() bool {
		leader = 0
		for _, id := range ids {
			st, err := c.status(id)
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

// waitValue waits until a linearizable read of key through member id
// returns value.
func (c *hostCluster) waitValue(id uint64, key, value string) {
	c.t.Helper()
	testkit.AwaitCondition(c.t, fmt.Sprintf("member %d reads %s=%q", id, key, value), func() bool {
		code, got, err := c.get(id, key)
		return err == nil && code == http.StatusOK && got == value
	}, 30*time.Second)
}

// panicking tells whether the calling goroutine is unwinding a panic. A
// test's cleanups run during its panic, before it is marked failed.
func panicking() bool {
	return bytes.Contains(debug.Stack(), []byte("\npanic("))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
