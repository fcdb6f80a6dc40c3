package ui_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/ui"
)

// TestHandler checks the headers and body of the status page on GET and
// HEAD.
func TestHandler(t *testing.T) {
	tests := []struct {
		method string
		body   bool
	}{
		{http.MethodGet, true},
		{http.MethodHead, false},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		ui.Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, "/ui", nil))
		h := rec.Header()
		if rec.Code != http.StatusOK || h.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: %d %q, want 200 text/html", tt.method, rec.Code, h.Get("Content-Type"))
		}
		if csp := h.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none';") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q, want default-src 'none' and connect-src 'self'", tt.method, csp)
		}
		if got := rec.Body.Len() > 0; got != tt.body {
			t.Errorf("%s: body of %d bytes, want a body: %v", tt.method, rec.Body.Len(), tt.body)
		}
	}
}

// TestPageHasNoExternalAssets checks that the page refers to nothing
// outside itself but its own member's API, by relative URLs.
func TestPageHasNoExternalAssets(t *testing.T) {
	rec := httptest.NewRecorder()
	ui.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui", nil))
	page := rec.Body.String()
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]+src=`),
		regexp.MustCompile(`(?i)<link[^>]+rel="?stylesheet`),
		regexp.MustCompile(`(?i)(src|href)="(https?:)?//`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)fetch\("/`), // relative, so that the page works under a proxy's path
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("the page has %q", m)
		}
	}
	for _, want := range []string{`getJSON("v1/status")`, `fetch("readyz?verbose"`, `getJSON("version")`, `setTimeout(loop, 1000)`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
