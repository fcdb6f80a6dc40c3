package persister_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"go.etcd.io/etcd/server/v3/storage/wal"
	"golang.org/x/sys/unix"

	"github.com/raftkv/raftkv/messages"
)

// TestWALWritesIntoZeroFilledSegments writes several segments' worth of
// entries and checks that the segment the WAL writes into, and the one it
// will cut to, have no unwritten extents (space preallocated but never
// written, which makes each fdatasync into it also write metadata): the
// persister zero-filled them while the WAL wrote the one before. It then
// reads every entry back.
func TestWALWritesIntoZeroFilledSegments(t *testing.T) {
	old := wal.SegmentSizeBytes
	wal.SegmentSizeBytes = 1 << 20
	t.Cleanup(func() { wal.SegmentSizeBytes = old })

	dir := t.TempDir()
	walDir := filepath.Join(dir, "wal")
	d, _ := open(t, dir)
	if _, ok := unwrittenExtents(t, filepath.Join(walDir, filesWithExt(t, walDir, ".wal")[0])); !ok {
		t.Skip("the file system of the test's temp dir does not map extents (FIEMAP); nothing to check")
	}
	n := spawn(t, d)
	index := uint64(0)
	for len(filesWithExt(t, walDir, ".wal")) < 4 {
		es := ents(index+1, index+10, 1)
		for _, e := range es {
			e.Data = append(e.Data, bytes.Repeat([]byte{'x'}, 1024)...)
		}
		n.persist(&messages.Persist{Seq: index + 1, HardState: hs(1, 1, index+10), Entries: es, MustSync: true})
		index += 10
	}
	n.stop() // and with it any filling after the last answer

	segs := filesWithExt(t, walDir, ".wal")
	tail := filepath.Join(walDir, segs[len(segs)-1])
	if got, _ := unwrittenExtents(t, tail); got != 0 {
		t.Errorf("the WAL's tail %s has %d unwritten extents, want 0 (zero-filled before the WAL cut to it)", tail, got)
	}
	d, rec := open(t, dir)
	defer d.Close()
	if len(rec.Entries) != int(index) || rec.Entries[len(rec.Entries)-1].GetIndex() != index {
		t.Fatalf("read back %d entries, want 1..%d", len(rec.Entries), index)
	}
	for i, e := range rec.Entries {
		if want := fmt.Sprintf("entry-%06d", i+1); e.GetIndex() != uint64(i+1) || !bytes.HasPrefix(e.GetData(), []byte(want)) {
			t.Fatalf("entry %d: index %d, data %.20q, want %q...", i, e.GetIndex(), e.GetData(), want)
		}
	}
	wantHardState(t, rec.HardState, hs(1, 1, index))
}

// Linux's FIEMAP ioctl (linux/fiemap.h), which x/sys/unix does not name.
const (
	fsIocFiemap       = 0xC020660B // _IOWR('f', 11, struct fiemap)
	fiemapFlagSync    = 0x1
	fiemapExtentLast  = 0x1
	fiemapExtentUnwrt = 0x800
)

type fiemapExtent struct {
	Logical, Physical, Length uint64
	_                         [2]uint64
	Flags                     uint32
	_                         [3]uint32
}

type fiemap struct {
	Start, Length                     uint64
	Flags, MappedExtents, ExtentCount uint32
	_                                 uint32
	Extents                           [64]fiemapExtent
}

// unwrittenExtents counts the extents of the file at path that are
// allocated but unwritten; ok is false where the file system cannot map
// extents.
func unwrittenExtents(t *testing.T, path string) (n int, ok bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for start := uint64(0); ; {
		m := fiemap{Start: start, Length: ^uint64(0) - start, Flags: fiemapFlagSync, ExtentCount: 64}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&m)))
		if errors.Is(errno, unix.EOPNOTSUPP) || errors.Is(errno, unix.ENOTTY) {
			return 0, false
		}
		if errno != 0 {
			t.Fatalf("FIEMAP %s: %v", path, errno)
		}
		if m.MappedExtents == 0 {
			return n, true
		}
		for _, e := range m.Extents[:m.MappedExtents] {
			if e.Flags&fiemapExtentUnwrt != 0 {
				n++
			}
			if e.Flags&fiemapExtentLast != 0 {
				return n, true
			}
			start = e.Logical + e.Length
		}
	}
}
