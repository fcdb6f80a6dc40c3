package testkit

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// DeadLetters records the dead letters of a system: user messages sent to a
// PID with no live process behind it, as published on the EventStream
// (*actor.DeadLetterEvent). System messages (Stop, Watch, Terminated…) that
// reach a dead PID are ignored; they happen in normal shutdowns.
type DeadLetters struct {
	t TB
	q *msgQueue[*actor.DeadLetterEvent]
}

// WatchDeadLetters starts recording the dead letters of system, until the
// test ends.
func WatchDeadLetters(t TB, system *actor.ActorSystem) *DeadLetters {
	t.Helper()
	d := &DeadLetters{t: t, q: newMsgQueue[*actor.DeadLetterEvent]()}
	sub := system.EventStream.Subscribe(func(evt any) {
		e, ok := evt.(*actor.DeadLetterEvent)
		if !ok {
			return
		}
		if _, sys := e.Message.(actor.SystemMessage); sys {
			return
		}
		d.q.push(e)
	})
	t.Cleanup(func() { system.EventStream.Unsubscribe(sub) })
	return d
}

// ExpectDeadLetter waits for a dead letter whose message is a T and returns
// its event, which names the PID it was sent to. Dead letters of other types
// before it are dropped. It fails the test, listing what it skipped, if none
// comes within timeout (DefaultTimeout if none is given, dilated).
func ExpectDeadLetter[T any](d *DeadLetters, timeout ...time.Duration) *actor.DeadLetterEvent {
	d.t.Helper()
	within := timeoutOf(timeout)
	deadline := time.Now().Add(within)
	var skipped []*actor.DeadLetterEvent
	for {
		e, ok := d.q.take(deadline)
		if !ok {
			r := newReport("testkit: ExpectDeadLetter[%s]: no such dead letter within %v", typeName[T](), within)
			d.t.Fatalf("%s", withList(r, "other dead letters", skipped, describeDeadLetter))
			return nil
		}
		if _, ok := e.Message.(T); ok {
			return e
		}
		skipped = append(skipped, e)
	}
}

// ExpectNone fails the test if a dead letter not yet taken by
// ExpectDeadLetter was recorded, or one comes within d (dilated).
func (d *DeadLetters) ExpectNone(dur time.Duration) {
	d.t.Helper()
	within := Dilated(dur)
	e, ok := d.q.take(time.Now().Add(within))
	if !ok {
		return
	}
	queued, _ := d.q.snapshot()
	all := append([]*actor.DeadLetterEvent{e}, queued...)
	r := newReport("testkit: DeadLetters.ExpectNone(%v): got %d dead letter(s)", within, len(all))
	d.t.Fatalf("%s", withList(r, "dead letters", all, describeDeadLetter))
}

func describeDeadLetter(e *actor.DeadLetterEvent) string {
	return fmt.Sprintf("%s to %s from %s", describeValue(e.Message), pidString(e.PID), pidString(e.Sender))
}

// SupervisionEvents records what supervisors did to failing actors of a
// system: each *actor.SupervisorEvent published on the EventStream names the
// failed child, the reason (for a panic, the value passed to panic) and the
// directive applied (restart, stop, resume). Failures escalated to a parent
// are recorded where they are handled.
type SupervisionEvents struct {
	t TB
	q *msgQueue[*actor.SupervisorEvent]
}

// WatchSupervision starts recording the supervision events of system, until
// the test ends.
func WatchSupervision(t TB, system *actor.ActorSystem) *SupervisionEvents {
	t.Helper()
	s := &SupervisionEvents{t: t, q: newMsgQueue[*actor.SupervisorEvent]()}
	sub := system.EventStream.Subscribe(func(evt any) {
		if e, ok := evt.(*actor.SupervisorEvent); ok {
			s.q.push(e)
		}
	})
	t.Cleanup(func() { system.EventStream.Unsubscribe(sub) })
	return s
}

// ExpectFailure waits for the next supervision event about child (about any
// actor if child is nil) and returns it; check its Directive and Reason.
// Events about other actors before it are dropped. It fails the test, listing
// what it skipped, if none comes within timeout (DefaultTimeout if none is
// given, dilated).
func (s *SupervisionEvents) ExpectFailure(child *actor.PID, timeout ...time.Duration) *actor.SupervisorEvent {
	s.t.Helper()
	who := "of " + pidString(child)
	if child == nil {
		who = "of any actor"
	}
	return s.expect("ExpectFailure", who, func(e *actor.SupervisorEvent) bool {
		return child == nil || samePID(e.Child, child)
	}, timeoutOf(timeout))
}

// ExpectFailureWhere waits for a supervision event that satisfies pred and
// returns it; desc says what pred looks for, for the failure message. Events
// before it that do not match are dropped.
func (s *SupervisionEvents) ExpectFailureWhere(desc string, pred func(*actor.SupervisorEvent) bool, timeout ...time.Duration) *actor.SupervisorEvent {
	s.t.Helper()
	return s.expect("ExpectFailureWhere", desc, pred, timeoutOf(timeout))
}

func (s *SupervisionEvents) expect(op, desc string, pred func(*actor.SupervisorEvent) bool, within time.Duration) *actor.SupervisorEvent {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var skipped []*actor.SupervisorEvent
	for {
		e, ok := s.q.take(deadline)
		if !ok {
			r := newReport("testkit: SupervisionEvents.%s: no failure %s within %v", op, desc, within)
			s.t.Fatalf("%s", withList(r, "other supervision events", skipped, describeSupervision))
			return nil
		}
		if pred(e) {
			return e
		}
		skipped = append(skipped, e)
	}
}

// ExpectNone fails the test if a supervision event not yet taken was
// recorded, or one comes within d (dilated).
func (s *SupervisionEvents) ExpectNone(d time.Duration) {
	s.t.Helper()
	within := Dilated(d)
	e, ok := s.q.take(time.Now().Add(within))
	if !ok {
		return
	}
	queued, _ := s.q.snapshot()
	all := append([]*actor.SupervisorEvent{e}, queued...)
	r := newReport("testkit: SupervisionEvents.ExpectNone(%v): got %d supervision event(s)", within, len(all))
	s.t.Fatalf("%s", withList(r, "events", all, describeSupervision))
}

func describeSupervision(e *actor.SupervisorEvent) string {
	reason := fmt.Sprintf("%v", e.Reason)
	if r := []rune(reason); len(r) > maxValueLen {
		reason = string(r[:maxValueLen]) + "…"
	}
	return fmt.Sprintf("%v for %s, reason: %s", e.Directive, pidString(e.Child), reason)
}
