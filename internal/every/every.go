// Package every sends an actor a message at a fixed interval: raft's tick to
// raftnode, the retry sweep to the proposer.
//
// It stands in for protoactor's scheduler.SendRepeatedly, whose cancel races
// with the firing timer in the protoactor-go version raftkv pins (an
// unsynchronized read of the timer state, fixed upstream after it); the race
// detector reports it whenever a node stops while a tick fires.
package every

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Send sends msg to pid every interval until the returned stop is called;
// stop waits until nothing more is sent and may be called more than once.
func Send(system *actor.ActorSystem, pid *actor.PID, interval time.Duration, msg any) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				system.Root.Send(pid, msg)
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-exited
	}
}
