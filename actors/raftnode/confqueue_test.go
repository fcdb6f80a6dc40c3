package raftnode

import (
	"slices"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func TestConfQueue(t *testing.T) {
	req := func(seq uint64) confRequest { return confRequest{id: messages.RequestID{Node: 1, Seq: seq}} }
	tests := []struct {
		name   string
		pushes int
		pops   int
		// wantPopped are the seqs popped, in order; wantDrained what drain
		// returns after.
		wantPopped, wantDrained []uint64
		wantRefused             int
	}{
		{"empty", 0, 1, nil, nil, 0},
		{"in order", 3, 2, []uint64{1, 2}, []uint64{3}, 0},
		{"bounded", maxQueuedConfChanges + 2, 0, nil, nil, 2},
	}
	for i, tt := range tests {
		var q confQueue
		refused := 0
		for s := 1; s <= tt.pushes; s++ {
			if !q.push(req(uint64(s))) {
				refused++
			}
		}
		var popped []uint64
		for range tt.pops {
			if r, ok := q.pop(); ok {
				popped = append(popped, r.id.Seq)
			}
		}
		for s := 1; s <= tt.pushes; s++ {
			queued := s > len(popped) && s <= maxQueuedConfChanges
			if q.has(req(uint64(s)).id) != queued {
				t.Errorf("%d (%s): has(%d) = %v, want %v", i, tt.name, s, !queued, queued)
			}
		}
		var drained []uint64
		for _, r := range q.drain() {
			drained = append(drained, r.id.Seq)
		}
		if refused != tt.wantRefused || !slices.Equal(popped, tt.wantPopped) {
			t.Errorf("%d (%s): refused %d, popped %v; want %d, %v", i, tt.name, refused, popped, tt.wantRefused, tt.wantPopped)
		}
		if tt.name != "bounded" && !slices.Equal(drained, tt.wantDrained) {
			t.Errorf("%d (%s): drained %v, want %v", i, tt.name, drained, tt.wantDrained)
		}
		if tt.name == "bounded" && len(drained) != maxQueuedConfChanges {
			t.Errorf("%d (%s): drained %d, want %d", i, tt.name, len(drained), maxQueuedConfChanges)
		}
		if _, ok := q.pop(); ok {
			t.Errorf("%d (%s): the queue is not empty after drain", i, tt.name)
		}
	}
}
