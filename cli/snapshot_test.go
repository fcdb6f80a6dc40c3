package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

var backupTaken = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

// backupBytes is a backup of a store of n keys, one of them overwritten,
// and of a key deleted, with its header.
func backupBytes(t *testing.T, n int) ([]byte, backup.Header) {
	t.Helper()
	st := store.New()
	put := func(k, v string) {
		st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(k), Value: []byte(v)}}})
	}
	for i := range n {
		put(fmt.Sprintf("k%04d", i), strings.Repeat("v", i%50))
	}
	put("k0000", "again")
	put("gone", "x")
	st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte("gone")}}})
	v := st.View()
	h := backup.Header{Revision: v.Revision(), Keys: uint64(v.Len()), Index: 77, Term: 3, ClusterID: 0xab, Member: 2, Taken: backupTaken}
	var buf bytes.Buffer
	_, sum, err := backup.Write(&buf, h, func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, v) })
	if err != nil {
		t.Fatal(err)
	}
	h.Checksum = sum
	return buf.Bytes(), h
}

// writeFile writes data to a new file of a temporary directory and
// returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// damaged are ways a backup file goes bad, each refused with exit 1.
func damaged(data []byte) map[string][]byte {
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 0x10
	return map[string][]byte{
		"truncated":      data[:len(data)-100],
		"cut in half":    data[:len(data)/2],
		"flipped byte":   flipped,
		"bytes appended": append(slices.Clone(data), 0),
		"not a backup":   []byte("<html>502 Bad Gateway</html>"),
		"empty":          nil,
	}
}

func TestInfoOf(t *testing.T) {
	_, h := backupBytes(t, 3)
	got := infoOf("b.snap", 1234, h)
	want := backupInfo{File: "b.snap", Size: 1234, Revision: h.Revision, Keys: 3, Index: 77, Term: 3, ClusterID: "00000000000000ab",
		Member: 2, Taken: "2026-01-02T03:04:05.000000006Z", SHA256: fmt.Sprintf("%x", h.Checksum)}
	if got != want {
		t.Errorf("infoOf = %+v\nwant %+v", got, want)
	}
	h.Taken = time.Time{}
	if got := infoOf("b", 1, h); got.Taken != "" {
		t.Errorf("unknown time taken: %q, want empty", got.Taken)
	}
	var out strings.Builder
	if err := writeInfo(&out, want); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"file        b.snap\n", "revision    " + strconv.FormatInt(h.Revision, 10) + "\n", "keys        3\n",
		"size        1234 bytes\n", "cluster id  00000000000000ab\n", "taken       2026-01-02T03:04:05.000000006Z\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("writeInfo printed\n%s\nwithout %q", out.String(), line)
		}
	}
}

func TestRestoreFlagsConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		f    restoreFlags
		says string // "" for no error
		want map[uint64]string
	}{
		{"positional", restoreFlags{"d", "127.0.0.1:1,http://127.0.0.1:2/,127.0.0.1:3", 2}, "",
			map[uint64]string{1: "127.0.0.1:1", 2: "127.0.0.1:2", 3: "127.0.0.1:3"}},
		{"named", restoreFlags{"d", "7=127.0.0.1:1,9=127.0.0.1:2", 9}, "", map[uint64]string{7: "127.0.0.1:1", 9: "127.0.0.1:2"}},
		{"nothing", restoreFlags{}, "missing --data-dir, --id, --cluster", nil},
		{"no cluster", restoreFlags{"d", " ", 1}, "missing --cluster", nil},
		{"no id", restoreFlags{"d", "127.0.0.1:1", 0}, "missing --id", nil},
		{"id not listed", restoreFlags{"d", "127.0.0.1:1,127.0.0.1:2", 3}, "--id 3 is not a member of --cluster (2 members)", nil},
		{"bad address", restoreFlags{"d", "127.0.0.1:1,nohost", 1}, "--cluster: cluster entry 2", nil},
		{"mixed forms", restoreFlags{"d", "1=127.0.0.1:1,127.0.0.1:2", 1}, "--cluster: cluster entry 2", nil},
		{"same address twice", restoreFlags{"d", "127.0.0.1:1,127.0.0.1:1", 1}, "same address", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := c.f.config("b.snap")
			if c.says != "" {
				if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), c.says) {
					t.Fatalf("config = %v (exit %d), want a usage error saying %q", err, exitCode(err), c.says)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.File != "b.snap" || cfg.DataDir != c.f.dataDir || cfg.ID != c.f.id || fmt.Sprint(cfg.Cluster) != fmt.Sprint(c.want) {
				t.Errorf("config = %+v, want cluster %v", cfg, c.want)
			}
		})
	}
}

func TestSnapshotStatus(t *testing.T) {
	data, h := backupBytes(t, 20)
	file := writeFile(t, "b.snap", data)
	r := runCLI("", nil, "snapshot", "status", file)
	if r.code != ExitOK || r.stderr != "" || !strings.Contains(r.stdout, fmt.Sprintf("revision    %d\n", h.Revision)) ||
		!strings.Contains(r.stdout, fmt.Sprintf("size        %d bytes\n", len(data))) {
		t.Errorf("status: %v", r)
	}
	var info backupInfo
	r = runCLI("", nil, "snapshot", "status", "-o", "json", file)
	decode(t, r.stdout, &info)
	if want := infoOf(file, int64(len(data)), h); r.code != ExitOK || info != want {
		t.Errorf("status -o json: %v\n got %+v\nwant %+v", r, info, want)
	}
	for name, bad := range damaged(data) {
		r := runCLI("", nil, "snapshot", "status", writeFile(t, "bad", bad))
		if r.code != ExitFailed || r.stdout != "" || !strings.Contains(r.stderr, "backup") {
			t.Errorf("status of a backup %s: %v, want exit 1", name, r)
		}
	}
	if r := runCLI("", nil, "snapshot", "status", file+".missing"); r.code != ExitFailed || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("status of a missing file: %v", r)
	}
	for _, args := range [][]string{{"snapshot", "status"}, {"snapshot", "status", "a", "b"}, {"snapshot", "status", "--endpoints", "x", file}} {
		if r := runCLI("", nil, args...); r.code != ExitUsage {
			t.Errorf("%q: %v, want exit 2", args, r)
		}
	}
}

func TestSnapshotRestore(t *testing.T) {
	data, h := backupBytes(t, 20)
	file := writeFile(t, "b.snap", data)
	cluster := "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3"
	dir := filepath.Join(t.TempDir(), "data")

	r := runCLI("", nil, "snapshot", "restore", file, "--data-dir", dir, "--id", "2", "--cluster", cluster)
	if r.code != ExitOK || r.stderr != "" || !strings.Contains(r.stdout, fmt.Sprintf("restored %s (revision %d, 20 keys) into %s: member 2 of a new cluster of 3 members", file, h.Revision, dir)) ||
		!strings.Contains(r.stdout, "raftkv --id 2 --cluster "+cluster+" --data-dir "+dir) {
		t.Fatalf("restore: %v", r)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the data dir holds %d entries, want snap and wal", len(entries))
	}
	// Again into the same dir: refused, the dir left as it is.
	r = runCLI("", nil, "snapshot", "restore", file, "--data-dir", dir, "--id", "2", "--cluster", cluster)
	if r.code != ExitFailed || !strings.Contains(r.stderr, "is not empty") {
		t.Errorf("restore into a data dir that is not empty: %v, want exit 1", r)
	}

	var info restoredInfo
	dir3 := filepath.Join(t.TempDir(), "data")
	r = runCLI("", nil, "snapshot", "restore", "-o", "json", "--data-dir", dir3, "--id", "3", "--cluster", cluster, file)
	decode(t, r.stdout, &info)
	if r.code != ExitOK || info.ID != 3 || info.DataDir != dir3 || info.Members != 3 || info.Revision != h.Revision ||
		info.Keys != 20 || info.Index != 77 || info.SHA256 != fmt.Sprintf("%x", h.Checksum) || len(info.ClusterID) != 16 {
		t.Errorf("restore -o json: %v: %+v", r, info)
	}

	for name, bad := range damaged(data) {
		dir := filepath.Join(t.TempDir(), "data")
		r := runCLI("", nil, "snapshot", "restore", writeFile(t, "bad", bad), "--data-dir", dir, "--id", "1", "--cluster", cluster)
		if _, err := os.Stat(dir); r.code != ExitFailed || !os.IsNotExist(err) {
			t.Errorf("restore of a backup %s: %v, data dir: %v; want exit 1 and no data dir", name, r, err)
		}
	}
	empty := t.TempDir()
	r = runCLI("", nil, "snapshot", "restore", writeFile(t, "bad", data[:len(data)-1]), "--data-dir", empty, "--id", "1", "--cluster", cluster)
	if entries, _ := os.ReadDir(empty); r.code != ExitFailed || len(entries) != 0 {
		t.Errorf("restore of a truncated backup into an empty dir: %v, %d entries left", r, len(entries))
	}

	for _, args := range [][]string{
		{file, "--id", "1", "--cluster", cluster},
		{file, "--data-dir", dir + "2", "--cluster", cluster},
		{file, "--data-dir", dir + "2", "--id", "1"},
		{file, "--data-dir", dir + "2", "--id", "4", "--cluster", cluster},
		{file, "--data-dir", dir + "2", "--id", "1", "--cluster", "nohost"},
		{"--data-dir", dir + "2", "--id", "1", "--cluster", cluster},
	} {
		r := runCLI("", nil, append([]string{"snapshot", "restore"}, args...)...)
		if _, err := os.Stat(dir + "2"); r.code != ExitUsage || !os.IsNotExist(err) {
			t.Errorf("restore %q: %v; want exit 2 and no data dir", args, r)
		}
	}
}

// backupServer serves GET /v1/snapshot with handle, and counts the
// requests and remembers the query of the last.
type backupServer struct {
	url      string
	requests atomic.Int64
	query    atomic.Value
}

func newBackupServer(t *testing.T, handle http.HandlerFunc) *backupServer {
	t.Helper()
	s := &backupServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/snapshot" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		s.requests.Add(1)
		s.query.Store(r.URL.RawQuery)
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// serving answers 200 with data.
func serving(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(data)
	}
}

// unavailable answers 503 as a member without a leader does.
func unavailable(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, `{"error":"no leader","code":"no_leader"}`)
}

func TestSnapshotSave(t *testing.T) {
	data, h := backupBytes(t, 200)
	flipped := damaged(data)["flipped byte"]
	for _, c := range []struct {
		name    string
		servers []http.HandlerFunc
		extra   []string
		code    int
		says    string // on stderr
	}{
		{"saved", []http.HandlerFunc{serving(data)}, nil, ExitOK, ""},
		{"second member, the first unavailable", []http.HandlerFunc{unavailable, serving(data)}, nil, ExitOK, ""},
		{"serializable", []http.HandlerFunc{serving(data)}, []string{"--serializable"}, ExitOK, ""},
		{"every member unavailable", []http.HandlerFunc{unavailable, unavailable}, nil, ExitUnavailable, "no leader"},
		{"truncated with a clean end", []http.HandlerFunc{serving(data[:len(data)-10])}, nil, ExitFailed, "does not verify"},
		{"a flipped byte", []http.HandlerFunc{serving(flipped)}, nil, ExitFailed, "checksum mismatch"},
		{"stream broken off", []http.HandlerFunc{func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}}, nil, ExitUnavailable, "broke off"},
		{"stream stalls", []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(data[:100])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // the client gives up
		}}, []string{"--timeout", "200ms"}, ExitUnavailable, "nothing from the cluster for 200ms"},
		{"no answer", []http.HandlerFunc{func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }}, []string{"--timeout", "200ms"}, ExitUnavailable, "200ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var urls []string
			var servers []*backupServer
			for _, handle := range c.servers {
				s := newBackupServer(t, handle)
				servers = append(servers, s)
				urls = append(urls, s.url)
			}
			file := filepath.Join(t.TempDir(), "b.snap")
			args := append([]string{"snapshot", "save", file, "--endpoints", strings.Join(urls, ",")}, c.extra...)
			r := runCLI("", nil, args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.says) {
				t.Fatalf("save: %v; want exit %d saying %q", r, c.code, c.says)
			}
			if _, err := os.Stat(file + ".part"); !os.IsNotExist(err) {
				t.Errorf("%s.part is left: %v", file, err)
			}
			_, err := os.Stat(file)
			if c.code != ExitOK {
				if !os.IsNotExist(err) {
					t.Errorf("a failed save left %s: %v", file, err)
				}
				return
			}
			got, err := os.ReadFile(file)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("the file saved holds %d bytes (%v), want the %d served", len(got), err, len(data))
			}
			want := fmt.Sprintf("saved %s: revision %d, %d keys, %d bytes (member 2 at index 77, taken 2026-01-02T03:04:05.000000006Z)\n",
				file, h.Revision, h.Keys, len(data))
			if r.stdout != want {
				t.Errorf("save printed %q, want %q", r.stdout, want)
			}
			last := servers[len(servers)-1]
			if q, _ := last.query.Load().(string); strings.Contains(q, "consistency=serializable") != slices.Contains(c.extra, "--serializable") {
				t.Errorf("query %q with flags %q", q, c.extra)
			}
		})
	}
}

func TestSnapshotSaveReplacesAndPrintsJSON(t *testing.T) {
	data, h := backupBytes(t, 10)
	s := newBackupServer(t, serving(data))
	file := writeFile(t, "b.snap", []byte("an older backup"))
	var info backupInfo
	r := runCLI("", nil, "snapshot", "save", "-o", "json", "--endpoints", s.url, file)
	decode(t, r.stdout, &info)
	if want := infoOf(file, int64(len(data)), h); r.code != ExitOK || info != want {
		t.Errorf("save -o json: %v\n got %+v\nwant %+v", r, info, want)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, data) {
		t.Error("the older backup was not replaced")
	}
	// Nowhere to write it: exit 1, before asking anyone.
	r = runCLI("", nil, "snapshot", "save", "--endpoints", s.url, filepath.Join(t.TempDir(), "missing", "b.snap"))
	if r.code != ExitFailed || !strings.Contains(r.stderr, "no such file") || s.requests.Load() != 1 {
		t.Errorf("save into a missing directory: %v (%d requests)", r, s.requests.Load())
	}
	for _, args := range [][]string{{"snapshot", "save"}, {"snapshot", "save", "a", "b"}, {"snapshot", "save", "a", "--data-dir", "x"}} {
		if r := runCLI("", nil, args...); r.code != ExitUsage {
			t.Errorf("%q: %v, want exit 2", args, r)
		}
	}
	if r := runCLI("", nil, "snapshot", "save", filepath.Join(t.TempDir(), "b"), "--endpoints", closedEndpoint(t)); r.code != ExitUnavailable {
		t.Errorf("save with no member reachable: %v, want exit 3", r)
	}
}

// A backup saved from a running cluster holds what it serves; snapshot
// status reads it.
func TestSnapshotSaveFromACluster(t *testing.T) {
	c := newCLICluster(t, 3)
	c.must(t, "", "put", "s/a", "1")
	c.must(t, "", "put", "s/a", "2")
	c.must(t, "", "put", "s/b", "3")
	c.must(t, "", "del", "s/b")
	file := filepath.Join(t.TempDir(), "b.snap")
	var saved backupInfo
	decode(t, c.must(t, "", "snapshot", "save", file, "-o", "json"), &saved)
	h, st, err := backup.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte("s/"), End: []byte("s0")})
	if len(res.KVs) != 1 || string(res.KVs[0].Value) != "2" || res.KVs[0].Version != 2 || saved.Revision != h.Revision || saved.Keys != h.Keys {
		t.Errorf("saved %+v holds %+v, want s/a=2 at version 2", saved, res.KVs)
	}
	var status backupInfo
	decode(t, runCLI("", nil, "snapshot", "status", "-o", "json", file).stdout, &status)
	if status != saved {
		t.Errorf("status %+v, save printed %+v", status, saved)
	}
}
