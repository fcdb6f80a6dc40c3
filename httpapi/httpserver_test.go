package httpapi_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/testkit"
)

// countingListener records, for the connections the server accepts, how
// many are open at once (at most) and how long each stayed open.
type countingListener struct {
	net.Listener
	mu        sync.Mutex
	open, max int
	lifetimes []time.Duration
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.max = max(l.max, l.open)
	l.mu.Unlock()
	return &countedConn{Conn: c, l: l, opened: time.Now()}, nil
}

func (l *countingListener) stats() (open, maxOpen int, lifetimes []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.max, append([]time.Duration(nil), l.lifetimes...)
}

type countedConn struct {
	net.Conn
	l      *countingListener
	opened time.Time
	once   sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.lifetimes = append(c.l.lifetimes, time.Since(c.opened))
		c.l.mu.Unlock()
	})
	return err
}

// serve serves the shared node's API with NewServer(cfg) on a listener
// capped at maxConns, as raftkv does, and returns its URL and the counting
// listener under the cap.
func serve(t *testing.T, cfg httpapi.ServerConfig, maxConns int) (string, *countingListener) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Logger = quiet
	cl := &countingListener{Listener: l}
	srv := httpapi.NewServer(httpapi.New(node.Node.System().Root, node.Node.Proposer(), quiet), cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(httpapi.LimitListener(cl, maxConns))
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(10*time.Second))
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return "http://" + l.Addr().String(), cl
}

// TestHungConnectionsAreClosedAndOthersServed floods a server with
// connections that send half a request (half the headers, or the headers
// and half the body) or one request and then idle, and never close: the
// server keeps at most its cap of connections open, closes each hung one
// within its timeout, and serves another client meanwhile. (raftkv's
// server had only a ReadHeaderTimeout and no cap: a half-sent body or an
// idle connection stayed open for good, one file descriptor each.)
func TestHungConnectionsAreClosedAndOthersServed(t *testing.T) {
	cfg := httpapi.ServerConfig{
		ReadHeaderTimeout: testkit.Dilated(200 * time.Millisecond),
		ReadTimeout:       testkit.Dilated(400 * time.Millisecond),
		IdleTimeout:       testkit.Dilated(400 * time.Millisecond),
	}
	const maxConns, flood = 16, 80
	url, cl := serve(t, cfg, maxConns)
	addr := url[len("http://"):]

	halves := []string{
		"PUT /v1/kv/flood HTTP/1.1\r\nHost: x\r\nContent-Le",                               // half the headers
		"PUT /v1/kv/flood HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"value\":\"", // half the body
		"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n",                                       // a request, then idle
	}
	var closedByServer, failed atomic.Int64
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, testkit.Dilated(10*time.Second))
			if err != nil {
				failed.Add(1)
				return
			}
			defer c.Close()
			if _, err := io.WriteString(c, halves[i%len(halves)]); err != nil {
				failed.Add(1)
				return
			}
			// Read whatever the server answers until it closes the
			// connection; the deadline is far past the server's timeouts.
			_ = c.SetReadDeadline(time.Now().Add(testkit.Dilated(30 * time.Second)))
			_, err = io.Copy(io.Discard, bufio.NewReader(c))
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				failed.Add(1) // still open: the server never closed it
				return
			}
			closedByServer.Add(1)
		})
	}
	// Once the flood holds every slot, another client is still served.
	testkit.AwaitCondition(t, "the flood holds the connections", func() bool {
		open, _, _ := cl.stats()
		return open == maxConns
	})
	hc := &http.Client{Timeout: testkit.Dilated(20 * time.Second), Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(url + "/v1/status")
	if err != nil {
		t.Fatalf("a client during the flood: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a client during the flood: %s", resp.Status)
	}

	testkit.AwaitCondition(t, "every hung connection is closed by the server", func() bool {
		return closedByServer.Load()+failed.Load() == flood
	}, 40*time.Second)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d hung connections were not closed by the server", n, flood)
	}
	_, maxOpen, lifetimes := cl.stats()
	if maxOpen > maxConns {
		t.Errorf("%d connections open at once, over the cap of %d", maxOpen, maxConns)
	}
	// Each was closed within its timeout (and some slack to close it).
	bound := max(cfg.ReadTimeout, cfg.IdleTimeout) + testkit.Dilated(time.Second)
	for _, d := range lifetimes {
		if d > bound {
			t.Errorf("a connection stayed open %v, over %v", d, bound)
		}
	}
	if len(lifetimes) < flood+1 {
		t.Errorf("%d connections closed, want %d", len(lifetimes), flood+1)
	}
}

// TestNewServerTimeouts checks NewServer's defaults, and that a header
// timeout over the read timeout stands (they bound different parts of a
// request: its headers, its body).
func TestNewServerTimeouts(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := httpapi.New(node.Node.System().Root, node.Node.Proposer(), quiet)
	got := httpapi.NewServer(api, httpapi.ServerConfig{Logger: quiet}).Config()
	want := httpapi.ServerConfig{ReadHeaderTimeout: httpapi.DefaultReadHeaderTimeout, ReadTimeout: httpapi.DefaultReadTimeout,
		WriteTimeout: httpapi.DefaultWriteTimeout, IdleTimeout: httpapi.DefaultIdleTimeout, MaxHeaderBytes: httpapi.DefaultMaxHeaderBytes, Logger: quiet}
	if got != want {
		t.Errorf("defaults: %+v, want %+v", got, want)
	}
	cfg := httpapi.ServerConfig{ReadHeaderTimeout: time.Minute, ReadTimeout: time.Second, Logger: quiet}
	if got := httpapi.NewServer(api, cfg).Config(); got.ReadHeaderTimeout != time.Minute || got.ReadTimeout != time.Second {
		t.Errorf("ReadHeaderTimeout 1m, ReadTimeout 1s: got %v and %v", got.ReadHeaderTimeout, got.ReadTimeout)
	}
}

// TestLimitListener checks the cap: the n+1th connection is accepted only
// once one of the n closes, and Close ends a waiting Accept.
func TestLimitListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := httpapi.LimitListener(l, 2)
	accepted := make(chan net.Conn, 3)
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := ll.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted while two were open")
	case <-time.After(testkit.Dilated(100 * time.Millisecond)): // what a cap that fails would take to show
	}
	first.Close()
	first.Close() // frees one slot, not two
	third := <-accepted
	defer second.Close()
	defer third.Close()
	if err := ll.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-acceptErr; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// TestStreamOutlivesWriteTimeout keeps a watch stream busy for four times
// the server's write timeout: the stream stays open and carries every
// event, since the write timeout bounds writing one answer, and a stream
// gives each of its writes a deadline of its own.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	writeTimeout := testkit.Dilated(200 * time.Millisecond)
	url, _ := serve(t, httpapi.ServerConfig{WriteTimeout: writeTimeout}, 16)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(20*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/watch/outlive", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	start := time.Now()
	for i := 0; time.Since(start) < 4*writeTimeout; i++ {
		value := fmt.Sprintf("v%d", i)
		putRev(t, "outlive", value)
		for !strings.Contains(lines.Text(), base64.StdEncoding.EncodeToString([]byte(value))) {
			if !lines.Scan() {
				t.Fatalf("the stream ended after %v (%d events; write timeout %v): %v", time.Since(start), i, writeTimeout, lines.Err())
			}
		}
	}
}
