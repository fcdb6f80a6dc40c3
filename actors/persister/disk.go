package persister

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	"go.etcd.io/etcd/server/v3/etcdserver/api/snap"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/internal/fsutil"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
)

// Errors of the persister. Open wraps the underlying cause after them, so
// errors.Is works on both.
var (
	// ErrCorrupt means the WAL holds data that cannot be read back and that
	// etcd's repair (truncating a torn tail) cannot fix. The node must not
	// start on it: restore the member from a peer instead.
	ErrCorrupt = errors.New("raftkv: WAL is corrupt and cannot be repaired")
	// ErrClosed is returned by writes on a Disk that was closed, including
	// a Disk the actor closed after a failed write.
	ErrClosed = errors.New("raftkv: persister disk is closed")
	// ErrDamaged means the WAL is damaged in a way that may have lost
	// entries this member acknowledged: it must not serve from it.
	ErrDamaged = errors.New("raftkv: the WAL is damaged and may have lost acknowledged entries")
)

// Names of the two subdirectories of a node's data directory.
const (
	walDirName  = "wal"
	snapDirName = "snap"
)

// WALSegmentSize is the size of the WAL's segments, which etcd's WAL
// preallocates, the one it writes and the next one alike. Its default of
// 64 MB made the WAL most of the data dir of a store under 100 MB; the
// WAL keeps only the log since the older snapshot kept: for a store under
// 16 MiB, --snapshot-count entries twice over, a few MB of 100-byte
// writes; for a bigger one, about half the store.
const WALSegmentSize = 16 << 20

func init() { wal.SegmentSizeBytes = WALSegmentSize }

// Recovered is what Open read back from a data directory.
type Recovered struct {
	// Exists is false when the directory had no WAL: a brand-new node.
	Exists bool
	// Snapshot is the newest snapshot that is both recorded in the WAL and
	// readable from its file; nil when there is none.
	Snapshot *raftpb.Snapshot
	// HardState is the last hard state in the WAL; never nil (the zero value
	// when none was saved).
	HardState *raftpb.HardState
	// Entries are the WAL's entries after Snapshot, in index order. Entries
	// past HardState.Commit may be uncommitted and be overwritten later.
	Entries []*raftpb.Entry
}

// OpenOption configures Open.
type OpenOption func(*Disk)

// WithRepairWAL makes Open cut off a damaged WAL tail rather than refuse
// it: everything from the damage on is discarded (and kept in a .broken
// file), even entries this member may have acknowledged. Only for a member
// whose peers hold the data, or a single member after a power loss.
func WithRepairWAL() OpenOption { return func(d *Disk) { d.repairWAL = true } }

// crcTable is the CRC-32C table of etcd's WAL records.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Disk is one node's open WAL and snapshot directory. Open returns it; Props
// hands it to the persister actor, which owns it from then on: after Props,
// only the actor may use or close it. Close it yourself only if it never
// reaches an actor.
type Disk struct {
	dir      string
	walDir   string
	snapDir  string
	storeDir string
	log      *slog.Logger
	zl       *zap.Logger
	w        *wal.WAL
	ss       *snap.Snapshotter
	closed   bool
	// fill zero-fills the segment the WAL will cut to; nil when it does
	// not (another OS, a WAL without fsync, a failed fill or save).
	fill *segmentFiller
	// repairWAL cuts a damaged WAL tail instead of refusing it.
	repairWAL bool
}

// Open opens, or creates, the data directory dir of a node: dir/wal holds
// etcd's WAL and dir/snap etcd's snapshot files. For an existing WAL it
// loads the newest snapshot that the WAL records and whose file is readable
// (an unreadable file falls back to an older snapshot), repairs a torn WAL
// tail the way etcd does, and reads the hard state and the entries after
// the snapshot. The returned Disk is ready for appending.
//
// Open never panics: every failure, including a WAL that is corrupt beyond
// repair (errors.Is(err, ErrCorrupt)), is returned as an error. A nil logger
// means slog.Default().
func Open(dir string, logger *slog.Logger, opts ...OpenOption) (d *Disk, rec *Recovered, err error) {
	if logger == nil {
		logger = slog.Default()
	}
	disk := &Disk{
		dir:      dir,
		walDir:   filepath.Join(dir, walDirName),
		snapDir:  filepath.Join(dir, snapDirName),
		storeDir: snapfile.Dir(filepath.Join(dir, snapDirName)),
		log:      logger,
		zl:       newZapLogger(logger),
	}
	disk.fill = newSegmentFiller(disk.walDir, func() int64 { return wal.SegmentSizeBytes }, logger)
	for _, o := range opts {
		o(disk)
	}
	defer func() {
		// etcd's wal and snap packages panic (or zap.Fatal, which our logger
		// turns into a panic) on some malformed input; report it as an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("persister: open %s: %w: unexpected failure reading the data directory: %v", dir, ErrCorrupt, r)
		}
		if err != nil {
			if disk.w != nil {
				_ = disk.w.Close()
			}
			d, rec = nil, nil
		}
	}()
	rec, err = disk.open()
	if errors.Is(err, unix.ENOSPC) {
		free, _ := FreeSpace(dir)
		err = fmt.Errorf("%w: the WAL preallocates segments of %d MiB and the file system of %s has %d MiB free: "+
			"free space there, or give the member a --data-dir on a larger file system", err, wal.SegmentSizeBytes>>20, dir, free>>20)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("persister: open %s: %w", dir, err)
	}
	return disk, rec, nil
}

func (d *Disk) open() (*Recovered, error) {
	if fi, err := os.Stat(d.dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("data directory is not a directory")
	}
	if _, err := os.Stat(filepath.Join(d.dir, seedDirName)); err == nil {
		// Without the check, a dir where Seed stopped before it moved the
		// WAL in would start as a new, empty member.
		return nil, fmt.Errorf("%w: a restore into this data dir did not finish (it holds %s): "+
			"remove the data dir and run raftkv snapshot restore again", ErrDamaged, seedDirName)
	}
	if err := fileutil.TouchDirAll(d.zl, d.dir); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := fileutil.TouchDirAll(d.zl, d.snapDir); err != nil {
		return nil, fmt.Errorf("create snapshot directory: %w", err)
	}
	d.ss = snap.New(d.zl, d.snapDir)

	exists, err := d.walExists()
	if err != nil {
		return nil, err
	}
	if !exists {
		w, err := wal.Create(d.zl, d.walDir, nil)
		if err != nil {
			return nil, fmt.Errorf("create wal: %w", err)
		}
		d.w = w
		d.log.Info("persister: created a new WAL", "dir", d.dir)
		return &Recovered{HardState: &raftpb.HardState{}}, nil
	}
	return d.replay()
}

// walExists tells whether walDir holds a WAL. It refuses a directory that
// holds files but no WAL file, because wal.Create would remove it whole.
func (d *Disk) walExists() (bool, error) {
	entries, err := os.ReadDir(d.walDir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read wal directory: %w", err)
	}
	names, err := fileutil.ReadDir(d.walDir, fileutil.WithExt(".wal"))
	if err != nil {
		return false, fmt.Errorf("read wal directory: %w", err)
	}
	if len(names) == 0 && len(entries) > 0 {
		return false, fmt.Errorf("wal directory %s holds %d files but no *.wal file; refusing to create a WAL over them", d.walDir, len(entries))
	}
	return len(names) > 0, nil
}

func (d *Disk) replay() (*Recovered, error) {
	walSnaps, err := wal.ValidSnapshotEntries(d.zl, d.walDir)
	if err != nil {
		return nil, corrupt(fmt.Errorf("find snapshot records in wal: %w", err))
	}
	snapshot, err := d.loadSnapshot(walSnaps)
	if err != nil {
		return nil, err
	}
	var newest *walpb.Snapshot
	if n := len(walSnaps); n > 0 {
		newest = walSnaps[n-1]
	}
	if newest.GetIndex() > snapshot.GetMetadata().GetIndex() {
		d.log.Warn("persister: the newest snapshot recorded in the WAL is not usable; recovering from an older one",
			"dir", d.dir,
			"newest_index", newest.GetIndex(), "newest_term", newest.GetTerm(),
			"loaded_index", snapshot.GetMetadata().GetIndex(), "loaded_term", snapshot.GetMetadata().GetTerm())
	}

	walsnap := &walpb.Snapshot{
		Index: proto.Uint64(snapshot.GetMetadata().GetIndex()),
		Term:  proto.Uint64(snapshot.GetMetadata().GetTerm()),
	}
	names, err := fileutil.ReadDir(d.walDir, fileutil.WithExt(".wal"))
	if err != nil {
		return nil, fmt.Errorf("read wal directory: %w", err)
	}
	if err := checkSegmentNames(names, walsnap.GetIndex()); err != nil {
		return nil, fmt.Errorf("%w: %w; this member lost entries it acknowledged: remove it from the cluster "+
			"and add it anew with an empty data dir (its peers hold the data)", ErrDamaged, err)
	}
	if err := d.checkTail(); err != nil {
		return nil, err
	}
	w, err := wal.Open(d.zl, d.walDir, walsnap)
	if err != nil {
		if errors.Is(err, fileutil.ErrLocked) {
			return nil, fmt.Errorf("open wal: locked, is another process using %s? %w", d.walDir, err)
		}
		return nil, fmt.Errorf("open wal at snapshot index %d: %w", walsnap.GetIndex(), err)
	}
	d.w = w
	_, st, ents, err := w.ReadAll()
	if err != nil {
		return nil, corrupt(fmt.Errorf("read wal from snapshot index %d: %w", walsnap.GetIndex(), err))
	}
	last := snapshot.GetMetadata().GetIndex()
	if n := len(ents); n > 0 {
		last = ents[n-1].GetIndex()
	}
	if st.GetCommit() > last {
		return nil, fmt.Errorf("%w: its hard state says entries up to %d are committed, and it holds entries up to %d only: "+
			"this member acknowledged entries it lost; remove it from the cluster and add it anew with an empty data dir",
			ErrDamaged, st.GetCommit(), last)
	}
	if st == nil {
		st = &raftpb.HardState{}
	}
	rec := &Recovered{Exists: true, Snapshot: snapshot, HardState: st, Entries: ents}
	attrs := []any{"dir", d.dir,
		"snapshot_index", snapshot.GetMetadata().GetIndex(),
		"term", st.GetTerm(), "vote", st.GetVote(), "commit", st.GetCommit(),
		"entries", len(ents)}
	if len(ents) > 0 {
		attrs = append(attrs, "first_index", ents[0].GetIndex(), "last_index", ents[len(ents)-1].GetIndex())
	}
	d.log.Info("persister: recovered", attrs...)
	return rec, nil
}

// loadSnapshot returns the newest snapshot recorded in the WAL whose snap
// file is readable and whose store file matches the size and CRC it
// records; nil when there is none.
func (d *Disk) loadSnapshot(walSnaps []*walpb.Snapshot) (*raftpb.Snapshot, error) {
	candidates := walSnaps
	for {
		s, err := d.ss.LoadNewestAvailable(candidates)
		if errors.Is(err, snap.ErrNoSnapshot) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("load snapshot: %w", err)
		}
		md := s.GetMetadata()
		meta, err := messages.DecodeSnapshotMeta(s.GetData())
		if errors.Is(err, messages.ErrVersion) {
			return nil, fmt.Errorf("snapshot %d: %w", md.GetIndex(), err)
		}
		if err == nil {
			err = snapfile.Verify(d.storeDir, md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC)
		}
		if err == nil {
			return s, nil
		}
		d.log.Warn("persister: snapshot not usable, trying an older one", "index", md.GetIndex(), "err", err)
		older := candidates[:0:0]
		for _, c := range candidates {
			if c.GetIndex() < md.GetIndex() {
				older = append(older, c)
			}
		}
		candidates = older
	}
}

// checkTail checks the newest WAL segment before etcd's WAL opens it for
// writing (which zeroes whatever follows the end of its records). A
// segment being written is preallocated with zeros, so its records must be
// followed by zeros only, to its full size. A torn last record — the end
// of what was written, a sector of it never written, nothing after it — is
// cut off and the segment is preallocated again, as etcd repairs a torn
// tail. Anything else — a
// record that does not check out with more written after it, a zeroed
// length word in front of records, a segment cut short — is damage: the
// member may have acknowledged what lies beyond, so it must not serve from
// this log, and Open fails with ErrDamaged, saying what it found, unless
// the disk was opened with WithRepairWAL (then the tail is cut off too, and
// the log says what was discarded).
func (d *Disk) checkTail() error {
	names, err := fileutil.ReadDir(d.walDir, fileutil.WithExt(".wal"))
	if err != nil || len(names) == 0 {
		return fmt.Errorf("read wal directory: %w", err)
	}
	path := filepath.Join(d.walDir, names[len(names)-1])
	lock, err := fileutil.TryLockFile(path, os.O_RDWR, fileutil.PrivateFileMode)
	if err != nil {
		return fmt.Errorf("open wal: locked, is another process using %s? %w", d.walDir, err)
	}
	defer lock.Close()
	scan, err := scanSegment(path)
	if err != nil {
		return err
	}
	cut := scan.size < wal.SegmentSizeBytes
	switch {
	case scan.damage == "" && scan.nonZero < 0 && !cut:
		return nil
	case scan.damage != "" && scan.torn && scan.nonZero < 0 && !cut:
		d.log.Warn("persister: the WAL ends in a torn record; cutting it off", "segment", path,
			"offset", scan.valid, "found", scan.damage, "records_kept", scan.records, "last_index", scan.lastIndex)
		return d.cutTail(lock, scan)
	}
	what := describeDamage(scan, cut)
	if !d.repairWAL {
		return fmt.Errorf("%w: %s. Entries past it may have been acknowledged, so this member must not serve from this log: "+
			"remove it from the cluster and add it anew with an empty data dir (its peers hold the data), or, if you know "+
			"that nothing past it was acknowledged (a single member after a power loss, say), start it once with --repair-wal "+
			"to cut the segment at offset %d, keeping entries up to index %d",
			ErrDamaged, what, scan.valid, scan.lastIndex)
	}
	d.log.Error("persister: the WAL is damaged; cutting it off as --repair-wal asks, and discarding everything after",
		"segment", path, "found", what, "offset", scan.valid, "records_kept", scan.records, "last_index", scan.lastIndex)
	return d.cutTail(lock, scan)
}

// describeDamage says in words what scan found.
func describeDamage(scan segmentScan, cut bool) string {
	var parts []string
	if scan.damage != "" {
		parts = append(parts, fmt.Sprintf("%s at offset %d of %s", scan.damage, scan.valid, scan.path))
	} else if scan.nonZero >= 0 {
		parts = append(parts, fmt.Sprintf("a zeroed length word at offset %d of %s", scan.valid, scan.path))
	}
	if scan.nonZero >= 0 {
		parts = append(parts, fmt.Sprintf("with data written after it (from offset %d)", scan.nonZero))
	}
	if cut {
		parts = append(parts, fmt.Sprintf("%s is %d bytes, shorter than the %d bytes a segment being written has: it was cut",
			scan.path, scan.size, wal.SegmentSizeBytes))
	}
	return strings.Join(parts, "; ")
}

// cutTail cuts the locked segment of scan after its last good record,
// keeping what it cuts in a .broken file, and preallocates it again.
func (d *Disk) cutTail(f *fileutil.LockedFile, scan segmentScan) error {
	if scan.size > scan.valid {
		tail := make([]byte, scan.size-scan.valid)
		if _, err := f.ReadAt(tail, scan.valid); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("repair wal: read the tail: %w", err)
		}
		if err := os.WriteFile(scan.path+".broken", bytes.TrimRight(tail, "\x00"), 0o600); err != nil {
			return fmt.Errorf("repair wal: keep the tail: %w", err)
		}
	}
	if err := f.Truncate(scan.valid); err != nil {
		return fmt.Errorf("repair wal: %w", err)
	}
	if err := fileutil.Preallocate(f.File, max(wal.SegmentSizeBytes, scan.valid), true); err != nil {
		return fmt.Errorf("repair wal: preallocate: %w", err)
	}
	if err := fileutil.Fsync(f.File); err != nil {
		return fmt.Errorf("repair wal: %w", err)
	}
	d.log.Warn("persister: cut the WAL (what was cut is kept in a .broken file)", "segment", scan.path, "offset", scan.valid)
	return nil
}

// corrupt marks err as ErrCorrupt when it says that the WAL's content cannot
// be read back, as opposed to an error of the file system.
func corrupt(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) || errors.Is(err, fileutil.ErrLocked) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// StoreDir is the directory of the snapshots' store files.
func (d *Disk) StoreDir() string { return d.storeDir }

// Close closes the WAL, releasing its file locks. It may be called more than
// once; only the first call does anything.
func (d *Disk) Close() error {
	if d == nil || d.closed {
		return nil
	}
	d.closed = true
	d.stopFill()
	if d.w == nil {
		return nil
	}
	if err := d.w.Close(); err != nil {
		return fmt.Errorf("persister: close wal %s: %w", d.walDir, err)
	}
	return nil
}

// saveSnapshot writes the snapshot file, syncs it and its directory, then
// records the snapshot in the WAL (which syncs the WAL).
func (d *Disk) saveSnapshot(s *raftpb.Snapshot) error {
	if d.closed {
		return ErrClosed
	}
	md := s.GetMetadata()
	if md.GetConfState() == nil {
		return fmt.Errorf("snapshot %d has no ConfState", md.GetIndex())
	}
	if err := d.ss.SaveSnap(s); err != nil {
		return fmt.Errorf("save snapshot file %d: %w", md.GetIndex(), err)
	}
	if err := fsutil.SyncDir(d.snapDir); err != nil {
		return fmt.Errorf("sync snapshot directory after snapshot %d: %w", md.GetIndex(), err)
	}
	rec := &walpb.Snapshot{
		Index:     proto.Uint64(md.GetIndex()),
		Term:      proto.Uint64(md.GetTerm()),
		ConfState: proto.Clone(md.GetConfState()).(*raftpb.ConfState),
	}
	if err := d.w.SaveSnapshot(rec); err != nil {
		return fmt.Errorf("record snapshot %d in wal: %w", md.GetIndex(), err)
	}
	return nil
}

// save appends entries and the hard state (nil means unchanged) to the WAL.
// wal.Save fsyncs when raft.MustSync says so: entries, or a new term or
// vote. A commit-only change is written and reaches the disk with the next
// sync, as raft allows.
func (d *Disk) save(st *raftpb.HardState, ents []*raftpb.Entry) error {
	if d.closed {
		return ErrClosed
	}
	if st == nil {
		st = &raftpb.HardState{}
	} else {
		// The WAL keeps the pointer to write it at the head of the next
		// segment; a copy protects it from a caller that reuses it.
		st = proto.Clone(st).(*raftpb.HardState)
	}
	if raft.IsEmptyHardState(st) && len(ents) == 0 {
		return nil
	}
	if err := d.w.Save(st, ents); err != nil {
		// A cut may have stopped between writing the next segment and
		// renaming it: nothing may write to it now.
		d.stopFill()
		return err
	}
	return nil
}

// zeroNext zero-fills the segment the WAL will cut to for about n bytes
// just saved (segmentFiller). A failure only ends the filling: the WAL
// does not need it.
func (d *Disk) zeroNext(n int64) {
	if err := d.fill.wrote(n); err != nil {
		d.log.Warn("persister: cannot zero-fill the next WAL segment; going on without", "err", err)
		d.stopFill()
	}
}

// stopFill ends the zero-filling for good.
func (d *Disk) stopFill() {
	if err := d.fill.release(); err != nil {
		d.log.Warn("persister: zero-fill", "err", err)
	}
	d.fill = nil
}

// Usage measures what the WAL and snapshot directories take on disk: the
// sizes of their files (WAL segments, and the next one the WAL
// preallocates, count whole).
func (d *Disk) Usage() (messages.DiskUsage, error) {
	w, err := dirBytes(d.walDir)
	if err != nil {
		return messages.DiskUsage{}, err
	}
	s, err := dirBytes(d.snapDir)
	if err != nil {
		return messages.DiskUsage{}, err
	}
	return messages.DiskUsage{WAL: w, Snapshot: s}, nil
}

// dirBytes is the total size of the regular files under dir. A file that
// vanishes while it is read (a temporary file renamed or removed by
// another actor or by the WAL's preallocation) is skipped.
func dirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measure %s: %w", dir, err)
	}
	return total, nil
}

// release lets the WAL unlock the segments that only hold entries before
// index, so that purge may remove them.
func (d *Disk) release(index uint64) error {
	if d.closed {
		return ErrClosed
	}
	return d.w.ReleaseLockTo(index)
}

// releaseCovered lets the WAL unlock the segments that only hold entries
// before the oldest of the newest maxSnaps snapshots, those a purge keeps,
// so that the purge (purger) may remove them. Releasing up to the oldest
// snapshot kept, not the newest, keeps the WAL that a fall back to an
// older snapshot (when the newest one's files are unreadable) replays
// from.
func (d *Disk) releaseCovered(maxSnaps int) error {
	snaps, err := snapFiles(d.snapDir)
	if err != nil || len(snaps) == 0 {
		return err
	}
	oldest := snaps[max(len(snaps)-maxSnaps, 0)][1]
	if err := d.release(oldest); err != nil {
		return fmt.Errorf("release wal before snapshot %d: %w", oldest, err)
	}
	return nil
}

// snapFiles returns the term and index of every snapshot file in snapDir,
// oldest first.
func snapFiles(snapDir string) ([][2]uint64, error) {
	names, err := fileutil.ReadDir(snapDir, fileutil.WithExt(".snap"))
	if err != nil {
		return nil, fmt.Errorf("purge %s: %w", snapDir, err)
	}
	var snaps [][2]uint64
	for _, name := range names {
		var term, index uint64
		if _, err := fmt.Sscanf(name, "%016x-%016x.snap", &term, &index); err == nil {
			snaps = append(snaps, [2]uint64{term, index})
		}
	}
	slices.SortFunc(snaps, func(a, b [2]uint64) int { return cmp.Compare(a[1], b[1]) })
	return snaps, nil
}

func purgeFiles(log *slog.Logger, dir, ext string, keep int, lock bool) error {
	names, err := fileutil.ReadDir(dir, fileutil.WithExt(ext))
	if err != nil {
		return fmt.Errorf("purge %s: %w", dir, err)
	}
	for i := 0; i < len(names)-keep; i++ {
		p := filepath.Join(dir, names[i])
		var l *fileutil.LockedFile
		if lock {
			l, err = fileutil.TryLockFile(p, os.O_WRONLY, fileutil.PrivateFileMode)
			if err != nil {
				// Still held by the WAL: needed, and so is every later one.
				return nil
			}
		}
		err = os.Remove(p)
		if l != nil {
			if cerr := l.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("purge %s: %w", p, err)
		}
		log.Info("persister: purged", "path", p)
	}
	return nil
}
