package bench

import (
	"slices"
	"testing"
)

func TestWorkloadName(t *testing.T) {
	tests := []struct {
		w    Workload
		want string
	}{
		{Workload{Kind: KindPut, Clients: 64, ValueSize: 100}, "put-100B-c64"},
		{Workload{Kind: KindPut, Clients: 1, ValueSize: 16 << 10}, "put-16KiB-c1"},
		{Workload{Kind: KindGetLin, Clients: 64, ValueSize: 100}, "get-lin-100B-c64"},
		{Workload{Kind: KindGetSer, Clients: 64, ValueSize: 1 << 10}, "get-ser-1KiB-c64"},
		{Workload{Kind: KindMix, Clients: 64, ValueSize: 100, ReadPercent: 90}, "mix90-100B-c64"},
	}
	for _, tt := range tests {
		if got := tt.w.Name(); got != tt.want {
			t.Errorf("Name of %+v = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestSizeName(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{100, "100B"}, {1024, "1KiB"}, {1500, "1500B"}, {16 << 10, "16KiB"}, {1 << 20, "1MiB"}, {0, "0B"},
	}
	for _, tt := range tests {
		if got := SizeName(tt.n); got != tt.want {
			t.Errorf("SizeName(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDefaultWorkloadsAreTheIssues(t *testing.T) {
	var names []string
	for _, w := range DefaultWorkloads() {
		names = append(names, w.Name())
	}
	want := []string{"put-100B-c1", "put-100B-c16", "put-100B-c64", "put-100B-c256",
		"get-lin-100B-c64", "get-ser-100B-c64", "mix90-100B-c64", "put-1KiB-c64", "put-16KiB-c64"}
	if !slices.Equal(names, want) {
		t.Errorf("default workloads %v, want %v", names, want)
	}
	if n := len(SmokeWorkloads()); n != 2 {
		t.Errorf("%d smoke workloads, want 2", n)
	}
}

func TestSelectWorkloads(t *testing.T) {
	all := DefaultWorkloads()
	tests := []struct {
		filter string
		want   []string
	}{
		{"put-100B-c64", []string{"put-100B-c64"}},
		{"get-,mix", []string{"get-lin-100B-c64", "get-ser-100B-c64", "mix90-100B-c64"}},
		{"KiB", []string{"put-1KiB-c64", "put-16KiB-c64"}},
	}
	for _, tt := range tests {
		got, err := SelectWorkloads(all, tt.filter)
		var names []string
		for _, w := range got {
			names = append(names, w.Name())
		}
		if err != nil || !slices.Equal(names, tt.want) {
			t.Errorf("SelectWorkloads(%q) = %v, %v; want %v", tt.filter, names, err, tt.want)
		}
	}
	if got, err := SelectWorkloads(all, ""); err != nil || len(got) != len(all) {
		t.Errorf("SelectWorkloads(\"\") = %d workloads, %v; want all %d", len(got), err, len(all))
	}
	if _, err := SelectWorkloads(all, "nothing"); err == nil {
		t.Error("SelectWorkloads(nothing): no error")
	}
}

func TestKey(t *testing.T) {
	if got, want := Key(100, 42), "bench-100B-00000042"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if Key(100, 1) == Key(1024, 1) {
		t.Error("value sizes share keys")
	}
}
