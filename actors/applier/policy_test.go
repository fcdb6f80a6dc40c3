package applier

import "testing"

func TestSnapshotPolicy(t *testing.T) {
	const count = 100
	const big = 100 << 20 // a big store's snapshot: 100 MiB
	tests := []struct {
		name    string
		size    uint64 // of the last snapshot
		entries uint64 // applied since
		bytes   uint64 // their data
		want    bool
	}{
		{"a small store, fewer than count entries", 1 << 20, count - 1, 1 << 30, false},
		{"a small store, count entries", 1 << 20, count, 10, true},
		{"no snapshot yet: taken as small", 0, count, 10, true},
		{"a big store, count small entries", big, count, 1 << 20, false},
		{"a big store, a quarter of it in the log", big, count, big / 4, true},
		{"a big store, a quarter of it in fewer than count entries", big, count - 1, big, false},
		{"a big store, a quarter of it in entries that raft keeps", big, big / 4 / entryOverhead, 0, true},
		{"a big store, one entry fewer", big, big/4/entryOverhead - 1, 0, false},
		{"a big store, a quarter of it in data and entries", big, big / 8 / entryOverhead, big / 8, true},
		{"a big store, many small entries short of a quarter", big, 50 * count, 50 * count * 150, false},
	}
	for _, tt := range tests {
		p := snapshotPolicy{count: count}
		p.taken(1000, tt.size)
		p.applied(int(tt.bytes))
		if got := p.due(1000 + tt.entries); got != tt.want {
			t.Errorf("%s: due = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Asking for a snapshot starts the count anew and keeps the last size
// until the new one is written.
func TestSnapshotPolicyCountsFromTheLast(t *testing.T) {
	p := snapshotPolicy{count: 10}
	p.taken(0, 64<<20)
	p.applied(16 << 20)
	if !p.due(10) {
		t.Fatal("not due with a quarter of the snapshot in 10 entries")
	}
	p.taken(10, 0)
	if p.size != 64<<20 || p.bytes != 0 {
		t.Fatalf("after asking: size %d, bytes %d; want the last size and 0 bytes", p.size, p.bytes)
	}
	p.applied(16 << 20)
	if p.due(19) || !p.due(20) {
		t.Error("the count does not start at the snapshot asked for")
	}
	p.written(1 << 30)
	if p.due(20) {
		t.Error("due with 16 MiB of log after a 1 GiB snapshot")
	}
}
