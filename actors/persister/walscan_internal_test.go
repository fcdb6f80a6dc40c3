package persister

import (
	"log/slog"
	"path/filepath"
	"testing"
)

// BenchmarkScanSegment scans a new, preallocated WAL segment: what every
// start of a member pays to check that nothing follows its records.
func BenchmarkScanSegment(b *testing.B) {
	dir := b.TempDir()
	d, _, err := Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	d.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	b.ResetTimer()
	for range b.N {
		if _, err := scanSegment(segs[0]); err != nil {
			b.Fatal(err)
		}
	}
}
