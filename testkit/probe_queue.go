package testkit

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// historyLen is how many taken items a queue remembers for failure messages.
const historyLen = 5

// listLen is how many items a failure message lists before it abbreviates.
const listLen = 10

// msgQueue is the goroutine-safe queue behind probes and event recorders:
// actors and event-stream handlers push, the test goroutine takes with a
// deadline.
type msgQueue[E any] struct {
	mu      sync.Mutex
	items   []E
	taken   []E           // the last historyLen items taken, oldest first
	total   int           // items ever pushed
	changed chan struct{} // closed and replaced on every push
}

func newMsgQueue[E any]() *msgQueue[E] {
	return &msgQueue[E]{changed: make(chan struct{})}
}

func (q *msgQueue[E]) push(e E) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.total++
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
}

// take removes and returns the first item, waiting until deadline for one to
// arrive. It reports false if none arrived in time.
func (q *msgQueue[E]) take(deadline time.Time) (E, bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			e := q.items[0]
			var zero E
			q.items[0] = zero
			q.items = q.items[1:]
			q.taken = append(q.taken, e)
			if len(q.taken) > historyLen {
				q.taken = q.taken[len(q.taken)-historyLen:]
			}
			q.mu.Unlock()
			return e, true
		}
		changed := q.changed
		q.mu.Unlock()

		wait := time.Until(deadline)
		if wait <= 0 {
			var zero E
			return zero, false
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		select {
		case <-changed:
		case <-timer.C:
			var zero E
			return zero, false
		}
	}
}

// snapshot returns copies of the queued items and of the recently taken ones.
func (q *msgQueue[E]) snapshot() (queued, taken []E) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]E(nil), q.items...), append([]E(nil), q.taken...)
}

// counts returns how many items were ever pushed and how many are queued.
func (q *msgQueue[E]) counts() (total, queued int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total, len(q.items)
}

// report builds a failure message: a headline and titled lists of items.
type report struct {
	b strings.Builder
}

func newReport(format string, args ...any) *report {
	r := &report{}
	fmt.Fprintf(&r.b, format, args...)
	return r
}

// withList appends a titled, numbered list of items unless items is empty.
func withList[E any](r *report, title string, items []E, describe func(E) string) *report {
	if len(items) == 0 {
		return r
	}
	fmt.Fprintf(&r.b, "\n\t%s (%d):", title, len(items))
	for i, e := range items {
		if i == listLen {
			fmt.Fprintf(&r.b, "\n\t  ... and %d more", len(items)-listLen)
			break
		}
		fmt.Fprintf(&r.b, "\n\t  %d. %s", i+1, describe(e))
	}
	return r
}

func (r *report) line(format string, args ...any) *report {
	r.b.WriteString("\n\t")
	fmt.Fprintf(&r.b, format, args...)
	return r
}

func (r *report) String() string { return r.b.String() }

// maxValueLen bounds how much of a message's %+v a failure message shows.
const maxValueLen = 200

// describeValue renders a message as its type and value, truncated.
func describeValue(msg any) string {
	if msg == nil {
		return "<nil>"
	}
	v := fmt.Sprintf("%+v", msg)
	if r := []rune(v); len(r) > maxValueLen {
		v = string(r[:maxValueLen]) + "…"
	}
	return fmt.Sprintf("%T %s", msg, v)
}

// pidString renders a PID as address/id, or "nobody" for nil.
func pidString(pid *actor.PID) string {
	if pid == nil {
		return "nobody"
	}
	return pid.Address + "/" + pid.Id
}

// samePID reports whether a and b name the same process; nil equals only nil.
func samePID(a, b *actor.PID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}
