package applier

import (
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func TestRequestsApplyEachIDOnce(t *testing.T) {
	id := func(node, seq uint64) messages.RequestID { return messages.RequestID{Node: node, Seq: seq} }
	const w = RequestWindow
	tests := []struct {
		name string
		ids  []messages.RequestID
		want []bool // first() for each id, in order
	}{
		{"fresh ids", []messages.RequestID{id(1, 10), id(1, 11), id(2, 10)}, []bool{true, true, true}},
		{"a duplicate", []messages.RequestID{id(1, 10), id(1, 10)}, []bool{true, false}},
		{"a re-proposal after later ones", []messages.RequestID{id(1, 10), id(1, 11), id(1, 12), id(1, 11)}, []bool{true, true, true, false}},
		{"an earlier id applied late, then again", []messages.RequestID{id(1, 12), id(1, 10), id(1, 10)}, []bool{true, true, false}},
		{"other members do not interfere", []messages.RequestID{id(1, 10), id(2, 10), id(1, 10), id(2, 11)}, []bool{true, true, false, true}},
		{"older than the window", []messages.RequestID{id(1, 10), id(1, 10+w), id(1, 10), id(1, 11)}, []bool{true, true, false, true}},
		{"a jump over the window forgets all", []messages.RequestID{id(1, 10), id(1, 10+2*w), id(1, 10+w+5)}, []bool{true, true, true}},
		{"the window's edge", []messages.RequestID{id(1, w), id(1, 1), id(1, 0)}, []bool{true, true, false}},
		{"bits leaving the window are cleared", []messages.RequestID{id(1, 5), id(1, 5+w-1), id(1, 5+w), id(1, 5+w), id(1, 6+w-1)},
			[]bool{true, true, true, false, false}},
	}
	for i, tt := range tests {
		r := newRequests()
		for j, x := range tt.ids {
			if got := r.first(x); got != tt.want[j] {
				t.Errorf("%d (%s): step %d: first(%d/%d) = %v, want %v", i, tt.name, j, x.Node, x.Seq, got, tt.want[j])
			}
		}
		// The state of a snapshot gives the same answers.
		again := requestsFrom(r.state())
		for j, x := range tt.ids {
			if again.first(x) {
				t.Errorf("%d (%s): after a restore, id %d (%d/%d) applies again", i, tt.name, j, x.Node, x.Seq)
			}
		}
	}
}

func TestRequestsStateIsACopyInOrder(t *testing.T) {
	r := newRequests()
	for _, n := range []uint64{3, 1, 2} {
		r.first(messages.RequestID{Node: n, Seq: 7})
	}
	st := r.state()
	if len(st) != 3 || st[0].Node != 1 || st[1].Node != 2 || st[2].Node != 3 || st[0].Top != 7 || r.top(3) != 7 || r.top(9) != 0 {
		t.Fatalf("state %+v, want members 1, 2, 3 at 7", st)
	}
	r.first(messages.RequestID{Node: 1, Seq: 8})
	if st[0].Top != 7 || st[0].Seen[8%RequestWindow/64]&(1<<8) != 0 {
		t.Errorf("the state changed with the table: %+v", st[0].Top)
	}
}
