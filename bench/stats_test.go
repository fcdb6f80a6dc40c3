package bench

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		d := make([]time.Duration, len(ns))
		for i, n := range ns {
			d[i] = time.Duration(n) * time.Millisecond
		}
		return d
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2), 51, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 90, 90 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 99.5, 100 * time.Millisecond},
		{hundred, 0.1, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	lat := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	got := Summarize(lat)
	want := Latencies{P50: 5, P90: 9, P99: 10, Max: 10}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if (Summarize(nil) != Latencies{}) {
		t.Errorf("Summarize(nil) = %+v, want zeros", Summarize(nil))
	}
}

func TestMedianSpread(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		xs   []float64
		want Spread
	}{
		{[]float64{3}, Spread{3, 3, 3}},
		{[]float64{3, 1, 2}, Spread{2, 1, 3}},
		{[]float64{4, 1, 3, 2}, Spread{2.5, 1, 4}},
		{[]float64{1.16, 1.03, 1.29}, Spread{1.16, 1.03, 1.29}},
		{[]float64{nan, 2, 1}, Spread{1.5, 1, 2}},
	}
	for _, tt := range tests {
		if got := MedianSpread(tt.xs); got != tt.want {
			t.Errorf("MedianSpread(%v) = %+v, want %+v", tt.xs, got, tt.want)
		}
	}
	for _, xs := range [][]float64{nil, {nan}} {
		if got := MedianSpread(xs); !math.IsNaN(got.Median) || !math.IsNaN(got.Min) || !math.IsNaN(got.Max) {
			t.Errorf("MedianSpread(%v) = %+v, want NaNs", xs, got)
		}
	}
}

func TestRatios(t *testing.T) {
	got := Ratios([]float64{2, 3, 5, 7}, []float64{1, 2, 0})
	want := []float64{2, 1.5, math.NaN()}
	if len(got) != len(want) {
		t.Fatalf("Ratios = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("Ratios[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestPerOp(t *testing.T) {
	tests := []struct {
		cpu  time.Duration
		ops  int
		want time.Duration
	}{
		{time.Second, 5000, 200 * time.Microsecond},
		{time.Second, 0, 0},
		{0, 10, 0},
	}
	for _, tt := range tests {
		if got := PerOp(tt.cpu, tt.ops); got != tt.want {
			t.Errorf("PerOp(%v, %d) = %v, want %v", tt.cpu, tt.ops, got, tt.want)
		}
	}
}
