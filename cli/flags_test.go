package cli

import (
	"flag"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"endpoints": "RAFTKV_ENDPOINTS", "data-dir": "RAFTKV_DATA_DIR", "catch-up-entries": "RAFTKV_CATCH_UP_ENTRIES", "id": "RAFTKV_ID",
	} {
		if got := EnvName(flagName); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

// envOf is a getenv of the variables vars.
func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// testFlags are flags of every kind, for ApplyEnv.
type testFlags struct {
	port    int
	dataDir string
	join    bool
	timeout time.Duration
	version bool
}

func newTestFlagSet(f *testFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&f.port, "port", 12380, "")
	fs.StringVar(&f.dataDir, "data-dir", "", "")
	fs.BoolVar(&f.join, "join", false, "")
	fs.DurationVar(&f.timeout, "timeout", time.Second, "")
	fs.BoolVar(&f.version, "version", false, "")
	return fs
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    testFlags
		wantSet []string
		err     string
	}{
		{name: "no environment", want: testFlags{port: 12380, timeout: time.Second}},
		{name: "every kind of flag from the environment",
			env:     map[string]string{"RAFTKV_PORT": "22380", "RAFTKV_DATA_DIR": "/d", "RAFTKV_JOIN": "true", "RAFTKV_TIMEOUT": "3s"},
			want:    testFlags{port: 22380, dataDir: "/d", join: true, timeout: 3 * time.Second},
			wantSet: []string{"data-dir", "join", "port", "timeout"}},
		{name: "the command line wins",
			args:    []string{"--port", "32380", "--join=false"},
			env:     map[string]string{"RAFTKV_PORT": "22380", "RAFTKV_JOIN": "true", "RAFTKV_DATA_DIR": "/d"},
			want:    testFlags{port: 32380, dataDir: "/d", timeout: time.Second},
			wantSet: []string{"data-dir"}},
		{name: "an empty variable is not set",
			env:  map[string]string{"RAFTKV_PORT": "", "RAFTKV_DATA_DIR": ""},
			want: testFlags{port: 12380, timeout: time.Second}},
		{name: "skipped flags are left alone",
			env:  map[string]string{"RAFTKV_VERSION": "true"},
			want: testFlags{port: 12380, timeout: time.Second}},
		{name: "other variables are not flags",
			env:  map[string]string{"RAFTKV_SEED": "3", "PORT": "1", "raftkv_port": "2"},
			want: testFlags{port: 12380, timeout: time.Second}},
		{name: "a value the flag refuses names the variable",
			env: map[string]string{"RAFTKV_PORT": "http", "RAFTKV_TIMEOUT": "3"},
			err: `RAFTKV_PORT="http": invalid value for --port: parse error`},
		{name: "every refused value is said",
			env: map[string]string{"RAFTKV_PORT": "http", "RAFTKV_TIMEOUT": "3"},
			err: `RAFTKV_TIMEOUT="3": invalid value for --timeout`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got testFlags
			fs := newTestFlagSet(&got)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			set, err := ApplyEnv(fs, envOf(tt.env), func(name string) bool { return name == "version" })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ApplyEnv: %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyEnv: %v", err)
			}
			if got != tt.want {
				t.Errorf("flags %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(set, tt.wantSet) {
				t.Errorf("ApplyEnv set %q, want %q", set, tt.wantSet)
			}
		})
	}
}

func TestApplyEnvNilSkip(t *testing.T) {
	var got testFlags
	fs := newTestFlagSet(&got)
	if _, err := ApplyEnv(fs, envOf(map[string]string{"RAFTKV_VERSION": "true"}), nil); err != nil || !got.version {
		t.Fatalf("ApplyEnv with a nil skip: version %v, %v; want it set", got.version, err)
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args       []string
		positional []string
		limit      int
		prefix     string
		keysOnly   bool
		err        string
	}{
		{args: nil, positional: nil},
		{args: []string{"a", "b"}, positional: []string{"a", "b"}},
		{args: []string{"--limit", "3", "a", "--prefix=p", "b", "--keys-only"}, positional: []string{"a", "b"}, limit: 3, prefix: "p", keysOnly: true},
		{args: []string{"a", "-limit=4", "-keys-only", "b"}, positional: []string{"a", "b"}, limit: 4, keysOnly: true},
		// A bool flag takes no value: the next argument is positional.
		{args: []string{"--keys-only", "a"}, positional: []string{"a"}, keysOnly: true},
		// "--" ends the flags; "-" alone is positional (stdin).
		{args: []string{"--limit", "1", "--", "-k", "--limit"}, positional: []string{"-k", "--limit"}, limit: 1},
		{args: []string{"k", "-"}, positional: []string{"k", "-"}},
		// A flag's value may start with a dash.
		{args: []string{"--prefix", "-p", "a"}, positional: []string{"a"}, prefix: "-p"},
		{args: []string{"a", "--bogus"}, err: "flag provided but not defined: -bogus"},
		{args: []string{"a", "-5"}, err: "flag provided but not defined: -5"},
		{args: []string{"a", "--limit"}, err: "flag needs an argument: -limit"},
		{args: []string{"--limit", "x"}, err: `invalid value "x" for flag -limit`},
		{args: []string{"--keys-only=maybe"}, err: "invalid boolean value"},
		{args: []string{"-h"}, err: flag.ErrHelp.Error()},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		limit := fs.Int("limit", 0, "")
		prefix := fs.String("prefix", "", "")
		keysOnly := fs.Bool("keys-only", false, "")
		positional, err := parseInterspersed(fs, tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %v, want an error saying %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(positional, tt.positional) || *limit != tt.limit || *prefix != tt.prefix || *keysOnly != tt.keysOnly {
			t.Errorf("%q: positional %q, limit %d, prefix %q, keys-only %v, %v; want %q, %d, %q, %v",
				tt.args, positional, *limit, *prefix, *keysOnly, err, tt.positional, tt.limit, tt.prefix, tt.keysOnly)
		}
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		want []string // nil: not a command line (a member's flags)
	}{
		{args: []string{"get", "k"}, want: []string{"get", "k"}},
		{args: []string{"--endpoints", "http://h:1", "get", "k"}, want: []string{"get", "k", "--endpoints", "http://h:1"}},
		{args: []string{"--endpoints=http://h:1", "-o", "json", "members", "add", "4", "h:2"},
			want: []string{"members", "add", "4", "h:2", "--endpoints=http://h:1", "-o", "json"}},
		{args: []string{"-timeout", "1s", "put", "k", "--", "-v"}, want: []string{"put", "k", "-timeout", "1s", "--", "-v"}},
		// A member's flags, or global flags without a command.
		{args: nil},
		{args: []string{"--id", "2"}},
		{args: []string{"--id", "2", "get", "k"}},
		{args: []string{"--endpoints", "http://h:1"}},
		{args: []string{"--", "get"}},
	}
	for _, tt := range tests {
		got, ok := CommandLine(tt.args)
		if ok != (tt.want != nil) || !slices.Equal(got, tt.want) {
			t.Errorf("CommandLine(%q) = %q, %v; want %q", tt.args, got, ok, tt.want)
		}
	}
}
