// Package watch holds the watch actor: it owns a member's watches, replays
// each one's history from its start revision (asking the applier, which
// owns the store), then hands it every change of its range that the
// applier reports, in revision order, each once.
//
// Messages:
//
//	WatchCreate (from the proposer, for the HTTP API) --Watching{On} (the first), HistoryRequest--> applier
//	HistoryReply (from the applier)     the changes from the start on; the watch is live from then
//	Changes (from the applier)          after every batch that changed the store, while a watch is open
//	                                    (Watching{On: false} to the applier once the last one ends)
//	WatchCancel                         the client went away
//	progress (every ProgressInterval)   a notice to each watch that got nothing meanwhile
//
// A watch's responses go to its WatchSink, a bounded queue: a watch whose
// consumer falls behind by more than the queue is ended with
// ErrWatchDropped rather than buffered without bound. A watch from a
// revision the history no longer holds ends with a CompactedError naming
// the oldest revision kept.
package watch

import (
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
)

// DefaultProgressInterval is how often an idle watch hears the current
// revision.
const DefaultProgressInterval = 5 * time.Second

// Config is what the watch actor needs.
type Config struct {
	// Applier answers HistoryRequests.
	Applier *actor.PID
	// ProgressInterval is how often idle watches get a progress notice; 0
	// means never (tests send Progress themselves).
	ProgressInterval time.Duration
	Logger           *slog.Logger
	// Metrics counts the watches; nil counts nothing.
	Metrics *metrics.Metrics
}

// Progress makes the watch actor send a progress notice to every watch that
// got nothing since the last one.
type Progress struct{}

// Props returns the props of the watch actor.
func Props(cfg Config) *actor.Props {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &watcher{cfg: cfg, hub: newHub(), log: cfg.Logger.With("actor", "watch")}
	})
}

type watcher struct {
	cfg  Config
	hub  *hub
	log  *slog.Logger
	stop func()
	// watching is what the applier was last told (Watching).
	watching bool
}

// Receive handles one message; see the package doc.
func (w *watcher) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if w.cfg.ProgressInterval > 0 {
			w.stop = every.Send(ctx.ActorSystem(), ctx.Self(), w.cfg.ProgressInterval, &Progress{})
		}
	case *actor.Stopping:
		if w.stop != nil {
			w.stop()
		}
		w.hub.stop(messages.ErrStopped)
	case *messages.WatchCreate:
		id := w.hub.create(msg)
		w.announce(ctx) // before the history: every later batch is reported
		ctx.Send(w.cfg.Applier, &messages.HistoryRequest{Watch: id, From: msg.From, ReplyTo: ctx.Self()})
	case *messages.WatchCancel:
		w.hub.cancel(msg.Sink)
	case *messages.HistoryReply:
		w.hub.history(msg)
	case *messages.Changes:
		w.hub.changes(msg)
	case *Progress:
		w.hub.progress()
	}
	w.announce(ctx)
	w.cfg.Metrics.SetWatches(len(w.hub.watches))
}

// announce tells the applier when the hub gets its first watch or loses
// its last: the applier reports changes only while there are watches.
func (w *watcher) announce(ctx actor.Context) {
	if on := len(w.hub.watches) > 0; on != w.watching {
		w.watching = on
		ctx.Send(w.cfg.Applier, &messages.Watching{On: on})
	}
}
