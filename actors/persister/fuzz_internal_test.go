package persister

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
)

// FuzzRestore damages one file of a member's data directory — a WAL
// segment, a snapshot file or a store file — in a way the fuzzer picks
// (cut, overwritten, extended or removed) and restores the member from it
// as a start does: Open, then the store from the snapshot's file. Restore
// never panics; it either refuses with ErrDamaged or ErrCorrupt, or it
// yields every acknowledged entry unchanged and a store that is what was
// written.
func FuzzRestore(f *testing.F) {
	smallSegments(f)
	src := pristine(f)
	files := segments(f, src)
	for _, pattern := range []string{filepath.Join(src, snapDirName, "*.snap"), filepath.Join(snapfile.Dir(filepath.Join(src, snapDirName)), "*.db")} {
		more, _ := filepath.Glob(pattern)
		files = append(files, more...)
	}
	slices.Sort(files)

	f.Add(uint8(0), uint8(0), uint32(100), []byte{})
	f.Add(uint8(len(files)-1), uint8(1), uint32(30), []byte{0xff, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(len(files)-2), uint8(2), uint32(0), []byte{})
	f.Add(uint8(1), uint8(3), uint32(0), bytes.Repeat([]byte{7}, 64))

	f.Fuzz(func(t *testing.T, file, op uint8, off uint32, data []byte) {
		dir := copyDir(t, src)
		path := rebase(dir, files[int(file)%len(files)])
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		at := 0
		if len(b) > 0 {
			at = int(off) % len(b)
		}
		switch op % 4 {
		case 0:
			b = b[:at]
		case 1:
			end := min(at+len(data), len(b))
			copy(b[at:end], data)
		case 2:
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		case 3:
			b = append(b, data...)
		}
		if op%4 != 2 {
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}

		d, rec, err := Open(dir, slog.New(slog.DiscardHandler))
		if err != nil {
			if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("refused with %v, want ErrDamaged or ErrCorrupt", err)
			}
			return
		}
		defer d.Close()
		if got := lastIndex(rec); got < acked {
			t.Fatalf("opened with entries up to %d of the %d acknowledged", got, acked)
		}
		for _, e := range rec.Entries {
			if want := fmt.Sprintf("entry-%04d-", e.GetIndex()); !bytes.HasPrefix(e.GetData(), []byte(want)) {
				t.Fatalf("entry %d holds %.20q", e.GetIndex(), e.GetData())
			}
		}
		if rec.Snapshot == nil {
			return
		}
		md := rec.Snapshot.GetMetadata()
		meta, err := messages.DecodeSnapshotMeta(rec.Snapshot.GetData())
		if err != nil {
			return
		}
		st, err := snapfile.Load(d.StoreDir(), md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC)
		if err != nil {
			return
		}
		if res, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte("state")}); len(res.KVs) != 1 || string(res.KVs[0].Value) != "at-40" {
			t.Fatalf("the restored store holds %v, want state=at-40", res.KVs)
		}
	})
}
