package httpapi

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Connection limits and timeouts of the HTTP server that NewServer builds
// and LimitListener caps. Without them a client holding connections open
// (half-sent requests, idle keep-alives) makes the member hold a file
// descriptor each, until it cannot open its WAL or snapshot files.
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, headers and
	// body: a value of 1 MiB (1.4 MiB as JSON) arrives in it at 48 KiB/s,
	// a 4 MiB txn body at 140 KiB/s. The time a request then waits for
	// the cluster is not part of it.
	DefaultReadTimeout = 30 * time.Second
	// writeMargin is the time to write an answer once the request has
	// waited as long as it may.
	writeMargin = 30 * time.Second
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of its answer: reading its body (DefaultReadTimeout),
	// waiting for the cluster (up to MaxTimeout, the longest ?timeout=)
	// and writing the answer (30 s: a 4 MiB page at 190 KiB/s). With a
	// ReadTimeout of its own, a ServerConfig's default WriteTimeout is
	// that ReadTimeout + MaxTimeout + 30 s.
	DefaultWriteTimeout = DefaultReadTimeout + MaxTimeout + writeMargin
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request. (The Go client of package client closes its idle
	// connections sooner, so that it never sends on one the server is
	// closing.)
	DefaultIdleTimeout = time.Minute
	// DefaultMaxHeaderBytes bounds a request's line and headers: room for
	// the longest key and range bounds, percent-encoded.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMaxConnections is the default cap of LimitListener: the most
	// HTTP connections a member keeps open at once (raftkv's
	// --max-connections).
	DefaultMaxConnections = 1024
)

// ServerConfig holds the timeouts and limits of the HTTP server that
// NewServer builds; a zero field takes its default.
type ServerConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers
	// (DefaultReadHeaderTimeout), ReadTimeout reading its headers and body
	// (DefaultReadTimeout).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer; by default ReadTimeout + MaxTimeout + 30 s, so that
	// a request that waits as long as it may still gets its answer.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection (DefaultIdleTimeout).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and headers
	// (DefaultMaxHeaderBytes).
	MaxHeaderBytes int
	// Logger receives the server's own errors (a failed accept, a
	// malformed request it answered itself), as warnings; nil:
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults fills in the zero fields.
func (c ServerConfig) withDefaults() ServerConfig {
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	c.ReadHeaderTimeout = min(c.ReadHeaderTimeout, c.ReadTimeout)
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = c.ReadTimeout + MaxTimeout + writeMargin
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// NewServer returns the HTTP server of handler (the Server of New) with
// the timeouts of cfg: what raftkv serves its API with. Serve it on a
// listener capped by LimitListener:
//
//	srv := httpapi.NewServer(httpapi.New(root, proposer, logger), httpapi.ServerConfig{Logger: logger})
//	err := srv.Serve(httpapi.LimitListener(lis, httpapi.DefaultMaxConnections))
//
// A connection that sends a request slower than the read timeouts allow,
// or stays idle longer than the idle timeout, is closed, and so is one
// whose answer is not taken in time; a request's wait for the cluster
// (?timeout=, at most MaxTimeout) fits in the write timeout.
func NewServer(handler http.Handler, cfg ServerConfig) *http.Server {
	cfg = cfg.withDefaults()
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
}

// LimitListener returns a listener that keeps at most n of the connections
// that l accepts open at once (DefaultMaxConnections if n <= 0): once n are
// open, Accept waits until one closes, and further clients wait in the
// kernel's queue of the listening socket rather than take a file
// descriptor each. Closing the listener ends a waiting Accept.
func LimitListener(l net.Listener, n int) net.Listener {
	if n <= 0 {
		n = DefaultMaxConnections
	}
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{} // one token per open connection
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

// Accept waits for a free slot, then accepts a connection that frees its
// slot when it is closed.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close closes the listener and ends the Accept that waits for a slot.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot (once).
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
