package client_test

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/testkit"
)

// next takes the next response that carries events.
func next(t *testing.T, ch <-chan client.WatchResponse) client.WatchResponse {
	t.Helper()
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				t.Fatal("the watch ended")
			}
			if len(r.Events) > 0 || r.Err != nil {
				return r
			}
		case <-time.After(testkit.Dilated(10 * time.Second)):
			t.Fatal("the watch delivered nothing within 10 s")
		}
	}
}

// A watch delivers the changes after the newest write before it; one from
// a revision replays from there; reads at past revisions see the past.
func TestWatchAndRevisions(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	first, err := c.Put(ctx, "cw/a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	watch := c.Watch(ctx, "cw/", client.WithPrefix(), client.WithPrevKV())
	if _, err := c.Put(ctx, "cw/a", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if r := next(t, watch); r.Events[0].Type != "put" || string(r.Events[0].KV.Value) != "2" || string(r.Events[0].PrevKV.Value) != "1" {
		t.Errorf("watch got %+v, want the put of 2 over 1", r.Events[0])
	}
	replay := c.Watch(ctx, "cw/a", client.WithRevision(first.Revision))
	for _, want := range []string{"1", "2"} {
		if r := next(t, replay); string(r.Events[0].KV.Value) != want {
			t.Errorf("replay got %+v, want %s", r.Events[0], want)
		}
	}
	got, err := c.Get(ctx, "cw/a", client.WithRevision(first.Revision))
	if err != nil || string(got.KV.Value) != "1" {
		t.Errorf("cw/a at %d: %+v, %v, want 1", first.Revision, got, err)
	}
}

// Compaction: older reads and watches fail with ErrCompacted, naming the
// oldest revision kept.
func TestCompactedWatch(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	first, err := c.Put(ctx, "cc/a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Put(ctx, "cc/a", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, second.Revision); err != nil {
		t.Fatal(err)
	}
	var apiErr *client.Error
	if _, err := c.Get(ctx, "cc/a", client.WithRevision(first.Revision)); !errors.Is(err, client.ErrCompacted) || !errors.As(err, &apiErr) || apiErr.CompactRevision != second.Revision {
		t.Errorf("a read before the compaction: %v, want ErrCompacted at %d", err, second.Revision)
	}
	r := next(t, c.Watch(ctx, "cc/a", client.WithRevision(first.Revision)))
	if !errors.Is(r.Err, client.ErrCompacted) || r.CompactRevision != second.Revision {
		t.Errorf("a watch from before the compaction: %+v, want ErrCompacted at %d", r, second.Revision)
	}
}

// A watch whose connection is cut resumes from another endpoint (here two
// proxies of one member, both cut again and again), right after the last
// change it delivered: every change once, in order.
func TestWatchResumes(t *testing.T) {
	ctx := testCtx(t)
	a, b := newCuttingProxy(t, endpoint), newCuttingProxy(t, endpoint)
	c := newClient(t, a.url, b.url)
	w := newClient(t, endpoint)
	start, err := w.Put(ctx, "cr/0", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	watch := c.Watch(ctx, "cr/", client.WithPrefix(), client.WithRevision(start.Revision))
	var got []int64
	for i := range 20 {
		if i%3 == 2 {
			a.cut()
			b.cut()
		}
		if i > 0 {
			if _, err := w.Put(ctx, fmt.Sprintf("cr/%d", i), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, next(t, watch).Revision)
	}
	for i, rev := range got {
		if rev != start.Revision+int64(i) {
			t.Fatalf("revisions delivered %v, want %d on, once each", got, start.Revision)
		}
	}
}

// cuttingProxy forwards connections to a member and cuts them all on cut.
type cuttingProxy struct {
	url   string
	mu    sync.Mutex
	conns []net.Conn
}

func newCuttingProxy(t *testing.T, target string) *cuttingProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttingProxy{url: "http://" + l.Addr().String()}
	host := target[len("http://"):]
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); p.cut(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", host)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); pipe(out, in) }()
			go func() { defer wg.Done(); pipe(in, out) }()
		}
	}()
	return p
}

func pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *cuttingProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
