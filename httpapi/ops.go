package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/internal/version"
	"github.com/raftkv/raftkv/ui"
)

// The operations routes, outside /v1/: their paths are reserved (the
// raftexample routes do not reach keys of these names; /v1/kv/<name>
// does).

// reservedHint tells a client that sent another method than GET to a
// reserved path where the key of that name is.
func reservedHint(path string) string {
	return fmt.Sprintf("%s is reserved for operations (GET only); the key %q is reached through /v1/kv/%s",
		path, strings.Trim(path, "/"), strings.Trim(path, "/"))
}

// allowRead answers 405 to a request to a reserved path that is not a GET
// or HEAD, and tells whether it may go on.
func allowRead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
		fmt.Sprintf("method %s not allowed: %s", r.Method, reservedHint(r.URL.Path)))
	return false
}

// metricsRoute serves GET /metrics: the node's metrics in Prometheus's
// text format.
func (s *Server) metricsRoute(w http.ResponseWriter, r *http.Request) {
	if !allowRead(w, r) {
		return
	}
	if s.metrics == nil {
		writeError(w, http.StatusNotFound, "not_found", "this member serves no metrics")
		return
	}
	s.metricsHandler.ServeHTTP(w, r)
}

// versionRoute serves GET /version: which build the member runs.
func (s *Server) versionRoute(w http.ResponseWriter, r *http.Request) {
	if !allowRead(w, r) {
		return
	}
	v := version.Get()
	writeJSON(w, http.StatusOK, api.VersionReply{Version: v.Version, Commit: v.Commit, GoVersion: v.GoVersion})
}

// uiRoute serves GET /ui: the status page.
func (s *Server) uiRoute(w http.ResponseWriter, r *http.Request) {
	if !allowRead(w, r) {
		return
	}
	ui.Handler().ServeHTTP(w, r)
}

// pprofRoute serves /debug/pprof/ when the Server was made WithPprof, and
// otherwise says how to turn it on. The path is reserved either way, so
// that which keys the raftexample routes reach does not depend on a flag.
func (s *Server) pprofRoute(w http.ResponseWriter, r *http.Request) {
	if !s.pprof {
		writeError(w, http.StatusNotFound, "not_found",
			"the profiler is off: start the member with --enable-pprof to serve "+api.PathPprof+
				" (keys under debug/pprof are reached through /v1/kv/debug/pprof...)")
		return
	}
	if r.URL.Path+"/" == api.PathPprof {
		http.Redirect(w, r, api.PathPprof, http.StatusMovedPermanently)
		return
	}
	switch strings.TrimPrefix(r.URL.Path, api.PathPprof) {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r) // the index, and the named profiles (heap, goroutine, ...)
	}
}

// prefersHTML tells whether an Accept header asks for HTML first: it
// names text/html (or application/xhtml+xml) with a quality at least that
// of any other type it names, as a browser's does. "*/*" (curl's) does not
// name it, so curl keeps getting the raftexample routes.
func prefersHTML(accept string) bool {
	var html, other float64 = -1, -1
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		if mt == "text/html" || mt == "application/xhtml+xml" {
			html = max(html, q)
		} else {
			other = max(other, q)
		}
	}
	return html > 0 && html >= other
}
