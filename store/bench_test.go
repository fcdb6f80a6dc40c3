package store

import (
	"fmt"
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
