package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// member is a server process the tool started: a raftkv or an etcd member.
type member struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	exited  chan struct{}
	err     error // how it exited, once exited is closed
}

// startMember starts argv as a process whose output goes to logPath. The
// process gets SIGKILL if this one dies without stopping it.
func startMember(name, logPath string, argv []string) (*member, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	m := &member{name: name, cmd: cmd, logPath: logPath, log: log, exited: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		log.Close()
		close(m.exited)
	}()
	return m, nil
}

// pid is the member's process id.
func (m *member) pid() int { return m.cmd.Process.Pid }

// alive reports whether the member still runs; if not, the error says how
// it ended, with the end of its log.
func (m *member) alive() error {
	select {
	case <-m.exited:
		return fmt.Errorf("%s exited (%v); the end of its log:\n%s", m.name, m.err, m.logTail(2000))
	default:
		return nil
	}
}

// kill ends the member with SIGKILL and waits until it is gone. Nothing
// it holds is needed after a benchmark, so it gets no clean stop.
func (m *member) kill() {
	_ = m.cmd.Process.Kill()
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
	}
}

// logTail returns the last n bytes of the member's log.
func (m *member) logTail(n int) string {
	b, err := os.ReadFile(m.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// killAll kills every member of ms.
func killAll(ms []*member) {
	for _, m := range ms {
		if m != nil {
			m.kill()
		}
	}
}

// pids returns the process ids of ms.
func pids(ms []*member) []int {
	p := make([]int, len(ms))
	for i, m := range ms {
		p[i] = m.pid()
	}
	return p
}
