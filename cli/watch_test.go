package cli

import (
	"strconv"
	"testing"

	"github.com/raftkv/raftkv/api"
)

// watch replays and follows changes; compact drops the history before a
// revision, after which a watch from before it fails.
func TestWatchAndCompact(t *testing.T) {
	c := newCLICluster(t, 1)
	var first api.PutReply
	decode(t, c.must(t, "", "put", "w/a", "1", "-o", "json"), &first)
	c.must(t, "", "put", "w/b", "2")
	c.must(t, "", "del", "w/a")
	var last api.PutReply
	decode(t, c.must(t, "", "put", "w/c", "3", "-o", "json"), &last)
	rev := itoa(last.Revision)
	got := c.must(t, "", "watch", "w/", "--prefix", "--rev", itoa(first.Revision), "--count", "4")
	if want := "put\tw/a\t1\nput\tw/b\t2\ndelete\tw/a\nput\tw/c\t3\n"; got != want {
		t.Errorf("watch printed %q, want %q", got, want)
	}
	var ev api.WatchEvent
	decode(t, c.must(t, "", "watch", "w/b", "-o", "json", "--rev", itoa(first.Revision), "--count", "1"), &ev)
	if ev.Type != "put" || ev.KV.Key != "w/b" || string(ev.KV.Value) != "2" {
		t.Errorf("watch -o json printed %+v", ev)
	}
	if out := c.must(t, "", "compact", rev); out != "compacted to revision "+rev+"\n" {
		t.Errorf("compact printed %q", out)
	}
	c.expect(t, ExitFailed, "compacted", "", "watch", "w/", "--prefix", "--rev", itoa(first.Revision))
	c.expect(t, ExitFailed, "compacted already", "", "compact", rev)
	c.expect(t, ExitUsage, "want a revision", "", "compact", "x")
	c.expect(t, ExitUsage, "not both", "", "watch", "w/", "--prefix", "--end", "w0")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
