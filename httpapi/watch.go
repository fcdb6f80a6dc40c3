package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// watchQueue is how many responses a watch may have waiting for its client
// before the member drops it (a response is the changes of one applied
// batch, or a progress notice).
const watchQueue = 256

// watchWriteTimeout bounds each write of a watch's stream: a client that
// reads nothing for that long is cut off (the server's WriteTimeout
// would cut every long watch off).
const watchWriteTimeout = 30 * time.Second

// isWatchPath tells whether path is served by watchV1. These paths bypass
// the ServeMux, which would clean their keys.
func isWatchPath(path string) bool { return strings.HasPrefix(path, api.PathWatch) }

// watchV1 serves GET /v1/watch/<key>[?prefix | ?end=<b>][&start_revision=<r>][&prev_kv]:
// the changes of the key (or range) as Server-Sent Events, from
// start_revision, or right after the revision in Last-Event-ID, or after
// the newest write acknowledged before the request.
func (s *Server) watchV1(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	create, timeout, err := s.parseWatch(r)
	if err != nil {
		s.failV1(w, err)
		return
	}
	// A linearizable read: the revision every acknowledged write is at or
	// below, and the check of a start in the future.
	reply, err := s.read(r.Context(), messages.Op{Type: messages.OpGet, Key: create.Key, Limit: 1}, false, timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	switch {
	case create.From == 0:
		create.From = reply.Revision + 1
	case create.From > reply.Revision+1:
		s.failV1(w, fmt.Errorf("watch from revision %d, the store is at %d: %w", create.From, reply.Revision, messages.ErrFutureRevision))
		return
	}
	create.Sink = messages.NewWatchSink(watchQueue)
	s.root.Send(s.proposer, create)
	defer s.root.Send(s.proposer, &messages.WatchCancel{Sink: create.Sink})

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	setRevision(w, reply.Revision)
	w.WriteHeader(http.StatusOK)
	sse := &eventWriter{rc: http.NewResponseController(w), w: w}
	sse.comment(fmt.Sprintf("watching from revision %d", create.From))
	for sse.err == nil {
		select {
		case resp := <-create.Sink.C():
			sse.response(resp)
		case <-create.Sink.Done():
			for more := true; more && sse.err == nil; {
				select {
				case resp := <-create.Sink.C():
					sse.response(resp)
				default:
					more = false
				}
			}
			sse.end(create.Sink.Err())
			return
		case <-r.Context().Done():
			return
		case <-s.streamsEnded:
			sse.end(messages.ErrStopped)
			return
		}
	}
	s.log.Debug("watch stream cut off", "err", sse.err)
}

// parseWatch reads a watch request.
func (s *Server) parseWatch(r *http.Request) (*messages.WatchCreate, time.Duration, error) {
	p, err := s.parseParams(r, "prefix", "end", "start_revision", "prev_kv")
	if err != nil {
		return nil, 0, err
	}
	c := &messages.WatchCreate{Key: []byte(strings.TrimPrefix(r.URL.Path, api.PathWatch))}
	prefix, err := p.flag("prefix")
	if err != nil {
		return nil, 0, err
	}
	if c.PrevKV, err = p.flag("prev_kv"); err != nil {
		return nil, 0, err
	}
	switch {
	case prefix && p.q.Has("end"):
		return nil, 0, badRequest("give either prefix or end, not both")
	case prefix:
		c.End = prefixEnd(c.Key)
	case p.q.Has("end"):
		if c.End = []byte(p.q.Get("end")); len(c.End) == 0 {
			c.End = []byte(allKeysEnd)
		}
		if !bytes.Equal(c.End, []byte(allKeysEnd)) && bytes.Compare(c.End, c.Key) <= 0 {
			return nil, 0, badRequest("end=%q is not after the key %q: the range is empty", c.End, c.Key)
		}
	case len(c.Key) == 0:
		return nil, 0, badRequest("empty key: use /v1/watch/<key>, or ?prefix for every key")
	}
	if err := store.Validate(messages.Txn{Success: []messages.Op{{Type: messages.OpGet, Key: c.Key, End: c.End}}}); err != nil {
		return nil, 0, err
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		rev, err := strconv.ParseInt(id, 10, 64)
		if err != nil || rev < 0 {
			return nil, 0, badRequest("Last-Event-ID %q: want the revision of the last event received", id)
		}
		c.From = rev + 1
	} else if p.q.Has("start_revision") {
		rev, err := strconv.ParseInt(p.q.Get("start_revision"), 10, 64)
		if err != nil || rev <= 0 {
			return nil, 0, badRequest("start_revision=%q: want a revision, a number from 1", p.q.Get("start_revision"))
		}
		c.From = rev
	}
	return c, p.timeout, nil
}

// eventWriter writes Server-Sent Events, each write within
// watchWriteTimeout; err is the first write's failure.
type eventWriter struct {
	rc  *http.ResponseController
	w   io.Writer
	buf bytes.Buffer
	err error
}

// response writes a watch's response: its events (the id of the last one
// of each revision is the revision, so that Last-Event-ID names only a
// revision whose events all arrived), or a progress notice.
func (e *eventWriter) response(r *messages.WatchResponse) {
	if len(r.Events) == 0 {
		e.event(api.EventProgress, "", api.Progress{Revision: r.Revision})
		e.flush()
		return
	}
	for i := range r.Events {
		ev := &r.Events[i]
		out := api.WatchEvent{Type: ev.Type.String(), Revision: ev.Revision(), KV: toKeyValue(ev.KV)}
		if ev.Type == messages.EventDelete {
			out.KV.Value = nil
		}
		if ev.PrevKV != nil {
			prev := toKeyValue(*ev.PrevKV)
			out.PrevKV = &prev
		}
		id := ""
		if i == len(r.Events)-1 || r.Events[i+1].Revision() != ev.Revision() {
			id = strconv.FormatInt(ev.Revision(), 10)
		}
		e.event(out.Type, id, out)
	}
	e.flush()
}

// end writes the event that says why the watch ended, if it did not end
// because the client went away.
func (e *eventWriter) end(err error) {
	var compacted *messages.CompactedError
	switch {
	case err == nil:
		return
	case errors.As(err, &compacted):
		e.event(api.EventCompacted, "", api.Compacted{Error: err.Error(), Code: "compacted", CompactRevision: compacted.Oldest})
	default:
		e.event(api.EventDropped, "", api.ErrorReply{Error: err.Error(), Code: messages.ErrorCode(err)})
	}
	e.flush()
}

func (e *eventWriter) comment(text string) {
	fmt.Fprintf(&e.buf, ": %s\n\n", text)
	e.flush()
}

func (e *eventWriter) event(typ, id string, data any) {
	if id != "" {
		fmt.Fprintf(&e.buf, "id: %s\n", id)
	}
	body, err := json.Marshal(data)
	if err != nil {
		e.err = fmt.Errorf("encode %s event: %w", typ, err)
		return
	}
	fmt.Fprintf(&e.buf, "event: %s\ndata: %s\n\n", typ, body)
}

// flush writes what is buffered to the client.
func (e *eventWriter) flush() {
	if e.err != nil {
		return
	}
	if err := e.rc.SetWriteDeadline(time.Now().Add(watchWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e.err = fmt.Errorf("set write deadline: %w", err)
		return
	}
	if _, err := e.w.Write(e.buf.Bytes()); err != nil {
		e.err = err
		return
	}
	e.buf.Reset()
	if err := e.rc.Flush(); err != nil {
		e.err = err
	}
}

// compactV1 serves POST /v1/compact {"revision":R}: the history before R is
// dropped on every member (through the log); reads and watches at older
// revisions then answer compacted.
func (s *Server) compactV1(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	var req api.CompactRequest
	p, ok := s.jsonRequest(w, r, &req)
	if !ok {
		return
	}
	if req.Revision <= 0 {
		s.failV1(w, badRequest("revision %d: want the revision to compact to, a number from 1", req.Revision))
		return
	}
	res, err := s.command(r.Context(), &messages.ClientCompact{Revision: req.Revision}, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	writeV1(w, http.StatusOK, res.Revision, api.CompactReply{Revision: res.Revision, CompactRevision: req.Revision})
}
