package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// serverErrorStatuses are the only 5xx statuses the API answers: 503 (the
// member cannot serve the request now: retry elsewhere or later) and 504
// (the deadline passed first), and 507 for a write the NOSPACE alarm
// refused.
var serverErrorStatuses = map[int]bool{http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true, http.StatusInsufficientStorage: true}

func checkStatus(t *testing.T, what string, status int) {
	t.Helper()
	if status >= 500 && !serverErrorStatuses[status] {
		t.Errorf("%s: status %d; a 5xx must be 503 or 504 (507 for a full disk)", what, status)
	}
}

// TestClassifyAnswersOnly503Or504 maps every error the node can answer,
// and errors it does not know, to a status: none may be a 5xx other than
// 503 or 504 (before, an unknown error was a 500).
func TestClassifyAnswersOnly503Or504(t *testing.T) {
	errs := []error{
		messages.ErrNotReady, messages.ErrNoLeader, messages.ErrTimeout, messages.ErrMemberExists,
		messages.ErrMemberNotFound, messages.ErrStopped, messages.ErrAddressInUse, messages.ErrMemberRemoved,
		messages.ErrUnsafeChange, messages.ErrLearnerNotReady, messages.ErrNotLearner, messages.ErrInvalidMember,
		messages.ErrConfChangePending, messages.ErrNoSpace, store.ErrInvalid, errDeadline, context.Canceled, context.DeadlineExceeded,
		errors.New("boom"), fmt.Errorf("unexpected answer %T", 3), messages.ErrorFromCode("some_new_code", "what"),
	}
	for _, deadline := range []int{http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		for _, err := range errs {
			status, code := classify(err, deadline)
			checkStatus(t, fmt.Sprintf("%v (%s)", err, code), status)
		}
	}
	for code, status := range statusOfCode {
		checkStatus(t, code, status)
	}
	if status, code := classify(errors.New("boom"), http.StatusGatewayTimeout); status != http.StatusServiceUnavailable || code != "internal" {
		t.Errorf("unknown error: %d %s, want 503 internal", status, code)
	}
	if status, code := classify(fmt.Errorf("put: %w", messages.ErrNoSpace), http.StatusGatewayTimeout); status != http.StatusInsufficientStorage || code != "no_space" {
		t.Errorf("NOSPACE alarm: %d %s, want 507 no_space", status, code)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestPanicAnswers503 checks that a handler that panics before answering
// answers 503 internal (net/http alone would drop the connection), and that
// one that panics after answering keeps its answer.
func TestPanicAnswers503(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/late" {
			w.WriteHeader(http.StatusOK)
		}
		panic("bug")
	})
	for path, want := range map[string]int{"/early": http.StatusServiceUnavailable, "/late": http.StatusOK} {
		rec := httptest.NewRecorder()
		aw := &answerWriter{ResponseWriter: rec}
		recoverPanics(quiet, h, aw, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want || aw.code() != want {
			t.Errorf("%s: %d %s (counted as %d), want %d", path, rec.Code, rec.Body, aw.code(), want)
		}
	}
	// http.ErrAbortHandler still aborts.
	abort := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	recoverPanics(quiet, abort, &answerWriter{ResponseWriter: httptest.NewRecorder()}, httptest.NewRequest(http.MethodGet, "/", nil))
}
