package store

import (
	"runtime"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// BenchmarkStoreMemory puts 1M keys of 13 bytes with 100-byte values (about
// 113 MB of live data, issue #10's workload) and reports the heap the store
// holds per key after a collection (heap-B/key) and the objects per key
// (objects/key): what a member's RSS grows with, and what the collector
// must walk.
func BenchmarkStoreMemory(b *testing.B) {
	const n = 1 << 20
	keys := benchKeys(n)
	value := make([]byte, 100)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := New()
		for _, k := range keys {
			s.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: k, Value: value}}})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/key")
		b.ReportMetric(float64(after.HeapObjects-before.HeapObjects)/n, "objects/key")
		runtime.KeepAlive(s)
	}
}
