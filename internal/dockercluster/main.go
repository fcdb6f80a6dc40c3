//go:build linux

package dockercluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// runLabel marks every container, volume, network and image of a run.
	runLabel = "io.raftkv.dockercluster.run"
	// reaperEnv, set, makes the test binary a reaper (see startReaper).
	reaperEnv = "RAFTKV_DOCKERCLUSTER_REAPER"
)

// Options are what a test package asks of Main.
type Options struct {
	// Name is the package, as its messages start ("e2e/hosts").
	Name string
	// Tags are the build tags of the raftkv binary in the image (such as
	// "failpoints"); none gives the binary users run.
	Tags []string
}

var (
	// name prefixes the messages of Main and the reaper.
	name = "dockercluster"
	// skipReason, if set, is why no cluster can run.
	skipReason = "dockercluster.Main did not run: call it from TestMain"
	// runID names this run; image is the image under test, built by Main.
	runID string
	image string
)

// Main is the body of a test package's TestMain: it builds the image under
// test (unless clusters cannot run here: the tests then skip), starts the
// reaper, runs the tests, and returns their exit code once the reaper has
// removed what the run left behind. A test binary started as the reaper
// (by Main itself) reaps and exits instead.
//
//	func TestMain(m *testing.M) {
//		os.Exit(dockercluster.Main(m, dockercluster.Options{Name: "e2e/hosts"}))
//	}
func Main(m *testing.M, opts Options) int {
	if opts.Name != "" {
		name = opts.Name
	}
	if spec := os.Getenv(reaperEnv); spec != "" {
		reap(spec)
		os.Exit(0)
	}
	if !flag.Parsed() {
		flag.Parse()
	}
	if skipReason = unavailable(); skipReason != "" {
		fmt.Fprintf(os.Stderr, "%s: skipping every test across hosts: %s\n", name, skipReason)
		return m.Run()
	}
	runID = fmt.Sprintf("%d-%s", os.Getpid(), RandomHex(3))
	image = "raftkv-test:" + runID

	// The reaper comes first, so that nothing this run creates can outlive it.
	reaper, err := startReaper()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: start the reaper: %v\n", name, err)
		return 1
	}
	defer reaper.finish()

	dir, err := os.MkdirTemp("", "raftkv-dockercluster-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	if err := buildImage(dir, opts.Tags); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	tags := ""
	if len(opts.Tags) > 0 {
		tags = " (tags " + strings.Join(opts.Tags, ",") + ")"
	}
	fmt.Fprintf(os.Stderr, "%s: built %s%s in %.1fs\n", name, image, tags, time.Since(start).Seconds())
	return m.Run()
}

// Require skips the test when clusters cannot run here.
func Require(t testing.TB) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// Image is the image under test, built by Main.
func Image() string { return image }

// Label is the label (key=value) that every Docker object of this run
// carries: give it to any container a test creates on its own, so that the
// reaper removes it.
func Label() string { return runLabel + "=" + runID }

// RandomHex returns n random bytes in hex: a suffix for unique names.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// unavailable says why clusters cannot run here, or "" if they can.
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

// moduleRoot returns the directory of the go.mod above the working
// directory: the repository, whatever package's tests run.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// buildImage builds a static raftkv with tags and the image under test
// from a build context of its own in dir (the Dockerfile and the binary
// where the Dockerfile expects it), independent of the working tree's bin/.
func buildImage(dir string, tags []string) error {
	root, err := moduleRoot()
	if err != nil {
		return fmt.Errorf("find the repository: %w", err)
	}
	bin := filepath.Join(dir, "bin", "linux", "raftkv")
	args := []string{"build", "-trimpath", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	build := exec.Command("go", append(args, "./cmd/raftkv")...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build a static raftkv: %w\n%s", err, out)
	}
	for _, name := range []string{"Dockerfile", ".dockerignore"} {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("build context: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "build", "--force-rm",
		"--label", Label(), "-t", image, dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker build: %w\n%s", err, out)
	}
	return nil
}

// reaper is a process that removes what this run left behind (containers,
// volumes and networks labelled with the run id, and the image) once this
// process is gone, however it went: it waits for the end of a pipe that
// only this process holds. Clusters remove what they create themselves
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
	cmd.Env = append(os.Environ(), reaperEnv+"="+runID+" "+image+" "+name)
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
		fmt.Fprintf(os.Stderr, "%s: the reaper is still cleaning up; leaving it to finish\n", name)
	}
}

// reap is the reaper process: spec is "<run id> <image> <name>".
func reap(spec string) {
	// Outlive the terminal and the pipes of `go test`.
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
	fields := strings.Fields(spec)
	for len(fields) < 3 {
		fields = append(fields, "")
	}
	id, img, who := fields[0], fields[1], fields[2]
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
		fmt.Fprintf(os.Stderr, "%s: reaper: removing leftover %s %s\n", who, what, strings.Join(names, " "))
		if out, err := exec.Command("docker", append(args, names...)...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: reaper: %v: %s\n", who, err, out)
		}
	}
	remove("containers", []string{"rm", "-f", "-v"}, list("ps", "-aq", "--filter", filter))
	remove("volumes", []string{"volume", "rm", "-f"}, list("volume", "ls", "-q", "--filter", filter))
	remove("networks", []string{"network", "rm"}, list("network", "ls", "-q", "--filter", filter))
	if img != "" && len(list("images", "-q", img)) > 0 {
		// By tag: an image that also has another tag keeps it.
		if out, err := exec.Command("docker", "rmi", img).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: reaper: remove image %s: %v: %s\n", who, img, err, out)
		}
	}
}

// Docker runs the docker command with args and returns its trimmed
// standard output; the error has its standard error.
func Docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
