package raftnode

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

func TestCompactIndex(t *testing.T) {
	// entries from..to, each of size bytes
	ents := func(from, to uint64, size int) []*raftpb.Entry {
		var es []*raftpb.Entry
		for i := from; i <= to; i++ {
			es = append(es, &raftpb.Entry{Index: new(i), Data: make([]byte, size)})
		}
		return es
	}
	tests := []struct {
		name                      string
		snapIndex, catchUp, bytes uint64
		ents                      []*raftpb.Entry
		want                      uint64
	}{
		{"nothing held", 100, 10, 1 << 20, nil, 0},
		{"fewer entries than catch-up", 8, 10, 1 << 20, ents(1, 8, 10), 0},
		{"small entries: catch-up entries kept", 100, 10, 1 << 20, ents(1, 100, 10), 90},
		{"already compacted that far", 100, 10, 1 << 20, ents(95, 100, 10), 0},
		{"big entries: what fits in the budget kept", 100, 10, 250, ents(1, 100, 100), 98},
		{"the snapshot's own entry kept, whatever its size", 100, 10, 50, ents(1, 100, 100), 99},
		{"budget met exactly", 100, 10, 300, ents(1, 100, 100), 97},
		{"fewer entries than catch-up, but too big", 8, 10, 250, ents(1, 8, 100), 6},
		{"empty entries cost nothing", 100, 10, 0, ents(1, 100, 0), 90},
	}
	for _, tt := range tests {
		first := tt.snapIndex + 1 // the log's start: the first entry held
		if len(tt.ents) > 0 {
			first = tt.ents[0].GetIndex()
		}
		if got := compactIndex(first, tt.snapIndex, tt.catchUp, tt.bytes, tt.ents); got != tt.want {
			t.Errorf("%s: compactIndex = %d, want %d", tt.name, got, tt.want)
		}
		// Given only the entries from catchUpFrom on, as raftnode asks
		// raft for them, it answers the same.
		from := catchUpFrom(first, tt.snapIndex, tt.catchUp)
		tail := tt.ents[min(uint64(len(tt.ents)), from-first):]
		if got := compactIndex(first, tt.snapIndex, tt.catchUp, tt.bytes, tail); got != tt.want {
			t.Errorf("%s: from the catch-up entries alone (%d on), compactIndex = %d, want %d", tt.name, from, got, tt.want)
		}
	}
}

func TestCatchUpFrom(t *testing.T) {
	tests := []struct{ first, snapIndex, catchUp, want uint64 }{
		{1, 100, 10, 91},
		{95, 100, 10, 95},
		{1, 8, 10, 1},
		{1, 10, 10, 1},
	}
	for _, tt := range tests {
		if got := catchUpFrom(tt.first, tt.snapIndex, tt.catchUp); got != tt.want {
			t.Errorf("catchUpFrom(%d, %d, %d) = %d, want %d", tt.first, tt.snapIndex, tt.catchUp, got, tt.want)
		}
	}
}
