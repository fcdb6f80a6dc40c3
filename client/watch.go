package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/raftkv/raftkv/api"
)

// WatchEvent is one change a watch reports: its type ("put" or "delete"),
// revision, the key after it and, WithPrevKV, before it.
type WatchEvent = api.WatchEvent

// CompactResponse is the answer of Compact.
type CompactResponse = api.CompactReply

// WatchResponse is one delivery of a watch: changes in revision order, or,
// without Events, a progress notice (no change of the range up to
// Revision). Err ends the watch, and the channel closes after it: an error
// matching ErrCompacted (CompactRevision is then the oldest revision kept)
// when the watch asked for changes the members no longer keep, ErrInvalid
// for a malformed watch, the context's error when it ended.
type WatchResponse struct {
	Events          []WatchEvent
	Revision        int64
	CompactRevision int64
	Err             error
}

// maxWatchBackoff bounds the pause between rounds of the endpoints while a
// watch finds no member to follow.
const maxWatchBackoff = 2 * time.Second

// Watch follows the changes of key, of every key it prefixes (WithPrefix),
// or of [key, end) (WithRangeEnd): from WithRevision(rev) on, or from right
// after the newest write acknowledged before the call. WithPrevKV adds the
// key's previous state to each event.
//
// Every change comes once, in revision order, with no gap: when the member
// goes away or drops the watch (a consumer that fell behind), the watch
// goes on from another member, or the same one later, right after the last
// change it delivered. The channel closes after a response with Err; cancel
// ctx to stop the watch.
func (c *Client) Watch(ctx context.Context, key string, opts ...OpOption) <-chan WatchResponse {
	cfg := configure(opts)
	w := &watch{c: c, path: api.PathWatch + url.PathEscape(key), cfg: cfg, out: make(chan WatchResponse, 16)}
	if cfg.revision > 0 {
		w.last = cfg.revision - 1
	} else {
		// The newest acknowledged revision now, so that the watch sees
		// every change after the writes acknowledged before the call,
		// whenever its stream starts.
		now, err := c.rangeQuery(ctx, url.Values{"start": {key}, "end": {key + "\x00"}}, []OpOption{WithLimit(1)})
		if err != nil {
			w.out <- WatchResponse{Err: err}
			close(w.out)
			return w.out
		}
		w.last = now.Revision
	}
	go w.run(ctx)
	return w.out
}

// Compact drops the history before revision rev on every member: reads and
// watches at older revisions then fail with ErrCompacted. Like a write, it
// is never sent twice.
func (c *Client) Compact(ctx context.Context, rev int64) (*CompactResponse, error) {
	body, err := json.Marshal(api.CompactRequest{Revision: rev})
	if err != nil {
		return nil, err
	}
	var out CompactResponse
	if err := c.call(ctx, &request{method: http.MethodPost, path: api.PathCompact, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// watch is the state of one Watch: where it is in the changes.
type watch struct {
	c    *Client
	path string
	cfg  opConfig
	out  chan WatchResponse
	// last is the revision up to which every change was delivered (or is
	// before the start).
	last int64
	// delivered counts the changes delivered of revision partialRev, whose
	// last change has not come yet; seen counts those the current stream
	// has brought (it starts again at the revision's first change).
	partialRev int64
	delivered  int
	seen       int
	// progressed says that the current stream delivered something.
	progressed bool
}

// errResume ends one stream; the watch resumes on the next member.
var errResume = errors.New("resume")

func (w *watch) run(ctx context.Context) {
	defer close(w.out)
	backoff := w.c.backoff
	w.c.mu.Lock()
	ep := w.c.preferred
	w.c.mu.Unlock()
	for failed := 0; ; ep = (ep + 1) % len(w.c.endpoints) {
		w.progressed = false
		err := w.stream(ctx, w.c.endpoints[ep])
		if errors.Is(err, errResume) && w.progressed {
			failed, backoff = 0, w.c.backoff
			continue
		}
		if ctx.Err() != nil {
			w.send(ctx, WatchResponse{Err: ctx.Err()})
			return
		}
		var apiErr *Error
		if errors.As(err, &apiErr) && !errors.Is(apiErr, ErrUnavailable) && !errors.Is(apiErr, ErrTimeout) {
			w.send(ctx, WatchResponse{Err: apiErr, CompactRevision: apiErr.CompactRevision})
			return
		}
		// Unreachable, refusing, or dropping the watch before it got
		// anywhere: the next member, and a pause after a round of them.
		if failed++; failed%len(w.c.endpoints) == 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				w.send(ctx, WatchResponse{Err: ctx.Err()})
				return
			case <-t.C:
			}
			backoff = min(2*backoff, maxWatchBackoff)
		}
	}
}

// stream follows the watch on one member until the stream ends: errResume
// when it got somewhere (the next member takes over), an *Error for an
// error answer, or the failure.
func (w *watch) stream(ctx context.Context, endpoint string) error {
	q := url.Values{}
	switch {
	case w.cfg.prefix:
		q.Set("prefix", "")
	case w.cfg.end != "":
		q.Set("end", w.cfg.end)
	}
	if w.cfg.prevKV {
		q.Set("prev_kv", "")
	}
	q.Set("start_revision", strconv.FormatInt(w.last+1, 10))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+w.path+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("raftkv client: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := w.c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("raftkv client: watch on %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerSize))
		return decodeError(endpoint, resp, data)
	}
	w.seen = 0
	r := bufio.NewReader(resp.Body)
	var typ, id, data string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return errResume // the member went away: go on elsewhere
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if typ != "" {
				if err := w.event(ctx, endpoint, typ, id, data); err != nil {
					return err
				}
			}
			typ, id, data = "", "", ""
		case strings.HasPrefix(line, "event: "):
			typ = line[len("event: "):]
		case strings.HasPrefix(line, "id: "):
			id = line[len("id: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

// event takes one event of the stream.
func (w *watch) event(ctx context.Context, endpoint, typ, id, data string) error {
	switch typ {
	case api.EventPut, api.EventDelete:
		var ev WatchEvent
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return fmt.Errorf("raftkv client: watch on %s: event %q: %w", endpoint, data, err)
		}
		rev := ev.Revision
		if rev <= w.last {
			return nil // delivered before a resume
		}
		if rev != w.partialRev {
			w.partialRev, w.delivered, w.seen = rev, 0, 0
		}
		if w.seen++; w.seen <= w.delivered {
			return nil // delivered before a resume that cut its revision short
		}
		if !w.send(ctx, WatchResponse{Events: []WatchEvent{ev}, Revision: rev}) {
			return ctx.Err()
		}
		w.delivered, w.progressed = w.delivered+1, true
		if id != "" { // the last change of its revision
			w.last, w.partialRev, w.delivered, w.seen = rev, 0, 0, 0
		}
	case api.EventProgress:
		var p api.Progress
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return fmt.Errorf("raftkv client: watch on %s: progress %q: %w", endpoint, data, err)
		}
		if p.Revision > w.last {
			w.last, w.partialRev, w.delivered, w.seen = p.Revision, 0, 0, 0
		}
		if !w.send(ctx, WatchResponse{Revision: p.Revision}) {
			return ctx.Err()
		}
		w.progressed = true
	case api.EventCompacted:
		var c api.Compacted
		_ = json.Unmarshal([]byte(data), &c)
		return &Error{Endpoint: endpoint, StatusCode: http.StatusGone, Code: "compacted", Message: c.Error, CompactRevision: c.CompactRevision}
	case api.EventDropped:
		return errResume
	}
	return nil
}

func (w *watch) send(ctx context.Context, r WatchResponse) bool {
	select {
	case w.out <- r:
		return true
	case <-ctx.Done():
		return false
	}
}
