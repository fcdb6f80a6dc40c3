package testkit

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkInProcessClusterPut measures acknowledged writes (committed on
// a quorum, fsynced to the WAL of each member, applied) of a three-member
// cluster in this process: real WALs in a temporary dir, the kit's
// in-memory network between members, and 64 concurrent clients putting
// 100-byte values (over 10k keys) through the leader's proposer. No HTTP
// and no process boundary: the cost of raft, the actors, the WAL and the
// store alone; e2e's BenchmarkClusterPut and cmd/raftkv-bench measure the
// whole path.
//
//	go test -run '^$' -bench InProcessClusterPut -benchtime 20000x ./testkit
func BenchmarkInProcessClusterPut(b *testing.B) {
	const clients = 64
	c := NewCluster(b, 3)
	leader := c.WaitLeader()
	value := strings.Repeat("v", 100)
	var seq, failed atomic.Int64
	var firstErr atomic.Value
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("bench-%05d", seq.Add(1)%10_000)
			if err := c.Put(leader, key, value); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}
	})
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d writes failed; the first: %v", n, b.N, firstErr.Load())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}
