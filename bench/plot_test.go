package bench

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// fullRows are the rows of a made-up run of every default workload, two
// rounds.
func fullRows() []Row {
	var results []Result
	for i, w := range DefaultWorkloads() {
		for round := 1; round <= 2; round++ {
			results = append(results,
				result("raftkv", round, w, 1000*(i+1)+100*round, time.Duration(i+1)*time.Millisecond, 200*time.Microsecond),
				result("etcd", round, w, 900*(i+1), time.Duration(i+2)*time.Millisecond, 210*time.Microsecond))
		}
	}
	return Compare(results, DefaultWorkloads())
}

func TestPutSeries(t *testing.T) {
	rows := fullRows()
	got := PutSeries(rows, "etcd", metricIndex("ops/s"))
	var xs, ys []float64
	for _, p := range got {
		xs, ys = append(xs, p.X), append(ys, p.Median)
	}
	// The PUT workloads of 100 B are the first four, at 1, 16, 64, 256 clients.
	if !slices.Equal(xs, []float64{1, 16, 64, 256}) || !slices.Equal(ys, []float64{900, 1800, 2700, 3600}) {
		t.Errorf("PutSeries = x %v, y %v", xs, ys)
	}
	if got := PutSeries(rows[4:5], "raftkv", 0); len(got) != 0 {
		t.Errorf("PutSeries of a GET workload = %v, want none", got)
	}
}

func TestWritePlots(t *testing.T) {
	dir := t.TempDir()
	paths, err := WritePlots(dir, fullRows())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimPrefix(p, dir+"/"))
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 1000 {
			t.Errorf("%s: %d bytes, %v", p, len(b), err)
		}
		if strings.HasSuffix(p, ".svg") && !strings.Contains(string(b), "<svg") {
			t.Errorf("%s is no SVG", p)
		}
	}
	want := []string{"throughput-vs-clients.svg", "throughput-vs-clients.png", "latency-vs-clients.svg",
		"latency-vs-clients.png", "latency-by-workload.svg", "latency-by-workload.png"}
	if !slices.Equal(names, want) {
		t.Errorf("plots %v, want %v", names, want)
	}

	// Without a PUT of 100 B, only the plot by workload.
	paths, err = WritePlots(t.TempDir(), fullRows()[4:6])
	if err != nil || len(paths) != 2 {
		t.Errorf("WritePlots without PUT workloads = %v, %v; want the two files of one plot", paths, err)
	}
}

func TestSteps125(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{0.3, 40, []float64{0.2, 0.5, 1, 2, 5, 10, 20, 50}},
		{1, 1, []float64{1, 2}},
		{1.5, 1.8, []float64{1, 2}},
		{0.012, 0.03, []float64{0.01, 0.02, 0.05}},
		{0, 10, nil},
		{5, 1, nil},
	}
	for _, tt := range tests {
		if got := Steps125(tt.lo, tt.hi); !slices.Equal(got, tt.want) {
			t.Errorf("Steps125(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}
