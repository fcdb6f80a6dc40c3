package messages_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// coded are the sentinels that travel between members by their code, with
// the code the HTTP API gives them.
var coded = []struct {
	code string
	err  error
}{
	{"not_ready", messages.ErrNotReady},
	{"no_leader", messages.ErrNoLeader},
	{"member_exists", messages.ErrMemberExists},
	{"member_not_found", messages.ErrMemberNotFound},
	{"address_in_use", messages.ErrAddressInUse},
	{"member_removed", messages.ErrMemberRemoved},
	{"unsafe_change", messages.ErrUnsafeChange},
	{"learner_not_ready", messages.ErrLearnerNotReady},
	{"not_learner", messages.ErrNotLearner},
	{"invalid_member", messages.ErrInvalidMember},
	{"stopping", messages.ErrStopped},
}

// Every sentinel has its code, also wrapped, and the error ErrorFromCode
// rebuilds from that code and the message is that sentinel (errors.Is)
// with the same message, and of the same code again.
func TestErrorCodeRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range coded {
		if seen[c.code] {
			t.Errorf("code %q twice", c.code)
		}
		seen[c.code] = true
		for _, err := range []error{
			c.err,
			fmt.Errorf("add member 4: %w", c.err),
			fmt.Errorf("forwarded: %w", fmt.Errorf("leader 2: %w", c.err)),
		} {
			code := messages.ErrorCode(err)
			if code != c.code {
				t.Errorf("ErrorCode(%q) = %q, want %q", err, code, c.code)
				continue
			}
			back := messages.ErrorFromCode(code, err.Error())
			if back == nil {
				t.Fatalf("ErrorFromCode(%q, %q) = nil", code, err)
			}
			if !errors.Is(back, c.err) {
				t.Errorf("ErrorFromCode(%q, %q) = %v, which is not the sentinel %v", code, err, back, c.err)
			}
			if back.Error() != err.Error() {
				t.Errorf("ErrorFromCode(%q, %q) reads %q, want the message kept", code, err, back.Error())
			}
			if got := messages.ErrorCode(back); got != c.code {
				t.Errorf("ErrorCode of the rebuilt error = %q, want %q", got, c.code)
			}
			for _, other := range coded {
				if other.err != c.err && errors.Is(back, other.err) {
					t.Errorf("ErrorFromCode(%q, ...) is also %v", code, other.err)
				}
			}
		}
	}
}

// An error that wraps no sentinel is "internal", and so are the sentinels
// that never travel by code.
func TestErrorCodeInternal(t *testing.T) {
	for _, err := range []error{
		nil,
		errors.New("disk on fire"),
		fmt.Errorf("wrapped: %w", errors.New("raftkv: no leader")), // same text, not the sentinel
		context.DeadlineExceeded,
		messages.ErrTimeout,
		messages.ErrConfChangePending,
		messages.ErrVersion,
	} {
		if got := messages.ErrorCode(err); got != "internal" {
			t.Errorf("ErrorCode(%v) = %q, want internal", err, got)
		}
	}
}

// An unknown code, "internal" included, gives a plain error with the
// message: it is none of the sentinels, and its code is "internal".
func TestErrorFromUnknownCode(t *testing.T) {
	for _, code := range []string{"internal", "", "no-leader", "NO_LEADER", "teapot", "deadline_exceeded"} {
		msg := "the leader said " + code
		err := messages.ErrorFromCode(code, msg)
		if err == nil {
			t.Fatalf("ErrorFromCode(%q) = nil", code)
		}
		if err.Error() != msg {
			t.Errorf("ErrorFromCode(%q, %q) reads %q", code, msg, err)
		}
		if errors.Unwrap(err) != nil {
			t.Errorf("ErrorFromCode(%q) wraps %v, want a plain error", code, errors.Unwrap(err))
		}
		for _, c := range coded {
			if errors.Is(err, c.err) {
				t.Errorf("ErrorFromCode(%q) is %v", code, c.err)
			}
		}
		if got := messages.ErrorCode(err); got != "internal" {
			t.Errorf("ErrorCode(ErrorFromCode(%q)) = %q, want internal", code, got)
		}
	}
}
