package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Metric is one measured quantity, a column of the table.
type Metric struct {
	Name   string // the column header
	Value  func(Result) float64
	Format func(float64) string
}

// Metrics are the table's columns, in order.
var Metrics = []Metric{
	{"ops/s", Result.OpsPerSec, thousands},
	{"p50 ms", func(r Result) float64 { return msf(r.Latency.P50) }, sig3},
	{"p90 ms", func(r Result) float64 { return msf(r.Latency.P90) }, sig3},
	{"p99 ms", func(r Result) float64 { return msf(r.Latency.P99) }, sig3},
	{"max ms", func(r Result) float64 { return msf(r.Latency.Max) }, sig3},
	{"server CPU µs/op", func(r Result) float64 { return us(r.ServerCPUPerOp()) }, sig3},
	{"client CPU µs/op", func(r Result) float64 { return us(r.ClientCPUPerOp()) }, sig3},
	{"peak RSS MiB/member", func(r Result) float64 { return mb(slices.Max(append([]uint64{0}, r.PeakRSS...))) }, thousands},
	{"disk MiB/member", func(r Result) float64 { return mb(slices.Max(append([]uint64{0}, r.Disk...))) }, thousands},
}

// Row is one workload compared: each metric's median over rounds (with
// its spread) for both systems, and the raftkv/etcd ratio of each round's
// pair of measurements, median and spread.
type Row struct {
	Workload     Workload
	Raftkv, Etcd []Spread // one per metric of Metrics
	Ratio        []Spread
}

// Compare builds a row per workload, in the order given, from the
// results of both systems ("raftkv" and "etcd"); round i of raftkv pairs
// with round i of etcd.
func Compare(results []Result, workloads []Workload) []Row {
	rounds := 0
	for _, r := range results {
		rounds = max(rounds, r.Round)
	}
	var rows []Row
	for _, w := range workloads {
		row := Row{Workload: w}
		for _, m := range Metrics {
			a := byRound(results, "raftkv", w, rounds, m.Value)
			b := byRound(results, "etcd", w, rounds, m.Value)
			row.Raftkv = append(row.Raftkv, MedianSpread(a))
			row.Etcd = append(row.Etcd, MedianSpread(b))
			row.Ratio = append(row.Ratio, MedianSpread(Ratios(a, b)))
		}
		rows = append(rows, row)
	}
	return rows
}

// byRound returns value of the result of system and w in each round 1 to
// rounds (NaN for a round without one).
func byRound(results []Result, system string, w Workload, rounds int, value func(Result) float64) []float64 {
	v := make([]float64, rounds)
	for i := range v {
		v[i] = math.NaN()
	}
	for _, r := range results {
		if r.System == system && r.Workload == w && r.Round >= 1 && r.Round <= rounds {
			v[r.Round-1] = value(r)
		}
	}
	return v
}

// WriteTable writes rows as a markdown table: for each workload a line
// per system (medians over rounds) and one of ratios.
func WriteTable(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("| workload | |")
	for _, m := range Metrics {
		b.WriteString(" " + m.Name + " |")
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---:|", len(Metrics)) + "\n")
	for _, row := range rows {
		line := func(first, second string, cells []Spread, format func(Metric, Spread) string) {
			b.WriteString("| " + first + " | " + second + " |")
			for i, m := range Metrics {
				b.WriteString(" " + format(m, cells[i]) + " |")
			}
			b.WriteString("\n")
		}
		line(row.Workload.Name(), "raftkv", row.Raftkv, func(m Metric, s Spread) string { return formatValue(m.Format, s.Median) })
		line("", "etcd", row.Etcd, func(m Metric, s Spread) string { return formatValue(m.Format, s.Median) })
		line("", "raftkv/etcd", row.Ratio, func(_ Metric, s Spread) string { return FormatRatio(s) })
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// FormatRatio writes a ratio's median with its spread: "1.16× (1.03–1.29)",
// or "1.16×" when the spread is nil, "–" when there is none.
func FormatRatio(s Spread) string {
	if math.IsNaN(s.Median) || math.IsInf(s.Median, 0) {
		return "–"
	}
	if s.Min == s.Max {
		return fmt.Sprintf("%.2f×", s.Median)
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", s.Median, s.Min, s.Max)
}

func formatValue(format func(float64) string, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return format(v)
}

// thousands writes v rounded to an integer with thousands separators:
// 7476.4 gives "7,476".
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// sig3 writes v with three significant digits (at least the units):
// 0.0123, 1.32, 20.8, 194, 2,513.
func sig3(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return thousands(v)
	case a == 0:
		return "0"
	default:
		decimals := 2 - int(math.Floor(math.Log10(a)))
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
}

// msf is d in milliseconds.
func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
