package raftnode

import (
	"bytes"
	"slices"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func TestProposalBatch(t *testing.T) {
	prop := func(seq uint64, size int) *messages.Propose {
		return &messages.Propose{ID: messages.RequestID{Node: 1, Seq: seq}, Data: bytes.Repeat([]byte{byte(seq)}, size)}
	}
	tests := []struct {
		name  string
		sizes []int
		// wantFirst and wantFull are what each add reports; wantTaken the
		// seqs the take after the adds returns.
		wantFirst, wantFull []bool
		wantTaken           []uint64
	}{
		{"empty", nil, nil, nil, nil},
		{"one", []int{100}, []bool{true}, []bool{false}, []uint64{1}},
		{"in order", []int{100, 10, 0}, []bool{true, false, false}, []bool{false, false, false}, []uint64{1, 2, 3}},
		{"full at the bound", []int{maxBatchBytes - 1, 1}, []bool{true, false}, []bool{false, true}, []uint64{1, 2}},
		{"one write over the bound", []int{maxBatchBytes + 1}, []bool{true}, []bool{true}, []uint64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b proposalBatch
			var first, full []bool
			for i, size := range tt.sizes {
				f, u := b.add(prop(uint64(i+1), size))
				first, full = append(first, f), append(full, u)
			}
			if !slices.Equal(first, tt.wantFirst) || !slices.Equal(full, tt.wantFull) {
				t.Errorf("add reported first %v full %v, want %v %v", first, full, tt.wantFirst, tt.wantFull)
			}
			ids, entries, ok := b.take()
			if ok != (len(tt.wantTaken) > 0) || len(ids) != len(entries) {
				t.Fatalf("take: ok %v, %d ids and %d entries; want ok %v", ok, len(ids), len(entries), len(tt.wantTaken) > 0)
			}
			var seqs []uint64
			for i, id := range ids {
				seqs = append(seqs, id.Seq)
				if want := prop(id.Seq, tt.sizes[i]).Data; !bytes.Equal(entries[i].GetData(), want) {
					t.Errorf("entry %d holds %d bytes, want the data of write %d", i, len(entries[i].GetData()), id.Seq)
				}
			}
			if !slices.Equal(seqs, tt.wantTaken) {
				t.Errorf("took %v, want %v", seqs, tt.wantTaken)
			}
			if _, _, ok := b.take(); ok {
				t.Error("a second take found writes: take must empty the batch")
			}
			if f, _ := b.add(prop(9, 1)); !f {
				t.Error("the first add after take did not report first")
			}
		})
	}
}
