package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// getSnapshot GETs /v1/snapshot<query> from the server at url.
func getSnapshot(t *testing.T, url, query string) (int, http.Header, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(20*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/snapshot"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/snapshot%s: %v", query, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}

// GET /v1/snapshot streams a backup that verifies, that holds every write
// acknowledged before it with its revisions, and whose headers describe
// it.
func TestV1SnapshotStreamsAVerifiableBackup(t *testing.T) {
	clean(t, "snap/")
	putJSON(t, "snap/a", "1")
	putJSON(t, "snap/a", "2")
	putJSON(t, "snap/b", "gone")
	mustDo(t, http.StatusOK, call{method: http.MethodDelete, path: "/v1/kv/snap/b"})
	last := putJSON(t, "snap/c", "3")

	for _, query := range []string{"", "?timeout=10s", "?consistency=serializable"} {
		code, header, body, err := getSnapshot(t, base, query)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /v1/snapshot%s: %d, %v: %.200s", query, code, err, body)
		}
		if ct := header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="raftkv-`) || !strings.HasSuffix(cd, `.snapshot"`) {
			t.Errorf("Content-Disposition %q", cd)
		}
		h, st, err := backup.Read(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("the backup of GET /v1/snapshot%s does not verify: %v", query, err)
		}
		for name, want := range map[string]string{
			httpapi.HeaderRevision:      strconv.FormatInt(h.Revision, 10),
			httpapi.HeaderSnapshotIndex: strconv.FormatUint(h.Index, 10),
			httpapi.HeaderSnapshotKeys:  strconv.FormatUint(h.Keys, 10),
		} {
			if got := header.Get(name); got != want {
				t.Errorf("%s: %q, want %q as the backup's header says", name, got, want)
			}
		}
		var status api.StatusReply
		mustDo(t, http.StatusOK, call{method: http.MethodGet, path: "/v1/status"}).json(t, &status)
		if h.Revision < last.Revision || h.Member != 1 || fmt.Sprintf("%016x", h.ClusterID) != status.ClusterID ||
			time.Since(h.Taken) > time.Minute || h.Index == 0 {
			t.Errorf("backup header %+v: want revision >= %d, member 1 of cluster %s, taken now", h, last.Revision, status.ClusterID)
		}
		// Its keys are those a range read gives, with their revisions.
		var rng api.RangeReply
		mustDo(t, http.StatusOK, call{method: http.MethodGet, path: "/v1/kv?prefix=snap/"}).json(t, &rng)
		res, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte("snap/"), End: []byte("snap0")})
		var got, want []string
		for _, kv := range res.KVs {
			got = append(got, fmt.Sprintf("%s=%s c%d m%d v%d", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version))
		}
		for _, kv := range rng.KVs {
			want = append(want, fmt.Sprintf("%s=%s c%d m%d v%d", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != 2 {
			t.Errorf("the backup holds\n%s\nthe member serves\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// Only GET is served; a query parameter the route does not take is 400.
func TestV1SnapshotRefusals(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		r := do(t, call{method: method, path: "/v1/snapshot"})
		if r.code != http.StatusMethodNotAllowed || r.header.Get("Allow") != http.MethodGet || errorOf(t, r).Code != "method_not_allowed" {
			t.Errorf("%s /v1/snapshot: %d (Allow %q) %s, want 405 allowing GET", method, r.code, r.header.Get("Allow"), r.body)
		}
	}
	for _, query := range []string{"?timeout=soon", "?limit=3", "?consistency=eventual"} {
		r := do(t, call{method: http.MethodGet, path: "/v1/snapshot" + query})
		if r.code != http.StatusBadRequest || errorOf(t, r).Code != "invalid" {
			t.Errorf("GET /v1/snapshot%s: %d %s, want 400 invalid", query, r.code, r.body)
		}
	}
}

// fakeMember serves the API of a member whose proposer is a probe.
func fakeMember(t *testing.T) (*testkit.Probe, string) {
	t.Helper()
	system := testkit.NewSystem(t)
	proposer := testkit.NewProbe(t, system)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(httpapi.New(system.Root, proposer.PID(), quiet))
	t.Cleanup(srv.Close)
	return proposer, srv.URL
}

type snapshotAnswer struct {
	code int
	body []byte
	err  error
}

// getSnapshotAsync GETs /v1/snapshot<query> on its own goroutine.
func getSnapshotAsync(t *testing.T, url, query string) <-chan snapshotAnswer {
	out := make(chan snapshotAnswer, 1)
	go func() {
		req, err := http.NewRequest(http.MethodGet, url+"/v1/snapshot"+query, nil)
		if err != nil {
			out <- snapshotAnswer{err: err}
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- snapshotAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		out <- snapshotAnswer{resp.StatusCode, body, err}
	}()
	return out
}

func await(t *testing.T, c <-chan snapshotAnswer) snapshotAnswer {
	t.Helper()
	select {
	case a := <-c:
		return a
	case <-time.After(testkit.Dilated(20 * time.Second)):
		t.Fatal("no answer to GET /v1/snapshot")
		return snapshotAnswer{}
	}
}

// The route asks the proposer for a linearizable backup (a serializable
// one with ?consistency=serializable) and answers what a read answers
// when the member cannot serve it.
func TestV1SnapshotAsksTheProposer(t *testing.T) {
	for _, c := range []struct {
		name, query string
		reply       any
		code        int
	}{
		{"not ready", "", &messages.ReadReply{Err: messages.ErrNotReady}, http.StatusServiceUnavailable},
		{"no leader", "", &messages.ReadReply{Err: messages.ErrNoLeader}, http.StatusServiceUnavailable},
		{"timed out", "", &messages.ReadReply{Err: messages.ErrTimeout}, http.StatusGatewayTimeout},
		{"stopping", "", &messages.ReadReply{Err: messages.ErrStopped}, http.StatusServiceUnavailable},
		{"no answer", "?timeout=50ms", nil, http.StatusGatewayTimeout},
		{"serializable, not ready", "?consistency=serializable", &messages.ReadReply{Err: messages.ErrNotReady}, http.StatusServiceUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			proposer, url := fakeMember(t)
			answer := getSnapshotAsync(t, url, c.query)
			want := strings.Contains(c.query, "serializable")
			if r := testkit.ExpectMsg[*messages.ClientBackup](proposer); r.Serializable != want {
				t.Errorf("the proposer was asked %+v, want Serializable %v", r, want)
			}
			if c.reply != nil {
				proposer.Reply(c.reply)
			}
			a := await(t, answer)
			if a.err != nil || a.code != c.code {
				t.Errorf("answer %d %s (%v), want %d", a.code, a.body, a.err, c.code)
			}
		})
	}
}

// A stream that breaks off (the view unreadable) breaks the connection: the
// client never sees a clean end of a partial backup.
func TestV1SnapshotBrokenStreamIsNoCleanEnd(t *testing.T) {
	st := store.New()
	for i := range 1000 {
		st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: fmt.Appendf(nil, "k%04d", i), Value: bytes.Repeat([]byte("v"), 100)}}})
	}
	v := st.View()
	full := func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, v) }
	broken := func(w io.Writer) (int64, error) {
		var buf bytes.Buffer
		if _, err := store.WriteSnapshot(&buf, v); err != nil {
			return 0, err
		}
		n, err := w.Write(buf.Bytes()[:buf.Len()/2])
		if err != nil {
			return int64(n), err
		}
		return int64(n), errors.New("view unreadable")
	}
	for _, c := range []struct {
		name  string
		write func(io.Writer) (int64, error)
		clean bool
	}{{"whole", full, true}, {"broken off", broken, false}} {
		t.Run(c.name, func(t *testing.T) {
			proposer, url := fakeMember(t)
			answer := getSnapshotAsync(t, url, "")
			testkit.ExpectMsg[*messages.ClientBackup](proposer)
			proposer.Reply(&messages.BackupReply{Index: 9, Term: 2, Revision: v.Revision(), Keys: v.Len(), ClusterID: 5, Member: 1, WriteStore: c.write})
			a := await(t, answer)
			if a.code != http.StatusOK {
				t.Fatalf("status %d, want 200 (the stream started)", a.code)
			}
			_, _, readErr := backup.Read(bytes.NewReader(a.body))
			if c.clean && (a.err != nil || readErr != nil) {
				t.Errorf("whole stream: body error %v, backup error %v", a.err, readErr)
			}
			if !c.clean && (a.err == nil || !errors.Is(readErr, backup.ErrCorrupt)) {
				t.Errorf("broken stream: body error %v (want one), backup error %v (want ErrCorrupt)", a.err, readErr)
			}
		})
	}
}

// A member that lost its quorum serves no linearizable backup, and a
// serializable one of its own state.
func TestV1SnapshotWithoutQuorum(t *testing.T) {
	n, err := testkit.StartHTTPNode(t.TempDir(), ports)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	code, body := request(n.URL, http.MethodPut, "/v1/kv/kept", nil, []byte(`{"value":"`+b64("yes")+`"}`))
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, body)
	}
	// A second voter that never starts: no quorum from then on.
	if code, body := request(n.URL, http.MethodPost, "/v1/members", nil, []byte(`{"id":2,"address":"http://127.0.0.1:1"}`)); code != http.StatusCreated {
		t.Fatalf("POST /v1/members: %d %s", code, body)
	}
	code, _, body, _ = getSnapshot(t, n.URL, "?timeout=300ms")
	if code != http.StatusGatewayTimeout && code != http.StatusServiceUnavailable {
		t.Errorf("linearizable backup without a quorum: %d %.200s, want 504 or 503", code, body)
	}
	code, _, body, err = getSnapshot(t, n.URL, "?consistency=serializable")
	if err != nil || code != http.StatusOK {
		t.Fatalf("serializable backup without a quorum: %d %v %.200s, want 200", code, err, body)
	}
	_, st, err := backup.Read(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte("kept")}); len(res.KVs) != 1 || string(res.KVs[0].Value) != "yes" {
		t.Errorf("the serializable backup holds %+v, want kept=yes", res.KVs)
	}
}
