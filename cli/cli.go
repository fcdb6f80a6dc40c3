// Package cli is raftkv's command line for a cluster: the subcommands of
// the raftkv binary (put, get, del, ls, cas, txn, members, status, endpoint
// health, snapshot) that talk to the members through the Go client
// (package client). Run runs one command line and returns its exit code,
// so that the commands are tested without processes.
//
// Output is for people by default (a value, key<TAB>value lines, tables);
// -o json prints the API's JSON instead, for scripts. The exit code says
// what happened: ExitOK, ExitFailed (not found, a condition that did not
// hold, a refused change), ExitUsage (the command line or its input is
// wrong) or ExitUnavailable (no member answered in time).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/raftkv/raftkv/client"
)

// Exit codes of Run, for scripts.
const (
	// ExitOK: done; the key was found; the condition held.
	ExitOK = 0
	// ExitFailed: the cluster answered no: the key was not found (or a
	// delete deleted nothing), a condition did not hold (cas, txn), a
	// membership change was refused.
	ExitFailed = 1
	// ExitUsage: the command line, or the input on stdin, is wrong (also
	// when a member refuses the request as malformed or too large).
	ExitUsage = 2
	// ExitUnavailable: no member could serve the request in time: none
	// answered, the deadline passed (a write's outcome is then unknown),
	// 503, or writes are refused while a member is out of disk space.
	ExitUnavailable = 3
)

// Defaults of the global flags.
const (
	DefaultEndpoints = "http://127.0.0.1:12380"
	DefaultTimeout   = 5 * time.Second
)

// maxInput bounds what a command reads from stdin: more than any value
// (1 MiB) or transaction (4 MiB) a member takes.
const maxInput = 8 << 20

// command is one subcommand.
type command struct {
	// name is what selects it: "put", or "members add".
	name string
	// args names its positional arguments in the usage, summary says what
	// it does in one line, and help (optional) says more.
	args, summary, help string
	// minArgs and maxArgs bound the positional arguments (maxArgs -1: any).
	minArgs, maxArgs int
	// setup defines the command's own flags on fs and returns what runs
	// it with the positional arguments.
	setup func(fs *flag.FlagSet) func(e *env, args []string) error
	// local commands need no client (snapshot restore).
	local bool
}

// env is what a running command has: its streams, the global flags and
// the client.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	endpoints      string
	timeout        time.Duration
	output         string
	client         *client.Client
}

// ctx returns the context of one request of the command: bounded by
// --timeout.
func (e *env) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), e.timeout)
}

// json tells whether -o json was asked for.
func (e *env) json() bool { return e.output == "json" }

// printJSON writes v as one line of JSON.
func (e *env) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	_, err = e.stdout.Write(append(b, '\n'))
	return err
}

// exitError is an error with the exit code it calls for; a nil err exits
// without a message (the output said it all).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is an error of the command line.
func usageErrorf(format string, args ...any) error {
	return &exitError{ExitUsage, fmt.Errorf(format, args...)}
}

// failedf is a definite no of the cluster: not found, a condition that did
// not hold.
func failedf(format string, args ...any) error {
	return &exitError{ExitFailed, fmt.Errorf(format, args...)}
}

// exitCode is the exit code of a command's error.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, client.ErrInvalid), errors.Is(err, client.ErrTooLarge):
		return ExitUsage
	case errors.Is(err, client.ErrUnavailable), errors.Is(err, client.ErrTimeout),
		errors.Is(err, client.ErrUnknownOutcome), errors.Is(err, client.ErrNoSpace),
		errors.Is(err, context.DeadlineExceeded):
		return ExitUnavailable
	}
	return ExitFailed
}

// commands are the subcommands, in the order of the usage.
var commands []*command

func init() {
	commands = append(commands, kvCommands()...)
	commands = append(commands, watchCommands()...)
	commands = append(commands, leaseCommands()...)
	commands = append(commands, clusterCommands()...)
	commands = append(commands, snapshotCommands()...)
}

// groups are the first words of commands of two words; "members" alone is
// "members list".
var groups = map[string]string{"members": "members list", "endpoint": "", "snapshot": "", "lease": ""}

// lookup finds the command of args and returns it with the rest of args.
func lookup(args []string) (*command, []string, error) {
	byName := func(name string) *command {
		for _, c := range commands {
			if c.name == name {
				return c
			}
		}
		return nil
	}
	first := args[0]
	def, isGroup := groups[first]
	if !isGroup {
		if c := byName(first); c != nil {
			return c, args[1:], nil
		}
		return nil, nil, fmt.Errorf("unknown command %q", first)
	}
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		if c := byName(first + " " + args[1]); c != nil {
			return c, args[2:], nil
		}
		return nil, nil, fmt.Errorf("unknown command %q", first+" "+args[1])
	}
	if c := byName(def); c != nil {
		return c, args[1:], nil
	}
	return nil, nil, fmt.Errorf("%q needs a command: %s", first, strings.Join(groupCommands(first), ", "))
}

// groupCommands are the names of the commands of a group.
func groupCommands(group string) []string {
	var names []string
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			names = append(names, c.name)
		}
	}
	return names
}

// Run runs the raftkv command line args, whose first element is the
// command ("get", "members", ...; not the program name), with the given
// streams and environment, and returns the exit code: ExitOK, ExitFailed,
// ExitUsage or ExitUnavailable. Errors go to stderr, one line each.
//
// Flags may stand anywhere after the command; "--" ends them (CommandLine
// moves the global flags given before the command after it). The global
// flags --endpoints and --timeout are also read from RAFTKV_ENDPOINTS and
// RAFTKV_TIMEOUT when not on the command line.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "raftkv: no command given (raftkv help lists the commands)")
		return ExitUsage
	}
	if args[0] == "help" {
		return help(args[1:], stdout, stderr)
	}
	if _, isGroup := groups[args[0]]; isGroup && len(args) > 1 && isHelpFlag(args[1]) {
		groupUsage(stdout, args[0])
		return ExitOK
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		fmt.Fprintf(stderr, "raftkv: %v (raftkv help lists the commands)\n", err)
		return ExitUsage
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	fs := newFlagSet(cmd, e)
	var run func(*env, []string) error
	if cmd.setup != nil {
		run = cmd.setup(fs)
	}
	positional, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, cmd, fs)
		return ExitOK
	}
	if err == nil {
		_, err = ApplyEnv(fs, getenv, func(name string) bool { return name != "endpoints" && name != "timeout" })
	}
	if err == nil {
		err = e.check(cmd, positional)
	}
	if err != nil {
		fmt.Fprintf(stderr, "raftkv %s: %v%s\nUsage: %s (raftkv help %s lists its flags)\n", cmd.name, err, flagHint(err), cmd.synopsis(), cmd.name)
		return ExitUsage
	}
	if !cmd.local {
		if e.client, err = client.New(splitEndpoints(e.endpoints)); err != nil {
			fmt.Fprintf(stderr, "raftkv %s: --endpoints: %v\n", cmd.name, err)
			return ExitUsage
		}
		defer e.client.Close()
	}
	err = run(e, positional)
	var silent *exitError
	if err != nil && !(errors.As(err, &silent) && silent.err == nil) {
		fmt.Fprintf(stderr, "raftkv %s: %v\n", cmd.name, err)
	}
	return exitCode(err)
}

// isHelpFlag tells whether arg asks for help: -h, --help, -help.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h":
		return true
	}
	return false
}

// flagHint is what to add to the error of a flag that does not exist: it
// may be a key or a value that starts with a dash.
func flagHint(err error) string {
	if strings.HasPrefix(err.Error(), "flag provided but not defined") {
		return ` (a key or value that starts with "-" goes after "--": raftkv put -- -k -v)`
	}
	return ""
}

// splitEndpoints is the list of --endpoints: comma-separated, blanks
// around each ignored, empty entries left out.
func splitEndpoints(s string) []string {
	var eps []string
	for _, ep := range strings.Split(s, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return eps
}

// newFlagSet is the flag set of cmd with the global flags, bound to e.
func newFlagSet(cmd *command, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("raftkv "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if !cmd.local {
		fs.StringVar(&e.endpoints, "endpoints", DefaultEndpoints, "comma-separated HTTP API `URLS` of members; env "+EnvName("endpoints"))
		fs.DurationVar(&e.timeout, "timeout", DefaultTimeout, "how long each request may wait for the cluster, a Go `DURATION`; env "+EnvName("timeout"))
	}
	fs.StringVar(&e.output, "o", "text", "`FORMAT` of the output: text (for people) or json (the API's JSON, for scripts)")
	fs.StringVar(&e.output, "output", "text", "same as -o")
	return fs
}

// check validates the global flags and the number of positional
// arguments.
func (e *env) check(cmd *command, args []string) error {
	if e.output != "text" && e.output != "json" {
		return fmt.Errorf("-o %q: want text or json", e.output)
	}
	if !cmd.local && e.timeout <= 0 {
		return fmt.Errorf("--timeout %v: must be positive", e.timeout)
	}
	switch {
	case len(args) < cmd.minArgs:
		return fmt.Errorf("missing arguments: want %s, got %s", cmd.args, countOf(len(args), "argument"))
	case cmd.maxArgs >= 0 && len(args) > cmd.maxArgs:
		return fmt.Errorf("unexpected argument %q (want %s)", args[cmd.maxArgs], cmd.argsOrNone())
	}
	return nil
}

// countOf is n and the noun, plural unless n is 1: "1 argument", "0
// arguments".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// synopsis is the command's line of usage.
func (c *command) synopsis() string {
	return strings.Join(strings.Fields("raftkv "+c.name+" "+c.args+" [FLAGS]"), " ")
}

func (c *command) argsOrNone() string {
	if c.args == "" {
		return "no arguments"
	}
	return c.args
}

// help prints the usage of the command named by args, or of all.
func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (len(args) == 1 && isHelpFlag(args[0])) {
		Usage(stdout)
		return ExitOK
	}
	if _, isGroup := groups[args[0]]; isGroup && len(args) == 1 {
		groupUsage(stdout, args[0])
		return ExitOK
	}
	cmd, rest, err := lookup(args)
	if err != nil || len(rest) > 0 {
		fmt.Fprintf(stderr, "raftkv help: unknown command %q (raftkv help lists the commands)\n", strings.Join(args, " "))
		return ExitUsage
	}
	fs := newFlagSet(cmd, &env{})
	if cmd.setup != nil {
		cmd.setup(fs)
	}
	commandUsage(stdout, cmd, fs)
	return ExitOK
}

// Usage writes the list of commands, the global flags and the exit codes.
func Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: raftkv COMMAND [ARGS] [FLAGS]   talk to a cluster
       raftkv [FLAGS]                  run a member (raftkv --help lists its flags)

Commands:
`)
	WriteCommands(w)
	fmt.Fprintf(w, `
Global flags (-o of every command; --endpoints and --timeout of those that talk to a cluster):
  --endpoints URLS   comma-separated HTTP API URLs of members (default %s; env RAFTKV_ENDPOINTS)
  --timeout D        how long a request may wait for the cluster (default %v; env RAFTKV_TIMEOUT)
  -o text|json       output for people (default) or the API's JSON, for scripts

Exit codes: 0 ok or found; 1 not found, a condition that did not hold, a
refused membership change, a backup that does not verify or a data dir
that is not empty; 2 usage (also a request a member refuses as
malformed or too large); 3 unavailable (no member answered in time, 503,
a write whose outcome is unknown, writes refused for lack of disk space).
Run 'raftkv help COMMAND' for a command's flags. "--" ends the flags.
`, DefaultEndpoints, DefaultTimeout)
}

// WriteCommands writes one line per command: its name, arguments and
// summary.
func WriteCommands(w io.Writer) {
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name)+1+len(c.args))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
}

// groupUsage writes the commands of a group ("members": members list,
// members add...).
func groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: raftkv %s COMMAND [ARGS] [FLAGS]\n\nCommands:\n", group)
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(w, "  %s\n        %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
		}
	}
	if def := groups[group]; def != "" {
		fmt.Fprintf(w, "\n'raftkv %s' alone is '%s'.\n", group, "raftkv "+def)
	}
	fmt.Fprintf(w, "Run 'raftkv help %s COMMAND' for a command's flags.\n", group)
}

// commandUsage writes the usage of one command with its flags.
func commandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", cmd.synopsis(), cmd.summary)
	if cmd.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(cmd.help))
	}
	fmt.Fprintln(w, "\nFlags:")
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "output" {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		line := "  " + dash + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			line += fmt.Sprintf("  (default %s)", f.DefValue)
		}
		line += "\n        " + usage
		lines = append(lines, line)
	})
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
