package testkit

import (
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// MailboxStats counts the user messages that pass through the mailbox of an
// actor under test: posted to it, and processed (its Receive returned without
// panicking). A test can so wait until the actor has handled a message without
// the actor replying to anyone. Install it with
//
//	props := actor.PropsFromProducer(newActor, actor.WithMailbox(stats.Mailbox()))
//
// System messages (Started, Stop, Watch, Terminated…) are not counted.
type MailboxStats struct {
	t         TB
	posted    atomic.Int64
	processed *msgQueue[any]
}

// NewMailboxStats returns a MailboxStats that fails t in its assertions.
func NewMailboxStats(t TB) *MailboxStats {
	return &MailboxStats{t: t, processed: newMsgQueue[any]()}
}

// Mailbox returns an unbounded mailbox producer that records into s.
func (s *MailboxStats) Mailbox() actor.MailboxProducer {
	return actor.Unbounded(mailboxHook{s})
}

// Posted returns how many user messages were posted to the mailbox.
func (s *MailboxStats) Posted() int { return int(s.posted.Load()) }

// Processed returns how many user messages the actor has handled.
func (s *MailboxStats) Processed() int {
	total, _ := s.processed.counts()
	return total
}

// ExpectProcessed waits until the actor has handled a user message of type T
// that no earlier ExpectProcessed returned, and returns it. Processed messages
// of other types before it are skipped. It fails the test, listing what it
// skipped, if there is none within timeout (DefaultTimeout if none is given,
// dilated).
func ExpectProcessed[T any](s *MailboxStats, timeout ...time.Duration) T {
	s.t.Helper()
	within := timeoutOf(timeout)
	deadline := time.Now().Add(within)
	var skipped []any
	for {
		m, ok := s.processed.take(deadline)
		if !ok {
			r := newReport("testkit: ExpectProcessed[%s]: the actor handled no such message within %v (%d posted, %d handled)",
				typeName[T](), within, s.Posted(), s.Processed())
			s.t.Fatalf("%s", withList(r, "handled instead", skipped, describeValue))
			var zero T
			return zero
		}
		if typed, ok := m.(T); ok {
			return typed
		}
		skipped = append(skipped, m)
	}
}

// mailboxHook is the actor.MailboxMiddleware behind MailboxStats, kept
// unexported so that MailboxStats shows only its test-facing methods.
type mailboxHook struct{ s *MailboxStats }

func (h mailboxHook) MailboxStarted() {}
func (h mailboxHook) MailboxEmpty()   {}

func (h mailboxHook) MessagePosted(msg any) {
	if isUserMessage(msg) {
		h.s.posted.Add(1)
	}
}

func (h mailboxHook) MessageReceived(msg any) {
	if isUserMessage(msg) {
		h.s.processed.push(actor.UnwrapEnvelopeMessage(msg))
	}
}

func isUserMessage(msg any) bool {
	switch msg.(type) {
	case actor.SystemMessage, actor.MailboxMessage:
		return false
	}
	return true
}
