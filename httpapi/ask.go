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
// open number is handed to its channel and closes it; any other answer
// (a second one, one that comes after close) is dropped.
type replies struct {
	mu      sync.Mutex
	last    uint32
	waiting map[uint32]chan any
}

func newReplies() *replies { return &replies{waiting: map[uint32]chan any{}} }

// open returns a number no open ask has (never 0), and the channel its
// answer arrives on.
func (r *replies) open() (uint32, chan any) {
	ch := make(chan any, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		r.last++
		if _, used := r.waiting[r.last]; !used && r.last != 0 {
			r.waiting[r.last] = ch
			return r.last, ch
		}
	}
}

// close forgets number n: an answer that comes later is dropped.
func (r *replies) close(n uint32) {
	r.mu.Lock()
	delete(r.waiting, n)
	r.mu.Unlock()
}

// SendUserMessage hands the first answer to an open ask to its channel.
func (r *replies) SendUserMessage(pid *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	r.mu.Lock()
	ch, ok := r.waiting[pid.GetRequestId()]
	delete(r.waiting, pid.GetRequestId())
	r.mu.Unlock()
	if ok {
		ch <- msg // its only send: the channel has room for it
	}
}

// SendSystemMessage ignores system messages: nothing watches the replies.
func (r *replies) SendSystemMessage(*actor.PID, any) {}

// Stop does nothing: the replies live as long as the actor system.
func (r *replies) Stop(*actor.PID) {}

// ask sends msg to the proposer and waits for the answer until timeout or
// until ctx ends (under net/http's server, when the client goes away).
func (s *Server) ask(ctx context.Context, msg any, timeout time.Duration) (any, error) {
	n, ch := s.replies.open()
	defer s.replies.close(n)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	s.root.RequestWithCustomSender(s.proposer, msg, &actor.PID{Address: s.repliesPID.Address, Id: s.repliesPID.Id, RequestId: n})
	select {
	case v := <-ch:
		if _, dead := v.(*actor.DeadLetterResponse); dead {
			return nil, actor.ErrDeadLetter
		}
		return v, nil
	case <-timer.C:
		return nil, errDeadline
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
