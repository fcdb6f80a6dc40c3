package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// StoreConfig is the memory, disk and restart measure of one raftkv member
// (raftkv-bench --store-keys): Keys keys of ValueSize bytes written at 64
// clients, then the member killed and started again.
type StoreConfig struct {
	// RaftkvBin is the raftkv binary; empty: built from this module.
	RaftkvBin string
	// WorkDir is where the member's temporary data dir and log are made
	// (empty: the system's temporary directory); removed after.
	WorkDir   string
	Keys      int
	ValueSize int
	// PortLo and PortHi bound the member's loopback ports.
	PortLo, PortHi int
	// RaftkvClient is the HTTP client that writes the keys (Config's).
	RaftkvClient string
}

// StoreReport is what one member used for Keys keys.
type StoreReport struct {
	Keys      int
	LiveBytes uint64 // keys and values alone
	// RSS is the member's resident memory after the writes; Disk its data
	// dir's, of which Snapshots in snap/ and WAL in wal/; Restart the time
	// from a start after SIGKILL until it serves.
	RSS, HWM, Disk, Snapshots, WAL uint64
	Load                           time.Duration
	Restart                        time.Duration
	// SnapshotsWritten is how many snapshots the member wrote during the
	// load; During and Between the latencies of the writes that overlapped
	// one and of the others.
	SnapshotsWritten int
	During, Between  Latencies
	// PIDs are the two processes started (both gone when MeasureStore
	// returns).
	PIDs []int
}

// snapshotPoll is how often MeasureStore asks the member whether it is
// writing a snapshot.
const snapshotPoll = 50 * time.Millisecond

// MeasureStore writes cfg.Keys keys to one member, reads its memory and
// disk, kills it and times its restart.
func MeasureStore(ctx context.Context, cfg StoreConfig) (StoreReport, error) {
	rep := StoreReport{Keys: cfg.Keys}
	for k := range cfg.Keys {
		rep.LiveBytes += uint64(len(Key(cfg.ValueSize, k)) + cfg.ValueSize)
	}
	dir, err := os.MkdirTemp(cfg.WorkDir, "raftkv-store-")
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := cfg.RaftkvBin
	if bin == "" {
		bin = filepath.Join(dir, "raftkv")
		if err := BuildRaftkv(ctx, bin); err != nil {
			return rep, err
		}
	}
	ports, err := newPortBand(cfg.PortLo, cfg.PortHi).takeN(2)
	if err != nil {
		return rep, fmt.Errorf("bench: %w", err)
	}
	start := func() (*Raftkv, error) {
		return StartRaftkv(ctx, bin, dir, ports[:1], ports[1:], cfg.RaftkvClient)
	}
	r, err := start()
	if err != nil {
		return rep, err
	}
	rep.PIDs = append(rep.PIDs, r.PIDs()...)
	const clients = 64
	cl, err := r.Connect(ctx, clients)
	if err != nil {
		r.Stop()
		return rep, err
	}
	ops := make([][]timedOp, clients)
	watchCtx, stopWatch := context.WithCancel(ctx)
	windows := make(chan []window, 1)
	go func() { windows <- watchSnapshots(watchCtx, r.urls[0], snapshotPoll) }()
	began := time.Now()
	err = Preload(ctx, cl, cfg.ValueSize, cfg.Keys, clients, func(w int, start time.Time, took time.Duration) {
		ops[w] = append(ops[w], timedOp{start, took})
	})
	rep.Load = time.Since(began)
	stopWatch()
	ws := <-windows
	cl.Close()
	during, between := splitBySnapshots(slices.Concat(ops...), ws)
	rep.SnapshotsWritten, rep.During, rep.Between = len(ws), Summarize(during), Summarize(between)
	if err == nil {
		rep.RSS, rep.HWM, err = ProcMem(r.PIDs()[0])
	}
	if err == nil {
		rep.Disk, err = DiskUsage(r.DataDirs()[0])
	}
	if err == nil {
		rep.Snapshots, err = DiskUsage(filepath.Join(r.DataDirs()[0], "snap"))
	}
	if err == nil {
		rep.WAL, err = DiskUsage(filepath.Join(r.DataDirs()[0], "wal"))
	}
	r.Stop()
	if err != nil {
		return rep, fmt.Errorf("bench: store of %d keys: %w", cfg.Keys, err)
	}
	began = time.Now()
	r, err = start()
	if err != nil {
		return rep, fmt.Errorf("bench: restart with %d keys: %w", cfg.Keys, err)
	}
	rep.Restart = time.Since(began)
	rep.PIDs = append(rep.PIDs, r.PIDs()...)
	r.Stop()
	return rep, nil
}

// WriteStoreReport prints rep as a Markdown table.
func WriteStoreReport(w io.Writer, rep StoreReport) error {
	const mib = 1 << 20
	ratio := func(b uint64) string { return fmt.Sprintf("%.1f×", float64(b)/float64(rep.LiveBytes)) }
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	_, err := fmt.Fprintf(w, `| keys | live data | load | RSS after | peak RSS | data dir | snapshots + WAL | restart to serving | snapshots written | write p99 during / between snapshots |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| %d | %.1f MiB | %.1f s | %.0f MiB (%s) | %.0f MiB (%s) | %.0f MiB (%s) | %.0f + %.0f MiB | %.2f s | %d | %.1f / %.1f ms |
`, rep.Keys, float64(rep.LiveBytes)/mib, rep.Load.Seconds(), float64(rep.RSS)/mib, ratio(rep.RSS),
		float64(rep.HWM)/mib, ratio(rep.HWM), float64(rep.Disk)/mib, ratio(rep.Disk),
		float64(rep.Snapshots)/mib, float64(rep.WAL)/mib, rep.Restart.Seconds(),
		rep.SnapshotsWritten, ms(rep.During.P99), ms(rep.Between.P99))
	return err
}
