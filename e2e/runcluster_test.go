package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/raftkv/raftkv/testkit"
)

// make run's cluster (scripts/run-cluster.sh) as a user drives it: kill a
// member, start it again from the command line the script printed, in
// another terminal, then Ctrl-C the script. Every member must be gone,
// the one started by hand too.
func TestRunClusterCtrlCStopsMembersRestartedByHand(t *testing.T) {
	if _, err := exec.LookPath("pgrep"); err != nil {
		t.Skip("pgrep is not installed (Debian: apt-get install procps): make run's script uses it")
	}
	var peerPorts, httpPorts []string
	for range 3 {
		peerPorts = append(peerPorts, fmt.Sprint(ports.MustNext(t)))
		httpPorts = append(httpPorts, fmt.Sprint(ports.MustNext(t)))
	}
	script := exec.Command("bash", "../scripts/run-cluster.sh", binPath, filepath.Join(t.TempDir(), "run"))
	script.Env = append(script.Environ(),
		"PEER_PORTS="+strings.Join(peerPorts, " "), "HTTP_PORTS="+strings.Join(httpPorts, " "))
	// Its own process group, as a terminal's foreground job: Ctrl-C
	// signals the whole group.
	script.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := script.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs strings.Builder
	script.Stderr = &lockedWriter{mu: &mu, w: &logs}
	logsSoFar := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	if err := script.Start(); err != nil {
		t.Fatal(err)
	}
	scriptDone := make(chan error, 1)
	go func() { scriptDone <- script.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-script.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("---- output of the script ----\n%s", tail(logsSoFar(), 80))
		}
	})

	var printed strings.Builder
	lines := bufio.NewScanner(stdout)
	var restart, pid2 string
	for restart == "" && lines.Scan() {
		line := lines.Text()
		printed.WriteString(line + "\n")
		if f := strings.Fields(line); len(f) > 0 && f[0] == "member" && f[1] == "2:" {
			pid2 = f[len(f)-1]
		}
		if strings.Contains(line, "--data-dir") {
			restart = strings.TrimSpace(line)
		}
	}
	if restart == "" || pid2 == "" {
		t.Fatalf("the script printed no restart command line and pid of member 2:\n%s", printed.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	hc := &http.Client{Timeout: 5 * time.Second}
	serving := func(port string) bool {
		code, _, err := request(hc, http.MethodGet, "http://127.0.0.1:"+port+"/v1/status", nil)
		return err == nil && code == http.StatusOK
	}
	testkit.AwaitCondition(t, "the three members serve", func() bool {
		return serving(httpPorts[0]) && serving(httpPorts[1]) && serving(httpPorts[2])
	}, 30*time.Second)

	// Kill member 2, and start it again by hand, outside the script's
	// process group, as from another terminal.
	if err := exec.Command("kill", "-9", pid2).Run(); err != nil {
		t.Fatalf("kill member 2 (pid %s): %v", pid2, err)
	}
	testkit.AwaitCondition(t, "member 2 is gone", func() bool { return !serving(httpPorts[1]) }, 30*time.Second)
	args := strings.Fields(restart)
	byHand := exec.Command(args[0], args[1:]...)
	byHand.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	byHand.Stderr = script.Stderr
	if err := byHand.Start(); err != nil {
		t.Fatal(err)
	}
	byHandDone := make(chan error, 1)
	go func() { byHandDone <- byHand.Wait() }()
	t.Cleanup(func() { _ = byHand.Process.Kill() })
	testkit.AwaitCondition(t, "member 2 started by hand serves", func() bool { return serving(httpPorts[1]) }, 30*time.Second)

	// Ctrl-C.
	if err := syscall.Kill(-script.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-scriptDone:
	case <-time.After(testkit.Dilated(30 * time.Second)):
		t.Fatal("the script did not stop on Ctrl-C")
	}
	select {
	case err := <-byHandDone:
		if err != nil {
			t.Errorf("member 2, started by hand, exited with %v after Ctrl-C; want a clean stop", err)
		}
	case <-time.After(testkit.Dilated(10 * time.Second)):
		t.Fatal("member 2, started by hand from the printed command line, still runs after the script's Ctrl-C")
	}
	for i, port := range httpPorts {
		if serving(port) {
			t.Errorf("member %d still serves after Ctrl-C", i+1)
		}
	}
}
