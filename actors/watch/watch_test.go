package watch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/raftkv/raftkv/actors/watch"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/metrics/metricstest"
	"github.com/raftkv/raftkv/testkit"
)

func next(t *testing.T, s *messages.WatchSink) *messages.WatchResponse {
	t.Helper()
	select {
	case r := <-s.C():
		return r
	case <-time.After(testkit.Dilated(5 * time.Second)):
		t.Fatal("the watch got nothing")
		return nil
	}
}

// A watch asks the applier for its history, gets it, then the live
// changes; stopping the actor ends it with ErrStopped.
func TestWatchActor(t *testing.T) {
	system := testkit.NewSystem(t)
	applier := testkit.NewProbe(t, system)
	m := metrics.New()
	pid := system.Root.Spawn(watch.Props(watch.Config{Applier: applier.PID(), Metrics: m}))
	sink := messages.NewWatchSink(8)
	system.Root.Send(pid, &messages.WatchCreate{Key: []byte("k"), From: 2, Sink: sink})
	if on := testkit.ExpectMsg[*messages.Watching](applier); !on.On {
		t.Errorf("before the first watch's history the applier heard %+v, want watching on", on)
	}
	req := testkit.ExpectMsg[*messages.HistoryRequest](applier)
	if req.From != 2 || !req.ReplyTo.Equal(pid) {
		t.Fatalf("history request %+v", req)
	}
	ev := func(rev int64) messages.Event {
		return messages.Event{Type: messages.EventPut, KV: messages.KeyValue{Key: []byte("k"), ModRevision: rev}}
	}
	system.Root.Send(pid, &messages.HistoryReply{Watch: req.Watch, Revision: 2, Events: []messages.Event{ev(2)}})
	system.Root.Send(pid, &messages.Changes{Revision: 3, Events: []messages.Event{ev(3)}})
	if r := next(t, sink); r.Revision != 2 || r.Events[0].Revision() != 2 {
		t.Errorf("first response %+v, want the history at 2", r)
	}
	if n := metricstest.Value(t, m.Registry(), "raftkv_watch_streams", nil); n != 1 {
		t.Errorf("raftkv_watch_streams %v, want 1", n)
	}
	if r := next(t, sink); r.Revision != 3 || r.Events[0].Revision() != 3 {
		t.Errorf("second response %+v, want the change at 3", r)
	}
	system.Root.Send(pid, &watch.Progress{})
	system.Root.Send(pid, &watch.Progress{})
	if r := next(t, sink); len(r.Events) != 0 || r.Revision != 3 {
		t.Errorf("progress %+v, want revision 3", r)
	}
	if err := system.Root.StopFuture(pid).Wait(); err != nil {
		t.Fatal(err)
	}
	<-sink.Done()
	if !errors.Is(sink.Err(), messages.ErrStopped) {
		t.Errorf("after the stop the watch ended with %v, want ErrStopped", sink.Err())
	}
	if off := testkit.ExpectMsg[*messages.Watching](applier); off.On {
		t.Errorf("once the last watch ended the applier heard %+v, want watching off", off)
	}
}
