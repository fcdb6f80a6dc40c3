package bench

import (
	"slices"
	"testing"
)

func TestCPUModel(t *testing.T) {
	const info = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	if got := CPUModel(info); got != "AMD EPYC 7B13" {
		t.Errorf("CPUModel = %q", got)
	}
	if got := CPUModel("processor: 0\n"); got != "unknown CPU" {
		t.Errorf("CPUModel without a model = %q", got)
	}
}

func TestEtcdConns(t *testing.T) {
	tests := []struct{ conns, clients, want int }{
		{0, 1, 1}, {0, 256, 1}, {4, 64, 4}, {64, 16, 16}, {-1, 8, 1},
	}
	for _, tt := range tests {
		if got := EtcdConns(tt.conns, tt.clients); got != tt.want {
			t.Errorf("EtcdConns(%d, %d) = %d, want %d", tt.conns, tt.clients, got, tt.want)
		}
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		rounds, workloads int
		want              []Step
	}{
		{1, 1, []Step{{1, 0, 0}, {1, 0, 1}}},
		{1, 2, []Step{{1, 0, 0}, {1, 0, 1}, {1, 1, 0}, {1, 1, 1}}},
		{3, 2, []Step{
			{1, 0, 0}, {1, 0, 1}, {1, 1, 0}, {1, 1, 1},
			{2, 0, 1}, {2, 0, 0}, {2, 1, 1}, {2, 1, 0},
			{3, 0, 0}, {3, 0, 1}, {3, 1, 0}, {3, 1, 1},
		}},
		{0, 2, nil},
	}
	for _, tt := range tests {
		if got := Schedule(tt.rounds, tt.workloads); !slices.Equal(got, tt.want) {
			t.Errorf("Schedule(%d, %d) = %v, want %v", tt.rounds, tt.workloads, got, tt.want)
		}
	}
}
