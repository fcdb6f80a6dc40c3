package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/testkit"
)

// cliCluster is an in-process cluster (testkit, on its simulated network)
// whose members serve raftkv's HTTP API on httptest servers of 127.0.0.1,
// for the commands to talk to.
type cliCluster struct {
	*testkit.Cluster
	urls []string
	// ranges counts the GET /v1/kv requests the members served: the
	// pages of ls.
	ranges atomic.Int64
}

// newCLICluster starts n members, serves their HTTP API and waits until
// every one is healthy. Cleanup stops the servers, then the members.
func newCLICluster(t *testing.T, n int) *cliCluster {
	t.Helper()
	c := &cliCluster{Cluster: testkit.NewCluster(t, n)}
	c.WaitLeader()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for id := uint64(1); id <= uint64(n); id++ {
		nd := c.Node(id)
		h := httpapi.New(nd.System().Root, nd.Proposer(), quiet)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/v1/kv" {
				c.ranges.Add(1)
			}
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		c.urls = append(c.urls, srv.URL)
	}
	testkit.AwaitCondition(t, "every member is healthy", func() bool {
		return c.run("", "endpoint", "health").code == ExitOK
	}, 20*time.Second)
	return c
}

// endpoints is the --endpoints of every member.
func (c *cliCluster) endpoints() string { return strings.Join(c.urls, ",") }

// run runs a command against every member: --endpoints goes before "--",
// which ends the flags.
func (c *cliCluster) run(stdin string, args ...string) cliResult {
	i := slices.Index(args, "--")
	if i < 0 {
		i = len(args)
	}
	return runCLI(stdin, nil, slices.Concat(args[:i], []string{"--endpoints", c.endpoints()}, args[i:])...)
}

// must runs a command that must exit 0, and returns its stdout.
func (c *cliCluster) must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := c.run(stdin, args...)
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("raftkv %q: %v; want exit 0 and nothing on stderr", args, r)
	}
	return r.stdout
}

// expect runs a command that must exit code with stderr saying errText,
// and returns what it did.
func (c *cliCluster) expect(t *testing.T, code int, errText, stdin string, args ...string) cliResult {
	t.Helper()
	r := c.run(stdin, args...)
	if r.code != code || !strings.Contains(r.stderr, errText) {
		t.Fatalf("raftkv %q: %v; want exit %d and stderr saying %q", args, r, code, errText)
	}
	return r
}

// decode parses the JSON a command printed into v.
func decode(t *testing.T, out string, v any) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("-o json printed %q, want one line", out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("-o json printed %q: %v", out, err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestCommands runs each command against a three-member cluster, for
// people and with -o json, and checks its output and exit code.
func TestCommands(t *testing.T) {
	c := newCLICluster(t, 3)

	t.Run("put and get", func(t *testing.T) {
		if out := c.must(t, "", "put", "greeting", "hello"); out != "OK\n" {
			t.Errorf("put printed %q, want OK", out)
		}
		if out := c.must(t, "", "get", "greeting"); out != "hello" {
			t.Errorf("get printed %q, want the value as it is", out)
		}
		var put api.PutReply
		decode(t, c.must(t, "", "put", "greeting", "hi", "-o", "json"), &put)
		var got api.GetReply
		decode(t, c.must(t, "", "get", "-o", "json", "greeting"), &got)
		if got.KV.Key != "greeting" || string(got.KV.Value) != "hi" || got.KV.ModRevision != put.Revision || got.KV.Version != 2 || got.Revision < put.Revision {
			t.Errorf("get -o json: %+v; want greeting=hi at mod_revision %d, version 2", got, put.Revision)
		}
		if out := c.must(t, "", "get", "greeting", "--serializable"); out != "hi" && out != "hello" {
			t.Errorf("get --serializable printed %q", out)
		}
		// "-" reads the value from stdin, bytes as they are.
		value := "two\nlines\x00and a NUL"
		c.must(t, value, "put", "raw", "-")
		if out := c.must(t, "", "get", "raw"); out != value {
			t.Errorf("get raw printed %q, want %q", out, value)
		}
		// After "--", keys and values may start with a dash.
		c.must(t, "", "put", "--", "-k", "-v")
		if out := c.must(t, "", "get", "--", "-k"); out != "-v" {
			t.Errorf("get -- -k printed %q, want -v", out)
		}
	})

	t.Run("get of a missing key exits 1", func(t *testing.T) {
		r := c.expect(t, ExitFailed, `key "missing" not found`, "", "get", "missing")
		if r.stdout != "" {
			t.Errorf("get of a missing key printed %q", r.stdout)
		}
		c.expect(t, ExitFailed, "not found", "", "get", "missing", "-o", "json")
	})

	t.Run("a request the member refuses exits 2", func(t *testing.T) {
		c.expect(t, ExitUsage, "over the limit", "", "put", strings.Repeat("k", 4097), "v")
		c.expect(t, ExitUsage, "", strings.Repeat("v", 1<<20+1), "put", "big", "-")
	})

	t.Run("del", func(t *testing.T) {
		for _, k := range []string{"d/1", "d/2", "d/3"} {
			c.must(t, "", "put", k, "x")
		}
		if out := c.must(t, "", "del", "d/1"); out != "1 deleted\n" {
			t.Errorf("del printed %q", out)
		}
		r := c.expect(t, ExitFailed, "", "", "del", "d/1")
		if r.stdout != "0 deleted\n" {
			t.Errorf("del of a missing key printed %q", r.stdout)
		}
		var del api.DeleteReply
		decode(t, c.must(t, "", "del", "d/", "--prefix", "-o", "json"), &del)
		if del.Deleted != 2 || del.Revision == 0 {
			t.Errorf("del --prefix -o json: %+v, want 2 deleted", del)
		}
		c.expect(t, ExitFailed, "not found", "", "get", "d/2")
	})

	t.Run("ls", func(t *testing.T) {
		var want []string
		for i := range 7 {
			k := fmt.Sprintf("ls/k%d", i)
			c.must(t, "", "put", k, fmt.Sprintf("v%d", i))
			want = append(want, k+"\t"+fmt.Sprintf("v%d", i))
		}
		c.must(t, "", "put", "lsz", "outside the prefix")
		lines := func(out string) []string { return strings.Split(strings.TrimSuffix(out, "\n"), "\n") }

		// Pages of 2: four requests, every key once, in order.
		before := c.ranges.Load()
		out := c.must(t, "", "ls", "--prefix", "ls/", "--page-size", "2")
		if got := lines(out); !slices.Equal(got, want) {
			t.Errorf("ls --prefix ls/ --page-size 2:\n%s\nwant\n%s", out, strings.Join(want, "\n"))
		}
		if n := c.ranges.Load() - before; n != 4 {
			t.Errorf("ls of 7 keys in pages of 2 made %d requests, want 4", n)
		}
		var all api.RangeReply
		decode(t, c.must(t, "", "ls", "--prefix", "ls/", "--page-size", "2", "-o", "json"), &all)
		if len(all.KVs) != 7 || all.More || all.Next != "" || all.KVs[6].Key != "ls/k6" || string(all.KVs[6].Value) != "v6" || all.Revision == 0 {
			t.Errorf("ls -o json in pages of 2: %+v, want the 7 keys and more false", all)
		}

		// --limit stops early; -o json says where to go on.
		before = c.ranges.Load()
		if got := lines(c.must(t, "", "ls", "--prefix", "ls/", "--limit", "3", "--page-size", "2")); !slices.Equal(got, want[:3]) {
			t.Errorf("ls --limit 3: %q, want %q", got, want[:3])
		}
		if n := c.ranges.Load() - before; n != 2 {
			t.Errorf("ls --limit 3 --page-size 2 made %d requests, want 2 (2 keys, then 1)", n)
		}
		var first api.RangeReply
		decode(t, c.must(t, "", "ls", "--prefix", "ls/", "--limit", "3", "-o", "json"), &first)
		if len(first.KVs) != 3 || !first.More || first.Next == "" {
			t.Fatalf("ls --limit 3 -o json: %+v, want 3 keys, more and next", first)
		}
		if got := lines(c.must(t, "", "ls", "--prefix", "ls/", "--next", first.Next, "--page-size", "3")); !slices.Equal(got, want[3:]) {
			t.Errorf("ls --next: %q, want %q", got, want[3:])
		}

		if got := lines(c.must(t, "", "ls", "--start", "ls/k2", "--end", "ls/k4")); !slices.Equal(got, want[2:4]) {
			t.Errorf("ls --start ls/k2 --end ls/k4: %q, want %q", got, want[2:4])
		}
		if got := lines(c.must(t, "", "ls", "--prefix", "ls/", "--keys-only", "--limit", "2")); !slices.Equal(got, []string{"ls/k0", "ls/k1"}) {
			t.Errorf("ls --keys-only: %q", got)
		}
		if out := c.must(t, "", "ls", "--prefix", "nothing/"); out != "" {
			t.Errorf("ls of an empty range printed %q", out)
		}
		var none api.RangeReply
		out = c.must(t, "", "ls", "--prefix", "nothing/", "-o", "json")
		decode(t, out, &none)
		if none.KVs == nil || len(none.KVs) != 0 || none.More || !strings.Contains(out, `"kvs":[]`) {
			t.Errorf("ls of an empty range -o json: %s", out)
		}
		// A key that is not UTF-8 is quoted for people and exact in JSON.
		c.must(t, "", "put", "bin/\xff", "x\ty")
		if out := c.must(t, "", "ls", "--prefix", "bin/"); out != `"bin/\xff"`+"\t"+`"x\ty"`+"\n" {
			t.Errorf("ls of a key that is not UTF-8 printed %q", out)
		}
		var bin api.RangeReply
		decode(t, c.must(t, "", "ls", "--prefix", "bin/", "-o", "json"), &bin)
		if len(bin.KVs) != 1 || string(bin.KVs[0].KeyBytes()) != "bin/\xff" {
			t.Errorf("ls -o json of a key that is not UTF-8: %+v", bin)
		}
		c.expect(t, ExitUsage, "", "", "ls", "--next", "not a token!")
	})

	t.Run("cas", func(t *testing.T) {
		c.must(t, "", "put", "c", "v1")
		if out := c.must(t, "", "cas", "c", "v1", "v2"); out != "OK\n" {
			t.Errorf("cas printed %q", out)
		}
		r := c.expect(t, ExitFailed, `the value of key "c" is "v2"`, "", "cas", "c", "v1", "v3")
		if r.stdout != "" {
			t.Errorf("a failed cas printed %q", r.stdout)
		}
		if out := c.must(t, "", "get", "c"); out != "v2" {
			t.Errorf("after a failed cas, c is %q, want v2", out)
		}
		var failed api.TxnReply
		decode(t, c.expect(t, ExitFailed, "condition failed", "", "cas", "c", "v1", "v3", "-o", "json").stdout, &failed)
		if failed.Succeeded || len(failed.Responses) != 1 || failed.Responses[0].Get == nil || string(failed.Responses[0].Get.KVs[0].Value) != "v2" {
			t.Errorf("failed cas -o json: %+v, want the failure branch's get of v2", failed)
		}

		var got api.GetReply
		decode(t, c.must(t, "", "get", "c", "-o", "json"), &got)
		rev := fmt.Sprint(got.KV.ModRevision)
		var ok api.TxnReply
		decode(t, c.must(t, "", "cas", "c", "v4", "--mod-revision", rev, "-o", "json"), &ok)
		if !ok.Succeeded || ok.Revision <= got.KV.ModRevision {
			t.Errorf("cas --mod-revision -o json: %+v", ok)
		}
		c.expect(t, ExitFailed, `key "c" is at mod_revision `+fmt.Sprint(ok.Revision), "", "cas", "c", "v5", "--mod-revision", rev)
		// --mod-revision 0: create only if absent.
		c.must(t, "", "cas", "--mod-revision", "0", "created", "1")
		c.expect(t, ExitFailed, "", "", "cas", "--mod-revision", "0", "created", "2")
		c.expect(t, ExitFailed, `key "absent" does not exist`, "", "cas", "absent", "x", "y")
		// NEW from stdin.
		c.must(t, "v5", "cas", "c", "v4", "-")
		if out := c.must(t, "", "get", "c"); out != "v5" {
			t.Errorf("after cas from stdin, c is %q, want v5", out)
		}
	})

	t.Run("txn", func(t *testing.T) {
		c.must(t, "", "put", "t/balance", "100")
		txn := func(value string) string {
			return `{"compare":[{"key":"t/balance","target":"value","result":"equal","value":"` + b64(value) + `"}],
				"success":[{"put":{"key":"t/savings","value":"` + b64("100") + `"}},{"delete":{"key":"t/balance"}}],
				"failure":[{"get":{"key":"t/","prefix":true}}]}`
		}
		if out := c.must(t, txn("100"), "txn"); out != "SUCCEEDED\nOK\n1 deleted\n" {
			t.Errorf("txn printed %q", out)
		}
		r := c.expect(t, ExitFailed, "", txn("100"), "txn")
		if r.stdout != "FAILED\nt/savings\t100\n" {
			t.Errorf("a failed txn printed %q", r.stdout)
		}
		var reply api.TxnReply
		decode(t, c.expect(t, ExitFailed, "", txn("100"), "txn", "-o", "json").stdout, &reply)
		if reply.Succeeded || len(reply.Responses) != 1 || reply.Responses[0].Get == nil || len(reply.Responses[0].Get.KVs) != 1 {
			t.Errorf("failed txn -o json: %+v", reply)
		}
		decode(t, c.must(t, `{"compare":[{"key":"t/balance","target":"exists","result":"equal"}],"success":[{"get":{"key":"t/savings"}}]}`, "txn", "-o", "json"), &reply)
		if !reply.Succeeded || string(reply.Responses[0].Get.KVs[0].Value) != "100" {
			t.Errorf("txn -o json: %+v", reply)
		}
		// What only the member checks (limits) is a usage error too.
		c.expect(t, ExitUsage, "limit", `{"success":[{"get":{"key":"a","prefix":true,"limit":20000}}]}`, "txn")
	})

	t.Run("members", func(t *testing.T) {
		out := c.must(t, "", "members")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") {
			t.Errorf("members printed\n%s\nwant a header and 3 rows", out)
		}
		for id := uint64(1); id <= 3; id++ {
			if !strings.Contains(out, c.Address(id)) {
				t.Errorf("members does not list %s:\n%s", c.Address(id), out)
			}
		}
		var members api.MembersReply
		decode(t, c.must(t, "", "members", "list", "-o", "json"), &members)
		if len(members.Members) != 3 || members.Leader == 0 {
			t.Errorf("members -o json: %+v", members)
		}
		c.expect(t, ExitFailed, "refused (member_exists)", "", "members", "add", "2", "member-9:1")
		c.expect(t, ExitFailed, "refused (member_not_found)", "", "members", "remove", "99")
		c.expect(t, ExitFailed, "member_not_found", "", "members", "promote", "99")
		c.expect(t, ExitUsage, "refused (", "", "members", "add", "5", "::bad")
	})

	t.Run("status", func(t *testing.T) {
		out := c.must(t, "", "status")
		for _, u := range c.urls {
			if !strings.Contains(out, u) {
				t.Errorf("status does not show %s:\n%s", u, out)
			}
		}
		if strings.Count(out, " leader ") != 1 {
			t.Errorf("status shows not one leader:\n%s", out)
		}
		var rows []struct {
			Endpoint string `json:"endpoint"`
			api.StatusReply
			Error string `json:"error"`
		}
		decode(t, c.must(t, "", "status", "-o", "json"), &rows)
		leaders := map[uint64]bool{}
		for i, r := range rows {
			if r.Endpoint != c.urls[i] || r.ID != uint64(i+1) || r.Error != "" || !r.Serving || len(r.Members) != 3 {
				t.Errorf("status -o json row %d: %+v", i, r)
			}
			leaders[r.Leader] = true
		}
		if len(rows) != 3 || len(leaders) != 1 || leaders[0] {
			t.Errorf("status -o json: %d rows, leaders %v", len(rows), leaders)
		}
		// An endpoint that does not answer: the others are shown, exit 3.
		closed := closedEndpoint(t)
		r := runCLI("", nil, "status", "--endpoints", c.endpoints()+","+closed)
		if r.code != ExitUnavailable || !strings.Contains(r.stdout, "error: ") || !strings.Contains(r.stdout, c.urls[2]) || !strings.Contains(r.stderr, closed) {
			t.Errorf("status with a closed endpoint: %v", r)
		}
	})

	t.Run("endpoint health", func(t *testing.T) {
		out := c.must(t, "", "endpoint", "health")
		if strings.Count(out, " is healthy") != 3 {
			t.Errorf("endpoint health printed\n%s", out)
		}
		var rows []health
		decode(t, c.must(t, "", "endpoint", "health", "-o", "json"), &rows)
		if len(rows) != 3 || !rows[0].Healthy || !rows[1].Healthy || !rows[2].Healthy || rows[0].Endpoint != c.urls[0] {
			t.Errorf("endpoint health -o json: %+v", rows)
		}
		closed := closedEndpoint(t)
		r := runCLI("", nil, "endpoint", "health", "--endpoints", c.urls[0]+","+closed)
		if r.code != ExitUnavailable || !strings.Contains(r.stdout, closed+" is unhealthy") || !strings.Contains(r.stderr, "1 of 2 endpoints unhealthy") {
			t.Errorf("endpoint health with a closed endpoint: %v", r)
		}
	})

	t.Run("RAFTKV_ENDPOINTS", func(t *testing.T) {
		env := map[string]string{"RAFTKV_ENDPOINTS": c.endpoints()}
		if r := runCLI("", env, "get", "greeting"); r.code != ExitOK || r.stdout != "hi" {
			t.Errorf("get with RAFTKV_ENDPOINTS: %v", r)
		}
		// The flag wins over the environment.
		env["RAFTKV_ENDPOINTS"] = closedEndpoint(t)
		if r := runCLI("", env, "get", "greeting", "--endpoints", c.urls[1]); r.code != ExitOK || r.stdout != "hi" {
			t.Errorf("get with --endpoints and RAFTKV_ENDPOINTS of a closed port: %v", r)
		}
	})

	t.Run("a learner added, promoted and removed", func(t *testing.T) {
		out := c.must(t, "", "members", "add", "4", c.Address(4), "--learner")
		if !strings.Contains(out, "added member 4 as a learner") {
			t.Errorf("members add --learner printed %q", out)
		}
		var members api.MembersReply
		decode(t, c.must(t, "", "members", "-o", "json"), &members)
		if i := slices.IndexFunc(members.Members, func(m api.Member) bool { return m.ID == 4 }); i < 0 || members.Members[i].Role != "learner" {
			t.Fatalf("members after adding learner 4: %+v", members.Members)
		}
		c.Join(4)
		// Promotion is refused (exit 1) until the learner caught up.
		testkit.AwaitCondition(t, "learner 4 is promoted", func() bool {
			r := c.run("", "members", "promote", "4")
			if r.code != ExitOK && r.code != ExitFailed {
				t.Fatalf("members promote 4: %v; want exit 0, or 1 while it catches up", r)
			}
			return r.code == ExitOK && r.stdout == "promoted member 4 to voter\n"
		}, 20*time.Second)
		decode(t, c.must(t, "", "members", "-o", "json"), &members)
		if len(members.Members) != 4 || members.Members[3].Role != "voter" {
			t.Fatalf("members after promoting 4: %+v", members.Members)
		}
		if out := c.must(t, "", "members", "remove", "4"); out != "removed member 4\n" {
			t.Errorf("members remove printed %q", out)
		}
		decode(t, c.must(t, "", "members", "-o", "json"), &members)
		if len(members.Members) != 3 {
			t.Errorf("members after removing 4: %+v", members.Members)
		}
		testkit.AwaitCondition(t, "member 4 stops", func() bool { return c.Exited(4) != nil }, 20*time.Second)
	})

	// Last: the cluster loses its quorum.
	t.Run("no leader exits 3", func(t *testing.T) {
		c.Stop(2)
		c.Stop(3)
		one := c.urls[0]
		testkit.AwaitCondition(t, "member 1 is unhealthy", func() bool {
			r := runCLI("", nil, "endpoint", "health", "--endpoints", one)
			return r.code == ExitUnavailable && strings.Contains(r.stdout, "is unhealthy")
		}, 20*time.Second)
		for _, args := range [][]string{{"get", "greeting"}, {"put", "k", "v"}, {"ls"}} {
			r := runCLI("", nil, append(args, "--endpoints", one, "--timeout", "2s")...)
			if r.code != ExitUnavailable || r.stderr == "" {
				t.Errorf("raftkv %q without a quorum: %v; want exit 3", args, r)
			}
		}
		// A serializable read needs no quorum.
		if r := runCLI("", nil, "get", "greeting", "--serializable", "--endpoints", one); r.code != ExitOK || r.stdout != "hi" {
			t.Errorf("get --serializable without a quorum: %v", r)
		}
	})
}
