package persister

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/internal/snapfile"
)

// acked is how many entries the pristine data directory of the damage
// tests holds, every one of them acknowledged (written and fsynced).
const acked = 120

// pristine writes a data directory as a member leaves it: entries 1 to
// acked in batches of 4, each with its hard state, over several WAL
// segments, and a snapshot at 40 (with its store file). Nothing is purged,
// so the WAL alone holds every entry.
func pristine(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	d, _, err := Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for first := uint64(1); first <= acked; first += 4 {
		var es []*raftpb.Entry
		for i := first; i < first+4; i++ {
			es = append(es, &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(i), Data: fmt.Appendf(nil, "entry-%04d-%s", i, strings.Repeat("x", 200))})
		}
		hs := &raftpb.HardState{Term: proto.Uint64(1), Vote: proto.Uint64(1), Commit: proto.Uint64(first + 3)}
		if err := d.save(hs, es); err != nil {
			t.Fatal(err)
		}
		if first+3 == 40 {
			if err := d.saveSnapshot(MakeSnapshot(t, dir, 40, 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// smallSegments makes WAL segments 8 KiB until the test ends, so that a
// few hundred entries span several.
func smallSegments(t testing.TB) {
	old := wal.SegmentSizeBytes
	wal.SegmentSizeBytes = 8 << 10
	t.Cleanup(func() { wal.SegmentSizeBytes = old })
}

// copyDir copies the data directory src to a new one.
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, fi.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// segments lists the WAL segments of dir, oldest first.
func segments(t testing.TB, dir string) []string {
	t.Helper()
	names, err := fileutil.ReadDir(filepath.Join(dir, walDirName), fileutil.WithExt(".wal"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Join(dir, walDirName, names[i])
	}
	return names
}

// boundaries lists the offsets at which the records of the segment at path
// start, and the end of the last one.
func boundaries(t *testing.T, path string) []int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := int64(0); off+8 <= int64(len(b)); {
		l := int64(binary.LittleEndian.Uint64(b[off:]))
		offs = append(offs, off)
		if l == 0 {
			break
		}
		rec, pad := frameSize(l)
		off += 8 + rec + pad
	}
	return offs
}

// damage is one way to damage a data directory.
type damage struct {
	name string
	do   func(t *testing.T, dir string)
}

func truncateAt(path string, off int64) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.Truncate(rebase(dir, path), off); err != nil {
			t.Fatal(err)
		}
	}
}

func writeAt(path string, off int64, b []byte) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		f, err := os.OpenFile(rebase(dir, path), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
}

func flipAt(path string, off int64) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		p := rebase(dir, path)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[off] ^= 0x5a
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(path string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.Remove(rebase(dir, path)); err != nil {
			t.Fatal(err)
		}
	}
}

// rebase maps path, in the pristine directory, into the copy dir.
func rebase(dir, path string) string {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i, p := range parts {
		if p == walDirName || p == snapDirName {
			return filepath.Join(append([]string{dir}, parts[i:]...)...)
		}
	}
	return path
}

// TestDamagedDataDir damages a stopped member's data directory in every
// way the table lists — at every record boundary of the newest WAL segment,
// and at random offsets of every segment: truncated, a byte flipped, a
// length word or a range zeroed, the newest segment removed, snapshots
// removed or damaged — and checks the outcome of each: either the member
// opens with every acknowledged entry, or it is refused with an error that
// says what was found. Never a member that serves less than it
// acknowledged.
func TestDamagedDataDir(t *testing.T) {
	smallSegments(t)
	src := pristine(t)
	segs := segments(t, src)
	if len(segs) < 3 {
		t.Fatalf("the pristine WAL has %d segments, want several", len(segs))
	}
	last := segs[len(segs)-1]
	recs := boundaries(t, last)
	end := recs[len(recs)-1]

	var damages []damage
	for i, off := range recs[:len(recs)-1] {
		damages = append(damages,
			damage{fmt.Sprintf("newest segment truncated before record %d", i), truncateAt(last, off)},
			damage{fmt.Sprintf("newest segment: length word of record %d zeroed", i), writeAt(last, off, make([]byte, 8))},
			damage{fmt.Sprintf("newest segment: a byte of record %d flipped", i), flipAt(last, off+12)},
		)
	}
	damages = append(damages,
		damage{"newest segment truncated inside its last record", truncateAt(last, end-5)},
		damage{"newest segment truncated after its records", truncateAt(last, end)},
		damage{"newest segment removed", remove(last)},
		damage{"a length word of garbage after the records", writeAt(last, end, []byte{1, 2, 3, 4, 5, 6, 7, 8})},
	)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, seg := range segs {
		fi, err := os.Stat(seg)
		if err != nil {
			t.Fatal(err)
		}
		size := min(fi.Size(), end)
		if seg != last {
			size = fi.Size()
		}
		for range 8 {
			off := rng.Int64N(size)
			damages = append(damages,
				damage{fmt.Sprintf("%s: byte %d flipped", filepath.Base(seg), off), flipAt(seg, off)},
				damage{fmt.Sprintf("%s: 64 bytes at %d zeroed", filepath.Base(seg), off), writeAt(seg, off, make([]byte, 64))},
			)
		}
	}
	snapFiles, _ := filepath.Glob(filepath.Join(src, snapDirName, "*.snap"))
	dbFiles, _ := filepath.Glob(filepath.Join(snapfile.Dir(filepath.Join(src, snapDirName)), "*.db"))
	for _, p := range append(snapFiles, dbFiles...) {
		damages = append(damages,
			damage{filepath.Base(p) + " removed", remove(p)},
			damage{filepath.Base(p) + ": a byte flipped", flipAt(p, 20)},
		)
	}

	outcomes := map[string]int{}
	for i, dm := range damages {
		dir := copyDir(t, src)
		dm.do(t, dir)
		d, rec, err := Open(dir, slog.New(slog.DiscardHandler))
		if err != nil {
			outcomes["refused"]++
			if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrCorrupt) {
				t.Errorf("%d (%s): refused with %v, want ErrDamaged or ErrCorrupt", i, dm.name, err)
			}
			continue
		}
		outcomes["opened"]++
		if got := lastIndex(rec); got < acked {
			t.Errorf("%d (%s): opened with entries up to %d of the %d acknowledged", i, dm.name, got, acked)
		}
		for _, e := range rec.Entries {
			if want := fmt.Sprintf("entry-%04d-", e.GetIndex()); !bytes.HasPrefix(e.GetData(), []byte(want)) {
				t.Errorf("%d (%s): entry %d holds %.20q", i, dm.name, e.GetIndex(), e.GetData())
				break
			}
		}
		d.Close()
	}
	t.Logf("%d damages: %v", len(damages), outcomes)
}

func lastIndex(rec *Recovered) uint64 {
	if n := len(rec.Entries); n > 0 {
		return rec.Entries[n-1].GetIndex()
	}
	return rec.Snapshot.GetMetadata().GetIndex()
}

// TestRepairWALCutsDamage: with WithRepairWAL, damage with records after it
// is cut off like a torn tail, the cut part kept in a .broken file, and the
// WAL takes new writes.
func TestRepairWALCutsDamage(t *testing.T) {
	smallSegments(t)
	dir := pristine(t)
	// Ten more entries, in the newest segment.
	d, _, err := Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var es []*raftpb.Entry
	for i := uint64(acked + 1); i <= acked+10; i++ {
		es = append(es, &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(i), Data: fmt.Appendf(nil, "entry-%04d", i)})
	}
	if err := d.save(&raftpb.HardState{Term: proto.Uint64(1), Vote: proto.Uint64(1), Commit: proto.Uint64(acked + 10)}, es); err != nil {
		t.Fatal(err)
	}
	d.Close()
	last := segments(t, dir)[len(segments(t, dir))-1]
	recs := boundaries(t, last)
	mid := recs[len(recs)-6] // an entry's record, with entries after it
	writeAt(last, mid, make([]byte, 8))(t, dir)

	if _, _, err := Open(dir, slog.New(slog.DiscardHandler)); !errors.Is(err, ErrDamaged) ||
		!strings.Contains(err.Error(), "zeroed length word") || !strings.Contains(err.Error(), "--repair-wal") {
		t.Fatalf("Open of a WAL with a zeroed length word: %v, want ErrDamaged saying so and what to do", err)
	}
	d, rec, err := Open(dir, slog.New(slog.DiscardHandler), WithRepairWAL())
	if err != nil {
		t.Fatalf("Open with WithRepairWAL: %v", err)
	}
	kept := lastIndex(rec)
	if kept >= acked+10 || kept < acked {
		t.Fatalf("repaired WAL holds entries up to %d, want some of the last ten cut off", kept)
	}
	if b, err := os.ReadFile(last + ".broken"); err != nil || len(b) == 0 {
		t.Errorf("the cut part is not kept: %v", err)
	}
	next := kept + 1
	if err := d.save(&raftpb.HardState{Term: proto.Uint64(1), Vote: proto.Uint64(1), Commit: proto.Uint64(next)},
		[]*raftpb.Entry{{Term: proto.Uint64(1), Index: proto.Uint64(next), Data: []byte("entry-after-repair")}}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, rec, err = Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open after the repair: %v", err)
	}
	defer d.Close()
	if got := lastIndex(rec); got != next || !slices.Equal(rec.Entries[len(rec.Entries)-1].GetData(), []byte("entry-after-repair")) {
		t.Errorf("after the repair and a write: entries up to %d, want %d with the new entry", got, next)
	}
}

func TestCheckSegmentNames(t *testing.T) {
	seg := func(seq, index uint64) string { return fmt.Sprintf("%016x-%016x.wal", seq, index) }
	for _, tc := range []struct {
		name      string
		names     []string
		snapIndex uint64
		want      string // part of the error; "" for none
	}{
		{"a new WAL", []string{seg(0, 0)}, 0, ""},
		{"segments in a row", []string{seg(0, 0), seg(1, 40), seg(2, 90)}, 0, ""},
		{"purged up to the snapshot's segment", []string{seg(3, 35), seg(4, 90)}, 40, ""},
		{"a segment missing in between", []string{seg(0, 0), seg(2, 90)}, 0, "WAL segment 1 is missing"},
		{"the snapshot's segment missing", []string{seg(4, 90)}, 40, "segments before it are missing"},
		{"a stray name", []string{seg(0, 0), "0001.wal"}, 0, "not a segment name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSegmentNames(tc.names, tc.snapIndex)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("checkSegmentNames(%v, %d) = %v, want %q", tc.names, tc.snapIndex, err, tc.want)
			}
		})
	}
}
