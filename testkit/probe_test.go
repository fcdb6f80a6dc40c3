package testkit

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

type ping struct{ N int }

type pong struct{ N int }

// echoProps answers every *ping with a *pong of the same N.
func echoProps() *actor.Props {
	return actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*ping); ok {
			ctx.Respond(&pong{N: m.N})
		}
	})
}

// fakeTB is a TB whose Fatalf records the failure and ends the goroutine with
// runtime.Goexit, as testing.T does, so the kit's failures can be inspected.
type fakeTB struct {
	mu       sync.Mutex
	failure  string
	failed   bool
	cleanups []func()
}

func (f *fakeTB) Helper()             {}
func (f *fakeTB) Logf(string, ...any) {}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.failed = true
	f.failure = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// runFake runs body as a test of its own, on its own goroutine, then runs its
// cleanups, and returns the message it failed with ("" and false if it
// passed).
func runFake(body func(ft *fakeTB)) (failure string, failed bool) {
	ft := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(ft)
	}()
	<-done
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for i := len(ft.cleanups) - 1; i >= 0; i-- {
		ft.cleanups[i]()
	}
	return ft.failure, ft.failed
}

// mustFail runs body with a fake TB, fails t unless body failed, and checks
// that the failure message contains every one of want.
func mustFail(t *testing.T, body func(ft *fakeTB), want ...string) string {
	t.Helper()
	msg, failed := runFake(body)
	if !failed {
		t.Fatalf("assertion passed, want it to fail")
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("failure message lacks %q; it reads:\n%s", w, msg)
		}
	}
	t.Logf("failure reads:\n%s", msg)
	return msg
}

// mustPass runs body with a fake TB and fails t if body failed.
func mustPass(t *testing.T, body func(ft *fakeTB)) {
	t.Helper()
	if msg, failed := runFake(body); failed {
		t.Fatalf("assertion failed, want it to pass:\n%s", msg)
	}
}

// awaitQueued waits until p holds n untaken messages.
func awaitQueued(t *testing.T, p *Probe, n int) {
	t.Helper()
	AwaitCondition(t, fmt.Sprintf("%d messages queued", n), func() bool { return p.Stats().Queued == n })
}

const shortWait = 20 * time.Millisecond

func TestExpectMsgReturnsTypedMessage(t *testing.T) {
	system := NewSystem(t)
	echo := Spawn(t, system, echoProps())
	p := NewProbe(t, system)

	p.Send(echo, &ping{N: 7})
	if got := ExpectMsg[*pong](p); got.N != 7 {
		t.Fatalf("got pong %d, want 7", got.N)
	}
}

func TestLastSender(t *testing.T) {
	system := NewSystem(t)
	a := NewProbe(t, system)
	b := NewProbe(t, system)
	if got := b.LastSender(); got != nil {
		t.Fatalf("LastSender before any message = %s, want nil", pidString(got))
	}
	a.Send(b.PID(), &ping{N: 1})
	ExpectMsg[*ping](b)
	if !samePID(b.LastSender(), a.PID()) {
		t.Fatalf("LastSender = %s, want probe a %s", pidString(b.LastSender()), pidString(a.PID()))
	}
	system.Root.Send(b.PID(), &ping{N: 2})
	ExpectMsg[*ping](b)
	if got := b.LastSender(); got != nil {
		t.Fatalf("LastSender after a message without sender = %s, want nil", pidString(got))
	}
}

func TestExpectMsgAcceptsInterfaceType(t *testing.T) {
	system := NewSystem(t)
	p := NewProbe(t, system)
	system.Root.Send(p.PID(), errors.New("disk full"))
	if err := ExpectMsg[error](p); err.Error() != "disk full" {
		t.Fatalf("got %v", err)
	}
}

func TestExpectMsgFailsOnMissingMessage(t *testing.T) {
	system := NewSystem(t)
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		ExpectMsg[*pong](p, shortWait)
	}, "testkit: probe nonhost/probe", "ExpectMsg[*testkit.pong]", "no message within", "received nothing")
}

func TestExpectMsgTimeoutShowsEarlierMessages(t *testing.T) {
	system := NewSystem(t)
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		ExpectMsg[*ping](p)
		ExpectMsg[*pong](p, shortWait)
	}, "no message within", "received 1 message(s) before", "last taken, oldest first (1):", "1. *testkit.ping &{N:1} from nobody")
}

func TestExpectMsgFailsOnWrongType(t *testing.T) {
	system := NewSystem(t)
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		system.Root.Send(p.PID(), &ping{N: 2})
		awaitQueued(t, p, 2)
		ExpectMsg[*pong](p)
	}, "ExpectMsg[*testkit.pong]: want a *testkit.pong, got *testkit.ping &{N:1} from nobody",
		"queued after it (1):", "1. *testkit.ping &{N:2}")
}

func TestExpectNoMsg(t *testing.T) {
	system := NewSystem(t)
	mustPass(t, func(ft *fakeTB) {
		NewProbe(ft, system).ExpectNoMsg(shortWait)
	})
}

func TestExpectNoMsgFailsOnExtraMessage(t *testing.T) {
	system := NewSystem(t)
	start := time.Now()
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		system.Root.Send(p.PID(), &ping{N: 2})
		ExpectMsg[*ping](p)
		awaitQueued(t, p, 1)
		p.ExpectNoMsg(time.Hour) // fails at once: a message is already queued
	}, "ExpectNoMsg(", "got *testkit.ping &{N:2} from nobody")
	if time.Since(start) > time.Minute {
		t.Fatalf("ExpectNoMsg waited instead of failing on a queued message")
	}
}

func TestExpectMsgWhere(t *testing.T) {
	system := NewSystem(t)
	isBig := func(m any) bool { p, ok := m.(*ping); return ok && p.N > 10 }
	mustPass(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 11})
		if got := p.ExpectMsgWhere("a ping above 10", isBig); got.(*ping).N != 11 {
			ft.Fatalf("got %v", got)
		}
	})
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 3})
		p.ExpectMsgWhere("a ping above 10", isBig)
	}, "ExpectMsgWhere: want a message that is a ping above 10, got *testkit.ping &{N:3}")
}

func TestExpectMsgEqual(t *testing.T) {
	system := NewSystem(t)
	mustPass(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		p.ExpectMsgEqual(&ping{N: 1})
	})
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 2})
		p.ExpectMsgEqual(&ping{N: 1})
	}, "ExpectMsgEqual: want *testkit.ping &{N:1}, got *testkit.ping &{N:2}")
}

func TestReceiveN(t *testing.T) {
	system := NewSystem(t)
	mustPass(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		for i := range 3 {
			system.Root.Send(p.PID(), &ping{N: i})
		}
		got := p.ReceiveN(3)
		for i, e := range got {
			if e.Message.(*ping).N != i {
				ft.Fatalf("message %d is %v", i, e)
			}
		}
	})
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		p.ReceiveN(3, shortWait)
	}, "ReceiveN(3): got 1 of 3 messages within", "received (1):", "1. *testkit.ping &{N:1}")
}

func TestFishForMsg(t *testing.T) {
	system := NewSystem(t)
	mustPass(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		system.Root.Send(p.PID(), &ping{N: 2})
		system.Root.Send(p.PID(), &pong{N: 3})
		system.Root.Send(p.PID(), &ping{N: 4})
		if got := FishForMsg[*pong](p, nil); got.N != 3 {
			ft.Fatalf("fished pong %d", got.N)
		}
		if got := FishForMsg(p, func(m *ping) bool { return m.N > 3 }); got.N != 4 {
			ft.Fatalf("fished ping %d", got.N)
		}
	})
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		system.Root.Send(p.PID(), &pong{N: 2})
		FishForMsg(p, func(m *pong) bool { return m.N == 5 }, shortWait)
	}, "FishForMsg[*testkit.pong]: no matching message within", "skipped (2):",
		"1. *testkit.ping &{N:1}", "2. *testkit.pong &{N:2}")
}

func TestReplyGoesToSender(t *testing.T) {
	system := NewSystem(t)
	p := NewProbe(t, system)
	fut := system.Root.RequestFuture(p.PID(), &ping{N: 5}, Dilated(DefaultTimeout))
	req := ExpectMsg[*ping](p)
	p.Reply(&pong{N: req.N})
	res, err := fut.Result()
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := res.(*pong); !ok || got.N != 5 {
		t.Fatalf("future got %#v, want pong 5", res)
	}
}

func TestReplyWithoutSenderFails(t *testing.T) {
	system := NewSystem(t)
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		p.Reply(&pong{})
	}, "Reply(*testkit.pong &{N:0}): no message taken yet")
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), &ping{N: 1})
		ExpectMsg[*ping](p)
		p.Reply(&pong{N: 1})
	}, "the last message taken, *testkit.ping &{N:1}, has no sender")
}

func TestForwardKeepsSender(t *testing.T) {
	system := NewSystem(t)
	echo := Spawn(t, system, echoProps())
	client := NewProbe(t, system)
	middle := NewProbe(t, system)

	client.Send(middle.PID(), &ping{N: 9})
	ExpectMsg[*ping](middle)
	middle.Forward(echo)

	// The echo answers the original sender, the client, not the probe
	// in the middle.
	if got := ExpectMsg[*pong](client); got.N != 9 {
		t.Fatalf("client got pong %d, want 9", got.N)
	}
	middle.ExpectNoMsg(shortWait)
}

func TestRequest(t *testing.T) {
	system := NewSystem(t)
	echo := Spawn(t, system, echoProps())
	p := NewProbe(t, system)
	if got := Request[*pong](p, echo, &ping{N: 4}); got.N != 4 {
		t.Fatalf("got pong %d, want 4", got.N)
	}
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		Request[*ping](p, echo, &ping{N: 4})
	}, "Request[*testkit.ping]", "want a *testkit.ping, got *testkit.pong &{N:4} from nobody")
}

// described counts how often it is formatted.
type described struct{ formatted *int }

func (d *described) String() string {
	*d.formatted++
	return "described"
}

// A Request that gets its answer never formats its message: describing it
// is for the failure message alone, and a benchmark that drives an actor
// through Request (an Apply of 128 entries, say) must measure the actor,
// not fmt.
func TestRequestDescribesOnlyOnFailure(t *testing.T) {
	system := NewSystem(t)
	mirror := Spawn(t, system, actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*described); ok {
			ctx.Respond(m)
		}
	}))
	p := NewProbe(t, system)
	var formatted int
	Request[*described](p, mirror, &described{formatted: &formatted})
	if formatted != 0 {
		t.Errorf("a Request that got its answer formatted its message %d time(s)", formatted)
	}
}

func TestWatchAndExpectTerminated(t *testing.T) {
	system := NewSystem(t)
	p := NewProbe(t, system)
	pid := system.Root.Spawn(echoProps())
	p.Watch(pid)
	system.Root.Stop(pid)
	if got := p.ExpectTerminated(pid); !samePID(got.Who, pid) {
		t.Fatalf("Terminated of %s", pidString(got.Who))
	}

	// A PID that is already gone yields a Terminated at once.
	p.Watch(pid)
	p.ExpectTerminated(pid)

	other := Spawn(t, system, echoProps())
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		p.Watch(pid)
		p.ExpectTerminated(other)
	}, "ExpectTerminated(nonhost/", "want the *actor.Terminated of "+pidString(other), "got *actor.Terminated")
}

func TestUnwatch(t *testing.T) {
	system := NewSystem(t)
	p := NewProbe(t, system)
	pid := system.Root.Spawn(echoProps())
	p.Watch(pid)
	p.Unwatch(pid)
	if err := system.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
	p.ExpectNoMsg(shortWait)
}

func TestStats(t *testing.T) {
	system := NewSystem(t)
	p := NewProbe(t, system)
	for i := range 3 {
		system.Root.Send(p.PID(), &ping{N: i})
	}
	awaitQueued(t, p, 3)
	ExpectMsg[*ping](p)
	if got, want := p.Stats(), (ProbeStats{Received: 3, Queued: 2}); got != want {
		t.Fatalf("Stats() = %+v, want %+v", got, want)
	}
}

func TestAwaitCondition(t *testing.T) {
	system := NewSystem(t)
	var mu sync.Mutex
	done := false
	pid := Spawn(t, system, actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*ping); ok {
			mu.Lock()
			done = true
			mu.Unlock()
		}
	}))
	system.Root.Send(pid, &ping{})
	AwaitCondition(t, "the actor saw the ping", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return done
	})
	mustFail(t, func(ft *fakeTB) {
		AwaitCondition(ft, "pigs fly", func() bool { return false }, shortWait)
	}, "testkit: AwaitCondition: pigs fly: still false after")
}

func TestDeadLetters(t *testing.T) {
	system := NewSystem(t)
	dead := system.Root.Spawn(echoProps())
	if err := system.Root.StopFuture(dead).Wait(); err != nil {
		t.Fatal(err)
	}
	mustPass(t, func(ft *fakeTB) {
		dl := WatchDeadLetters(ft, system)
		system.Root.Send(dead, &pong{N: 1})
		system.Root.Send(dead, &ping{N: 2})
		ev := ExpectDeadLetter[*ping](dl)
		if !samePID(ev.PID, dead) || ev.Message.(*ping).N != 2 {
			ft.Fatalf("got %s", describeDeadLetter(ev))
		}
		dl.ExpectNone(shortWait)
	})
	mustFail(t, func(ft *fakeTB) {
		dl := WatchDeadLetters(ft, system)
		system.Root.Send(dead, &pong{N: 1})
		dl.ExpectNone(time.Hour)
	}, "DeadLetters.ExpectNone(", "got 1 dead letter(s)", "1. *testkit.pong &{N:1} to "+pidString(dead)+" from nobody")
	mustFail(t, func(ft *fakeTB) {
		dl := WatchDeadLetters(ft, system)
		system.Root.Send(dead, &pong{N: 1})
		ExpectDeadLetter[*ping](dl, shortWait)
	}, "ExpectDeadLetter[*testkit.ping]: no such dead letter within", "other dead letters (1):", "*testkit.pong &{N:1}")
}

func TestDeadLettersIgnoreSystemMessages(t *testing.T) {
	system := NewSystem(t)
	dl := WatchDeadLetters(t, system)
	pid := system.Root.Spawn(echoProps())
	if err := system.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
	system.Root.Stop(pid) // a Stop to a dead PID is a system dead letter
	dl.ExpectNone(shortWait)
}

func TestSupervisionEvents(t *testing.T) {
	system := NewSystem(t)
	crasher := actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*ping); ok {
			panic(fmt.Sprintf("boom %d", m.N))
		}
	})
	mustPass(t, func(ft *fakeTB) {
		events := WatchSupervision(ft, system)
		pid := Spawn(ft, system, crasher)
		system.Root.Send(pid, &ping{N: 1})
		ev := events.ExpectFailure(pid)
		if ev.Directive != actor.RestartDirective || ev.Reason != "boom 1" {
			ft.Fatalf("got %s", describeSupervision(ev))
		}
		system.Root.Send(pid, &ping{N: 2})
		events.ExpectFailureWhere("a restart for boom 2", func(e *actor.SupervisorEvent) bool {
			return e.Directive == actor.RestartDirective && e.Reason == "boom 2"
		})
		events.ExpectNone(shortWait)
	})
	mustFail(t, func(ft *fakeTB) {
		events := WatchSupervision(ft, system)
		pid := Spawn(ft, system, crasher)
		system.Root.Send(pid, &ping{N: 3})
		events.ExpectNone(time.Hour)
	}, "SupervisionEvents.ExpectNone(", "got 1 supervision event(s)", "RestartDirective for nonhost/", "reason: boom 3")
	mustFail(t, func(ft *fakeTB) {
		events := WatchSupervision(ft, system)
		pid := Spawn(ft, system, crasher)
		other := Spawn(ft, system, echoProps())
		system.Root.Send(pid, &ping{N: 4})
		events.ExpectFailure(other, shortWait)
	}, "SupervisionEvents.ExpectFailure: no failure of nonhost/", "other supervision events (1):", "reason: boom 4")
}

func TestSupervisionEventsOfStoppedActor(t *testing.T) {
	system := NewSystem(t)
	events := WatchSupervision(t, system)
	probe := NewProbe(t, system)
	stop := actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })
	pid := Spawn(t, system, actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(*ping); ok {
			panic(errors.New("disk gone"))
		}
	}, actor.WithGuardian(stop)))
	probe.Watch(pid)

	system.Root.Send(pid, &ping{})
	ev := events.ExpectFailure(pid)
	if ev.Directive != actor.StopDirective {
		t.Fatalf("got %s, want a stop", describeSupervision(ev))
	}
	if err, ok := ev.Reason.(error); !ok || err.Error() != "disk gone" {
		t.Fatalf("reason %v, want the panic's error", ev.Reason)
	}
	probe.ExpectTerminated(pid)
}

func TestMailboxStats(t *testing.T) {
	system := NewSystem(t)
	mustPass(t, func(ft *fakeTB) {
		stats := NewMailboxStats(ft)
		pid := Spawn(ft, system, actor.PropsFromFunc(func(actor.Context) {}, actor.WithMailbox(stats.Mailbox())))
		system.Root.Send(pid, &ping{N: 1})
		system.Root.Send(pid, &pong{N: 2})
		system.Root.Send(pid, &ping{N: 3})
		if got := ExpectProcessed[*ping](stats); got.N != 1 {
			ft.Fatalf("processed ping %d first", got.N)
		}
		if got := ExpectProcessed[*ping](stats); got.N != 3 {
			ft.Fatalf("processed ping %d second", got.N)
		}
		if stats.Posted() != 3 || stats.Processed() != 3 {
			ft.Fatalf("posted %d, processed %d, want 3 and 3", stats.Posted(), stats.Processed())
		}
	})
	mustFail(t, func(ft *fakeTB) {
		stats := NewMailboxStats(ft)
		pid := Spawn(ft, system, actor.PropsFromFunc(func(actor.Context) {}, actor.WithMailbox(stats.Mailbox())))
		system.Root.Send(pid, &ping{N: 1})
		ExpectProcessed[*pong](stats, shortWait)
	}, "ExpectProcessed[*testkit.pong]: the actor handled no such message within", "(1 posted, 1 handled)",
		"handled instead (1):", "1. *testkit.ping &{N:1}")
}

func TestFailureMessagesAreTruncated(t *testing.T) {
	system := NewSystem(t)
	long := strings.Repeat("x", 10*maxValueLen)
	msg := mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		system.Root.Send(p.PID(), long)
		ExpectMsg[*pong](p)
	}, "got string xxx", "…")
	if len(msg) > 2*maxValueLen+200 {
		t.Fatalf("failure message is %d bytes long", len(msg))
	}
}

func TestFailureListsAreAbbreviated(t *testing.T) {
	system := NewSystem(t)
	mustFail(t, func(ft *fakeTB) {
		p := NewProbe(ft, system)
		for i := range listLen + 4 {
			system.Root.Send(p.PID(), &ping{N: i})
		}
		p.ReceiveN(listLen+5, shortWait)
	}, fmt.Sprintf("received (%d):", listLen+4), "... and 4 more")
}

func TestParseTimeFactor(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"", 1, false},
		{"1", 1, false},
		{"2.5", 2.5, false},
		{"0.5", 0.5, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"fast", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
	}
	for i, tt := range tests {
		got, err := parseTimeFactor(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%d: parseTimeFactor(%q) = %v, %v; want %v, error %v", i, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDilated(t *testing.T) {
	t.Setenv(TimeFactorEnv, "2.5")
	if got := Dilated(time.Second); got != 2500*time.Millisecond {
		t.Fatalf("Dilated(1s) = %v with factor 2.5", got)
	}
	if got := timeoutOf(nil); got != 7500*time.Millisecond {
		t.Fatalf("default timeout = %v with factor 2.5", got)
	}
	if got := timeoutOf([]time.Duration{time.Millisecond}); got != 2500*time.Microsecond {
		t.Fatalf("timeout 1ms = %v with factor 2.5", got)
	}
}

func TestTimeFactorPanicsOnBadValue(t *testing.T) {
	t.Setenv(TimeFactorEnv, "slow")
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), `RAFTKV_TEST_TIMEFACTOR="slow"`) {
			t.Fatalf("recovered %v", r)
		}
	}()
	TimeFactor()
}
