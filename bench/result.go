package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Result is one workload's measured window on one system in one round:
// a row of the CSV.
type Result struct {
	System    string
	Round     int // from 1
	Workload  Workload
	Ops       int // answered within the window
	Errors    int
	Window    time.Duration
	Latency   Latencies
	ServerCPU time.Duration // of all members over the window
	ClientCPU time.Duration // of this process (the clients) over the window
	PeakRSS   []uint64      // per member, bytes: largest VmRSS sampled in the window
	HWM       []uint64      // per member, bytes: VmHWM at the window's end
	Disk      []uint64      // per member, bytes: du of its data dir after the window
}

// OpsPerSec is the throughput over the window.
func (r Result) OpsPerSec() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Window.Seconds()
}

// ServerCPUPerOp is the members' CPU time per operation answered.
func (r Result) ServerCPUPerOp() time.Duration { return PerOp(r.ServerCPU, r.Ops) }

// ClientCPUPerOp is the clients' CPU time per operation answered.
func (r Result) ClientCPUPerOp() time.Duration { return PerOp(r.ClientCPU, r.Ops) }

// csvMembers is the number of per-member columns of each kind in the CSV.
const csvMembers = 3

// CSVHeader is the first row of the CSV.
func CSVHeader() []string {
	h := []string{"system", "round", "workload", "kind", "clients", "value_bytes", "read_percent",
		"ops", "errors", "seconds", "ops_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms",
		"server_cpu_us_per_op", "client_cpu_us_per_op"}
	for _, col := range []string{"peak_rss_mb", "hwm_mb", "disk_mb"} {
		for i := range csvMembers {
			h = append(h, fmt.Sprintf("%s_%d", col, i+1))
		}
	}
	return h
}

// CSVRow is r as a row under CSVHeader.
func (r Result) CSVRow() []string {
	w := r.Workload
	row := []string{r.System, strconv.Itoa(r.Round), w.Name(), string(w.Kind), strconv.Itoa(w.Clients),
		strconv.Itoa(w.ValueSize), strconv.Itoa(w.ReadPercent),
		strconv.Itoa(r.Ops), strconv.Itoa(r.Errors), fmtFloat(r.Window.Seconds(), 3), fmtFloat(r.OpsPerSec(), 1),
		ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max),
		fmtFloat(us(r.ServerCPUPerOp()), 1), fmtFloat(us(r.ClientCPUPerOp()), 1)}
	for _, col := range [][]uint64{r.PeakRSS, r.HWM, r.Disk} {
		for i := range csvMembers {
			v := ""
			if i < len(col) {
				v = fmtFloat(mb(col[i]), 1)
			}
			row = append(row, v)
		}
	}
	return row
}

// WriteCSV writes the header and a row per result.
func WriteCSV(w io.Writer, results []Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader()); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, r := range results {
		if err := cw.Write(r.CSVRow()); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func fmtFloat(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }

// ms writes d in milliseconds with microsecond precision.
func ms(d time.Duration) string { return fmtFloat(float64(d)/float64(time.Millisecond), 3) }

// us is d in microseconds.
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// mb is b bytes in MiB.
func mb(b uint64) float64 { return float64(b) / (1 << 20) }
