package snapfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newStore returns a store with n keys, and some deleted and overwritten
// ones, so that revisions and versions differ.
func newStore(n int) *store.Store {
	st := store.New()
	for i := range n {
		st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: fmt.Appendf(nil, "key/%05d", i), Value: fmt.Appendf(nil, "value %d", i)}}})
	}
	for i := 0; i < n; i += 3 {
		st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: fmt.Appendf(nil, "key/%05d", i), Value: []byte("again")}}})
	}
	st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte("key/00001")}}})
	return st
}

// all returns every key of st.
func all(st *store.Store) []messages.KeyValue {
	res, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte{}, End: []byte{0}})
	return res.KVs
}

// stream returns the snapshot stream of st.
func stream(t *testing.T, st *store.Store) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := store.WriteSnapshot(&b, st.View()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// write makes the store file of term, index in dir hold data, committed.
func write(t *testing.T, dir string, term, index uint64, data []byte) (uint64, uint32) {
	t.Helper()
	w, err := snapfile.Create(dir, term, index)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	size, crc, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return size, crc
}

func TestName(t *testing.T) {
	tests := []struct {
		term, index uint64
		want        string
	}{
		{0, 0, "0000000000000000-0000000000000000.db"},
		{1, 2, "0000000000000001-0000000000000002.db"},
		{0x1f, 0xabc, "000000000000001f-0000000000000abc.db"},
		{^uint64(0), ^uint64(0), "ffffffffffffffff-ffffffffffffffff.db"},
	}
	for i, tt := range tests {
		if got := snapfile.Name(tt.term, tt.index); got != tt.want {
			t.Errorf("%d: Name(%d, %d) = %q, want %q", i, tt.term, tt.index, got, tt.want)
		}
	}
	// Names sort as the snapshots do, term first.
	if !(snapfile.Name(1, 0xff) < snapfile.Name(1, 0x100) && snapfile.Name(1, 0x100) < snapfile.Name(2, 1)) {
		t.Error("names do not sort by term, then index")
	}
	if got, want := snapfile.Dir("/data/snap"), filepath.Join("/data/snap", "db"); got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
}

// A store file written in parts and committed holds the stream, under its
// final name only once committed; Verify accepts it and Load reads back the
// store.
func TestCreateWriteCommitVerifyLoad(t *testing.T) {
	st := newStore(2000)
	data := stream(t, st)
	dir := filepath.Join(t.TempDir(), "snap", snapfile.DirName) // Create makes it
	const term, index = 3, 1234
	w, err := snapfile.Create(dir, term, index)
	if err != nil {
		t.Fatal(err)
	}
	for part := range slices.Chunk(data, 1000) {
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	if w.Size() != uint64(len(data)) || w.CRC() != crc32.Checksum(data, castagnoli) {
		t.Errorf("Size, CRC = %d, %08x, want %d, %08x", w.Size(), w.CRC(), len(data), crc32.Checksum(data, castagnoli))
	}
	name := snapfile.Name(term, index)
	if got := listDir(t, dir); len(got) != 1 || got[0] == name {
		t.Fatalf("before Commit the directory holds %q, want one temporary file, not %s", got, name)
	}
	size, crc, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if size != uint64(len(data)) || crc != crc32.Checksum(data, castagnoli) {
		t.Errorf("Commit = %d, %08x, want %d, %08x", size, crc, len(data), crc32.Checksum(data, castagnoli))
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{name}) {
		t.Fatalf("after Commit the directory holds %q, want only %s", got, name)
	}
	if onDisk, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("the file does not hold the stream (%d bytes of %d, err %v)", len(onDisk), len(data), err)
	}
	if err := snapfile.Verify(dir, term, index, size, crc); err != nil {
		t.Errorf("Verify: %v", err)
	}
	got, err := snapfile.Load(dir, term, index, size, crc)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Revision() != st.Revision() || !reflect.DeepEqual(all(got), all(st)) {
		t.Errorf("Load read back %d keys at revision %d, want %d at %d", got.Len(), got.Revision(), st.Len(), st.Revision())
	}
	// Aborting a committed writer (as a cleanup may) leaves the file.
	w.Abort()
	if err := snapfile.Verify(dir, term, index, size, crc); err != nil {
		t.Errorf("Verify after Abort of a committed writer: %v", err)
	}
}

// An empty store makes a small file that reads back empty.
func TestEmptyStore(t *testing.T) {
	dir := t.TempDir()
	size, crc := write(t, dir, 1, 1, stream(t, store.New()))
	got, err := snapfile.Load(dir, 1, 1, size, crc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 0 || got.Revision() != 0 {
		t.Errorf("Load: %d keys at revision %d, want an empty store", got.Len(), got.Revision())
	}
}

// Verify and Load refuse a store file that is not the one the snapshot
// recorded: damaged, cut, extended, or recorded with another size or CRC.
func TestVerifyAndLoadRefuseAMismatch(t *testing.T) {
	data := stream(t, newStore(300))
	good := crc32.Checksum(data, castagnoli)
	size := uint64(len(data))
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte { b[i] ^= 0x20; return b }
	}
	tests := []struct {
		name     string
		damage   func([]byte) []byte // of the file's content
		size     uint64              // recorded
		crc      uint32              // recorded
		mismatch bool                // Verify's error wraps ErrMismatch
	}{
		{"first byte flipped", flip(0), size, good, true},
		{"a byte in the middle flipped", flip(len(data) / 2), size, good, true},
		{"last byte flipped", flip(len(data) - 1), size, good, true},
		{"cut short", func(b []byte) []byte { return b[:len(b)-1] }, size, good, true},
		{"a byte more", func(b []byte) []byte { return append(b, 0) }, size, good, true},
		{"empty", func([]byte) []byte { return nil }, size, good, true},
		{"wrong recorded size", nil, size + 1, good, true},
		{"wrong recorded size, smaller", nil, size - 1, good, true},
		{"wrong recorded CRC", nil, size, good ^ 1, true},
		{"no recorded size or CRC", nil, 0, 0, true},
	}
	for i, tt := range tests {
		dir := t.TempDir()
		content := slices.Clone(data)
		if tt.damage != nil {
			content = tt.damage(content)
		}
		if err := os.WriteFile(filepath.Join(dir, snapfile.Name(2, 50)), content, 0o600); err != nil {
			t.Fatal(err)
		}
		err := snapfile.Verify(dir, 2, 50, tt.size, tt.crc)
		if err == nil || tt.mismatch != errors.Is(err, snapfile.ErrMismatch) {
			t.Errorf("%d (%s): Verify: %v, want an error (ErrMismatch: %v)", i, tt.name, err, tt.mismatch)
		}
		// Load decodes first: a damaged stream may fail to decode, else the
		// check of size and CRC refuses it.
		st, err := snapfile.Load(dir, 2, 50, tt.size, tt.crc)
		if err == nil || st != nil {
			t.Errorf("%d (%s): Load: store %v, err %v; want an error", i, tt.name, st, err)
		}
	}
}

// A missing file is an error that says so.
func TestMissingFile(t *testing.T) {
	dir := t.TempDir()
	size, crc := write(t, dir, 1, 10, stream(t, newStore(5)))
	if err := snapfile.Verify(dir, 1, 11, size, crc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Verify of another index: %v, want os.ErrNotExist", err)
	}
	if _, err := snapfile.Load(dir, 2, 10, size, crc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of another term: %v, want os.ErrNotExist", err)
	}
	if err := snapfile.Verify(filepath.Join(dir, "none"), 1, 10, size, crc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Verify in a missing directory: %v, want os.ErrNotExist", err)
	}
}

// A file whose size and CRC match but that holds no store stream verifies
// (Verify reads no further) but does not load.
func TestLoadRefusesWhatIsNoStore(t *testing.T) {
	dir := t.TempDir()
	size, crc := write(t, dir, 1, 10, []byte("not a snapshot stream"))
	if err := snapfile.Verify(dir, 1, 10, size, crc); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if st, err := snapfile.Load(dir, 1, 10, size, crc); err == nil || st != nil {
		t.Errorf("Load: store %v, err %v; want a decode error", st, err)
	}
}

// A crash before Commit leaves only the temporary file: no file under the
// final name. Purge leaves it (it may be on its way), RemoveTemp removes it.
func TestCrashBeforeCommit(t *testing.T) {
	dir := t.TempDir()
	data := stream(t, newStore(100))
	size, crc := write(t, dir, 1, 5, data)

	w, err := snapfile.Create(dir, 2, 9)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	// The "crash": the writer is dropped without Commit or Abort.
	names := listDir(t, dir)
	if len(names) != 2 || names[0] != snapfile.Name(1, 5) || names[1] == snapfile.Name(2, 9) {
		t.Fatalf("after the crash the directory holds %q, want %s and a temporary file", names, snapfile.Name(1, 5))
	}
	if err := snapfile.Verify(dir, 2, 9, size, crc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Verify of the unfinished snapshot: %v, want os.ErrNotExist", err)
	}
	removed, err := snapfile.Purge(dir, [][2]uint64{{1, 5}})
	if err != nil || len(removed) != 0 {
		t.Errorf("Purge removed %q (err %v), want nothing", removed, err)
	}
	removed, err = snapfile.Purge(dir, [][2]uint64{{3, 20}})
	if err != nil || !slices.Equal(removed, []string{snapfile.Name(1, 5)}) {
		t.Errorf("Purge keeping only a newer snapshot removed %q (err %v), want only %s", removed, err, snapfile.Name(1, 5))
	}
	if got := listDir(t, dir); !slices.Equal(got, names[1:]) {
		t.Errorf("after Purge the directory holds %q, want the temporary file %q", got, names[1:])
	}
	if err := snapfile.RemoveTemp(dir); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("after RemoveTemp the directory holds %q, want nothing", got)
	}
	w.Abort() // harmless now
}

// RemoveTemp removes only temporary files; Abort removes the writer's own.
func TestRemoveTempAndAbort(t *testing.T) {
	dir := t.TempDir()
	data := stream(t, newStore(10))
	write(t, dir, 1, 5, data)
	for _, n := range []uint64{6, 7} {
		w, err := snapfile.Create(dir, 1, n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if n == 7 {
			w.Abort()
			w.Abort() // twice is fine
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); len(got) != 3 {
		t.Fatalf("the directory holds %q, want the store file, one temporary file (the other aborted), notes.txt", got)
	}
	if err := snapfile.RemoveTemp(dir); err != nil {
		t.Fatal(err)
	}
	if got, want := listDir(t, dir), []string{snapfile.Name(1, 5), "notes.txt"}; !slices.Equal(got, want) {
		t.Errorf("after RemoveTemp the directory holds %q, want %q", got, want)
	}
	if err := snapfile.RemoveTemp(filepath.Join(dir, "none")); err != nil {
		t.Errorf("RemoveTemp of a missing directory: %v", err)
	}
}

// Create replaces the temporary file of an earlier attempt at the same
// snapshot.
func TestCreateReplacesAnEarlierAttempt(t *testing.T) {
	dir := t.TempDir()
	w, err := snapfile.Create(dir, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("old attempt "), 1000)); err != nil {
		t.Fatal(err)
	}
	data := stream(t, newStore(20))
	size, crc := write(t, dir, 1, 5, data)
	if size != uint64(len(data)) {
		t.Errorf("size %d, want %d", size, len(data))
	}
	if _, err := snapfile.Load(dir, 1, 5, size, crc); err != nil {
		t.Errorf("Load: %v", err)
	}
	if got := listDir(t, dir); !slices.Equal(got, []string{snapfile.Name(1, 5)}) {
		t.Errorf("the directory holds %q, want only %s", got, snapfile.Name(1, 5))
	}
}

// Purge removes the store files of snapshots not kept that are older than
// the newest kept one, and leaves newer ones, temporary files and files
// that are not store files.
func TestPurge(t *testing.T) {
	// An index has one term: the term of the committed entry there.
	files := [][2]uint64{{1, 5}, {1, 10}, {2, 15}, {2, 20}, {3, 25}}
	others := []string{"notes.txt", "x-y.db", "1-2", snapfile.Name(1, 3) + ".tmp"}
	tests := []struct {
		name    string
		keep    [][2]uint64
		removed [][2]uint64
	}{
		{"keep the two newest", [][2]uint64{{2, 15}, {2, 20}}, [][2]uint64{{1, 5}, {1, 10}}},
		{"keep one in the middle", [][2]uint64{{1, 10}}, [][2]uint64{{1, 5}}},
		{"keep the oldest and one later", [][2]uint64{{1, 5}, {2, 15}}, [][2]uint64{{1, 10}}},
		{"keep in any order", [][2]uint64{{2, 20}, {1, 5}}, [][2]uint64{{1, 10}, {2, 15}}},
		{"keep one that has no file", [][2]uint64{{2, 18}}, [][2]uint64{{1, 5}, {1, 10}, {2, 15}}},
		{"keep the newest", [][2]uint64{{3, 25}}, [][2]uint64{{1, 5}, {1, 10}, {2, 15}, {2, 20}}},
		{"keep nothing", nil, nil},
	}
	for i, tt := range tests {
		dir := t.TempDir()
		for _, f := range files {
			write(t, dir, f[0], f[1], []byte("x"))
		}
		for _, o := range others {
			if err := os.WriteFile(filepath.Join(dir, o), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		removed, err := snapfile.Purge(dir, tt.keep)
		if err != nil {
			t.Errorf("%d (%s): Purge: %v", i, tt.name, err)
			continue
		}
		var want []string
		for _, r := range tt.removed {
			want = append(want, snapfile.Name(r[0], r[1]))
		}
		slices.Sort(removed)
		slices.Sort(want)
		if !slices.Equal(removed, want) {
			t.Errorf("%d (%s): Purge removed %q, want %q", i, tt.name, removed, want)
		}
		left := listDir(t, dir)
		for _, f := range files {
			name := snapfile.Name(f[0], f[1])
			if slices.Contains(want, name) == slices.Contains(left, name) {
				t.Errorf("%d (%s): %s left: %v, want %v", i, tt.name, name, slices.Contains(left, name), !slices.Contains(want, name))
			}
		}
		for _, o := range others {
			if !slices.Contains(left, o) {
				t.Errorf("%d (%s): Purge removed %s", i, tt.name, o)
			}
		}
	}
	// A file at the index of the newest kept snapshot is not older than it,
	// whatever its term.
	dir := t.TempDir()
	for _, f := range [][2]uint64{{1, 19}, {2, 20}, {3, 20}} {
		write(t, dir, f[0], f[1], []byte("x"))
	}
	if removed, err := snapfile.Purge(dir, [][2]uint64{{3, 20}}); err != nil || !slices.Equal(removed, []string{snapfile.Name(1, 19)}) {
		t.Errorf("Purge keeping (3, 20) removed %q (err %v), want only %s", removed, err, snapfile.Name(1, 19))
	}
	if removed, err := snapfile.Purge(filepath.Join(t.TempDir(), "none"), [][2]uint64{{1, 1}}); err != nil || removed != nil {
		t.Errorf("Purge of a missing directory: %q, %v; want nothing", removed, err)
	}
}

// A file longer than a few write-behind stretches (handed to the disk as
// it is written) is whole once committed.
func TestLongFileIsWhole(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 20<<20+123)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	w, err := snapfile.Create(dir, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for part := range slices.Chunk(data, 1<<20) {
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	size, crc, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if onDisk, err := os.ReadFile(filepath.Join(dir, snapfile.Name(1, 2))); err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("the file does not hold what was written (%d bytes of %d, err %v)", len(onDisk), len(data), err)
	}
	if size != uint64(len(data)) || crc != crc32.Checksum(data, castagnoli) {
		t.Errorf("Commit = %d, %08x, want %d, %08x", size, crc, len(data), crc32.Checksum(data, castagnoli))
	}
}
