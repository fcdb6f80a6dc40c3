package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Connection limits and timeouts of the HTTP server that NewServer builds
// and LimitListener caps. Without them a client holding connections open
// (half-sent requests, idle keep-alives) makes the member hold a file
// descriptor each, until it cannot open its WAL or snapshot files.
const (
	// DefaultReadHeaderTimeout bounds reading a request's line and
	// headers, from the connection's opening or, on a kept-alive one,
	// from the request's first byte.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a request's body once its headers
	// are in: a value of 1 MiB (1.4 MiB as JSON) arrives in it at 48
	// KiB/s, a 4 MiB txn body at 140 KiB/s. The time a request then waits
	// for the cluster is not part of it.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds writing an answer once the request has
	// been served (a 4 MiB page at 140 KiB/s); the wait for the cluster
	// (?timeout=, at most MaxTimeout) comes before it. A stream (a watch,
	// a snapshot) instead has a deadline per write.
	DefaultWriteTimeout = 30 * time.Second
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
	// ReadHeaderTimeout bounds reading a request's line and headers
	// (DefaultReadHeaderTimeout), ReadTimeout reading its body once the
	// headers are in (DefaultReadTimeout).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout bounds writing an answer once the request has been
	// served (DefaultWriteTimeout).
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
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
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

// HTTPServer serves a Server's API over HTTP/1.1 with fasthttp's server,
// on each connection's goroutine: PUT and GET /<key> natively (no
// net/http request, context or header map), the streams (watches,
// snapshots) through fasthttp's net/http adaptor, which runs the handler
// on a goroutine of its own and streams what it writes, and every other
// route through the Server's net/http handler with its answer buffered.
type HTTPServer struct {
	api *Server
	cfg ServerConfig
	srv *fasthttp.Server

	mu       sync.Mutex
	listener net.Listener // what Serve serves, closed by Shutdown
	shut     bool         // Shutdown was called
}

// NewServer returns the HTTP server of api with the timeouts and limits
// of cfg: what raftkv serves its API with. Serve it on a listener capped
// by LimitListener:
//
//	srv := httpapi.NewServer(httpapi.New(root, proposer, logger), httpapi.ServerConfig{Logger: logger})
//	err := srv.Serve(httpapi.LimitListener(lis, httpapi.DefaultMaxConnections))
//
// A connection that sends a request slower than the read timeouts allow,
// or stays idle longer than the idle timeout, is closed, and so is one
// whose answer is not taken in time. A request's wait for the cluster
// (?timeout=, at most MaxTimeout) is bounded by its own deadline, not by
// the connection's, and runs to it even if the client leaves meanwhile.
func NewServer(api *Server, cfg ServerConfig) *HTTPServer {
	cfg = cfg.withDefaults()
	h := &HTTPServer{api: api, cfg: cfg}
	streamed := fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// fasthttp ends every request's context when the server shuts
		// down, while a request in flight is to be drained, not cut off.
		api.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	}))
	bodyTimeout := fasthttp.RequestConfig{ReadTimeout: cfg.ReadTimeout}
	h.srv = &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if api.serveKeyNatively(ctx) {
				return
			}
			// The route is chosen on the URL that net/http would see; a
			// stream's request is converted again by the adaptor (the
			// streams are few, long requests).
			var r http.Request
			if err := fasthttpadaptor.ConvertRequest(ctx, &r, true); err != nil {
				writeError(&ctxWriter{ctx: ctx}, http.StatusBadRequest, "invalid", fmt.Sprintf("malformed request target: %v", err))
				return
			}
			if isStream(r.URL.Path) {
				streamed(ctx)
				return
			}
			api.serveBuffered(ctx, &r)
		},
		ErrorHandler: h.answerRefused,
		HeaderReceived: func(hdr *fasthttp.RequestHeader) fasthttp.RequestConfig {
			if n := hdr.ContentLength(); n == 0 || n == -2 {
				// No body to read (-2: neither a length nor chunks, which
				// a request's body must have): the header's deadline
				// stays, and the connection's deadline is not set again.
				return fasthttp.RequestConfig{}
			}
			return bodyTimeout
		},
		ReadTimeout:    cfg.ReadHeaderTimeout, // to the end of the headers; HeaderReceived gives a body its own
		WriteTimeout:   cfg.WriteTimeout,
		IdleTimeout:    cfg.IdleTimeout,
		ReadBufferSize: cfg.MaxHeaderBytes, // which bounds the request line and headers
		// The largest body a route takes; each route answers a body over
		// its own limit with that limit.
		MaxRequestBodySize:           MaxTxnBodySize,
		CloseOnShutdown:              true,
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		SecureErrorLogMessage:        true, // no request bytes in errors and logs
		Logger:                       serverLogger{cfg.Logger},
	}
	return h
}

// Config is the configuration the server runs with, defaults filled in.
func (h *HTTPServer) Config() ServerConfig { return h.cfg }

// Serve serves the connections that l accepts until Shutdown, and then
// returns nil; after Shutdown it closes l and returns nil at once.
func (h *HTTPServer) Serve(l net.Listener) error {
	h.mu.Lock()
	if h.shut {
		h.mu.Unlock()
		_ = l.Close()
		return nil
	}
	h.listener = l
	h.mu.Unlock()
	if err := h.srv.Serve(lazyDeadlines{l}); err != nil {
		return fmt.Errorf("serve HTTP: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections, ends the watch streams
// (Server.EndStreams), closes the idle connections and waits until the
// requests in flight are answered, or until ctx ends (its error then).
func (h *HTTPServer) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.shut = true
	l := h.listener
	h.mu.Unlock()
	h.api.EndStreams()
	err := h.srv.ShutdownWithContext(ctx)
	if l != nil {
		// fasthttp's Shutdown misses a Serve that had not registered its
		// listener yet; closing it ends that Serve as well.
		_ = l.Close()
	}
	return err
}

// answerRefused answers, as the API's JSON error, a request that the
// server refused before any route saw it: its line and headers over
// MaxHeaderBytes (431), a body over the largest any route takes (413),
// one that did not arrive within the read timeouts (408), or one that is
// not HTTP/1.x (400). The server closes the connection after it.
func (h *HTTPServer) answerRefused(ctx *fasthttp.RequestCtx, err error) {
	w := &ctxWriter{ctx: ctx}
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.As(err, &small):
		writeError(w, http.StatusRequestHeaderFieldsTooLarge, "too_large",
			fmt.Sprintf("request line and headers are over the limit of %d bytes", h.cfg.MaxHeaderBytes))
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		bodyTooLarge(w, MaxTxnBodySize)
	case errors.As(err, &netErr) && netErr.Timeout():
		writeError(w, http.StatusRequestTimeout, "request_timeout", "the request did not arrive within the server's read timeouts")
	default:
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("malformed HTTP request: %v", err))
	}
}

// serverLogger passes fasthttp's own log lines to a slog.Logger, as
// warnings.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Printf(format string, args ...any) {
	l.log.Warn("http server", "err", fmt.Sprintf(format, args...))
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
