package messages

import (
	"errors"
	"sync"
)

// EventType says what an Event did to its key.
type EventType uint8

// The kinds of change.
const (
	EventPut    EventType = 1
	EventDelete EventType = 2
)

// String is the name watchers see: "put" or "delete".
func (t EventType) String() string {
	if t == EventDelete {
		return "delete"
	}
	return "put"
}

// Event is one change of one key at one revision, as the store's history
// keeps it and a watch reports it.
type Event struct {
	Type EventType
	// KV is the key after a put; after a delete, the key with ModRevision
	// the delete's revision and nothing else.
	KV KeyValue
	// PrevKV is the key before the change; nil if it did not exist.
	PrevKV *KeyValue
}

// Revision is the revision of the change.
func (e *Event) Revision() int64 { return e.KV.ModRevision }

// ErrWatchDropped ends a watch whose consumer fell too far behind.
var ErrWatchDropped = errors.New("raftkv: watch dropped: the consumer fell too far behind")

// WatchCreate starts a watch of [Key, End) (End nil: Key alone; End
// "\x00": every key >= Key) from revision From (> 0) on. Its responses go
// to Sink, until the watch ends or WatchCancel.
type WatchCreate struct {
	Key, End []byte
	From     int64
	PrevKV   bool
	Sink     *WatchSink
}

// WatchCancel ends the watch of Sink.
type WatchCancel struct{ Sink *WatchSink }

// WatchResponse is one delivery to a watch: changes of its range in
// revision order (none: a progress notice), and the revision the watch is
// current to.
type WatchResponse struct {
	Events   []Event
	Revision int64
}

// WatchSink is the receiving end of a watch: a bounded queue of responses
// that the watch actor fills without ever blocking, and the reason the
// watch ended. The watch actor ends a watch whose queue is full with
// ErrWatchDropped.
type WatchSink struct {
	c    chan *WatchResponse
	once sync.Once
	done chan struct{}
	err  error
}

// NewWatchSink returns a sink that holds up to n responses.
func NewWatchSink(n int) *WatchSink {
	return &WatchSink{c: make(chan *WatchResponse, n), done: make(chan struct{})}
}

// C delivers the responses.
func (s *WatchSink) C() <-chan *WatchResponse { return s.c }

// Done is closed when the watch has ended; Err then says why. Responses
// queued before stay readable from C.
func (s *WatchSink) Done() <-chan struct{} { return s.done }

// Err is why the watch ended: a *CompactedError, ErrWatchDropped,
// ErrStopped, ErrFutureRevision; nil before it ended.
func (s *WatchSink) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Offer queues r unless the queue is full or the watch ended.
func (s *WatchSink) Offer(r *WatchResponse) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.c <- r:
		return true
	default:
		return false
	}
}

// End ends the watch with err; later calls do nothing.
func (s *WatchSink) End(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
	})
}
