package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/client"
)

// cliResult is what one run of the command line did.
type cliResult struct {
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// runCLI runs the command line args with stdin and the environment vars
// (nil: none).
func runCLI(stdin string, vars map[string]string, args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	code := Run(args, strings.NewReader(stdin), &stdout, &stderr, envOf(vars))
	return cliResult{code, stdout.String(), stderr.String()}
}

// closedEndpoint is the URL of a port of 127.0.0.1 that nobody listens on
// (it was free a moment ago).
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func TestExitCode(t *testing.T) {
	apiErr := func(status int, code string) error {
		return &client.Error{Endpoint: "http://m", StatusCode: status, Code: code, Message: "m"}
	}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"usage", usageErrorf("bad"), ExitUsage},
		{"failed", failedf("no"), ExitFailed},
		{"silent failure", &exitError{code: ExitFailed}, ExitFailed},
		{"wrapped exit error", fmt.Errorf("x: %w", &exitError{code: ExitUnavailable}), ExitUnavailable},
		{"key not found", apiErr(http.StatusNotFound, "key_not_found"), ExitFailed},
		{"precondition failed", apiErr(http.StatusPreconditionFailed, "precondition_failed"), ExitFailed},
		{"member not found", apiErr(http.StatusNotFound, "member_not_found"), ExitFailed},
		{"member exists", apiErr(http.StatusConflict, "member_exists"), ExitFailed},
		{"learner not ready", apiErr(http.StatusConflict, "learner_not_ready"), ExitFailed},
		{"invalid", apiErr(http.StatusBadRequest, "invalid"), ExitUsage},
		{"too large", apiErr(http.StatusRequestEntityTooLarge, "value_too_large"), ExitUsage},
		{"no leader", apiErr(http.StatusServiceUnavailable, "no_leader"), ExitUnavailable},
		{"not ready", apiErr(http.StatusServiceUnavailable, "not_ready"), ExitUnavailable},
		{"deadline on the member", apiErr(http.StatusGatewayTimeout, "deadline_exceeded"), ExitUnavailable},
		{"no space", apiErr(http.StatusInsufficientStorage, "no_space"), ExitUnavailable},
		{"no member reachable", fmt.Errorf("%w: dial tcp: connection refused", client.ErrUnavailable), ExitUnavailable},
		{"unknown outcome", &client.UnknownOutcomeError{Endpoint: "http://m", Err: errors.New("EOF")}, ExitUnavailable},
		{"deadline of the command", fmt.Errorf("after 3 keys: %w", context.DeadlineExceeded), ExitUnavailable},
		// A refused membership change keeps the code of its cause.
		{"refused invalid member", memberError(apiErr(http.StatusBadRequest, "invalid_member")), ExitUsage},
		{"refused unsafe change", memberError(apiErr(http.StatusConflict, "unsafe_change")), ExitFailed},
		{"membership change without a leader", memberError(apiErr(http.StatusServiceUnavailable, "no_leader")), ExitUnavailable},
		{"anything else", errors.New("malformed answer"), ExitFailed},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestMemberErrorReadsAsTheMembersAnswer(t *testing.T) {
	err := memberError(&client.Error{Endpoint: "http://m", StatusCode: http.StatusConflict, Code: "unsafe_change", Message: "too few voters respond"})
	if got, want := err.Error(), "refused (unsafe_change): too few voters respond"; got != want {
		t.Errorf("memberError: %q, want %q", got, want)
	}
	if !errors.Is(err, client.ErrUnsafeChange) {
		t.Errorf("memberError: %v does not match client.ErrUnsafeChange", err)
	}
}

// TestArgumentErrors checks that every command line the CLI does not
// understand exits 2 with a message on stderr that says what was wrong,
// before any request: the endpoint is a closed port, so a request would
// exit 3.
func TestArgumentErrors(t *testing.T) {
	ep := closedEndpoint(t)
	tests := []struct {
		stdin string
		env   map[string]string
		args  []string
		err   string
		// bare: run args as they are, without --endpoints of the closed port.
		bare bool
	}{
		{args: nil, err: "no command given", bare: true},
		{args: []string{"frobnicate"}, err: `unknown command "frobnicate"`},
		{args: []string{"GET", "k"}, err: `unknown command "GET"`},
		{args: []string{"members", "frob"}, err: `unknown command "members frob"`},
		{args: []string{"endpoint"}, err: `"endpoint" needs a command: endpoint health`},
		{args: []string{"endpoint", "status"}, err: `unknown command "endpoint status"`},
		{args: []string{"help", "frobnicate"}, err: `unknown command "frobnicate"`, bare: true},
		{args: []string{"help", "put", "extra"}, err: `unknown command "put extra"`, bare: true},
		{args: []string{"put", "foo"}, err: "missing arguments: want KEY VALUE|-, got 1 argument"},
		{args: []string{"put"}, err: "got 0 arguments"},
		{args: []string{"put", "a", "b", "c"}, err: `unexpected argument "c" (want KEY VALUE|-)`},
		{args: []string{"get"}, err: "missing arguments: want KEY"},
		{args: []string{"get", "a", "b"}, err: `unexpected argument "b"`},
		{args: []string{"get", "k", "--bogus"}, err: "flag provided but not defined: -bogus"},
		{args: []string{"put", "k", "-5"}, err: `a key or value that starts with "-" goes after "--"`},
		{args: []string{"get", "k", "--prefix"}, err: "flag provided but not defined: -prefix"},
		{args: []string{"get", "k", "-o", "yaml"}, err: `-o "yaml": want text or json`},
		{args: []string{"get", "k", "-o"}, err: "flag needs an argument: -o", bare: true},
		{args: []string{"get", "k", "--timeout", "0s"}, err: "--timeout 0s: must be positive"},
		{args: []string{"get", "k", "--timeout", "5"}, err: `invalid value "5" for flag -timeout`},
		{args: []string{"get", "k", "--serializable=maybe"}, err: "invalid boolean value"},
		{args: []string{"get", "k", "--endpoints", ""}, err: "--endpoints: raftkv client: no endpoints", bare: true},
		{args: []string{"get", "k", "--endpoints", " , "}, err: "--endpoints: raftkv client: no endpoints", bare: true},
		{args: []string{"get", "k", "--endpoints", "ftp://h:1"}, err: `endpoint "ftp://h:1"`, bare: true},
		{env: map[string]string{"RAFTKV_TIMEOUT": "soon"}, args: []string{"get", "k"}, err: `RAFTKV_TIMEOUT="soon": invalid value for --timeout`},
		{args: []string{"del"}, err: "missing arguments: want KEY"},
		{args: []string{"ls", "a"}, err: `unexpected argument "a" (want no arguments)`},
		{args: []string{"ls", "--prefix", "a", "--start", "b"}, err: "give --prefix, or --start and --end, not both"},
		{args: []string{"ls", "--prefix=", "--end", "b"}, err: "not both"},
		{args: []string{"ls", "--limit", "-1"}, err: "--limit -1: must be 0"},
		{args: []string{"ls", "--page-size", "10001"}, err: "--page-size 10001: want 0"},
		{args: []string{"ls", "--page-size", "-2"}, err: "--page-size -2"},
		{args: []string{"cas", "k", "v"}, err: "give KEY OLD NEW, or KEY NEW with --mod-revision (2 arguments)"},
		{args: []string{"cas", "k", "a", "b", "--mod-revision", "3"}, err: "with --mod-revision, give KEY NEW (3 arguments)"},
		{args: []string{"cas", "k", "b", "--mod-revision", "-3"}, err: "--mod-revision -3: must be 0 or more"},
		{args: []string{"cas", "k"}, err: "missing arguments"},
		{args: []string{"txn", "extra"}, err: `unexpected argument "extra"`},
		{args: []string{"txn"}, err: "stdin: empty"},
		{stdin: `{"compare":[{"key":"a","target":"value","result":"equal","version":1}]}`, args: []string{"txn"},
			err: `stdin: compare 0: target value takes its operand in "value", not "version"`},
		{stdin: `{"sucess":[]}`, args: []string{"txn"}, err: `unknown field "sucess"`},
		{args: []string{"members", "add", "4"}, err: "missing arguments: want ID ADDRESS"},
		{args: []string{"members", "add", "x", "127.0.0.1:1"}, err: `member id "x": want a positive integer`},
		{args: []string{"members", "add", "0", "127.0.0.1:1"}, err: `member id "0"`},
		{args: []string{"members", "add", "4", "127.0.0.1:1", "--learner=2"}, err: "invalid boolean value"},
		{args: []string{"members", "promote"}, err: "missing arguments: want ID"},
		{args: []string{"members", "promote", "-1"}, err: "flag provided but not defined: -1"},
		{args: []string{"members", "remove", "1", "2"}, err: `unexpected argument "2"`},
		{args: []string{"members", "remove", "one"}, err: `member id "one"`},
		{args: []string{"members", "list", "1"}, err: `unexpected argument "1"`},
		{args: []string{"members", "--learner"}, err: "flag provided but not defined: -learner"},
		{args: []string{"status", "1"}, err: `unexpected argument "1"`},
		{args: []string{"endpoint", "health", "--cluster"}, err: "flag provided but not defined: -cluster"},
	}
	for _, tt := range tests {
		args := tt.args
		if !tt.bare {
			args = append(append([]string(nil), tt.args...), "--endpoints", ep)
		}
		r := runCLI(tt.stdin, tt.env, args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tt.err) || r.stdout != "" {
			t.Errorf("raftkv %q: %v; want exit 2, nothing on stdout and stderr saying %q", args, r, tt.err)
		}
	}
}

func TestHelp(t *testing.T) {
	everyCommand := []string{"put KEY VALUE|-", "get KEY", "del KEY", "ls", "cas KEY OLD NEW|-", "txn", "members list",
		"members add ID ADDRESS", "members promote ID", "members remove ID", "status", "endpoint health",
		"RAFTKV_ENDPOINTS", "RAFTKV_TIMEOUT", "Exit codes"}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, everyCommand},
		{[]string{"help", "--help"}, everyCommand},
		{[]string{"help", "put"}, []string{"Usage: raftkv put KEY VALUE|- [FLAGS]", "--endpoints URLS", "RAFTKV_ENDPOINTS", "--timeout DURATION", "-o FORMAT"}},
		{[]string{"put", "--help"}, []string{"Usage: raftkv put KEY VALUE|- [FLAGS]"}},
		{[]string{"get", "-h"}, []string{"Usage: raftkv get KEY [FLAGS]", "--serializable"}},
		{[]string{"ls", "--prefix", "a", "--help"}, []string{"--prefix P", "--start K", "--end K", "--limit N", "--page-size N", "--next TOKEN", "--keys-only"}},
		{[]string{"cas", "--help"}, []string{"--mod-revision N"}},
		{[]string{"txn", "--help"}, []string{"POST /v1/txn", `"compare"`}},
		{[]string{"members", "add", "--help"}, []string{"--learner", "--client-address URL"}},
		{[]string{"help", "members", "promote"}, []string{"Usage: raftkv members promote ID [FLAGS]"}},
		{[]string{"members", "--help"}, []string{"members list", "members add ID ADDRESS", "members promote ID", "members remove ID", "'raftkv members' alone is 'raftkv members list'"}},
		{[]string{"help", "members"}, []string{"members add ID ADDRESS"}},
		{[]string{"endpoint", "--help"}, []string{"endpoint health"}},
		{[]string{"endpoint", "health", "--help"}, []string{"Usage: raftkv endpoint health [FLAGS]"}},
		{[]string{"status", "--help"}, []string{"Usage: raftkv status [FLAGS]"}},
	}
	for _, tt := range tests {
		r := runCLI("", nil, tt.args...)
		if r.code != ExitOK || r.stderr != "" {
			t.Errorf("raftkv %q: %v; want exit 0 and nothing on stderr", tt.args, r)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("raftkv %q: stdout does not say %q:\n%s", tt.args, w, r.stdout)
			}
		}
	}
}

// TestUnreachableEndpointExits3 runs each command that talks to the
// cluster against a port nobody listens on: no member answers, exit 3.
func TestUnreachableEndpointExits3(t *testing.T) {
	ep := closedEndpoint(t)
	for _, args := range [][]string{
		{"put", "k", "v"}, {"get", "k"}, {"get", "k", "--serializable"}, {"del", "k"}, {"del", "k", "--prefix"},
		{"ls"}, {"cas", "k", "a", "b"}, {"cas", "k", "b", "--mod-revision", "0"},
		{"members"}, {"members", "add", "4", "127.0.0.1:1"}, {"members", "promote", "4"}, {"members", "remove", "4"},
		{"status"}, {"endpoint", "health"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCLI("", nil, append(args, "--endpoints", ep, "--timeout", "2s")...)
			if r.code != ExitUnavailable || !strings.Contains(r.stderr, ep) {
				t.Errorf("raftkv %q against a closed port: %v; want exit 3 and an error on stderr naming it", args, r)
			}
		})
	}
	r := runCLI(`{"success":[{"get":{"key":"a"}}]}`, nil, "txn", "--endpoints", ep)
	if r.code != ExitUnavailable {
		t.Errorf("raftkv txn against a closed port: %v; want exit 3", r)
	}
	// The environment names the endpoints when the flag does not.
	r = runCLI("", map[string]string{"RAFTKV_ENDPOINTS": ep}, "get", "k")
	if r.code != ExitUnavailable || !strings.Contains(r.stderr, ep) {
		t.Errorf("raftkv get k with RAFTKV_ENDPOINTS=%s: %v; want exit 3 naming the endpoint", ep, r)
	}
}

func TestSplitEndpoints(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"http://a:1", []string{"http://a:1"}},
		{"http://a:1,b:2", []string{"http://a:1", "b:2"}},
		{" http://a:1 , http://b:2 ,", []string{"http://a:1", "http://b:2"}},
		{"", nil},
		{" , ", nil},
	}
	for _, tt := range tests {
		if got := splitEndpoints(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitEndpoints(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPageLimit(t *testing.T) {
	tests := []struct{ limit, pageSize, count, want int64 }{
		{0, 0, 0, 0},            // the member's default page
		{0, 0, 5000, 0},         // and on
		{0, 2, 0, 2},            // pages of 2
		{0, 2, 10, 2},           // and on
		{5, 0, 0, 5},            // what is left of the limit
		{5, 2, 4, 1},            // the last page is what is left
		{5, 2, 0, 2},            // pages of 2 under a limit
		{20000, 0, 0, 10000},    // never more than the member takes
		{20000, 0, 15000, 5000}, // the rest
	}
	for _, tt := range tests {
		if got := pageLimit(tt.limit, tt.pageSize, tt.count); got != tt.want {
			t.Errorf("pageLimit(limit %d, page size %d, after %d) = %d, want %d", tt.limit, tt.pageSize, tt.count, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       "plain",
		"":            "",
		"héllo wörld": "héllo wörld",
		"a\tb":        `"a\tb"`,
		"line\n":      `"line\n"`,
		"\xff\x00":    `"\xff\x00"`,
		"\x1b[31m":    `"\x1b[31m"`,
	} {
		if got := printable([]byte(in)); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}
