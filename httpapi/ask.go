package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// replies routes the answers to asks to the handlers that wait for them.
// It is one process of the actor system for the whole server, registered
// once: an ask's reply address is that process's PID with the ask's own
// number as its RequestId, which every answer to it carries back. Against
// a process registered and removed for each ask, the registry's maps are
// not touched per request (that cost the leader 4 % of its CPU at 64
// clients, and kept ~10 MB of the registry's maps in use).
//
// An ask's number is open from open until close. The first answer to an
// open number is handed to its waiter and closes it; any other answer
// (a second one, one that comes after close) is dropped. A closed waiter
// is kept for a later ask, empty: its channel and timer are not made
// again for every request.
type replies struct {
	mu      sync.Mutex
	last    uint32
	waiting map[uint32]*waiter
	free    sync.Pool // of *waiter, closed and empty
}

// waiter is how one ask waits: the number its answer is addressed to, the
// channel the answer arrives on, and the timer of its deadline.
type waiter struct {
	n      uint32
	answer chan any
	timer  *time.Timer
}

func newReplies() *replies { return &replies{waiting: map[uint32]*waiter{}} }

// open returns a waiter whose number no open ask has (never 0), its timer
// stopped and its channel empty.
func (r *replies) open() *waiter {
	w, _ := r.free.Get().(*waiter)
	if w == nil {
		w = &waiter{answer: make(chan any, 1), timer: time.NewTimer(time.Hour)}
		w.timer.Stop()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		r.last++
		if _, used := r.waiting[r.last]; !used && r.last != 0 {
			r.waiting[r.last] = w
			w.n = r.last
			return w
		}
	}
}

// close forgets w's number, so that an answer that comes later is
// dropped, and keeps w for another ask. An answer that came and was not
// taken (it raced the deadline) is thrown away first: it was handed over
// under the lock, so once close holds it no answer is on its way.
func (r *replies) close(w *waiter) {
	r.mu.Lock()
	if r.waiting[w.n] == w { // else answered, and the number maybe reopened since
		delete(r.waiting, w.n)
	}
	r.mu.Unlock()
	w.timer.Stop()
	select {
	case <-w.answer:
	default:
	}
	r.free.Put(w)
}

// SendUserMessage hands the first answer to an open ask to its waiter.
func (r *replies) SendUserMessage(pid *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.waiting[pid.GetRequestId()]; ok {
		delete(r.waiting, w.n)
		w.answer <- msg // its only send while open: the channel has room
	}
}

// SendSystemMessage ignores system messages: nothing watches the replies.
func (r *replies) SendSystemMessage(*actor.PID, any) {}

// Stop does nothing: the replies live as long as the actor system.
func (r *replies) Stop(*actor.PID) {}

// ask sends msg to the proposer and waits for the answer until timeout or
// until ctx ends (under net/http's server, when the client goes away).
func (s *Server) ask(ctx context.Context, msg any, timeout time.Duration) (any, error) {
	w := s.replies.open()
	defer s.replies.close(w)
	w.timer.Reset(timeout)
	s.root.RequestWithCustomSender(s.proposer, msg, &actor.PID{Address: s.repliesPID.Address, Id: s.repliesPID.Id, RequestId: w.n})
	select {
	case v := <-w.answer:
		if _, dead := v.(*actor.DeadLetterResponse); dead {
			return nil, actor.ErrDeadLetter
		}
		return v, nil
	case <-w.timer.C:
		return nil, errDeadline
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
