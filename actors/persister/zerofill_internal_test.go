package persister

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestSegmentFiller drives the filler as the persister does, after each
// save, against files laid out as etcd's WAL leaves them, and checks which
// bytes it zeroed: only those of the file waiting under a pipeline name at
// its full size, never one the WAL took.
func TestSegmentFiller(t *testing.T) {
	if !canStartWriteback {
		t.Skip("the filler runs only where the kernel can start a writeback (Linux)")
	}
	const size = 2*fillPiece + 100 // two whole pieces and a short one
	tests := []struct {
		name string
		// steps run in turn in the WAL directory: a saved amount for the
		// filler, or a change of the files.
		steps []fillStep
		// zeroed is how many leading bytes of each file end up zero
		// (the rest keep the pattern they were written with).
		zeroed map[string]int64
	}{{
		name:   "nothing before the saves add up to half a piece (it fills twice as fast as the WAL writes)",
		steps:  []fillStep{create("0.tmp", size), wrote(fillPiece/2 - 1)},
		zeroed: map[string]int64{"0.tmp": 0},
	}, {
		name:   "a piece once the saves add up to half of one",
		steps:  []fillStep{create("0.tmp", size), wrote(fillPiece/2 - 1), wrote(1)},
		zeroed: map[string]int64{"0.tmp": fillPiece},
	}, {
		name:   "to its end and no further",
		steps:  []fillStep{create("0.tmp", size), wrote(10 * fillPiece)},
		zeroed: map[string]int64{"0.tmp": size},
	}, {
		name:   "not a file still being preallocated",
		steps:  []fillStep{create("0.tmp", size/2), wrote(10 * fillPiece)},
		zeroed: map[string]int64{"0.tmp": 0},
	}, {
		name: "not a segment the WAL took, but the next one",
		steps: []fillStep{create("0.tmp", size), wrote(fillPiece / 2), rename("0.tmp", "0001.wal"),
			wrote(10 * fillPiece), create("1.tmp", size), wrote(fillPiece / 2)},
		zeroed: map[string]int64{"0001.wal": fillPiece, "1.tmp": fillPiece},
	}, {
		name: "a new file under the name of the one taken, from its start",
		steps: []fillStep{create("0.tmp", size), wrote(fillPiece), rename("0.tmp", "0001.wal"),
			create("0.tmp", size), wrote(fillPiece / 2)},
		zeroed: map[string]int64{"0001.wal": 2 * fillPiece, "0.tmp": fillPiece},
	}, {
		name: "a filled segment until the WAL takes it",
		steps: []fillStep{create("0.tmp", size), wrote(10 * fillPiece), create("1.tmp", size), wrote(fillPiece),
			rename("0.tmp", "0001.wal"), wrote(fillPiece / 2)},
		zeroed: map[string]int64{"0001.wal": size, "1.tmp": fillPiece},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newSegmentFiller(dir, func() int64 { return size }, slog.New(slog.DiscardHandler))
			for _, step := range tt.steps {
				step(t, dir, s)
			}
			if err := s.release(); err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.zeroed {
				if got := zeroPrefix(t, filepath.Join(dir, name)); got != want {
					t.Errorf("%s: %d leading bytes zeroed, want %d", name, got, want)
				}
			}
		})
	}
}

// fillStep is one step of a TestSegmentFiller case.
type fillStep func(t *testing.T, dir string, s *segmentFiller)

// pattern is what the test's files hold before the filler zeroes them.
const pattern = 0xAA

func create(name string, size int) fillStep {
	return func(t *testing.T, dir string, _ *segmentFiller) {
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{pattern}, size), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func rename(from, to string) fillStep {
	return func(t *testing.T, dir string, _ *segmentFiller) {
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
}

func wrote(n int64) fillStep {
	return func(t *testing.T, _ string, s *segmentFiller) {
		if err := s.wrote(n); err != nil {
			t.Fatalf("wrote(%d): %v", n, err)
		}
	}
}

// zeroPrefix is how many leading bytes of the file are zero; it fails the
// test if any byte after them is not the pattern.
func zeroPrefix(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(b) - len(bytes.TrimLeft(b, "\x00"))
	if rest := bytes.Trim(b[n:], string([]byte{pattern})); len(rest) != 0 {
		t.Fatalf("%s: %d bytes after the zeroed %d are neither zero nor the pattern", path, len(rest), n)
	}
	return int64(n)
}
