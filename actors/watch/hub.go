package watch

import (
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// hub is the watch actor's state: the watches and how far each got. It
// does not talk to other actors; its methods say what to ask the applier
// for, and deliver to the sinks (which never block).
type hub struct {
	watches map[uint64]*watch
	bySink  map[*messages.WatchSink]uint64
	nextID  uint64
	// revision is the newest store revision the hub has heard of.
	revision int64
}

// watch is one watch: its range, and the revision of the next change it
// must get (it got every earlier one).
type watch struct {
	key, end []byte
	prevKV   bool
	sink     *messages.WatchSink
	next     int64
	// replaying says that the applier's answer to its history request has
	// not come yet: changes that come before it are in it.
	replaying bool
	// quiet says that nothing was delivered since the last progress round.
	quiet bool
}

func newHub() *hub {
	return &hub{watches: map[uint64]*watch{}, bySink: map[*messages.WatchSink]uint64{}}
}

// create adds a watch and returns its id, whose history from c.From the
// caller asks the applier for.
func (h *hub) create(c *messages.WatchCreate) uint64 {
	h.nextID++
	id := h.nextID
	h.watches[id] = &watch{key: c.Key, end: c.End, prevKV: c.PrevKV, sink: c.Sink, next: c.From, replaying: true}
	h.bySink[c.Sink] = id
	return id
}

// cancel ends the watch of sink, if it is still there.
func (h *hub) cancel(sink *messages.WatchSink) {
	if id, ok := h.bySink[sink]; ok {
		h.end(id, nil)
	}
}

// history takes the applier's answer to a watch's history request.
func (h *hub) history(r *messages.HistoryReply) {
	w := h.watches[r.Watch]
	if w == nil {
		return
	}
	if r.Err != nil {
		h.end(r.Watch, r.Err)
		return
	}
	h.revision = max(h.revision, r.Revision)
	w.replaying = false
	h.deliver(r.Watch, w, r.Events, r.Revision)
}

// changes takes what the applier just applied.
func (h *hub) changes(c *messages.Changes) {
	from := c.Revision + 1
	if len(c.Events) > 0 {
		from = c.Events[0].Revision()
	}
	h.revision = max(h.revision, c.Revision)
	for id, w := range h.watches {
		if w.replaying {
			continue
		}
		if c.Reset && w.next < from {
			// The store was replaced by a snapshot's: the changes before
			// from are not known here.
			h.end(id, &messages.CompactedError{Oldest: from - 1})
			continue
		}
		h.deliver(id, w, c.Events, c.Revision)
	}
}

// progress tells every watch that got nothing since the last round the
// revision it is current to.
func (h *hub) progress() {
	for id, w := range h.watches {
		if w.replaying {
			continue
		}
		if w.quiet && !w.sink.Offer(&messages.WatchResponse{Revision: max(h.revision, w.next-1)}) {
			h.end(id, messages.ErrWatchDropped)
			continue
		}
		w.quiet = true
	}
}

// deliver sends w the events of its range from w.next on, current to
// revision rev.
func (h *hub) deliver(id uint64, w *watch, events []messages.Event, rev int64) {
	var out []messages.Event
	for i := range events {
		e := &events[i]
		if e.Revision() < w.next || !store.InRange(e.KV.Key, w.key, w.end) {
			continue
		}
		ev := *e
		if !w.prevKV {
			ev.PrevKV = nil
		}
		out = append(out, ev)
	}
	w.next = max(w.next, rev+1)
	if len(out) == 0 {
		return
	}
	if !w.sink.Offer(&messages.WatchResponse{Events: out, Revision: rev}) {
		h.end(id, messages.ErrWatchDropped)
		return
	}
	w.quiet = false
}

// end removes a watch and ends its sink with err (nil: cancelled).
func (h *hub) end(id uint64, err error) {
	w := h.watches[id]
	delete(h.watches, id)
	delete(h.bySink, w.sink)
	w.sink.End(err)
}

// stop ends every watch with err.
func (h *hub) stop(err error) {
	for id := range h.watches {
		h.end(id, err)
	}
}
