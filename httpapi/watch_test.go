package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/testkit"
)

// sseEvent is one Server-Sent Event as a client parses it.
type sseEvent struct {
	id, typ, data string
}

// stream is an open watch.
type stream struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

// watch opens GET path and parses its events as they come.
func watch(t *testing.T, path string, header map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &stream{resp: resp, events: make(chan sseEvent, 100), cancel: cancel}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		return s
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q, want text/event-stream", ct)
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20) // an event's line carries a whole value
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.typ != "" {
					s.events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// next returns the next event that is not a progress notice.
func (s *stream) next(t *testing.T) sseEvent {
	t.Helper()
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if e.typ != api.EventProgress {
				return e
			}
		case <-time.After(testkit.Dilated(10 * time.Second)):
			t.Fatal("no event within 10 s")
		}
	}
}

func (s *stream) change(t *testing.T) api.WatchEvent {
	t.Helper()
	e := s.next(t)
	var ev api.WatchEvent
	if err := json.Unmarshal([]byte(e.data), &ev); err != nil {
		t.Fatalf("event %+v: %v", e, err)
	}
	if ev.Type != e.typ {
		t.Errorf("event %q carries type %q", e.typ, ev.Type)
	}
	return ev
}

func putRev(t *testing.T, key, value string) int64 {
	t.Helper()
	code, body := request(base, http.MethodPut, "/v1/kv/"+key, nil, []byte(fmt.Sprintf(`{"value":%q}`, b64(value))))
	if code != http.StatusOK {
		t.Fatalf("put %s: %d %s", key, code, body)
	}
	var r api.PutReply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r.Revision
}

// Reads at past revisions, and what a compaction leaves of them.
func TestRevisionReadsAndCompaction(t *testing.T) {
	r1 := putRev(t, "revs/a", "1")
	r2 := putRev(t, "revs/a", "2")
	putRev(t, "revs/b", "1")
	get := func(path string) (int, map[string]any) {
		code, body := request(base, http.MethodGet, path, nil, nil)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return code, m
	}
	if code, m := get(fmt.Sprintf("/v1/kv/revs/a?revision=%d", r1)); code != 200 || m["kv"].(map[string]any)["value"] != b64("1") {
		t.Errorf("revs/a at %d: %d %v, want the first value", r1, code, m)
	}
	if code, m := get(fmt.Sprintf("/v1/kv?prefix=revs/&revision=%d", r2)); code != 200 || len(m["kvs"].([]any)) != 1 {
		t.Errorf("revs/ at %d: %d %v, want revs/a alone", r2, code, m)
	}
	for _, c := range []struct {
		path string
		code int
		err  string
	}{
		{"/v1/kv/revs/a?revision=abc", 400, "invalid"},
		{"/v1/kv/revs/a?revision=0", 400, "invalid"},
		{"/v1/kv/revs/a?revision=99999999", 400, "future_revision"},
	} {
		if code, m := get(c.path); code != c.code || m["code"] != c.err {
			t.Errorf("GET %s: %d %v, want %d %s", c.path, code, m, c.code, c.err)
		}
	}
	compact := func(rev int64) (int, map[string]any) {
		code, body := request(base, http.MethodPost, "/v1/compact", nil, []byte(fmt.Sprintf(`{"revision":%d}`, rev)))
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return code, m
	}
	if code, m := compact(r2); code != 200 || m["compact_revision"] != float64(r2) {
		t.Fatalf("compact to %d: %d %v", r2, code, m)
	}
	if code, m := get(fmt.Sprintf("/v1/kv/revs/a?revision=%d", r1)); code != http.StatusGone || m["code"] != "compacted" || m["compact_revision"] != float64(r2) {
		t.Errorf("revs/a at %d after compacting to %d: %d %v, want 410 compacted at %d", r1, r2, code, m, r2)
	}
	if code, _ := get(fmt.Sprintf("/v1/kv/revs/a?revision=%d", r2)); code != 200 {
		t.Errorf("revs/a at the compaction revision: %d, want 200", code)
	}
	if code, m := compact(r1); code != http.StatusGone {
		t.Errorf("compact to %d again: %d %v, want 410", r1, code, m)
	}
	for _, body := range []string{`{"revision":99999999}`, `{"revision":0}`, `{"revision":"x"}`, `{}`} {
		if code, b := request(base, http.MethodPost, "/v1/compact", nil, []byte(body)); code != 400 {
			t.Errorf("compact %s: %d %s, want 400", body, code, b)
		}
	}
}

// A watch streams every change of its key after the newest write before
// it, with ids that resume it; a resumed watch replays from there.
func TestWatch(t *testing.T) {
	before := putRev(t, "w/a", "0")
	s := watch(t, "/v1/watch/w/a?prev_kv", nil)
	if s.resp.StatusCode != 200 {
		t.Fatalf("watch: %d", s.resp.StatusCode)
	}
	r1 := putRev(t, "w/a", "1")
	putRev(t, "w/b", "x") // another key
	code, body := request(base, http.MethodDelete, "/v1/kv/w/a", nil, nil)
	if code != 200 {
		t.Fatalf("delete: %d %s", code, body)
	}
	ev := s.change(t)
	if ev.Type != "put" || ev.Revision != r1 || ev.KV.Key != "w/a" || string(ev.KV.Value) != "1" || ev.PrevKV == nil || string(ev.PrevKV.Value) != "0" {
		t.Errorf("first event %+v, want the put of 1 at %d over 0", ev, r1)
	}
	del := s.change(t)
	if del.Type != "delete" || del.Revision <= r1+1 || del.KV.Key != "w/a" || del.PrevKV == nil || string(del.PrevKV.Value) != "1" {
		t.Errorf("second event %+v, want the delete of w/a", del)
	}

	// Resumed after the first event: the delete again, nothing before.
	resumed := watch(t, "/v1/watch/w/a", map[string]string{"Last-Event-ID": fmt.Sprint(r1)})
	if ev := resumed.change(t); ev.Type != "delete" || ev.Revision != del.Revision || ev.PrevKV != nil {
		t.Errorf("resumed watch got %+v, want the delete without prev_kv", ev)
	}
	// From a start revision, over a prefix: everything since.
	prefix := watch(t, fmt.Sprintf("/v1/watch/w/?prefix&start_revision=%d", before), nil)
	var got []string
	for range 4 {
		ev := prefix.change(t)
		got = append(got, fmt.Sprintf("%s %s@%d", ev.Type, ev.KV.Key, ev.Revision))
	}
	want := []string{fmt.Sprintf("put w/a@%d", before), fmt.Sprintf("put w/a@%d", r1), fmt.Sprintf("put w/b@%d", r1+1), fmt.Sprintf("delete w/a@%d", del.Revision)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("prefix watch from %d got %v, want %v", before, got, want)
	}
}

// A watch from before the history gets one compacted event, then the
// stream ends; bad watches are refused before the stream starts.
func TestWatchCompactedAndBadInput(t *testing.T) {
	rev := putRev(t, "wc/a", "1")
	putRev(t, "wc/a", "2")
	if code, body := request(base, http.MethodPost, "/v1/compact", nil, []byte(fmt.Sprintf(`{"revision":%d}`, rev+1))); code != 200 {
		t.Fatalf("compact: %d %s", code, body)
	}
	s := watch(t, fmt.Sprintf("/v1/watch/wc/a?start_revision=%d", rev), nil)
	e := s.next(t)
	var c api.Compacted
	if err := json.Unmarshal([]byte(e.data), &c); err != nil || e.typ != api.EventCompacted || c.CompactRevision != rev+1 {
		t.Errorf("event %+v, want compacted at %d", e, rev+1)
	}
	if _, open := <-s.events; open {
		t.Error("the stream goes on after compacted")
	}
	for _, c := range []struct{ path, code string }{
		{"/v1/watch/", "invalid"},
		{"/v1/watch/b?end=a", "invalid"},
		{"/v1/watch/a?prefix&end=b", "invalid"},
		{"/v1/watch/a?start_revision=0", "invalid"},
		{"/v1/watch/a?start_revision=x", "invalid"},
		{"/v1/watch/a?start_revision=99999999", "future_revision"},
		{"/v1/watch/a?bogus", "invalid"},
	} {
		code, body := request(base, http.MethodGet, c.path, nil, nil)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if code != 400 || m["code"] != c.code {
			t.Errorf("GET %s: %d %s, want 400 %s", c.path, code, body, c.code)
		}
	}
	if code, _ := request(base, http.MethodPost, "/v1/watch/a", nil, nil); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /v1/watch/a: %d, want 405", code)
	}
}

// A client that stops reading is dropped, with an event that says so,
// rather than buffered without bound.
func TestSlowWatcherIsDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20 MiB")
	}
	resp, err := http.Get(base + "/v1/watch/slow/?prefix")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Nothing is read while the writes go on: the connection's buffers
	// fill (a few MiB), then the member's queue for the watch (256).
	value := fmt.Sprintf(`{"value":%q}`, b64(strings.Repeat("x", 32<<10)))
	for i := range 640 {
		if code, body := request(base, http.MethodPut, fmt.Sprintf("/v1/kv/slow/%d", i%10), nil, []byte(value)); code != 200 {
			t.Fatalf("put: %d %s", code, body)
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	events := 0
	for sc.Scan() {
		switch line := sc.Text(); {
		case line == "event: "+api.EventDropped:
			if sc.Scan(); !strings.Contains(sc.Text(), "behind") {
				t.Errorf("the dropped event says %q", sc.Text())
			}
			sc.Scan() // the blank line that ends the event
			if sc.Scan() {
				t.Errorf("the stream goes on after dropped: %q", sc.Text())
			}
			t.Logf("dropped after %d events", events)
			return
		case strings.HasPrefix(line, "event: "):
			events++
		}
	}
	t.Fatalf("the stream ended after %d events without a dropped event (%v)", events, sc.Err())
}

// EndStreams, which a stopping member's HTTP server calls, ends the watch
// streams with a dropped event saying the member is stopping, and refuses
// none of the other requests.
func TestEndStreams(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := httpapi.New(node.Node.System().Root, node.Node.Proposer(), quiet)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/watch/ends")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h.EndStreams()
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	got := strings.Join(lines, "\n")
	if !strings.Contains(got, "event: dropped") || !strings.Contains(got, `"code":"stopping"`) {
		t.Errorf("the stream after EndStreams: %q, want a dropped event saying stopping", got)
	}
}
