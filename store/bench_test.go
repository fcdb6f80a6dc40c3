package store

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key/%08d", i)
	}
	return keys
}

// BenchmarkApplyPut applies single-put txns of 100-byte values over 1M keys
// (creates first, then updates).
func BenchmarkApplyPut(b *testing.B) {
	keys := benchKeys(1 << 20)
	value := make([]byte, 100)
	s := New()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: keys[i%len(keys)], Value: value}}})
	}
}

// BenchmarkApplyOverwrite puts to 10,000 keys whose history is full (the
// default 100,000 revisions), as a cluster under a steady write load
// does: each put also drops the oldest revision.
func BenchmarkApplyOverwrite(b *testing.B) {
	keys := benchKeys(10_000)
	value := make([]byte, 100)
	s := New()
	put := func(i int) {
		s.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: keys[i%len(keys)], Value: value}}})
	}
	for i := range 2 * DefaultHistoryRevisions {
		put(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		put(i)
	}
}

// BenchmarkRange reads from a store of 100k keys: one key, and 100 keys of a
// range cut by Limit.
func BenchmarkRange(b *testing.B) {
	const n = 100_000
	keys := benchKeys(n)
	s := New()
	value := make([]byte, 100)
	for _, k := range keys {
		s.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: k, Value: value}}})
	}
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if r, _ := s.Range(messages.Op{Type: messages.OpGet, Key: keys[i%n]}); len(r.KVs) != 1 {
				b.Fatal("missing key")
			}
		}
	})
	b.Run("limit100", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			op := messages.Op{Type: messages.OpGet, Key: keys[i%(n-200)], End: []byte{0}, Limit: 100}
			if r, _ := s.Range(op); len(r.KVs) != 100 || !r.More {
				b.Fatal("short range")
			}
		}
	})
}

// snapshotBenchStore returns a store of 100k keys with 100-byte values.
func snapshotBenchStore() *Store {
	s := New()
	value := make([]byte, 100)
	for _, k := range benchKeys(100_000) {
		s.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: k, Value: value}}})
	}
	return s
}

// BenchmarkSnapshotEncode writes the stream of a view of 100k keys with
// 100-byte values: with WriteSnapshot, and part by part with Next into one
// reused buffer.
func BenchmarkSnapshotEncode(b *testing.B) {
	s := snapshotBenchStore()
	var size countWriter
	if _, err := WriteSnapshot(&size, s.View()); err != nil {
		b.Fatal(err)
	}
	b.Run("WriteSnapshot", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := WriteSnapshot(io.Discard, s.View()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Next64KiB", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		buf := make([]byte, 0, 128<<10)
		for b.Loop() {
			e := NewSnapshotEncoder(s.View())
			for done := false; !done; {
				var err error
				if buf, done, err = e.Next(buf[:0], 64<<10); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkReadSnapshot decodes the stream of 100k keys with 100-byte
// values.
func BenchmarkReadSnapshot(b *testing.B) {
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, snapshotBenchStore().View()); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := ReadSnapshot(bytes.NewReader(data))
		if err != nil || s.Len() != 100_000 {
			b.Fatal(s, err)
		}
	}
}

type countWriter int

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}
