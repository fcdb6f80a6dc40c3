package watch

import (
	"errors"
	"fmt"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func put(key string, rev int64) messages.Event {
	prev := messages.KeyValue{Key: []byte(key), Value: []byte("old"), ModRevision: rev - 1}
	return messages.Event{Type: messages.EventPut, KV: messages.KeyValue{Key: []byte(key), Value: []byte(fmt.Sprint(rev)), ModRevision: rev}, PrevKV: &prev}
}

// got lists what a sink holds: "key@rev" per event, "progress@rev" for a
// notice.
func got(s *messages.WatchSink) []string {
	var out []string
	for {
		select {
		case r := <-s.C():
			if len(r.Events) == 0 {
				out = append(out, fmt.Sprintf("progress@%d", r.Revision))
			}
			for _, e := range r.Events {
				out = append(out, fmt.Sprintf("%s@%d", e.KV.Key, e.Revision()))
			}
		default:
			return out
		}
	}
}

func TestHub(t *testing.T) {
	type step func(h *hub, sinks map[string]*messages.WatchSink)
	create := func(name, key, end string, from int64, size int) step {
		return func(h *hub, sinks map[string]*messages.WatchSink) {
			sinks[name] = messages.NewWatchSink(size)
			var e []byte
			if end != "" {
				e = []byte(end)
			}
			if id := h.create(&messages.WatchCreate{Key: []byte(key), End: e, From: from, Sink: sinks[name]}); id != uint64(len(sinks)) {
				t.Fatalf("watch %s has id %d", name, id)
			}
		}
	}
	history := func(id uint64, rev int64, err error, events ...messages.Event) step {
		return func(h *hub, _ map[string]*messages.WatchSink) {
			h.history(&messages.HistoryReply{Watch: id, Revision: rev, Events: events, Err: err})
		}
	}
	changes := func(rev int64, reset bool, events ...messages.Event) step {
		return func(h *hub, _ map[string]*messages.WatchSink) {
			h.changes(&messages.Changes{Revision: rev, Events: events, Reset: reset})
		}
	}
	progress := func(h *hub, _ map[string]*messages.WatchSink) { h.progress() }
	cancel := func(name string) step {
		return func(h *hub, sinks map[string]*messages.WatchSink) { h.cancel(sinks[name]) }
	}
	compacted := &messages.CompactedError{Oldest: 7}
	cases := []struct {
		name  string
		steps []step
		want  map[string][]string
		err   map[string]error
	}{
		{"history, then live changes, of the watch's key only",
			[]step{create("w", "a", "", 3, 8), history(1, 4, nil, put("a", 3), put("b", 4)), changes(5, false, put("a", 5)), changes(6, false, put("b", 6))},
			map[string][]string{"w": {"a@3", "a@5"}}, nil},
		{"a range and a prefix",
			[]step{create("r", "a", "c", 1, 8), create("all", "b", "\x00", 1, 8), history(1, 0, nil), history(2, 0, nil),
				changes(3, false, put("a", 1), put("b", 2), put("c", 3))},
			map[string][]string{"r": {"a@1", "b@2"}, "all": {"b@2", "c@3"}}, nil},
		{"changes before the history answer are in it, and not given twice",
			[]step{create("w", "a", "", 2, 8), changes(3, false, put("a", 3)), history(1, 3, nil, put("a", 2), put("a", 3)), changes(4, false, put("a", 4))},
			map[string][]string{"w": {"a@2", "a@3", "a@4"}}, nil},
		{"a compacted start ends the watch",
			[]step{create("w", "a", "", 2, 8), history(1, 9, compacted)},
			map[string][]string{"w": nil}, map[string]error{"w": compacted}},
		{"a snapshot that skips what the watch needs ends it",
			[]step{create("w", "a", "", 1, 8), history(1, 3, nil), changes(8, true, put("a", 8))},
			map[string][]string{"w": nil}, map[string]error{"w": compacted}},
		{"a snapshot that skips nothing the watch needs does not",
			[]step{create("w", "a", "", 1, 8), history(1, 7, nil), changes(8, true, put("a", 8))},
			map[string][]string{"w": {"a@8"}}, nil},
		{"a full queue drops the watch",
			[]step{create("w", "a", "", 1, 1), history(1, 0, nil), changes(1, false, put("a", 1)), changes(2, false, put("a", 2)), changes(3, false, put("a", 3))},
			map[string][]string{"w": {"a@1"}}, map[string]error{"w": messages.ErrWatchDropped}},
		{"progress goes to watches that got nothing since the last round",
			[]step{create("busy", "a", "", 1, 8), create("idle", "b", "", 1, 8), history(1, 0, nil), history(2, 0, nil),
				progress, changes(1, false, put("a", 1)), progress, progress},
			map[string][]string{"busy": {"a@1", "progress@1"}, "idle": {"progress@1", "progress@1"}}, nil},
		{"progress waits for the history",
			[]step{create("w", "a", "", 5, 8), progress, progress},
			map[string][]string{"w": nil}, nil},
		{"a cancelled watch gets nothing more",
			[]step{create("w", "a", "", 1, 8), history(1, 0, nil), cancel("w"), changes(1, false, put("a", 1)), history(1, 1, nil, put("a", 1))},
			map[string][]string{"w": nil}, map[string]error{"w": nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, sinks := newHub(), map[string]*messages.WatchSink{}
			for _, s := range c.steps {
				s(h, sinks)
			}
			for name, want := range c.want {
				if g := got(sinks[name]); fmt.Sprint(g) != fmt.Sprint(want) {
					t.Errorf("watch %s got %v, want %v", name, g, want)
				}
				wantErr, ended := c.err[name]
				select {
				case <-sinks[name].Done():
					if !ended {
						t.Errorf("watch %s ended (%v), want it going on", name, sinks[name].Err())
					} else if err := sinks[name].Err(); !errors.Is(err, wantErr) && fmt.Sprint(err) != fmt.Sprint(wantErr) {
						t.Errorf("watch %s ended with %v, want %v", name, err, wantErr)
					}
				default:
					if ended {
						t.Errorf("watch %s goes on, want it ended with %v", name, wantErr)
					}
				}
			}
		})
	}
}

// A watch without prev_kv gets events without the previous values.
func TestHubPrevKV(t *testing.T) {
	h := newHub()
	with, without := messages.NewWatchSink(1), messages.NewWatchSink(1)
	h.create(&messages.WatchCreate{Key: []byte("a"), From: 1, PrevKV: true, Sink: with})
	h.create(&messages.WatchCreate{Key: []byte("a"), From: 1, Sink: without})
	h.history(&messages.HistoryReply{Watch: 1, Events: []messages.Event{put("a", 1)}, Revision: 1})
	h.history(&messages.HistoryReply{Watch: 2, Events: []messages.Event{put("a", 1)}, Revision: 1})
	if r := <-with.C(); r.Events[0].PrevKV == nil {
		t.Error("prev_kv asked for, not given")
	}
	if r := <-without.C(); r.Events[0].PrevKV != nil {
		t.Error("prev_kv given unasked")
	}
}
