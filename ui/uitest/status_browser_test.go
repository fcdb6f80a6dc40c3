package uitest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/raftkv/raftkv/httpapi"
	"github.com/raftkv/raftkv/testkit"
)

// ArtifactsEnv names the environment variable of the directory where the
// test leaves its screenshots; without it they go to a temporary
// directory of the test.
const ArtifactsEnv = "RAFTKV_ARTIFACTS"

// browsers are the names Chromium goes by, in the order they are looked
// for.
var browsers = []string{"chromium", "chromium-browser", "google-chrome"}

// findBrowser is the path of the first of browsers on $PATH, or "".
func findBrowser() string {
	for _, name := range browsers {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	return ""
}

// newBrowser starts headless Chromium for the test, stopped (and its
// profile directory removed) when the test ends, and returns a tab's
// context and the page's console messages that are errors: uncaught
// exceptions, console.error, and the browser's errors, which include
// Content-Security-Policy violations and, with network, answers that are
// HTTP errors.
func newBrowser(t *testing.T) (ctx context.Context, consoleErrors func(network bool) []string) {
	t.Helper()
	path := findBrowser()
	if path == "" {
		t.Skipf("no Chromium on $PATH (looked for %s): apt-get install chromium to run the status page's browser test",
			strings.Join(browsers, ", "))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1280, 860))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, testkit.Dilated(90*time.Second))
	t.Cleanup(cancelTimeout)

	var mu sync.Mutex
	var errs []chromedp.ConsoleMessage
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				mu.Lock()
				errs = append(errs, m)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelTimeout()
		<-done
	})
	return ctx, func(network bool) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, m := range errs {
			if network || m.Source != "network" {
				out = append(out, m.String())
			}
		}
		return out
	}
}

// startCluster starts a cluster of three members, serves each one's HTTP
// API, and returns the cluster and the URLs by member id.
func startCluster(t *testing.T) (*testkit.Cluster, map[uint64]string) {
	t.Helper()
	// Ticks of 50 ms (elections after 0.5 s to 1 s): no spurious election
	// on a machine slowed down by the race detector and a browser.
	c := testkit.NewCluster(t, 3, testkit.WithTickInterval(50*time.Millisecond))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	urls := map[uint64]string{}
	for id := uint64(1); id <= 3; id++ {
		n := c.Node(id)
		srv := httptest.NewServer(httpapi.New(n.System().Root, n.Proposer(), quiet))
		t.Cleanup(srv.Close)
		urls[id] = srv.URL
	}
	return c, urls
}

// writeLoad puts keys through the member at url, one at a time, until the
// function it returns is called (or the test ends).
func writeLoad(t *testing.T, url string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, fmt.Sprintf("%s/load/%d", url, i), strings.NewReader("v"))
			if err != nil {
				return
			}
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// saveScreenshot takes a screenshot of the whole page and writes it to
// the artifacts directory as name.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("artifacts directory: %v", err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot of the status page: %s (set %s to keep it)", path, ArtifactsEnv)
}

// pageState is what the status page shows, read from its DOM.
type pageState struct {
	Title   string   `json:"title"`
	Self    string   `json:"self"`
	State   string   `json:"state"`
	Ready   string   `json:"ready"`
	Leader  string   `json:"leader"`
	Term    string   `json:"term"`
	Commit  string   `json:"commit"`
	Applied string   `json:"applied"`
	Writes  string   `json:"writes"`
	Name    string   `json:"name"`
	Keys    string   `json:"keys"`
	Data    string   `json:"data"`
	Members []string `json:"members"` // ids of the rows, in order
	Matches []string `json:"matches"` // match indexes of the rows ("" but on the leader)
	Roles   []string `json:"roles"`
	Leaders []string `json:"leaders"` // ids of the rows marked leader
	Error   bool     `json:"error"`   // the "does not answer" banner shows
	Checks  string   `json:"checks"`  // the readiness checks, when not ready
}

// readPage is the JavaScript that reads a pageState.
const readPage = `(() => {
  const text = (id) => document.getElementById(id).textContent;
  const rows = Array.from(document.querySelectorAll("#members tbody tr"));
  return {
    title: document.title, self: text("self"), state: text("state"), ready: text("ready"),
    leader: text("leader"), term: text("term"), commit: text("commit"), applied: text("applied"),
    writes: text("writes"), name: text("name"), keys: text("keys"), data: text("datasize"),
    members: rows.map((r) => r.dataset.member),
    matches: rows.map((r) => r.children[5].textContent),
    roles: rows.map((r) => r.children[1].textContent),
    leaders: rows.filter((r) => r.dataset.leader === "true").map((r) => r.dataset.member),
    error: !document.getElementById("error").hidden,
    checks: document.getElementById("notready").hidden ? "" : text("checks"),
  };
})()`

// TestStatusPageInBrowser loads the status page of a member of a cluster
// of three in headless Chromium and checks that it shows the members,
// their roles and the leader, with no error in the console; then that it
// says "not ready", with the failed check, once a follower is cut off
// from the others. It leaves a screenshot of each.
func TestStatusPageInBrowser(t *testing.T) {
	ctx, consoleErrors := newBrowser(t)
	c, urls := startCluster(t)
	c.WaitLeader()
	const viewed = 2
	if err := chromedp.Do(ctx, chromedp.Navigate(urls[viewed]+"/ui")); err != nil {
		t.Fatalf("load %s/ui: %v", urls[viewed], err)
	}
	// Wait until the page shows three members and, on the leader's row and
	// its card, the leader the cluster agrees on, and that it is ready.
	var st pageState
	var leader uint64
	shown := func() bool {
		var err error
		if st, err = chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage)); err != nil {
			t.Fatalf("read the page: %v", err)
		}
		leader = c.Leader()
		want := fmt.Sprint(leader)
		return leader != 0 && len(st.Members) == 3 && st.Leader == want && slices.Equal(st.Leaders, []string{want}) && st.Ready == "ready"
	}
	if !testkit.Eventually(shown, 20*time.Second) {
		saveScreenshot(t, ctx, "status-page-timeout.png")
		t.Fatalf("the page never showed three members and the leader (%d): it shows %+v; console errors: %q", leader, st, consoleErrors(true))
	}
	if !slices.Equal(st.Members, []string{"1", "2", "3"}) || !slices.Equal(st.Roles, []string{"voter", "voter", "voter"}) {
		t.Errorf("members %v with roles %v, want 1, 2, 3, all voters", st.Members, st.Roles)
	}
	state := "follower"
	if leader == viewed {
		state = "leader"
	}
	if st.Self != fmt.Sprint(viewed) || st.State != state || st.Title != fmt.Sprintf("raftkv · member %d", viewed) {
		t.Errorf("self %q, state %q, title %q; want member %d, a %s", st.Self, st.State, st.Title, viewed, state)
	}
	if st.Name != fmt.Sprintf("(member-%d)", viewed) || st.Keys == "–" || !strings.HasSuffix(st.Data, "iB") {
		t.Errorf("name %q, keys %q, data on disk %q: want the member's name, its keys and its data size", st.Name, st.Keys, st.Data)
	}
	if st.Term == "–" || st.Term == "0" || st.Commit == "–" || st.Applied == "–" || st.Error {
		t.Errorf("term %q, commit %q, applied %q, error banner %v: want the member's indexes and no error", st.Term, st.Commit, st.Applied, st.Error)
	}
	saveScreenshot(t, ctx, "status-page.png")

	// The leader's page shows each member's match index, and the
	// throughput of a load of writes.
	if err := chromedp.Do(ctx, chromedp.Navigate(urls[leader]+"/ui")); err != nil {
		t.Fatalf("load %s/ui: %v", urls[leader], err)
	}
	stop := writeLoad(t, urls[leader])
	loaded := func() bool {
		var err error
		if st, err = chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage)); err != nil {
			t.Fatalf("read the page: %v", err)
		}
		return st.State == "leader" && st.Writes != "–" && st.Writes != "0.0" && !slices.Contains(st.Matches, "")
	}
	if !testkit.Eventually(loaded, 20*time.Second) {
		t.Fatalf("the leader's page never showed the match indexes and writes per second: it shows %+v", st)
	}
	saveScreenshot(t, ctx, "status-page-leader.png")
	stop()
	if errs := consoleErrors(true); len(errs) > 0 {
		t.Errorf("the page logged errors: %q", errs)
	}

	// A follower cut off from the others says it is not ready, and why.
	follower := uint64(1)
	if leader == 1 {
		follower = 3
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(urls[follower]+"/ui")); err != nil {
		t.Fatalf("load %s/ui: %v", urls[follower], err)
	}
	c.Isolate(follower)
	notReady := func() bool {
		var err error
		if st, err = chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage)); err != nil {
			t.Fatalf("read the page: %v", err)
		}
		return st.Ready == "not ready" && strings.Contains(st.Checks, "[-]leader failed")
	}
	if !testkit.Eventually(notReady, 20*time.Second) {
		t.Fatalf("the page of cut-off member %d never said it is not ready for want of a leader: it shows %+v", follower, st)
	}
	saveScreenshot(t, ctx, "status-page-not-ready.png")
	c.Heal()

	// A browser's GET of / gets the page too.
	if err := chromedp.Do(ctx, chromedp.Navigate(urls[leader]+"/")); err != nil {
		t.Fatalf("load %s/: %v", urls[leader], err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "raftkv status" && !strings.HasPrefix(title, "raftkv · member") {
		t.Errorf("title of / in a browser: %q (%v), want the status page", title, err)
	}
	// From the cut-off member's 503s on, only those may be logged.
	if errs := consoleErrors(false); len(errs) > 0 {
		t.Errorf("the page logged errors: %q", errs)
	}
}
