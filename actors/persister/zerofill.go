package persister

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Zero-filling the next WAL segment.
//
// etcd's WAL preallocates each segment with fallocate, in a goroutine of
// its own, before it needs it. On Linux file systems that leaves unwritten
// extents: space that reads as zeros, which the file system marks written
// block by block as data lands in it, so that an fdatasync after a write
// into a fresh block also writes the file system's metadata. Into
// space that was written once, zeros and all, an fdatasync writes only the
// data: fewer slow syncs, and more writes a second at 64 clients (README,
// "Performance notes", tenth round).
//
// The WAL offers no hook into its preallocation, so the persister writes
// the zeros itself, on its own goroutine, right after a save: the file the
// WAL will cut to waits in the WAL directory, named by etcd's file pipeline
// 0.tmp or 1.tmp, at its full size once preallocated, and the WAL writes
// nothing into it until a cut inside a save, which renames it. Before each
// piece of zeros the filler checks, with no save in between, that the name
// still holds the file it opened at its full size; a file the WAL took is
// never written again. Zeros are what the preallocated space reads as
// anyway, so a crash anywhere leaves the same WAL behind. The WAL's first
// segment, and the one a restarted member goes on writing, are not filled:
// the WAL is already writing into them when the persister gets the disk.

// fillAhead is how many bytes of the next segment are zeroed for each
// byte written to the WAL (an estimate), so that the next segment is
// filled when the current one is about half written.
const fillAhead = 2

// fillPiece is how much is zeroed at once: small enough that the save
// after which it is written is not held up much (tens of µs).
const fillPiece = 256 << 10

// pipelineFiles are the names etcd's WAL file pipeline gives the segment it
// preallocates, in turn.
var pipelineFiles = [...]string{"0.tmp", "1.tmp"}

// segmentFiller zero-fills the WAL segment that etcd's WAL preallocated for
// its next cut, a piece after each save, and has the kernel start writing
// the zeros out at once (startWriteback) so that the WAL's first fdatasync
// into the segment does not write them. A nil filler fills nothing. Used
// only from the persister's goroutine, the one that saves to the WAL.
type segmentFiller struct {
	dir  string
	size func() int64 // the size of a preallocated segment
	log  *slog.Logger
	// owed is how many bytes to zero, once they add up to a piece.
	owed int64
	// f is the segment being filled, path its name and id its identity;
	// done is how much of it is zeroed. f is closed once filled, path
	// and id are kept to see the WAL take it.
	f    *os.File
	path string
	id   os.FileInfo
	done int64
}

// zeros is what the filler writes: read, never written, so that its pages
// stay the kernel's shared zero page and cost no memory.
var zeros [fillPiece]byte

// newSegmentFiller returns the filler of the WAL directory dir, whose
// preallocated segments are size() bytes; nil where startWriteback is not
// available.
func newSegmentFiller(dir string, size func() int64, log *slog.Logger) *segmentFiller {
	if !canStartWriteback {
		return nil
	}
	return &segmentFiller{dir: dir, size: size, log: log}
}

// wrote tells the filler that about n bytes were saved to the WAL: it
// zeroes fillAhead times as much of the next segment, in whole pieces.
// It returns a failure to fill, after which the caller stops filling (the
// WAL does not need it).
func (s *segmentFiller) wrote(n int64) error {
	if s == nil {
		return nil
	}
	for s.owed += fillAhead * n; s.owed >= fillPiece; s.owed -= fillPiece {
		ok, err := s.claim()
		if err != nil || !ok {
			s.owed = 0
			return err
		}
		if err := s.fillPiece(); err != nil {
			return err
		}
	}
	return nil
}

// claim makes f the waiting segment, if there is one with space to zero,
// and reports whether there is.
func (s *segmentFiller) claim() (bool, error) {
	if s.path != "" {
		fi, err := os.Stat(s.path)
		switch {
		case err == nil && os.SameFile(fi, s.id) && fi.Size() == s.id.Size():
			return s.f != nil, nil // still waiting: filled, or being filled
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return false, fmt.Errorf("zero-fill %s: %w", s.path, err)
		}
		if err := s.release(); err != nil { // the WAL took it
			return false, err
		}
	}
	for _, name := range pipelineFiles {
		path := filepath.Join(s.dir, name)
		fi, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) || err == nil && fi.Size() != s.size() {
			continue // not there, or not preallocated yet
		}
		if err != nil {
			return false, fmt.Errorf("zero-fill %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return false, fmt.Errorf("zero-fill %s: %w", path, err)
		}
		// The name may have moved on between Stat and open (a pipeline
		// preallocating the other name cannot touch this one): check the
		// file opened is the one seen.
		opened, err := f.Stat()
		if err != nil || !os.SameFile(opened, fi) {
			_ = f.Close()
			return false, nil
		}
		s.f, s.path, s.id, s.done = f, path, fi, 0
		return true, nil
	}
	return false, nil
}

// fillPiece zeroes the next piece of f and starts writing it out; at the
// end of f it closes it.
func (s *segmentFiller) fillPiece() error {
	n := min(int64(fillPiece), s.id.Size()-s.done)
	if _, err := s.f.WriteAt(zeros[:n], s.done); err != nil {
		return fmt.Errorf("zero-fill %s at %d: %w", s.path, s.done, err)
	}
	if err := startWriteback(s.f, s.done, n); err != nil {
		return fmt.Errorf("zero-fill %s at %d: start writeback: %w", s.path, s.done, err)
	}
	if s.done += n; s.done < s.id.Size() {
		return nil
	}
	s.log.Debug("persister: zero-filled the next WAL segment", "path", s.path, "bytes", s.done)
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("zero-fill %s: %w", s.path, err)
	}
	return nil
}

// release forgets the segment, closing it if it is still open.
func (s *segmentFiller) release() error {
	if s == nil {
		return nil
	}
	f := s.f
	s.f, s.path, s.id, s.done = nil, "", nil, 0
	if f == nil {
		return nil
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("zero-fill: close: %w", err)
	}
	return nil
}
