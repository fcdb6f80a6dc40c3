package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/testkit"
)

// cliOutcome is what one run of the raftkv binary did.
type cliOutcome struct {
	code           int
	stdout, stderr string
}

func (o cliOutcome) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", o.code, o.stdout, o.stderr)
}

// cliEnv is the environment of the binary: this process's without any
// RAFTKV_ variable, so that the machine's cannot change what a test
// runs, and vars ("NAME=value"). The binary is built with the race
// detector, which waits a second before a successful exit unless
// GORACE's atexit_sleep_ms says otherwise: a command exits at once (a
// race it found still makes it exit 66).
func cliEnv(vars ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(v string) bool {
		return strings.HasPrefix(v, "RAFTKV_") || strings.HasPrefix(v, "GORACE=")
	})
	env = append(env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return append(env, vars...)
}

// cliExec runs the raftkv binary as a user would, with stdin and the
// environment variables vars, and waits for it to exit (at most a minute).
func cliExec(t *testing.T, stdin string, vars []string, args ...string) cliOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = cliEnv(vars...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
	case err != nil:
		t.Fatalf("raftkv %q: %v", args, err)
	}
	return cliOutcome{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// cliExpect runs the binary and fails the test unless it exits code; it
// returns what the binary did.
func cliExpect(t *testing.T, code int, stdin string, vars []string, args ...string) cliOutcome {
	t.Helper()
	o := cliExec(t, stdin, vars, args...)
	if o.code != code || (code == 0 && o.stderr != "") || (code != 0 && o.stderr == "") {
		t.Fatalf("raftkv %q: %v; want exit %d (and stderr only on failure)", args, o, code)
	}
	return o
}

// decodeCLI parses the -o json of a command.
func decodeCLI(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("-o json printed %q: %v", out, err)
	}
}

// cliClosedPort is a port of 127.0.0.1 nobody listens on (it was free a
// moment ago).
func cliClosedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestCLIRoundTrip runs every command of the binary against a cluster of
// three members, with the exit codes the README documents.
func TestCLIRoundTrip(t *testing.T) {
	c := newCluster(t, 3)
	eps := "--endpoints=" + strings.Join([]string{c.url(1, ""), c.url(2, ""), c.url(3, "")}, ",")

	if o := cliExpect(t, 0, "", nil, "put", "greeting", "hello", eps); o.stdout != "OK\n" {
		t.Errorf("put printed %q", o.stdout)
	}
	if o := cliExpect(t, 0, "", nil, "get", "greeting", eps); o.stdout != "hello" {
		t.Errorf("get printed %q, want hello", o.stdout)
	}
	// Another member reads it too: the write went through raft.
	if o := cliExpect(t, 0, "", nil, "get", "greeting", "--endpoints", c.url(3, "")); o.stdout != "hello" {
		t.Errorf("get on member 3 printed %q, want hello", o.stdout)
	}
	var got api.GetReply
	decodeCLI(t, cliExpect(t, 0, "", nil, "get", "greeting", "-o", "json", eps).stdout, &got)
	if got.KV.Key != "greeting" || string(got.KV.Value) != "hello" || got.KV.ModRevision == 0 {
		t.Errorf("get -o json: %+v", got)
	}
	if o := cliExpect(t, 1, "", nil, "get", "missing", eps); o.stdout != "" || !strings.Contains(o.stderr, "not found") {
		t.Errorf("get of a missing key: %v", o)
	}

	// Values from stdin; del exits 1 when nothing was there.
	cliExpect(t, 0, "from stdin\n", nil, "put", "d/1", "-", eps)
	if o := cliExpect(t, 0, "", nil, "get", "d/1", eps); o.stdout != "from stdin\n" {
		t.Errorf("get of a value from stdin printed %q", o.stdout)
	}
	cliExpect(t, 0, "", nil, "del", "d/1", eps)
	cliExpect(t, 1, "", nil, "get", "d/1", eps)
	if o := cliExec(t, "", nil, "del", "d/1", eps); o.code != 1 || o.stdout != "0 deleted\n" {
		t.Errorf("del of a missing key: %v; want exit 1", o)
	}

	// ls in pages of one key.
	for i := range 5 {
		cliExpect(t, 0, "", nil, "put", fmt.Sprintf("users/%d", i), fmt.Sprint(i*i), eps)
	}
	want := "users/0\t0\nusers/1\t1\nusers/2\t4\nusers/3\t9\nusers/4\t16\n"
	if o := cliExpect(t, 0, "", nil, "ls", "--prefix", "users/", "--page-size", "1", eps); o.stdout != want {
		t.Errorf("ls printed\n%s\nwant\n%s", o.stdout, want)
	}
	var page api.RangeReply
	decodeCLI(t, cliExpect(t, 0, "", nil, "ls", "--prefix", "users/", "--limit", "2", "-o", "json", eps).stdout, &page)
	if len(page.KVs) != 2 || !page.More || page.Next == "" {
		t.Fatalf("ls --limit 2 -o json: %+v", page)
	}
	if o := cliExpect(t, 0, "", nil, "ls", "--prefix", "users/", "--next", page.Next, "--keys-only", eps); o.stdout != "users/2\nusers/3\nusers/4\n" {
		t.Errorf("ls --next printed %q", o.stdout)
	}

	// cas: 0 when it swapped, 1 when the value was another.
	cliExpect(t, 0, "", nil, "cas", "greeting", "hello", "hi", eps)
	if o := cliExpect(t, 1, "", nil, "cas", "greeting", "hello", "yo", eps); !strings.Contains(o.stderr, `is "hi"`) {
		t.Errorf("a failed cas: %v; want stderr saying the value is hi", o)
	}
	cliExpect(t, 0, "", nil, "cas", "lock", "me", "--mod-revision", "0", eps)
	cliExpect(t, 1, "", nil, "cas", "lock", "you", "--mod-revision", "0", eps)

	// txn: 0 when the compares held, 1 when the failure branch ran.
	txn := `{"compare":[{"key":"greeting","target":"value","result":"equal","value":"` + base64.StdEncoding.EncodeToString([]byte("hi")) + `"}],
		"success":[{"put":{"key":"greeting","value":"` + base64.StdEncoding.EncodeToString([]byte("bye")) + `"}}],
		"failure":[{"get":{"key":"greeting"}}]}`
	if o := cliExpect(t, 0, txn, nil, "txn", eps); o.stdout != "SUCCEEDED\nOK\n" {
		t.Errorf("txn printed %q", o.stdout)
	}
	var reply api.TxnReply
	decodeCLI(t, cliExec(t, txn, nil, "txn", "-o", "json", eps).stdout, &reply)
	if reply.Succeeded || len(reply.Responses) != 1 || string(reply.Responses[0].Get.KVs[0].Value) != "bye" {
		t.Errorf("a failed txn -o json: %+v", reply)
	}
	if o := cliExec(t, txn, nil, "txn", eps); o.code != 1 || o.stdout != "FAILED\ngreeting\tbye\n" {
		t.Errorf("a failed txn: %v; want exit 1", o)
	}
	cliExpect(t, 2, `{"compare":[{"key":"a","target":"value","result":"equal","version":1}]}`, nil, "txn", eps)

	// The cluster's view.
	if o := cliExpect(t, 0, "", nil, "members", eps); strings.Count(o.stdout, "voter") != 3 {
		t.Errorf("members printed\n%s", o.stdout)
	}
	var rows []struct {
		Endpoint string `json:"endpoint"`
		api.StatusReply
	}
	decodeCLI(t, cliExpect(t, 0, "", nil, "status", "-o", "json", eps).stdout, &rows)
	if len(rows) != 3 || rows[0].ID != 1 || rows[2].ID != 3 || rows[0].Leader == 0 || rows[1].Leader != rows[0].Leader {
		t.Errorf("status -o json: %+v", rows)
	}
	if o := cliExpect(t, 0, "", nil, "endpoint", "health", eps); strings.Count(o.stdout, "is healthy") != 3 {
		t.Errorf("endpoint health printed\n%s", o.stdout)
	}

	// RAFTKV_ENDPOINTS instead of the flag; the flag wins over it.
	env := []string{"RAFTKV_ENDPOINTS=" + c.url(2, "")}
	if o := cliExpect(t, 0, "", env, "get", "greeting"); o.stdout != "bye" {
		t.Errorf("get with RAFTKV_ENDPOINTS printed %q", o.stdout)
	}
	closed := "http://" + cliClosedPort(t)
	if o := cliExpect(t, 0, "", []string{"RAFTKV_ENDPOINTS=" + closed}, "get", "greeting", "--endpoints", c.url(1, "")); o.stdout != "bye" {
		t.Errorf("get with --endpoints over RAFTKV_ENDPOINTS printed %q", o.stdout)
	}

	// No member reachable: exit 3.
	cliExpect(t, 3, "", nil, "get", "greeting", "--endpoints", closed)
	cliExpect(t, 3, "", []string{"RAFTKV_ENDPOINTS=" + closed}, "put", "k", "v")
	cliExpect(t, 3, "", nil, "endpoint", "health", "--endpoints", c.url(1, "")+","+closed)
}

// TestCLIMembership grows the cluster the safe way with the binary, the
// endpoints in RAFTKV_ENDPOINTS: a learner added, started with --join,
// promoted once it caught up, then removed (its process exits).
func TestCLIMembership(t *testing.T) {
	c := newCluster(t, 3)
	env := []string{"RAFTKV_ENDPOINTS=" + strings.Join([]string{c.url(1, ""), c.url(2, ""), c.url(3, "")}, ",")}
	cliExpect(t, 0, "", env, "put", "before", "the learner")

	id := c.addSlot()
	sid := fmt.Sprint(id)
	o := cliExpect(t, 0, "", env, "members", "add", "--learner", sid, c.peers[id-1])
	if !strings.Contains(o.stdout, "added member "+sid+" as a learner") {
		t.Errorf("members add --learner printed %q", o.stdout)
	}
	// Added twice: refused, exit 1.
	cliExpect(t, 1, "", env, "members", "add", "--learner", sid, c.peers[id-1])
	c.start(id, true)

	testkit.AwaitCondition(t, "learner "+sid+" is promoted", func() bool {
		o := cliExec(t, "", env, "members", "promote", sid)
		switch o.code {
		case 0:
			return true
		case 1, 3: // not caught up yet; a change right after another may find no leader for a moment
			return false
		}
		t.Fatalf("members promote %s: %v", sid, o)
		return false
	}, 30*time.Second)
	var members api.MembersReply
	decodeCLI(t, cliExpect(t, 0, "", env, "members", "list", "-o", "json").stdout, &members)
	if len(members.Members) != 4 || members.Members[3].ID != id || members.Members[3].Role != "voter" {
		t.Fatalf("members after the promotion: %+v", members.Members)
	}
	// The new member serves reads of what was written before it came.
	if o := cliExpect(t, 0, "", nil, "get", "before", "--endpoints", c.url(id, "")); o.stdout != "the learner" {
		t.Errorf("get on the new member printed %q", o.stdout)
	}

	if o := cliExpect(t, 0, "", env, "members", "remove", sid); o.stdout != "removed member "+sid+"\n" {
		t.Errorf("members remove printed %q", o.stdout)
	}
	select {
	case <-c.procs[id].exited:
	case <-time.After(testkit.Dilated(20 * time.Second)):
		t.Fatalf("removed member %d did not exit", id)
	}
	if err := c.procs[id].err; err != nil {
		t.Errorf("removed member %d exited with %v, want a clean exit", id, err)
	}
	cliExpect(t, 1, "", env, "members", "remove", sid)
	cliExpect(t, 1, "", env, "members", "promote", sid)
	decodeCLI(t, cliExpect(t, 0, "", env, "members", "-o", "json").stdout, &members)
	if len(members.Members) != 3 {
		t.Errorf("members after the removal: %+v", members.Members)
	}
}

// TestCLIUsage checks the binary's help, version and argument errors.
func TestCLIUsage(t *testing.T) {
	o := cliExpect(t, 0, "", nil, "--help")
	for _, f := range []string{"id", "name", "cluster", "port", "join", "data-dir", "snapshot-count", "catch-up-entries",
		"listen-peer", "advertise-peer", "listen-client", "advertise-client", "max-connections", "space-reserve",
		"repair-wal", "log-format", "log-level"} {
		env := "RAFTKV_" + strings.ToUpper(strings.ReplaceAll(f, "-", "_"))
		if !strings.Contains(o.stdout, "--"+f+" ") || !strings.Contains(o.stdout, "env "+env) {
			t.Errorf("--help does not show --%s and %s", f, env)
		}
	}
	for _, w := range []string{"--version", "--help", "put KEY VALUE", "endpoint health"} {
		if !strings.Contains(o.stdout, w) {
			t.Errorf("--help does not say %q", w)
		}
	}
	if t.Failed() {
		t.Logf("--help:\n%s", o.stdout)
	}

	o = cliExpect(t, 0, "", nil, "--version")
	if !strings.HasPrefix(o.stdout, "raftkv ") || !strings.Contains(o.stdout, "(commit ") || !strings.Contains(o.stdout, runtime.Version()) {
		t.Errorf("--version printed %q, want the version, the commit and the Go version (%s)", o.stdout, runtime.Version())
	}

	for _, args := range [][]string{{"help"}, {"help", "ls"}, {"ls", "--help"}, {"members", "--help"}} {
		if o := cliExpect(t, 0, "", nil, args...); !strings.Contains(o.stdout, "Usage:") {
			t.Errorf("raftkv %q printed %q", args, o.stdout)
		}
	}

	// What the binary does not understand exits 2 and says what was wrong,
	// before it talks to any member (the endpoint is a closed port: a
	// request would exit 3).
	closed := "--endpoints=http://" + cliClosedPort(t)
	for _, tt := range []struct {
		vars []string
		args []string
		err  string
	}{
		{args: []string{"put", "foo", closed}, err: "missing arguments: want KEY VALUE|-, got 1 argument"},
		{args: []string{"frobnicate"}, err: `unknown command "frobnicate"`},
		{args: []string{"get", "k", "--frob", closed}, err: "flag provided but not defined: -frob"},
		{args: []string{"members", "add", "four", "127.0.0.1:1", closed}, err: `member id "four"`},
		{args: []string{"--frob"}, err: "flag provided but not defined: -frob"},
		{args: []string{"--port", "1", "extra"}, err: `unexpected argument "extra"`},
		{args: []string{"--log-format", "xml"}, err: `--log-format "xml"`},
		{vars: []string{"RAFTKV_LOG_LEVEL=loud"}, err: `--log-level "loud"`},
		{vars: []string{"RAFTKV_PORT=http"}, err: `RAFTKV_PORT="http": invalid value for --port`},
		{vars: []string{"RAFTKV_TIMEOUT=5"}, args: []string{"get", "k", closed}, err: `RAFTKV_TIMEOUT="5"`},
	} {
		o := cliExec(t, "", tt.vars, tt.args...)
		if o.code != 2 || o.stdout != "" || !strings.Contains(o.stderr, tt.err) {
			t.Errorf("raftkv %q (env %q): %v; want exit 2 and stderr saying %q", tt.args, tt.vars, o, tt.err)
		}
	}
}

// TestCLIMemberFromEnvironment starts a member with no argument at all,
// every flag from its RAFTKV_ variable, and talks to it with the binary.
func TestCLIMemberFromEnvironment(t *testing.T) {
	peer, httpPort := ports.MustNext(t), ports.MustNext(t)
	dir := filepath.Join(t.TempDir(), "member")
	cmd := exec.Command(binPath)
	cmd.Env = cliEnv("RAFTKV_ID=7", "RAFTKV_NAME=from-env", fmt.Sprintf("RAFTKV_CLUSTER=7=127.0.0.1:%d", peer),
		fmt.Sprintf("RAFTKV_PORT=%d", httpPort), "RAFTKV_DATA_DIR="+dir, "RAFTKV_LOG_FORMAT=json")
	var log bytes.Buffer // read once the process exited
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ep := fmt.Sprintf("--endpoints=http://127.0.0.1:%d", httpPort)
	testkit.AwaitCondition(t, "the member is healthy", func() bool {
		return cliExec(t, "", nil, "endpoint", "health", ep).code == 0
	}, 20*time.Second)
	cliExpect(t, 0, "", nil, "put", "k", "v", ep)
	var st []struct{ api.StatusReply }
	decodeCLI(t, cliExpect(t, 0, "", nil, "status", "-o", "json", ep).stdout, &st)
	if len(st) != 1 || st[0].ID != 7 || st[0].Name != "from-env" || st[0].State != "leader" {
		t.Errorf("status of the member from the environment: %+v", st)
	}
	if o := cliExpect(t, 0, "", nil, "status", ep); !strings.Contains(o.stdout, "from-env") {
		t.Errorf("status does not show the name of RAFTKV_NAME:\n%s", o.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "wal")); err != nil {
		t.Errorf("the member's data is not in RAFTKV_DATA_DIR: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if exitErr != nil {
			t.Errorf("the member exited with %v\n%s", exitErr, tail(log.String(), 20))
		}
	case <-time.After(testkit.Dilated(20 * time.Second)):
		t.Fatal("the member did not stop on SIGTERM")
	}
	// RAFTKV_LOG_FORMAT=json: every line of its log is JSON.
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("a log line is not JSON: %q", line)
		}
	}
}
