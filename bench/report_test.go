package bench

import (
	"bytes"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"
)

// result is a Result of a 1-second window with ops operations, the given
// p99 and CPU per operation.
func result(system string, round int, w Workload, ops int, p99 time.Duration, cpuPerOp time.Duration) Result {
	return Result{
		System: system, Round: round, Workload: w, Ops: ops, Window: time.Second,
		Latency:   Latencies{P50: p99 / 4, P90: p99 / 2, P99: p99, Max: 2 * p99},
		ServerCPU: cpuPerOp * time.Duration(ops), ClientCPU: time.Duration(ops) * 50 * time.Microsecond,
		PeakRSS: []uint64{100 << 20, 120 << 20, 110 << 20}, HWM: []uint64{101 << 20, 121 << 20, 111 << 20},
		Disk: []uint64{64 << 20, 64 << 20, 65 << 20},
	}
}

func TestCompare(t *testing.T) {
	put := Workload{Kind: KindPut, Clients: 64, ValueSize: 100}
	get := Workload{Kind: KindGetLin, Clients: 64, ValueSize: 100}
	results := []Result{
		result("raftkv", 1, put, 7000, 20*time.Millisecond, 200*time.Microsecond),
		result("etcd", 1, put, 7000, 20*time.Millisecond, 200*time.Microsecond),
		result("raftkv", 2, put, 9000, 10*time.Millisecond, 100*time.Microsecond),
		result("etcd", 2, put, 6000, 20*time.Millisecond, 200*time.Microsecond),
		result("raftkv", 3, put, 8000, 30*time.Millisecond, 300*time.Microsecond),
		result("etcd", 3, put, 4000, 20*time.Millisecond, 200*time.Microsecond),
		result("raftkv", 1, get, 15000, 5*time.Millisecond, 100*time.Microsecond),
	}
	rows := Compare(results, []Workload{put, get})
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	ops, p99, cpu := metricIndex("ops/s"), metricIndex("p99 ms"), metricIndex("server CPU µs/op")
	checks := []struct {
		name      string
		got, want Spread
	}{
		{"raftkv ops/s", rows[0].Raftkv[ops], Spread{8000, 7000, 9000}},
		{"etcd ops/s", rows[0].Etcd[ops], Spread{6000, 4000, 7000}},
		// Per round: 7000/7000, 9000/6000, 8000/4000.
		{"ops/s ratio", rows[0].Ratio[ops], Spread{1.5, 1, 2}},
		{"p99 ratio", rows[0].Ratio[p99], Spread{1, 0.5, 1.5}},
		{"cpu ratio", rows[0].Ratio[cpu], Spread{1, 0.5, 1.5}},
		{"raftkv get ops/s", rows[1].Raftkv[ops], Spread{15000, 15000, 15000}},
	}
	for _, c := range checks {
		if math.Abs(c.got.Median-c.want.Median) > 1e-9 || math.Abs(c.got.Min-c.want.Min) > 1e-9 || math.Abs(c.got.Max-c.want.Max) > 1e-9 {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
	if !math.IsNaN(rows[1].Ratio[ops].Median) {
		t.Errorf("ratio without etcd results = %v, want NaN", rows[1].Ratio[ops])
	}

	var b bytes.Buffer
	if err := WriteTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	for _, want := range []string{
		"| workload | | ops/s | p50 ms | p90 ms | p99 ms | max ms | server CPU µs/op | client CPU µs/op | peak RSS MiB/member | disk MiB/member |",
		"| put-100B-c64 | raftkv | 8,000 | 5.00 | 10.0 | 20.0 | 40.0 | 200 | 50.0 | 120 | 65 |",
		"|  | etcd | 6,000 |",
		"|  | raftkv/etcd | 1.50× (1.00–2.00) |",
		"| get-lin-100B-c64 | raftkv | 15,000 |",
		"|  | etcd | – |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestFormatRatio(t *testing.T) {
	tests := []struct {
		s    Spread
		want string
	}{
		{Spread{1.16, 1.03, 1.29}, "1.16× (1.03–1.29)"},
		{Spread{0.8, 0.8, 0.8}, "0.80×"},
		{Spread{math.NaN(), math.NaN(), math.NaN()}, "–"},
		{Spread{math.Inf(1), 1, math.Inf(1)}, "–"},
	}
	for _, tt := range tests {
		if got := FormatRatio(tt.s); got != tt.want {
			t.Errorf("FormatRatio(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestNumberFormats(t *testing.T) {
	tests := []struct {
		f    func(float64) string
		v    float64
		want string
	}{
		{thousands, 7476.4, "7,476"},
		{thousands, 999.5, "1,000"},
		{thousands, 1234567, "1,234,567"},
		{thousands, 12, "12"},
		{thousands, -4321, "-4,321"},
		{sig3, 1.3249, "1.32"},
		{sig3, 20.84, "20.8"},
		{sig3, 194.4, "194"},
		{sig3, 2513, "2,513"},
		{sig3, 0.012345, "0.0123"},
		{sig3, 0, "0"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.v); got != tt.want {
			t.Errorf("format(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestCSV(t *testing.T) {
	w := Workload{Kind: KindMix, Clients: 64, ValueSize: 100, ReadPercent: 90}
	r := result("etcd", 2, w, 6436, 22200*time.Microsecond, 214*time.Microsecond)
	r.Errors = 3
	var b bytes.Buffer
	if err := WriteCSV(&b, []Result{r}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(recs[0]) != len(recs[1]) {
		t.Fatalf("csv %v: want a header and a row of as many fields", recs)
	}
	got := map[string]string{}
	for i, h := range recs[0] {
		got[h] = recs[1][i]
	}
	want := map[string]string{
		"system": "etcd", "round": "2", "workload": "mix90-100B-c64", "kind": "mix", "clients": "64",
		"value_bytes": "100", "read_percent": "90", "ops": "6436", "errors": "3", "seconds": "1.000",
		"ops_per_s": "6436.0", "p50_ms": "5.550", "p99_ms": "22.200", "max_ms": "44.400",
		"server_cpu_us_per_op": "214.0", "client_cpu_us_per_op": "50.0",
		"peak_rss_mb_2": "120.0", "hwm_mb_3": "111.0", "disk_mb_3": "65.0",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("csv %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestParsePortBand(t *testing.T) {
	tests := []struct {
		s      string
		lo, hi int
		ok     bool
	}{
		{"6000-10000", 6000, 10000, true},
		{"1-2", 1, 2, true},
		{"10000-6000", 0, 0, false},
		{"6000", 0, 0, false},
		{"a-b", 0, 0, false},
		{"0-100", 0, 0, false},
		{"60000-70000", 0, 0, false},
	}
	for _, tt := range tests {
		lo, hi, err := ParsePortBand(tt.s)
		if (err == nil) != tt.ok || lo != tt.lo || hi != tt.hi {
			t.Errorf("ParsePortBand(%q) = %d, %d, %v", tt.s, lo, hi, err)
		}
	}
}
