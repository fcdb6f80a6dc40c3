package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/testkit"
)

// The README's HTTP examples are run as written, in order, against a
// cluster of three: TestREADMEHTTPExamples. What it runs is the shell
// blocks of the sections from readmeFrom through readmeTo; a block runs
// when each of its commands is a curl command (alone or piped to
// programs that are installed) to the local cluster, an assignment
// (H=http://127.0.0.1:12380), or `make run`, which the test's own cluster
// stands for. Other blocks (they start members, or talk to hosts named
// host1) are walkthroughs for a person, and are skipped with a note.
const (
	readmeFrom = "## Quick start"
	readmeTo   = "## HTTP API"
)

// readmePorts are the HTTP ports of members 1, 2 and 3 in the README
// (those of `make run`).
var readmePorts = []string{"12380", "22380", "32380"}

// shellBlock is one fenced shell block of the README.
type shellBlock struct {
	section  string // the heading it is under
	line     int    // the README line of its opening fence
	commands []shellCommand
}

// shellCommand is one command of a shell block, as written.
type shellCommand struct {
	line int    // the README line it starts on
	text string // the command, its lines joined with "\n"
	// expected are the comment lines right after it (without "# "), which
	// show what it prints.
	expected []string
}

// readmeBlocks returns the shell blocks (```sh) of the sections of md
// from the heading from through the section whose heading is to.
func readmeBlocks(md, from, to string) []shellBlock {
	var blocks []shellBlock
	var section string
	var block *shellBlock
	var body []string
	in, last := false, false
	for i, line := range strings.Split(md, "\n") {
		switch {
		case block != nil && strings.TrimSpace(line) == "```":
			block.commands = parseCommands(body, block.line+1)
			blocks = append(blocks, *block)
			block, body = nil, nil
		case block != nil:
			body = append(body, line)
		case strings.HasPrefix(line, "## "):
			if last {
				return blocks
			}
			in = in || line == from
			last = in && line == to
			section = line
		case strings.HasPrefix(line, "#"):
			section = line
		case in && (line == "```sh" || line == "```bash" || line == "```shell"):
			block = &shellBlock{section: section, line: i + 1}
		}
	}
	return blocks
}

// parseCommands splits the lines of a shell block, the first of which is
// README line first, into commands. A command goes on over lines while a
// quote is open or a line ends with a backslash; the comment lines right
// after it (no blank line between) are what it prints.
func parseCommands(lines []string, first int) []shellCommand {
	var cmds []shellCommand
	var cur *shellCommand
	var open bool // the command has more lines
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		switch {
		case open:
			cur.text += "\n" + line
			open = continues(cur.text)
			if !open {
				cmds = append(cmds, *cur)
			}
		case trimmed == "":
			cur = nil
		case strings.HasPrefix(trimmed, "#"):
			if cur != nil {
				cmds[len(cmds)-1].expected = append(cmds[len(cmds)-1].expected, strings.TrimSpace(strings.TrimPrefix(trimmed, "#")))
			}
		default:
			cur = &shellCommand{line: first + i, text: line}
			open = continues(line)
			if !open {
				cmds = append(cmds, *cur)
			}
		}
	}
	if open {
		cmds = append(cmds, *cur) // an unclosed quote: bash will say so
	}
	return cmds
}

// scanShell walks text as bash reads it, calling at with the index of
// each byte that is not part of a comment, and whether it is quoted (or
// escaped, or a quote). It returns whether a quote is still open at the
// end.
func scanShell(text string, at func(i int, quoted bool)) (open bool) {
	var quote byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote == '\'':
			at(i, true)
			if c == '\'' {
				quote = 0
			}
		case quote == '"':
			at(i, true)
			if c == '\\' && i+1 < len(text) {
				i++
				at(i, true)
			} else if c == '"' {
				quote = 0
			}
		case c == '\\':
			at(i, true)
			if i+1 < len(text) {
				i++
				at(i, true)
			}
		case c == '\'' || c == '"':
			at(i, true)
			quote = c
		case c == '#' && (i == 0 || text[i-1] == ' ' || text[i-1] == '\t'):
			for i+1 < len(text) && text[i+1] != '\n' { // a comment, to the end of its line
				i++
			}
		default:
			at(i, false)
		}
	}
	return quote != 0
}

// continues tells whether a command's text goes on on the next line.
func continues(text string) bool {
	open := scanShell(text, func(int, bool) {})
	return open || strings.HasSuffix(strings.TrimRight(text, " \t"), "\\")
}

// lastRead is the index of the last byte of text that bash reads (not
// part of a comment), or -1.
func lastRead(text string) int {
	last := -1
	scanShell(text, func(i int, _ bool) { last = i })
	return last
}

// withoutComment is a command without the comment that ends it.
func withoutComment(text string) string { return text[:lastRead(text)+1] }

// trailingComment is the comment that ends a command, without "#" (""
// if none): what follows the last byte bash reads.
func trailingComment(text string) string {
	rest := strings.TrimSpace(text[lastRead(text)+1:])
	if !strings.HasPrefix(rest, "#") {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(rest, "#"))
}

// pipeline is the programs a command runs, one per stage of its pipeline
// (the first word of each stage).
func pipeline(text string) []string {
	var stages []string
	var stage strings.Builder
	scanShell(text, func(i int, quoted bool) {
		if text[i] == '|' && !quoted {
			stages = append(stages, stage.String())
			stage.Reset()
		} else {
			stage.WriteByte(text[i])
		}
	})
	stages = append(stages, stage.String())
	var programs []string
	for _, s := range stages {
		if f := strings.Fields(s); len(f) > 0 {
			programs = append(programs, f[0])
		}
	}
	return programs
}

var (
	assignment = regexp.MustCompile("^[A-Za-z_][A-Za-z0-9_]*=[^\\s$`;|&()<>]*$")
	urlHost    = regexp.MustCompile(`https?://([^/:\s'"]+)`)
	localPort  = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):(\d+)\b`)
	statusWord = regexp.MustCompile(`^(?:now )?([2-5]\d\d)(?:$|[\s:;,.])`)
	jsonKey    = regexp.MustCompile(`"([A-Za-z_][A-Za-z0-9_]*)":`)
	headerLine = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*): `)
)

// commandKind says what the README test does with a command: "curl" (run
// it), "assign" (a variable for the commands after it), "cluster"
// (`make run`: the test's cluster stands for it), or "" with why it
// cannot be run as written here.
func commandKind(text string) (kind, why string) {
	t := strings.TrimSpace(withoutComment(text))
	switch {
	case t == "make run":
		return "cluster", ""
	case assignment.MatchString(t):
		return "assign", ""
	}
	programs := pipeline(t)
	if len(programs) == 0 || programs[0] != "curl" {
		return "", fmt.Sprintf("%q is not a curl command", strings.SplitN(t, "\n", 2)[0])
	}
	for _, m := range urlHost.FindAllStringSubmatch(t, -1) {
		if m[1] != "127.0.0.1" && m[1] != "localhost" {
			return "", fmt.Sprintf("it talks to %s, not the local cluster", m[1])
		}
	}
	return "curl", ""
}

// blockRunnable tells whether every command of b can be run as written
// against the test's cluster, or why not.
func blockRunnable(b shellBlock) (bool, string) {
	for _, c := range b.commands {
		if kind, why := commandKind(c.text); kind == "" {
			return false, why
		}
	}
	return true, ""
}

// rewritePorts points the README's HTTP ports of members 1 to 3 at the
// members of the test's cluster.
func rewritePorts(text string, ports []int) string {
	return localPort.ReplaceAllStringFunc(text, func(s string) string {
		m := localPort.FindStringSubmatch(s)
		if i := slices.Index(readmePorts, m[2]); i >= 0 && i < len(ports) {
			return m[1] + ":" + strconv.Itoa(ports[i])
		}
		return s
	})
}

// expectedStatus is the HTTP status a command's trailing comment starts
// with ("# 204 once committed", "# now 412:"), or 0.
func expectedStatus(comment string) int {
	m := statusWord.FindStringSubmatch(comment)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// expectation is what the comment lines after a command say it prints:
// the JSON keys of the lines that show JSON (a line starting with "{",
// and the lines starting with '"' that go on with it), and the header
// names of lines such as `ETag: "1"`.
type expectation struct {
	keys    []string
	headers []string
}

func expectationOf(lines []string) expectation {
	var e expectation
	inJSON := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "{"), inJSON && strings.HasPrefix(l, `"`):
			inJSON = true
			for _, m := range jsonKey.FindAllStringSubmatch(l, -1) {
				if !slices.Contains(e.keys, m[1]) {
					e.keys = append(e.keys, m[1])
				}
			}
		case headerLine.MatchString(l):
			inJSON = false
			e.headers = append(e.headers, headerLine.FindStringSubmatch(l)[1])
		default:
			inJSON = false
		}
	}
	return e
}

// check says what is wrong with the answer to a command (its exit error,
// HTTP status and output), or "".
func (e expectation) check(status int, want int, stdout string) string {
	var problems []string
	switch {
	case want != 0 && status != want:
		problems = append(problems, fmt.Sprintf("status %d, want %d", status, want))
	case want == 0 && slices.Contains(e.keys, "error") && status < 400:
		problems = append(problems, fmt.Sprintf("status %d, want an error", status))
	case want == 0 && !slices.Contains(e.keys, "error") && (status < 200 || status >= 400):
		problems = append(problems, fmt.Sprintf("status %d, want a success", status))
	}
	for _, k := range e.keys {
		if !strings.Contains(stdout, `"`+k+`":`) {
			problems = append(problems, fmt.Sprintf("no %q in the JSON", k))
		}
	}
	for _, h := range e.headers {
		if !regexp.MustCompile(`(?im)^` + regexp.QuoteMeta(h) + `:`).MatchString(stdout) {
			problems = append(problems, fmt.Sprintf("no %s header", h))
		}
	}
	return strings.Join(problems, "; ")
}

// curlShim is a curl that also writes the HTTP status of each answer to
// stderr, and gives up after 30 s: the command runs as written, its
// output unchanged.
const curlShim = `#!/bin/sh
exec %q --max-time 30 -w '%%{stderr}RAFTKV_HTTP_STATUS=%%{http_code}\n' "$@"
`

var shimStatus = regexp.MustCompile(`RAFTKV_HTTP_STATUS=(\d+)`)

// TestREADMEHTTPExamples runs the README's HTTP examples in order, as
// written, against a cluster of three members on the ports the README
// names (rewritten to the cluster's): each must exit 0 and answer the
// status its comment names (else a success, or an error where the
// output shown is one), and print the JSON keys and headers shown after
// it.
func TestREADMEHTTPExamples(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: the README's examples use it")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(string(readme), readmeFrom, readmeTo)
	c := newCluster(t, 3)

	// The commands run in a directory of their own, with the file the
	// README uploads, and the curl shim first on the PATH.
	work, bin := t.TempDir(), t.TempDir()
	photo := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F'}, 100)
	if err := os.WriteFile(filepath.Join(work, "photo.jpg"), photo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "curl"), fmt.Appendf(nil, curlShim, curl), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	var assignments []string
	ran := 0
	for _, b := range blocks {
		if ok, why := blockRunnable(b); !ok {
			t.Logf("README:%d (%s): block skipped: %s", b.line, b.section, why)
			continue
		}
		for _, cmd := range b.commands {
			text := rewritePorts(cmd.text, c.http)
			switch kind, _ := commandKind(text); kind {
			case "cluster":
				continue
			case "assign":
				assignments = append(assignments, text)
				continue
			}
			if missing := missingPrograms(pipeline(text)); len(missing) > 0 {
				t.Logf("README:%d: skipped, %s not installed: %s", cmd.line, strings.Join(missing, ", "), cmd.text)
				continue
			}
			ran++
			status, stdout, stderr, err := runShell(work, env, append(slices.Clone(assignments), text))
			want := expectedStatus(trailingComment(cmd.text))
			problem := expectationOf(cmd.expected).check(status, want, stdout)
			if err != nil {
				problem = fmt.Sprintf("exit %v: %s", err, strings.TrimSpace(shimStatus.ReplaceAllString(stderr, "")))
			}
			if problem != "" {
				t.Errorf("README:%d: %s\n  %s\n  printed: %.600s", cmd.line, problem, cmd.text, stdout)
			} else {
				t.Logf("README:%d: %d %s\n  printed: %.300s", cmd.line, status, strings.SplitN(cmd.text, "\n", 2)[0], stdout)
			}
		}
	}
	if ran < 20 {
		t.Errorf("ran %d README commands; the sections %q to %q have more", ran, readmeFrom, readmeTo)
	}
	// What went up came down.
	if got, err := os.ReadFile(filepath.Join(work, "copy.jpg")); err == nil && !bytes.Equal(got, photo) {
		t.Errorf("copy.jpg (%d bytes) is not photo.jpg (%d bytes)", len(got), len(photo))
	}
}

// missingPrograms are the programs of a pipeline that are not installed.
func missingPrograms(programs []string) []string {
	var missing []string
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	return missing
}

// runShell runs lines with bash -o pipefail in dir and returns the last
// HTTP status curl wrote (0 if none), stdout, stderr and the exit error.
func runShell(dir string, env, lines []string) (status int, stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", strings.Join(lines, "\n"))
	cmd.Dir, cmd.Env = dir, env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if m := shimStatus.FindAllStringSubmatch(errOut.String(), -1); len(m) > 0 {
		status, _ = strconv.Atoi(m[len(m)-1][1])
	}
	return status, out.String(), errOut.String(), err
}

// TestREADMEParsing checks how the README test reads shell blocks.
func TestREADMEParsing(t *testing.T) {
	md := strings.Join([]string{
		"# title", "```sh", "curl not-in-range", "```",
		"## Quick start", "```sh", "make run", "# in another terminal:",
		"curl http://127.0.0.1:12380/k -d v     # 204 once committed", "```",
		"### Sub", "```go", "x := 1", "```",
		"```sh", "H=http://127.0.0.1:12380", "", "curl $H/v1/kv/a -d '{\"value\":\"\"}'", `# {"revision":1}`,
		"curl -i $H/v1/kv/a", `# ETag: "1"`, `# {"revision":1,"kv":{"key":"a",`, `#  "version":1}}`,
		"", "# a comment of its own", "curl -X POST $H/v1/txn -d '{", `  "success": []}'   # 200`, "```",
		"## HTTP API", "```bash", "curl -s localhost:32380/v1/status | jq .alarms", "```",
		"## After", "```sh", "curl after", "```",
	}, "\n")
	blocks := readmeBlocks(md, "## Quick start", "## HTTP API")
	var got []string
	for _, b := range blocks {
		for _, c := range b.commands {
			got = append(got, fmt.Sprintf("%d %s %q", c.line, b.section, c.text))
		}
	}
	want := []string{
		`7 ## Quick start "make run"`,
		`9 ## Quick start "curl http://127.0.0.1:12380/k -d v     # 204 once committed"`,
		`16 ### Sub "H=http://127.0.0.1:12380"`,
		`18 ### Sub "curl $H/v1/kv/a -d '{\"value\":\"\"}'"`,
		`20 ### Sub "curl -i $H/v1/kv/a"`,
		`26 ### Sub "curl -X POST $H/v1/txn -d '{\n  \"success\": []}'   # 200"`,
		`31 ## HTTP API "curl -s localhost:32380/v1/status | jq .alarms"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(blocks) == 3 {
		cmds := blocks[1].commands
		if e := expectationOf(cmds[2].expected); !slices.Equal(e.keys, []string{"revision", "kv", "key", "version"}) || !slices.Equal(e.headers, []string{"ETag"}) {
			t.Errorf("expectation of %q: %+v", cmds[2].text, e)
		}
		if e := expectationOf(cmds[1].expected); !slices.Equal(e.keys, []string{"revision"}) {
			t.Errorf("expectation of %q: %+v", cmds[1].text, e)
		}
		if len(cmds[3].expected) != 0 {
			t.Errorf("a comment after a blank line taken as output: %q", cmds[3].expected)
		}
		if len(blocks[0].commands) != 2 || len(blocks[0].commands[1].expected) != 0 {
			t.Errorf("quick start: %+v", blocks[0].commands)
		}
	}
}

// TestREADMECommandHelpers table-tests the helpers of the README test.
func TestREADMECommandHelpers(t *testing.T) {
	comments := []struct{ text, comment string }{
		{"curl x", ""},
		{"curl x   # 204 once committed", "204 once committed"},
		{`curl -H 'If-Match: "1"' $H/k -d '{"value":"#x"}'      # now 412:`, "now 412:"},
		{"curl -d '{\n\"a\":1}' # 200", "200"},
		{"curl -d '{ # not a comment\n}'", ""},
		{"curl x#y", ""},
	}
	for _, tt := range comments {
		if got := trailingComment(tt.text); got != tt.comment {
			t.Errorf("trailingComment(%q) = %q, want %q", tt.text, got, tt.comment)
		}
	}
	statuses := []struct {
		comment string
		want    int
	}{
		{"204 once committed and applied", 204},
		{"now 412:", 412},
		{"201; then start member 4 with --join", 201},
		{"200 if still at 2", 200},
		{"hello (read on another member)", 0},
		{"a 1 MiB value, 4096 bytes", 0},
		{"create only if absent", 0},
		{"ok, or 503 and why not", 0},
		{"2000 keys", 0},
	}
	for _, tt := range statuses {
		if got := expectedStatus(tt.comment); got != tt.want {
			t.Errorf("expectedStatus(%q) = %d, want %d", tt.comment, got, tt.want)
		}
	}
	kinds := []struct{ text, kind string }{
		{"make run", "cluster"},
		{"H=http://127.0.0.1:12380", "assign"},
		{"H=http://127.0.0.1:12380    # after the quick start", "assign"},
		{"H=$(hostname)", ""},
		{"curl http://127.0.0.1:12380/greeting", "curl"},
		{"curl -s localhost:12380/v1/status | jq .alarms", "curl"},
		{"curl -X POST http://host1:12380/v1/members -d '{}'", ""},
		{"bin/raftkv --id 4 --join", ""},
		{"docker network create raftkv", ""},
		{"echo 'curl | x'", ""},
	}
	for _, tt := range kinds {
		if got, why := commandKind(tt.text); got != tt.kind || (got == "") != (why != "") {
			t.Errorf("commandKind(%q) = %q, %q; want %q", tt.text, got, why, tt.kind)
		}
	}
	if got := pipeline(`curl -d 'a|b' x | jq . | head -1`); !slices.Equal(got, []string{"curl", "jq", "head"}) {
		t.Errorf("pipeline: %q", got)
	}
	rewrites := []struct{ in, want string }{
		{"curl http://127.0.0.1:12380/k", "curl http://127.0.0.1:20001/k"},
		{"curl localhost:22380/k; curl 127.0.0.1:32380", "curl localhost:20002/k; curl 127.0.0.1:20003"},
		{`curl $H/v1/members -d '{"address":"127.0.0.1:42379"}'`, `curl $H/v1/members -d '{"address":"127.0.0.1:42379"}'`},
		{"curl 127.0.0.1:123800", "curl 127.0.0.1:123800"},
	}
	for _, tt := range rewrites {
		if got := rewritePorts(tt.in, []int{20001, 20002, 20003}); got != tt.want {
			t.Errorf("rewritePorts(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	checks := []struct {
		e            expectation
		status, want int
		out, problem string
	}{
		{expectation{}, 204, 204, "", ""},
		{expectation{}, 200, 0, "hello", ""},
		{expectation{}, 404, 0, "", "status 404, want a success"},
		{expectation{}, 200, 412, "", "status 200, want 412"},
		{expectation{keys: []string{"error", "code"}}, 412, 0, `{"error":"x","code":"y"}`, ""},
		{expectation{keys: []string{"error"}}, 200, 0, `{"error":"x"}`, "status 200, want an error"},
		{expectation{keys: []string{"revision", "more"}}, 200, 0, `{"revision":3}`, `no "more" in the JSON`},
		{expectation{headers: []string{"ETag"}}, 200, 0, "HTTP/1.1 200 OK\r\netag: \"3\"\r\n", ""},
		{expectation{headers: []string{"ETag"}}, 200, 0, "HTTP/1.1 200 OK\r\n", "no ETag header"},
	}
	for i, tt := range checks {
		if got := tt.e.check(tt.status, tt.want, tt.out); got != tt.problem {
			t.Errorf("%d: check = %q, want %q", i, got, tt.problem)
		}
	}
}
