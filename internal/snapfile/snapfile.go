// Package snapfile keeps the files that hold the store's state at a raft
// snapshot: one file per snapshot, named after its term and index, in the
// subdirectory db/ of a node's snap directory (etcd's snapshot package
// expects exactly that name there). A raft snapshot's Data
// (messages.SnapshotMeta) records the file's size and CRC-32C, and a file is
// only used once both match.
//
// A file is written under a temporary name, synced, renamed and its
// directory synced, so that a file under its final name is always whole.
package snapfile

import (
	"bufio"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/raftkv/raftkv/internal/fsutil"
	"github.com/raftkv/raftkv/store"
)

// DirName is the name of the subdirectory of the snap directory that holds
// the store files.
const DirName = "db"

const (
	ext    = ".db"
	tmpExt = ".tmp"
)

// ErrMismatch means a store file's size or checksum is not what its
// snapshot recorded: the file is damaged or belongs to another snapshot.
var ErrMismatch = errors.New("raftkv: snapshot store file does not match its snapshot")

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Name is the file name of the store file of the snapshot at term, index.
func Name(term, index uint64) string {
	return fmt.Sprintf("%016x-%016x%s", term, index, ext)
}

// Dir is the directory of the store files under snapDir.
func Dir(snapDir string) string { return filepath.Join(snapDir, DirName) }

// Writer writes one store file. Write appends to a temporary file; Commit
// makes it durable under its final name; Abort removes it.
type Writer struct {
	f     *os.File
	tmp   string
	final string
	size  uint64
	crc   hash.Hash32
	// behind is where the bytes not yet handed to fsutil.WriteBehind start.
	behind uint64
}

// writeBehindStretch is how many bytes are written before they are handed
// to the disk (fsutil.WriteBehind), so that a big file is not left whole
// to its final sync, which the WAL's fsyncs would wait behind.
const writeBehindStretch = 8 << 20

// Create starts the store file of the snapshot at term, index in dir,
// creating dir if needed. A temporary file of an earlier attempt is
// replaced.
func Create(dir string, term, index uint64) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create snapshot store directory: %w", err)
	}
	final := filepath.Join(dir, Name(term, index))
	tmp := final + tmpExt
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create snapshot store file: %w", err)
	}
	return &Writer{f: f, tmp: tmp, final: final, crc: crc32.New(crcTable)}, nil
}

// Write appends p, handing every 8 MiB written to the disk as it goes.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.size += uint64(n)
	w.crc.Write(p[:n])
	if err != nil {
		return n, fmt.Errorf("write snapshot store file %s: %w", w.tmp, err)
	}
	if w.size-w.behind >= writeBehindStretch {
		fsutil.WriteBehind(w.f, int64(w.behind), int64(w.size-w.behind))
		w.behind = w.size
	}
	return n, nil
}

// Size is the number of bytes written so far.
func (w *Writer) Size() uint64 { return w.size }

// CRC is the CRC-32C of the bytes written so far.
func (w *Writer) CRC() uint32 { return w.crc.Sum32() }

// Commit syncs the file, gives it its final name and syncs the directory.
// It returns the file's size and CRC-32C.
func (w *Writer) Commit() (size uint64, crc uint32, err error) {
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	if err := w.f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("sync snapshot store file: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return 0, 0, fmt.Errorf("close snapshot store file: %w", err)
	}
	if err := os.Rename(w.tmp, w.final); err != nil {
		return 0, 0, fmt.Errorf("rename snapshot store file: %w", err)
	}
	if err := fsutil.SyncDir(filepath.Dir(w.final)); err != nil {
		return 0, 0, fmt.Errorf("sync snapshot store directory: %w", err)
	}
	return w.size, w.CRC(), nil
}

// Abort closes and removes the temporary file. It may be called after
// Commit failed, or more than once.
func (w *Writer) Abort() {
	_ = w.f.Close()
	_ = os.Remove(w.tmp)
}

// Verify checks that the store file of term, index in dir has the size and
// CRC its snapshot recorded.
func Verify(dir string, term, index, size uint64, crc uint32) error {
	f, err := os.Open(filepath.Join(dir, Name(term, index)))
	if err != nil {
		return fmt.Errorf("snapshot %d: %w", index, err)
	}
	defer f.Close()
	h := crc32.New(crcTable)
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("snapshot %d: read store file: %w", index, err)
	}
	return match(index, uint64(n), h.Sum32(), size, crc)
}

func match(index, gotSize uint64, gotCRC uint32, size uint64, crc uint32) error {
	if gotSize != size || gotCRC != crc {
		return fmt.Errorf("snapshot %d: %w: %d bytes with CRC %08x, recorded %d bytes with CRC %08x",
			index, ErrMismatch, gotSize, gotCRC, size, crc)
	}
	return nil
}

// Load reads the store file of term, index in dir and returns the store it
// holds, after checking its size and CRC.
func Load(dir string, term, index, size uint64, crc uint32) (*store.Store, error) {
	f, err := os.Open(filepath.Join(dir, Name(term, index)))
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", index, err)
	}
	defer f.Close()
	h := crc32.New(crcTable)
	counted := &countingReader{r: io.TeeReader(f, h)}
	st, err := store.ReadSnapshot(counted)
	if err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", index, err)
	}
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return nil, fmt.Errorf("snapshot %d: read store file: %w", index, err)
	}
	if err := match(index, counted.n, h.Sum32(), size, crc); err != nil {
		return nil, err
	}
	return st, nil
}

type countingReader struct {
	r io.Reader
	n uint64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
}

// Purge removes from dir the store files that belong to none of keep (term,
// index pairs of the snapshots still kept) and are older than the newest of
// them. Files newer than every kept snapshot are left, and so are temporary
// files: they may be on their way (RemoveTemp cleans those at start).
func Purge(dir string, keep [][2]uint64) (removed []string, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("purge snapshot store files: %w", err)
	}
	kept := map[string]bool{}
	var newest uint64
	for _, k := range keep {
		kept[Name(k[0], k[1])] = true
		newest = max(newest, k[1])
	}
	for _, e := range entries {
		name := e.Name()
		_, index, ok := parseName(name)
		if !ok || kept[name] || index >= newest {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("purge snapshot store file %s: %w", name, err)
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// RemoveTemp removes the temporary files a crash left in dir.
func RemoveTemp(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read snapshot store directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), tmpExt) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

func parseName(name string) (term, index uint64, ok bool) {
	base, found := strings.CutSuffix(name, ext)
	if !found {
		return 0, 0, false
	}
	t, i, found := strings.Cut(base, "-")
	if !found {
		return 0, 0, false
	}
	term, err1 := strconv.ParseUint(t, 16, 64)
	index, err2 := strconv.ParseUint(i, 16, 64)
	return term, index, err1 == nil && err2 == nil
}
