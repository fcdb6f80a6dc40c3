// Package ui is raftkv's status page: one HTML file, embedded in the
// binary, with its CSS and JavaScript inline and no external assets (no
// build step, nothing fetched from elsewhere), that a member serves on /ui
// (and on / to a browser). The page polls the member's own API every
// second — v1/status and readyz?verbose, by relative URLs, so it works
// behind a proxy that serves the member under a path — and shows this
// member's view of the cluster: the members with their roles, addresses,
// the leader's view of their progress and link errors; the leader, term,
// commit and applied indexes, revision and cluster id; the throughput
// (writes and log entries per second, from the deltas of the revision and
// the commit index between polls); raised alarms; and, when the member is
// not ready, its readiness checks.
//
// The page builds its DOM with textContent only, never from HTML in the
// data, and is served with a Content-Security-Policy that allows nothing
// but itself and its own origin's API.
package ui

import (
	_ "embed"
	"net/http"
)

//go:embed status.html
var page []byte

// contentSecurityPolicy lets the page run its inline script and style and
// fetch from its own origin, and nothing else: no external assets.
const contentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the status page on GET and HEAD.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(page)
		}
	})
}
