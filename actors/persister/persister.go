package persister

import (
	"errors"
	"fmt"
	"log/slog"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/internal/failpoint"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
)

// Defaults of the options: the newest snapshot and one to fall back to
// (each holds the whole store, so every one kept costs its size on disk),
// and only the WAL segments from the older one on (a restart reads every
// segment kept).
const (
	DefaultMaxSnapshots = 2
	DefaultMaxWALFiles  = 1
)

// measureEvery is how many bytes written to the WAL (an estimate) make the
// persister measure its directories again: an eighth of a WAL segment, so
// that a new segment shows soon after the WAL cut it.
const measureEvery = 8 << 20

type config struct {
	maxSnaps int
	maxWALs  int
	noFsync  bool
	log      *slog.Logger
	space    *SpaceCheck
	metrics  *metrics.Metrics
	// measureEvery is how many bytes written to the WAL make it measure
	// its directories again.
	measureEvery int64
	// purgeHook, when set, is called by the purger before each purge:
	// tests hold a purge up with it.
	purgeHook func()
}

// SpaceCheck is how the persister watches the free space of the data
// directory's filesystem.
type SpaceCheck struct {
	// Reserve is the free space below which the disk is low: the node then
	// has its NOSPACE alarm raised, and writes are refused, until it is
	// back above it (and a tenth more).
	Reserve uint64
	// Free reads the free space of a directory; nil means FreeSpace.
	Free func(dir string) (uint64, error)
	// Notify receives DiskSpace when the verdict changes (the proposer).
	Notify *actor.PID
	// Interval is how often to look; 0 means on every tenth
	// messages.Tick the caller sends.
	Interval time.Duration
}

// spaceCheckTicks is how many ticks apart the free space is read when the
// caller ticks the persister.
const spaceCheckTicks = 10

// Option configures the persister actor.
type Option func(*config)

// WithMaxSnapshots keeps the newest n snapshot files (at least 1) when old
// files are purged. The default is DefaultMaxSnapshots.
func WithMaxSnapshots(n int) Option {
	return func(c *config) { c.maxSnaps = max(n, 1) }
}

// WithMaxWALFiles keeps at least the newest n WAL segments (at least 1)
// when old ones are purged; segments the WAL still needs are kept whatever
// n is. The default is DefaultMaxWALFiles.
func WithMaxWALFiles(n int) Option {
	return func(c *config) { c.maxWALs = max(n, 1) }
}

// WithoutFsync turns off the WAL's fsync. Only for tests that simulate no
// power loss (the test kit's in-process cluster): an acknowledged write may
// be lost if the machine goes down.
func WithoutFsync() Option {
	return func(c *config) { c.noFsync = true }
}

// WithSpaceCheck makes the persister watch the free space of the data
// directory's filesystem, and tell sc.Notify when it falls below the
// reserve or rises back above it.
func WithSpaceCheck(sc SpaceCheck) Option {
	return func(c *config) {
		if sc.Free == nil {
			sc.Free = FreeSpace
		}
		c.space = &sc
	}
}

// WithMetrics has the persister record its fsync and snapshot times and
// the bytes its directories take on disk in m.
func WithMetrics(m *metrics.Metrics) Option {
	return func(c *config) { c.metrics = m }
}

// WithLogger sets the actor's logger; the default is the logger given to
// Open.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// Props returns the props of the persister actor. The actor owns d from then
// on: it closes d when it stops, and also when a write fails, so that a
// restarted or resumed actor cannot write to a WAL in an unknown state.
func Props(d *Disk, opts ...Option) *actor.Props {
	c := config{maxSnaps: DefaultMaxSnapshots, maxWALs: DefaultMaxWALFiles, log: d.log, measureEvery: measureEvery}
	for _, o := range opts {
		o(&c)
	}
	if c.noFsync && d.w != nil {
		d.w.SetUnsafeNoFsync()
		d.stopFill() // what the fill saves is fdatasync's time
	}
	return actor.PropsFromProducer(func() actor.Actor {
		p := &persister{d: d, cfg: c, log: c.log}
		if c.space != nil {
			p.watch.reserve = c.space.Reserve
		}
		return p
	})
}

type persister struct {
	d     *Disk
	cfg   config
	log   *slog.Logger
	watch spaceWatch
	ticks uint64
	stop  func()
	// unmeasured estimates the bytes written to the WAL since the
	// directories were last measured.
	unmeasured int64
	// purger removes the files snapshots made unneeded; nil once stopped.
	purger *purger
}

// purged is the outcome of a purge, from the purger.
type purged struct{ err error }

// Receive handles one message. A failed write panics, after closing the
// disk, so that the node's supervisor stops the node (docs/design.md, "Failures"): the
// sender never gets an acknowledgement for data that may not be on disk.
func (p *persister) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		p.log.Debug("persister: started", "dir", p.d.dir)
		system, self := ctx.ActorSystem(), ctx.Self()
		p.purger = startPurger(p.d, p.cfg, func(err error) {
			system.Root.Send(self, &purged{err: err})
		})
		p.measure()
		if sc := p.cfg.space; sc != nil {
			p.checkSpace(ctx)
			if sc.Interval > 0 {
				p.stop = every.Send(ctx.ActorSystem(), ctx.Self(), sc.Interval, &checkSpace{})
			}
		}
	case *actor.Stopping:
		if p.stop != nil {
			p.stop()
		}
		p.close("stopping")
	case *actor.Stopped:
		p.close("stopped")
	case *actor.Restarting:
		p.close("restarting")
	case *purged:
		if msg.err != nil {
			p.fail(msg.err)
		}
		p.measure()
	case *messages.Persist:
		written, err := p.persist(msg)
		if err != nil {
			p.fail(err)
		}
		for _, o := range msg.Then {
			ctx.Send(o.To, o.Message)
		}
		reply := &messages.Persisted{Seq: msg.Seq}
		if !raft.IsEmptySnap(msg.Snapshot) || p.unmeasured >= p.cfg.measureEvery {
			reply.Usage = p.measure()
		}
		ctx.Respond(reply)
		p.d.zeroNext(written) // after the answer: the next segment is not what waits
	case *messages.SaveSnapshot:
		if err := p.saveSnapshot(msg); err != nil {
			p.fail(err)
		}
		ctx.Respond(&messages.SnapshotSaved{Index: msg.Snapshot.GetMetadata().GetIndex(), Usage: p.measure()})
	case *messages.Tick:
		if p.ticks++; p.cfg.space != nil && p.ticks%spaceCheckTicks == 0 {
			p.checkSpace(ctx)
		}
	case *checkSpace:
		p.checkSpace(ctx)
	}
}

// checkSpace asks the persister to read the free space.
type checkSpace struct{}

// checkSpace reads the free space and tells SpaceCheck.Notify when the
// verdict changed.
func (p *persister) checkSpace(ctx actor.Context) {
	sc := p.cfg.space
	free, err := sc.Free(p.d.dir)
	if err != nil {
		p.log.Warn("persister: cannot read the free disk space", "dir", p.d.dir, "err", err)
		return
	}
	if !p.watch.observe(free) {
		return
	}
	if p.watch.low {
		p.log.Warn("persister: the disk is nearly full: writes are refused until there is space again",
			"dir", p.d.dir, "free_bytes", free, "reserve_bytes", sc.Reserve)
	} else {
		p.log.Info("persister: disk space", "dir", p.d.dir, "free_bytes", free, "reserve_bytes", sc.Reserve)
	}
	ctx.Send(sc.Notify, &messages.DiskSpace{Free: free, Low: p.watch.low})
}

// measure measures what the directories take on disk, records it and
// returns it; nil if it could not (logged).
func (p *persister) measure() *messages.DiskUsage {
	p.unmeasured = 0
	u, err := p.d.Usage()
	if err != nil {
		p.log.Warn("persister: cannot measure the data on disk", "dir", p.d.dir, "err", err)
		return nil
	}
	p.cfg.metrics.SetDiskUsage(u.WAL, u.Snapshot)
	return &u
}

// walBytes estimates what saving st and ents writes to the WAL: each
// record's data and about 32 bytes of framing.
func walBytes(st *raftpb.HardState, ents []*raftpb.Entry) int64 {
	n := int64(0)
	if !raft.IsEmptyHardState(st) {
		n += 64
	}
	for _, e := range ents {
		n += int64(len(e.GetData())) + 32
	}
	return n
}

// persist makes one Ready durable: snapshot file, WAL snapshot record,
// entries and hard state; then, with a snapshot, it releases the WAL
// segments that the oldest snapshot kept covers and asks the purger to
// remove them and the old snapshots. It returns about how many bytes it
// wrote to the WAL.
func (p *persister) persist(msg *messages.Persist) (int64, error) {
	hasSnap := !raft.IsEmptySnap(msg.Snapshot)
	if hasSnap {
		start := time.Now()
		if err := p.d.saveSnapshot(msg.Snapshot); err != nil {
			return 0, fmt.Errorf("persist ready %d: %w", msg.Seq, err)
		}
		p.cfg.metrics.ObserveSnapshotSave(time.Since(start))
	}
	failpoint.Inject(failpoint.PersisterBeforeSave) // a slow disk, in tests built with -tags failpoints
	start := time.Now()
	if err := p.d.save(msg.HardState, msg.Entries); err != nil {
		return 0, fmt.Errorf("persist ready %d: save %d entries and hard state: %w", msg.Seq, len(msg.Entries), err)
	}
	if msg.MustSync {
		p.cfg.metrics.ObserveWALFsync(time.Since(start))
	}
	written := walBytes(msg.HardState, msg.Entries)
	p.unmeasured += written
	if hasSnap {
		if err := p.d.releaseCovered(p.cfg.maxSnaps); err != nil {
			return 0, fmt.Errorf("persist ready %d: %w", msg.Seq, err)
		}
		p.purger.purge()
	}
	return written, nil
}

// saveSnapshot stores a snapshot the node made itself, releases the WAL
// segments that the oldest snapshot kept covers, and asks the purger to
// remove them and the old snapshots.
func (p *persister) saveSnapshot(msg *messages.SaveSnapshot) error {
	if raft.IsEmptySnap(msg.Snapshot) {
		p.log.Warn("persister: asked to save an empty snapshot; ignored")
		return nil
	}
	index := msg.Snapshot.GetMetadata().GetIndex()
	start := time.Now()
	if err := p.d.saveSnapshot(msg.Snapshot); err != nil {
		return fmt.Errorf("save snapshot %d: %w", index, err)
	}
	p.cfg.metrics.ObserveSnapshotSave(time.Since(start))
	if err := p.d.releaseCovered(p.cfg.maxSnaps); err != nil {
		return fmt.Errorf("save snapshot %d: %w", index, err)
	}
	p.purger.purge()
	return nil
}

func (p *persister) fail(err error) {
	if errors.Is(err, syscall.ENOSPC) {
		p.log.Error("persister: the disk is full; the node cannot continue: free space on it and start the member again",
			"dir", p.d.dir, "err", err)
	} else {
		p.log.Error("persister: write failed; the node cannot continue", "dir", p.d.dir, "err", err)
	}
	p.close("failed")
	panic(err)
}

// close stops the purger, then closes the disk.
func (p *persister) close(why string) {
	if p.purger != nil {
		p.purger.stop()
		p.purger = nil
	}
	if p.d.closed {
		return
	}
	if err := p.d.Close(); err != nil {
		p.log.Error("persister: close", "dir", p.d.dir, "reason", why, "err", err)
		return
	}
	p.log.Debug("persister: closed", "dir", p.d.dir, "reason", why)
}
