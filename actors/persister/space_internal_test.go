package persister

import "testing"

func TestSpaceWatch(t *testing.T) {
	const reserve = 1000
	tests := []struct {
		name    string
		free    []uint64
		low     []bool
		changed []bool
	}{
		{"plenty", []uint64{5000, 4000}, []bool{false, false}, []bool{true, false}},
		{"falls below the reserve", []uint64{5000, 999}, []bool{false, true}, []bool{true, true}},
		{"low at the first reading", []uint64{10}, []bool{true}, []bool{true}},
		{"stays low until a tenth above the reserve", []uint64{900, 1000, 1099, 1100}, []bool{true, true, true, false}, []bool{true, false, false, true}},
		{"exactly the reserve is not low", []uint64{1000}, []bool{false}, []bool{true}},
	}
	for i, tt := range tests {
		w := spaceWatch{reserve: reserve}
		for j, f := range tt.free {
			changed := w.observe(f)
			if w.low != tt.low[j] || changed != tt.changed[j] {
				t.Errorf("%d (%s): reading %d (%d free): low %v, changed %v; want %v, %v",
					i, tt.name, j, f, w.low, changed, tt.low[j], tt.changed[j])
			}
		}
	}
}
