package httpapi

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/raftkv/raftkv/store"
)

// serveKeyNatively serves PUT and GET /<key> on fasthttp's request
// context, without the net/http adaptor's goroutine, context, header
// maps and request copy, and reports whether it did. It takes only the
// requests that the ServeMux would route to the raftexample routes as
// they are: an origin-form path without percent-escapes, dot segments,
// empty segments or bytes that net/http refuses, outside /v1/ and the
// reserved paths. The rest go to ServeHTTP (see HTTPServer).
//
// The request's wait for the cluster is not cut short when its client
// leaves (fasthttp does not watch the connection meanwhile): it ends at
// its deadline at the latest.
func (s *Server) serveKeyNatively(ctx *fasthttp.RequestCtx) bool {
	if !ctx.IsGet() && !ctx.IsPut() {
		return false
	}
	key, ok := s.plainKey(ctx.RequestURI())
	if !ok {
		return false
	}
	start := time.Now()
	w := &ctxWriter{ctx: ctx}
	defer func() {
		if v := recover(); v != nil {
			logPanic(s.log, string(ctx.Method()), "/"+key, v)
			ctx.Response.Reset()
			answerPanic(&ctxWriter{ctx: ctx})
		}
		s.metrics.ObserveHTTP("/{key}", ctx.Response.StatusCode(), time.Since(start))
	}()
	if !s.checkKey(w, key) {
		return true
	}
	if ctx.IsGet() {
		if value, ok := s.value(context.Background(), w, key); ok {
			ctx.Response.Header.SetContentTypeBytes(octetStreamBytes)
			ctx.Response.SetBody(value)
		}
		return true
	}
	body := ctx.PostBody()
	if len(body) > store.MaxValueSize {
		bodyTooLarge(w, store.MaxValueSize)
		return true
	}
	// A copy: fasthttp reuses the body's buffer once the handler returns,
	// and a proposal that timed out may still be on its way to the log.
	s.put(context.Background(), w, key, append(make([]byte, 0, len(body)), body...))
	return true
}

// octetStreamBytes is the Content-Type of a raw value.
var octetStreamBytes = []byte("application/octet-stream")

// plainKey returns the key that a request-target of /<key> names, if it
// is one that serveKeyNatively takes (see there).
func (s *Server) plainKey(target []byte) (string, bool) {
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	if len(target) < 2 || target[0] != '/' {
		return "", false // the empty key (or a browser's status page), or not origin-form
	}
	for _, c := range target {
		if c <= ' ' || c == 0x7f || c == '%' || c == '#' {
			return "", false
		}
	}
	path := string(target)
	if strings.Contains(path, "//") || strings.Contains(path, "/./") || strings.Contains(path, "/../") ||
		strings.HasSuffix(path, "/.") || strings.HasSuffix(path, "/..") {
		return "", false // the ServeMux redirects these to their clean path
	}
	if path == "/v1" || strings.HasPrefix(path, V1Prefix) {
		return "", false
	}
	for _, p := range s.reserved {
		if path == p || strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) {
			return "", false
		}
	}
	return path[1:], true
}

// isStream tells whether the route of path streams its answer (a watch, a
// snapshot) rather than write it at once.
func isStream(path string) bool { return isWatchPath(path) || path == snapshotPath }

// serveBuffered serves r, the net/http request of ctx, with the Server's
// handler (ServeHTTP) on the connection's goroutine, its answer buffered
// in ctx's response: for the routes that do not stream (isStream). r's
// context never ends: the request waits for the cluster up to its
// deadline. A handler that aborts (http.ErrAbortHandler) has the
// connection closed with no answer, as net/http does.
func (s *Server) serveBuffered(ctx *fasthttp.RequestCtx, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				logPanic(s.log, r.Method, r.URL.Path, v)
			}
			ctx.Response.Reset()
			ctx.HijackSetNoResponse(true)
			ctx.Hijack(func(c net.Conn) { _ = c.Close() })
		}
	}()
	w := &ctxWriter{ctx: ctx}
	s.ServeHTTP(w, r)
	w.WriteHeader(http.StatusOK) // if the handler wrote nothing
}

// ctxWriter is an http.ResponseWriter on a fasthttp request's response,
// so that the native routes answer with the helpers of the others, and
// the others buffer their answers in it (serveBuffered). Like net/http's,
// it takes the headers set before WriteHeader, and sniffs the
// Content-Type of a body written without one.
type ctxWriter struct {
	ctx    *fasthttp.RequestCtx
	header http.Header // allocated by the first Header call
	wrote  bool
}

func (w *ctxWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *ctxWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	for name, values := range w.header {
		for _, v := range values {
			w.ctx.Response.Header.Add(name, v)
		}
	}
	w.ctx.SetStatusCode(status)
}

func (w *ctxWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if len(b) > 0 && len(w.ctx.Response.Header.ContentType()) == 0 && len(w.ctx.Response.Body()) == 0 {
		w.ctx.Response.Header.SetContentType(http.DetectContentType(b))
	}
	return w.ctx.Write(b)
}
