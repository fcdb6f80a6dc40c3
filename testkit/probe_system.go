package testkit

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// NewSystem returns a fresh actor system for one test, shut down when the test
// ends. Its log goes to t.Logf (shown for failed tests and with -v) until the
// test ends; opts are applied after that default, so actor.WithLoggerFactory
// replaces it.
func NewSystem(t TB, opts ...actor.ConfigOption) *actor.ActorSystem {
	t.Helper()
	w := &tbWriter{t: t}
	logger := func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
			Level: slog.LevelInfo,
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))
	}
	opts = append([]actor.ConfigOption{actor.WithLoggerFactory(logger)}, opts...)
	system := actor.NewActorSystem(opts...)
	t.Cleanup(func() {
		w.close()
		system.Shutdown()
	})
	return system
}

// tbWriter passes log lines to t.Logf until close, after which testing would
// panic on a late log line from an actor still running.
type tbWriter struct {
	mu     sync.Mutex
	t      TB
	closed bool
}

func (w *tbWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Logf("%s", strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func (w *tbWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// Spawn spawns the actor under test from props and stops it when the test
// ends. Build props with the actor's collaborators replaced by probes.
func Spawn(t TB, system *actor.ActorSystem, props *actor.Props) *actor.PID {
	t.Helper()
	pid := system.Root.Spawn(props)
	t.Cleanup(func() { _ = system.Root.StopFuture(pid).Wait() })
	return pid
}

// maxPollInterval caps the backoff of AwaitCondition.
const maxPollInterval = 50 * time.Millisecond

// AwaitCondition polls cond, from 1 ms apart backing off to 50 ms, until it
// returns true, and fails the test if it is still false after timeout
// (DefaultTimeout if none is given, dilated). desc says what cond waits for,
// for the failure message. cond runs on the test's goroutine.
func AwaitCondition(t TB, desc string, cond func() bool, timeout ...time.Duration) {
	t.Helper()
	if !Eventually(cond, timeout...) {
		t.Fatalf("testkit: AwaitCondition: %s: still false after %v", desc, timeoutOf(timeout))
	}
}

// Eventually polls cond as AwaitCondition does and tells whether it
// returned true within timeout, without failing the test: for a test that
// says more when it did not (what it saw last, a screenshot).
func Eventually(cond func() bool, timeout ...time.Duration) bool {
	deadline := time.Now().Add(timeoutOf(timeout))
	interval := time.Millisecond
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(interval, left))
		interval = min(2*interval, maxPollInterval)
	}
	return true
}
