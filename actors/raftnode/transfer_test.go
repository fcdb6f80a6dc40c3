package raftnode

import (
	"testing"

	"github.com/raftkv/raftkv/membership"
)

func TestTransferTarget(t *testing.T) {
	p := func(match uint64, active bool) membership.Progress {
		return membership.Progress{Match: match, Active: active}
	}
	tests := []struct {
		name     string
		voters   []uint64
		progress map[uint64]membership.Progress
		want     uint64
	}{
		{"alone", []uint64{1}, map[uint64]membership.Progress{1: p(9, true)}, 0},
		{"the furthest", []uint64{1, 2, 3}, map[uint64]membership.Progress{1: p(9, true), 2: p(7, true), 3: p(8, true)}, 3},
		{"only those that respond", []uint64{1, 2, 3}, map[uint64]membership.Progress{1: p(9, true), 2: p(7, true), 3: p(9, false)}, 2},
		{"none responds", []uint64{1, 2, 3}, map[uint64]membership.Progress{1: p(9, true), 2: p(9, false), 3: p(9, false)}, 0},
		{"equals: the lowest id", []uint64{1, 4, 3}, map[uint64]membership.Progress{1: p(9, true), 4: p(8, true), 3: p(8, true)}, 3},
		{"learners are not voters", []uint64{1, 2}, map[uint64]membership.Progress{1: p(9, true), 2: p(5, true), 5: p(9, true)}, 2},
		{"no progress known", []uint64{1, 2}, nil, 0},
	}
	for _, tt := range tests {
		got, ok := transferTarget(1, tt.voters, tt.progress)
		if got != tt.want || ok != (tt.want != 0) {
			t.Errorf("%s: transferTarget = %d, %v; want %d", tt.name, got, ok, tt.want)
		}
	}
}
