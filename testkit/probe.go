package testkit

import (
	"reflect"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// TB is the part of testing.TB the kit uses. *testing.T, *testing.B and
// *testing.F satisfy it; the kit's own tests pass a fake to check that its
// assertions fail, and how their messages read.
//
// Fatalf must not return (testing.T calls runtime.Goexit); the kit's
// assertions return zero values if it does.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(f func())
	Logf(format string, args ...any)
}

// Envelope is one message a probe received, with the PID that sent it
// (nil when it was sent without a sender, as by RootContext.Send).
type Envelope struct {
	Message any
	Sender  *actor.PID
}

// String renders the envelope for failure messages: the message's type and
// value (truncated) and its sender.
func (e Envelope) String() string {
	return describeValue(e.Message) + " from " + pidString(e.Sender)
}

// Probe is an actor that records every message it receives, with its sender,
// and a set of assertions that take those messages in order. A probe stands in
// for an actor the actor under test talks to: hand its PID wherever that
// actor's PID would go, then assert on what arrives and answer with Reply.
//
// A probe belongs to the test that created it; its methods must be called from
// that test's goroutine.
type Probe struct {
	t      TB
	system *actor.ActorSystem
	pid    *actor.PID
	q      *msgQueue[Envelope]

	mu   sync.Mutex
	last *Envelope // the message the last assertion took
}

// ProbeStats counts the messages of a probe.
type ProbeStats struct {
	Received int // messages the probe has received since it started
	Queued   int // received messages no assertion has taken yet
}

// probeActor records user messages and *actor.Terminated; it drops the
// lifecycle messages every actor gets.
type probeActor struct {
	q *msgQueue[Envelope]
}

// probeWatch asks the probe actor to watch (or unwatch) pid, which only the
// actor itself can do; done is closed once the request has been sent.
type probeWatch struct {
	pid   *actor.PID
	watch bool
	done  chan struct{}
}

func (a *probeActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *probeWatch:
		if msg.watch {
			ctx.Watch(msg.pid)
		} else {
			ctx.Unwatch(msg.pid)
		}
		close(msg.done)
	default:
		a.q.push(Envelope{Message: msg, Sender: ctx.Sender()})
	}
}

// NewProbe spawns a probe in system. It is stopped when the test ends.
func NewProbe(t TB, system *actor.ActorSystem) *Probe {
	t.Helper()
	q := newMsgQueue[Envelope]()
	props := actor.PropsFromProducer(func() actor.Actor { return &probeActor{q: q} })
	pid := system.Root.SpawnPrefix(props, "probe")
	t.Cleanup(func() { _ = system.Root.StopFuture(pid).Wait() })
	return &Probe{t: t, system: system, pid: pid, q: q}
}

// PID returns the probe's PID, to hand to the actor under test.
func (p *Probe) PID() *actor.PID { return p.pid }

// Stats returns how many messages the probe has received and how many of them
// are still queued, untaken by any assertion.
func (p *Probe) Stats() ProbeStats {
	total, queued := p.q.counts()
	return ProbeStats{Received: total, Queued: queued}
}

// ExpectMsg takes the next message, waiting up to timeout (DefaultTimeout if
// none is given, dilated by TimeFactor), and returns it as a T. It fails the
// test if nothing arrives in time or if the message is not a T; the failure
// message lists what did arrive.
func ExpectMsg[T any](p *Probe, timeout ...time.Duration) T {
	p.t.Helper()
	return expectMsg[T](p, func() string { return "ExpectMsg[" + typeName[T]() + "]" }, timeoutOf(timeout))
}

// expectMsg takes the next message as a T. op names the call in a failure
// message; it is built only then, so that a call that succeeds costs no
// more than taking the message (benchmarks drive actors through it).
func expectMsg[T any](p *Probe, op func() string, within time.Duration) T {
	p.t.Helper()
	var zero T
	e, ok := p.next(within)
	if !ok {
		p.failTimeout(op(), within)
		return zero
	}
	m, ok := e.Message.(T)
	if !ok {
		p.failUnexpected(op(), "a "+typeName[T](), e)
		return zero
	}
	return m
}

// ExpectMsgWhere takes the next message and fails the test unless it satisfies
// pred; desc says what pred looks for, for the failure message. It waits up to
// timeout (DefaultTimeout if none is given, dilated).
func (p *Probe) ExpectMsgWhere(desc string, pred func(msg any) bool, timeout ...time.Duration) any {
	p.t.Helper()
	op := "ExpectMsgWhere"
	within := timeoutOf(timeout)
	e, ok := p.next(within)
	if !ok {
		p.failTimeout(op, within)
		return nil
	}
	if !pred(e.Message) {
		p.failUnexpected(op, "a message that is "+desc, e)
		return nil
	}
	return e.Message
}

// ExpectMsgEqual takes the next message and fails the test unless it is
// reflect.DeepEqual to want. Protobuf messages carry internal state that
// DeepEqual sees; compare those with ExpectMsgWhere and proto.Equal.
func (p *Probe) ExpectMsgEqual(want any, timeout ...time.Duration) {
	p.t.Helper()
	op := "ExpectMsgEqual"
	within := timeoutOf(timeout)
	e, ok := p.next(within)
	if !ok {
		p.failTimeout(op, within)
		return
	}
	if !reflect.DeepEqual(e.Message, want) {
		p.failUnexpected(op, describeValue(want), e)
	}
}

// ExpectNoMsg fails the test if a message is queued or arrives within d
// (dilated). It always waits the whole of d when nothing arrives.
func (p *Probe) ExpectNoMsg(d time.Duration) {
	p.t.Helper()
	within := Dilated(d)
	e, ok := p.next(within)
	if !ok {
		return
	}
	queued, _ := p.q.snapshot()
	r := newReport("testkit: probe %s: ExpectNoMsg(%v): got %s", pidString(p.pid), within, e)
	p.t.Fatalf("%s", withList(r, "queued after it", queued, Envelope.String))
}

// ReceiveN takes the next n messages, whatever they are, all within one
// timeout (DefaultTimeout if none is given, dilated). It fails the test if
// fewer arrive, listing those that did.
func (p *Probe) ReceiveN(n int, timeout ...time.Duration) []Envelope {
	p.t.Helper()
	within := timeoutOf(timeout)
	deadline := time.Now().Add(within)
	got := make([]Envelope, 0, n)
	for len(got) < n {
		e, ok := p.nextBy(deadline)
		if !ok {
			r := newReport("testkit: probe %s: ReceiveN(%d): got %d of %d messages within %v",
				pidString(p.pid), n, len(got), n, within)
			p.t.Fatalf("%s", withList(r, "received", got, Envelope.String))
			return got
		}
		got = append(got, e)
	}
	return got
}

// FishForMsg takes messages until one is a T for which pred (if not nil)
// returns true, and returns it. The messages before it are dropped. It fails
// the test if no such message arrives within timeout (DefaultTimeout if none is
// given, dilated), listing the messages it skipped.
func FishForMsg[T any](p *Probe, pred func(T) bool, timeout ...time.Duration) T {
	p.t.Helper()
	within := timeoutOf(timeout)
	deadline := time.Now().Add(within)
	var skipped []Envelope
	for {
		e, ok := p.nextBy(deadline)
		if !ok {
			r := newReport("testkit: probe %s: FishForMsg[%s]: no matching message within %v",
				pidString(p.pid), typeName[T](), within)
			p.t.Fatalf("%s", withList(r, "skipped", skipped, Envelope.String))
			var zero T
			return zero
		}
		if m, ok := e.Message.(T); ok && (pred == nil || pred(m)) {
			return m
		}
		skipped = append(skipped, e)
	}
}

// ExpectTerminated takes the next message and fails the test unless it is the
// *actor.Terminated of pid. The probe must Watch pid first.
func (p *Probe) ExpectTerminated(pid *actor.PID, timeout ...time.Duration) *actor.Terminated {
	p.t.Helper()
	op := "ExpectTerminated(" + pidString(pid) + ")"
	within := timeoutOf(timeout)
	e, ok := p.next(within)
	if !ok {
		p.failTimeout(op, within)
		return nil
	}
	m, ok := e.Message.(*actor.Terminated)
	if !ok || !samePID(m.Who, pid) {
		p.failUnexpected(op, "the *actor.Terminated of "+pidString(pid), e)
		return nil
	}
	return m
}

// Watch makes the probe watch pid: when pid stops, the probe receives an
// *actor.Terminated (see ExpectTerminated). Watching a PID that no longer
// exists yields a Terminated at once.
func (p *Probe) Watch(pid *actor.PID) {
	p.t.Helper()
	p.watch(pid, true, "Watch")
}

// Unwatch undoes Watch.
func (p *Probe) Unwatch(pid *actor.PID) {
	p.t.Helper()
	p.watch(pid, false, "Unwatch")
}

func (p *Probe) watch(pid *actor.PID, watch bool, op string) {
	p.t.Helper()
	req := &probeWatch{pid: pid, watch: watch, done: make(chan struct{})}
	p.system.Root.Send(p.pid, req)
	within := Dilated(DefaultTimeout)
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case <-req.done:
	case <-timer.C:
		p.t.Fatalf("testkit: probe %s: %s(%s): the probe did not act within %v; has it stopped?",
			pidString(p.pid), op, pidString(pid), within)
	}
}

// LastSender returns the sender of the message the last assertion took, or
// nil if it had none or no message has been taken yet. An answer sent with
// protoactor's ctx.Respond has no sender.
func (p *Probe) LastSender() *actor.PID {
	if last := p.lastTaken(); last != nil {
		return last.Sender
	}
	return nil
}

// Reply sends msg, with the probe as sender, to the sender of the message the
// last assertion took. It fails the test if there is no such sender.
func (p *Probe) Reply(msg any) {
	p.t.Helper()
	last := p.lastTaken()
	switch {
	case last == nil:
		p.t.Fatalf("testkit: probe %s: Reply(%s): no message taken yet, so no one to reply to",
			pidString(p.pid), describeValue(msg))
	case last.Sender == nil:
		p.t.Fatalf("testkit: probe %s: Reply(%s): the last message taken, %s, has no sender",
			pidString(p.pid), describeValue(msg), describeValue(last.Message))
	default:
		p.system.Root.RequestWithCustomSender(last.Sender, msg, p.pid)
	}
}

// Forward sends the message the last assertion took on to to, keeping its
// original sender, so that to replies to that sender and not to the probe.
func (p *Probe) Forward(to *actor.PID) {
	p.t.Helper()
	last := p.lastTaken()
	switch {
	case last == nil:
		p.t.Fatalf("testkit: probe %s: Forward(%s): no message taken yet", pidString(p.pid), pidString(to))
	case last.Sender == nil:
		p.system.Root.Send(to, last.Message)
	default:
		p.system.Root.RequestWithCustomSender(to, last.Message, last.Sender)
	}
}

// Send sends msg to to with the probe as sender, so that what to answers
// (ctx.Respond) comes back to the probe.
func (p *Probe) Send(to *actor.PID, msg any) {
	p.system.Root.RequestWithCustomSender(to, msg, p.pid)
}

// Request sends msg to to with the probe as sender and returns the answer as a
// T. The answer must be the next message the probe takes; the test fails, as
// with ExpectMsg, if it is not a T or does not arrive within timeout
// (DefaultTimeout if none is given, dilated).
func Request[T any](p *Probe, to *actor.PID, msg any, timeout ...time.Duration) T {
	p.t.Helper()
	p.Send(to, msg)
	op := func() string {
		return "Request[" + typeName[T]() + "](" + pidString(to) + ", " + describeValue(msg) + ")"
	}
	return expectMsg[T](p, op, timeoutOf(timeout))
}

// next takes the next message, waiting up to within.
func (p *Probe) next(within time.Duration) (Envelope, bool) {
	return p.nextBy(time.Now().Add(within))
}

// nextBy takes the next message, waiting until deadline, and remembers it as
// the last message for Reply, Forward and LastSender.
func (p *Probe) nextBy(deadline time.Time) (Envelope, bool) {
	e, ok := p.q.take(deadline)
	if ok {
		p.mu.Lock()
		p.last = &e
		p.mu.Unlock()
	}
	return e, ok
}

func (p *Probe) lastTaken() *Envelope {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// failTimeout fails the test because nothing arrived within the given time,
// showing the messages taken before.
func (p *Probe) failTimeout(op string, within time.Duration) {
	p.t.Helper()
	total, _ := p.q.counts()
	_, taken := p.q.snapshot()
	r := newReport("testkit: probe %s: %s: no message within %v", pidString(p.pid), op, within)
	if total == 0 {
		r.line("the probe has received nothing since it started")
	} else {
		r.line("the probe received %d message(s) before, all taken", total)
	}
	p.t.Fatalf("%s", withList(r, "last taken, oldest first", taken, Envelope.String))
}

// failUnexpected fails the test because the message taken, got, is not the
// one wanted, showing what is queued behind it.
func (p *Probe) failUnexpected(op, want string, got Envelope) {
	p.t.Helper()
	queued, _ := p.q.snapshot()
	r := newReport("testkit: probe %s: %s: want %s, got %s", pidString(p.pid), op, want, got)
	p.t.Fatalf("%s", withList(r, "queued after it", queued, Envelope.String))
}

// typeName names T as fmt's %T would, also when T is an interface type.
func typeName[T any]() string {
	return reflect.TypeFor[T]().String()
}
