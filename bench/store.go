package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
}

// StoreReport is what one member used for Keys keys.
type StoreReport struct {
	Keys      int
	LiveBytes uint64 // keys and values alone
	// RSS is the member's resident memory after the writes; Disk its data
	// dir's; Restart the time from a start after SIGKILL until it serves.
	RSS, HWM, Disk uint64
	Load           time.Duration
	Restart        time.Duration
	// PIDs are the two processes started (both gone when MeasureStore
	// returns).
	PIDs []int
}

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
		return StartRaftkv(ctx, bin, dir, ports[:1], ports[1:])
	}
	r, err := start()
	if err != nil {
		return rep, err
	}
	rep.PIDs = append(rep.PIDs, r.PIDs()...)
	cl, err := r.Connect(ctx, 64)
	if err != nil {
		r.Stop()
		return rep, err
	}
	began := time.Now()
	err = Preload(ctx, cl, cfg.ValueSize, cfg.Keys, 64)
	rep.Load = time.Since(began)
	cl.Close()
	if err == nil {
		rep.RSS, rep.HWM, err = ProcMem(r.PIDs()[0])
	}
	if err == nil {
		rep.Disk, err = DiskUsage(r.DataDirs()[0])
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
	_, err := fmt.Fprintf(w, `| keys | live data | load | RSS after | peak RSS | data dir | restart to serving |
|---:|---:|---:|---:|---:|---:|---:|
| %d | %.1f MiB | %.1f s | %.0f MiB (%s) | %.0f MiB (%s) | %.0f MiB (%s) | %.2f s |
`, rep.Keys, float64(rep.LiveBytes)/mib, rep.Load.Seconds(), float64(rep.RSS)/mib, ratio(rep.RSS),
		float64(rep.HWM)/mib, ratio(rep.HWM), float64(rep.Disk)/mib, ratio(rep.Disk), rep.Restart.Seconds())
	return err
}
