package persister

import (
	"log/slog"
	"path/filepath"

	"github.com/raftkv/raftkv/internal/snapfile"
)

// purger removes, in a goroutine of its own, the files that newer
// snapshots made unneeded: old snapshot files, their store files, and the
// WAL segments the WAL released (removeUnneeded). Removing a big file frees its
// blocks, which the file system may take most of a second for while it
// also flushes a snapshot just written (closing a removed 16 MiB WAL
// segment took 0.41–0.43 s on each member of a cluster under 16 KiB
// writes, all three at about the same index): the WAL's next write, and
// with it every write of the member, does not wait for that. etcd purges
// apart from its writes too.
//
// A purge asked for while one waits is the same purge: it removes what is
// unneeded when it runs. stop waits for a purge asked for to finish.
type purger struct {
	log                       *slog.Logger
	snapDir, storeDir, walDir string
	maxSnaps, maxWALs         int
	// report receives the outcome of each purge, from the purger's
	// goroutine; hook, if set, is called before each purge.
	report   func(error)
	hook     func()
	requests chan struct{}
	done     chan struct{}
}

// startPurger starts the purger of d's directories, which keeps what cfg
// says.
func startPurger(d *Disk, cfg config, report func(error)) *purger {
	p := &purger{log: cfg.log, snapDir: d.snapDir, storeDir: d.storeDir, walDir: d.walDir,
		maxSnaps: cfg.maxSnaps, maxWALs: cfg.maxWALs, report: report, hook: cfg.purgeHook,
		requests: make(chan struct{}, 1), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *purger) run() {
	defer close(p.done)
	for range p.requests {
		if p.hook != nil {
			p.hook()
		}
		p.report(p.removeUnneeded())
	}
}

// purge asks for a purge; a stopped purger (nil) does none.
func (p *purger) purge() {
	if p == nil {
		return
	}
	select {
	case p.requests <- struct{}{}:
	default: // one waits already
	}
}

// stop waits for the purge asked for, if any, and ends the goroutine.
func (p *purger) stop() {
	close(p.requests)
	<-p.done
}

// removeUnneeded removes all but the newest maxSnaps snapshot files (and
// their store files), and all but the newest maxWALs WAL segments. A WAL
// segment is removed only if it can be locked: the WAL keeps every segment
// it still needs locked until Disk.releaseCovered frees it, so a needed
// segment is never removed (fileutil.PurgeFile's rule). It stops at the
// first locked segment, so what stays is always a contiguous run of
// segments.
func (p *purger) removeUnneeded() error {
	if err := purgeFiles(p.log, p.snapDir, ".snap", p.maxSnaps, false); err != nil {
		return err
	}
	kept, err := snapFiles(p.snapDir)
	if err != nil {
		return err
	}
	removed, err := snapfile.Purge(p.storeDir, kept)
	for _, name := range removed {
		p.log.Info("persister: purged", "path", filepath.Join(p.storeDir, name))
	}
	if err != nil {
		return err
	}
	return purgeFiles(p.log, p.walDir, ".wal", p.maxWALs, true)
}
