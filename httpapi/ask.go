package httpapi

import (
	"context"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// replyBox is where the answer to one ask arrives: a process of the actor
// system, registered for that ask alone, that hands the first message sent
// to it to a channel the handler's goroutine waits on. Unlike a future it
// needs no goroutine and no timer of its own, and no lock.
type replyBox struct {
	ch chan any
}

// SendUserMessage keeps the first answer; later ones are dropped.
func (b *replyBox) SendUserMessage(_ *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	select {
	case b.ch <- msg:
	default:
	}
}

// SendSystemMessage ignores system messages: nothing watches a reply box.
func (b *replyBox) SendSystemMessage(*actor.PID, any) {}

// Stop does nothing: the ask that registered the box removes it.
func (b *replyBox) Stop(*actor.PID) {}

// ask sends msg to the proposer and waits for the answer until timeout or
// until the client goes away. An answer that comes later goes to the dead
// letters, as a future's would.
func (s *Server) ask(ctx context.Context, msg any, timeout time.Duration) (any, error) {
	sys := s.root.ActorSystem()
	box := &replyBox{ch: make(chan any, 1)}
	pid, _ := sys.ProcessRegistry.Add(box, "ask"+sys.ProcessRegistry.NextId())
	defer sys.ProcessRegistry.Remove(pid)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	s.root.RequestWithCustomSender(s.proposer, msg, pid)
	select {
	case v := <-box.ch:
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
