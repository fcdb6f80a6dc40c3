package backup_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// testStore is a store with puts, an overwrite, a delete, a txn, and keys
// that are not UTF-8.
func testStore(t testing.TB, extra int) *store.Store {
	t.Helper()
	st := store.New()
	put := func(k, v string) messages.Op {
		return messages.Op{Type: messages.OpPut, Key: []byte(k), Value: []byte(v)}
	}
	txns := []messages.Txn{
		{Success: []messages.Op{put("a", "1")}},
		{Success: []messages.Op{put("b", "2")}},
		{Success: []messages.Op{put("a", "3")}},
		{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte("b")}}},
		{Success: []messages.Op{put("c", ""), put("bin/\xff\x00", "x"), put("c", "4")}},
	}
	for i := range extra {
		txns = append(txns, messages.Txn{Success: []messages.Op{put(fmt.Sprintf("k/%06d", i), strings.Repeat("v", i%300))}})
	}
	for _, txn := range txns {
		if err := store.Validate(txn); err != nil {
			t.Fatal(err)
		}
		st.Apply(txn)
	}
	return st
}

// dump renders every key of st with its revisions, and the revision.
func dump(st *store.Store) string {
	res, rev := st.Range(messages.Op{Type: messages.OpGet, End: []byte{0}})
	return render(res.KVs, rev)
}

// render renders kvs and rev as dump does.
func render(kvs []messages.KeyValue, rev int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "revision %d:", rev)
	for _, kv := range kvs {
		fmt.Fprintf(&b, " %q=%q(c%d m%d v%d)", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
	}
	return b.String()
}

var taken = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

// encode writes a backup of st with a header that describes it.
func encode(t testing.TB, st *store.Store) ([]byte, backup.Header) {
	t.Helper()
	v := st.View()
	h := backup.Header{Revision: v.Revision(), Keys: uint64(v.Len()), Index: 42, Term: 3, ClusterID: 0xabc, Member: 2, Taken: taken}
	var buf bytes.Buffer
	n, sum, err := backup.Write(&buf, h, func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, v) })
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Write says %d bytes, wrote %d", n, buf.Len())
	}
	if want := sha256.Sum256(buf.Bytes()[:buf.Len()-sha256.Size]); sum != want {
		t.Fatalf("Write's checksum %x, want %x", sum, want)
	}
	h.Checksum = sum
	return buf.Bytes(), h
}

func TestRoundTrip(t *testing.T) {
	for _, extra := range []int{0, 3000} {
		t.Run(fmt.Sprint(extra), func(t *testing.T) {
			st := testStore(t, extra)
			data, want := encode(t, st)
			// One byte at a time: nothing depends on how the input arrives.
			got, restored, err := backup.Read(iotest.OneByteReader(bytes.NewReader(data)))
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("header %+v, want %+v", got, want)
			}
			if dump(restored) != dump(st) {
				t.Errorf("store\n%s\nwant\n%s", dump(restored), dump(st))
			}
			if _, _, err := backup.Read(bytes.NewReader(data)); err != nil {
				t.Errorf("read at once: %v", err)
			}
		})
	}
}

// An empty store is a backup too: a header, an empty stream, a trailer.
func TestRoundTripEmpty(t *testing.T) {
	data, want := encode(t, store.New())
	got, st, err := backup.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got != want || st.Len() != 0 || st.Revision() != 0 {
		t.Errorf("got %+v with %d keys at revision %d, want %+v and an empty store", got, st.Len(), st.Revision(), want)
	}
}

// Every way a backup can be wrong is refused with an error that says
// which, never a store.
func TestReadRefuses(t *testing.T) {
	data, _ := encode(t, testStore(t, 200))
	storeEnd := len(data) - backup.TrailerSize
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(data)) }
	flip := func(off int) []byte { return with(func(b []byte) []byte { b[off] ^= 0x40; return b }) }

	// A backup whose checksum holds but whose header lies about its store.
	st := testStore(t, 5)
	v := st.View()
	var lying bytes.Buffer
	if _, _, err := backup.Write(&lying, backup.Header{Revision: v.Revision() + 1, Keys: uint64(v.Len())},
		func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, v) }); err != nil {
		t.Fatal(err)
	}
	// A backup whose checksum holds over a stream that is not a store.
	var garbage bytes.Buffer
	if _, _, err := backup.Write(&garbage, backup.Header{},
		func(w io.Writer) (int64, error) { n, err := w.Write([]byte("not a store")); return int64(n), err }); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		input []byte
		is    error
		says  string
	}{
		{"empty", nil, backup.ErrCorrupt, "empty"},
		{"wrong magic", with(func(b []byte) []byte { copy(b, "RAFTKVXX"); return b }), backup.ErrNotBackup, `begins with "RAFTKVXX"`},
		{"not a backup at all", []byte("<html>502 Bad Gateway</html>"), backup.ErrNotBackup, "<html>"},
		{"short and not a backup", []byte("{"), backup.ErrNotBackup, `"{"`},
		{"newer format", with(func(b []byte) []byte { b[11] = 2; return b }), messages.ErrVersion, "format version 2"},
		{"cut in the header", data[:30], backup.ErrCorrupt, "fewer than the 68 of a header"},
		{"cut after the header", data[:backup.HeaderSize], backup.ErrCorrupt, "too soon for a trailer"},
		{"cut in the store stream", data[:storeEnd/2], backup.ErrCorrupt, "no trailer"},
		{"cut before the trailer", data[:storeEnd], backup.ErrCorrupt, "no trailer"},
		{"cut in the checksum", data[:len(data)-1], backup.ErrCorrupt, "no trailer"},
		{"bytes appended", append(bytes.Clone(data), 0), backup.ErrCorrupt, "no trailer"},
		{"flipped byte in the header's revision", flip(15), backup.ErrCorrupt, "checksum mismatch"},
		{"flipped byte in the store stream", flip(storeEnd - 10), backup.ErrCorrupt, "checksum mismatch"},
		{"flipped byte in the checksum", flip(len(data) - 1), backup.ErrCorrupt, "checksum mismatch"},
		{"flipped byte in the trailer's length", flip(storeEnd + 15), backup.ErrCorrupt, "trailer says the store stream has"},
		{"header not of its store", lying.Bytes(), backup.ErrCorrupt, "its header says revision"},
		{"checksummed garbage", garbage.Bytes(), backup.ErrCorrupt, "the store stream does not read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, st, err := backup.Read(bytes.NewReader(c.input))
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want one wrapping %q that says %q", err, c.is, c.says)
			}
			if st != nil {
				t.Error("a store came back with the error")
			}
		})
	}
}

// Read passes on its reader's error.
func TestReadPassesOnReaderErrors(t *testing.T) {
	data, _ := encode(t, testStore(t, 100))
	boom := errors.New("disk on fire")
	for _, at := range []int{0, 10, backup.HeaderSize + 100, len(data) - 5} {
		r := io.MultiReader(bytes.NewReader(data[:at]), iotest.ErrReader(boom))
		if _, _, err := backup.Read(r); !errors.Is(err, boom) {
			t.Errorf("error after %d bytes: %v, want %v", at, err, boom)
		}
	}
}

// A store stream that fails half way leaves no trailer, so what was
// written does not read as a backup.
func TestWriteFailureLeavesNoBackup(t *testing.T) {
	st := testStore(t, 100)
	boom := errors.New("view unreadable")
	var buf bytes.Buffer
	_, _, err := backup.Write(&buf, backup.Header{}, func(w io.Writer) (int64, error) {
		n, _ := store.WriteSnapshot(w, st.View())
		return n / 2, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write: %v, want %v", err, boom)
	}
	if _, _, err := backup.Read(&buf); !errors.Is(err, backup.ErrCorrupt) {
		t.Errorf("Read of what a failed Write wrote: %v, want ErrCorrupt", err)
	}
}

func TestReadFile(t *testing.T) {
	if _, _, err := backup.ReadFile(t.TempDir() + "/missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
}

// The header's fields land where the format says (see the package doc).
func TestHeaderLayout(t *testing.T) {
	data, h := encode(t, testStore(t, 0))
	want := []byte("RAFTKVBK\x00\x00\x00\x01")
	if !bytes.HasPrefix(data, want) {
		t.Fatalf("starts with %q, want %q", data[:12], want)
	}
	fields := []struct {
		off  int
		want uint64
	}{{12, uint64(h.Revision)}, {20, h.Keys}, {28, h.Index}, {36, h.Term}, {44, h.ClusterID}, {52, h.Member}, {60, uint64(taken.UnixNano())}}
	for _, f := range fields {
		var got uint64
		for _, b := range data[f.off : f.off+8] {
			got = got<<8 | uint64(b)
		}
		if got != f.want {
			t.Errorf("bytes %d-%d: %d, want %d", f.off, f.off+8, got, f.want)
		}
	}
	trailer := data[len(data)-backup.TrailerSize:]
	if !bytes.HasPrefix(trailer, []byte("RAFTKVND")) {
		t.Errorf("trailer starts with %q", trailer[:8])
	}
	if !reflect.DeepEqual(trailer[16:], h.Checksum[:]) {
		t.Errorf("trailer ends with %x, want the checksum %x", trailer[16:], h.Checksum)
	}
}
