package persister_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
)

// replyTimeout bounds a wait for the persister (an fsync under -race may be
// slow); the kit dilates it by RAFTKV_TEST_TIMEFACTOR.
const replyTimeout = 10 * time.Second

// quiet is how long a test watches a probe to see that nothing arrives.
const quiet = 100 * time.Millisecond

// syncBuffer is a log sink that tests can read while actors write to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLogger returns a logger into a buffer that is printed if t fails.
func testLogger(t testing.TB) (*slog.Logger, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func open(t testing.TB, dir string) (*persister.Disk, *persister.Recovered) {
	t.Helper()
	log, _ := testLogger(t)
	d, rec, err := persister.Open(dir, log)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return d, rec
}

// node is a persister actor on a data directory, in an actor system of its
// own, with a probe that talks to it as raftnode does.
type node struct {
	t      testing.TB
	system *actor.ActorSystem
	probe  *testkit.Probe
	pid    *actor.PID
}

// spawn starts a persister on d in a fresh test system.
func spawn(t testing.TB, d *persister.Disk, opts ...persister.Option) *node {
	t.Helper()
	return spawnIn(t, testkit.NewSystem(t), d, opts...)
}

func spawnIn(t testing.TB, system *actor.ActorSystem, d *persister.Disk, opts ...persister.Option) *node {
	t.Helper()
	return &node{
		t:      t,
		system: system,
		probe:  testkit.NewProbe(t, system),
		pid:    testkit.Spawn(t, system, persister.Props(d, opts...)),
	}
}

// persist sends msg and expects the Persisted of its Seq.
func (n *node) persist(msg *messages.Persist) {
	n.t.Helper()
	got := testkit.Request[*messages.Persisted](n.probe, n.pid, msg, replyTimeout)
	if got.Seq != msg.Seq {
		n.t.Fatalf("Persist %d: reply %#v, want Persisted{%d}", msg.Seq, got, msg.Seq)
	}
}

// saveSnapshot sends a SaveSnapshot of s and expects the SnapshotSaved of
// its index.
func (n *node) saveSnapshot(s *raftpb.Snapshot) {
	n.t.Helper()
	got := testkit.Request[*messages.SnapshotSaved](n.probe, n.pid, &messages.SaveSnapshot{Snapshot: s}, replyTimeout)
	if got.Index != s.GetMetadata().GetIndex() {
		n.t.Fatalf("SaveSnapshot %d: reply %#v", s.GetMetadata().GetIndex(), got)
	}
}

// stop stops the actor and waits until it has closed its disk: an actor's
// Terminated is sent after its Stopped handler, which closes the disk, has
// run. No other message may be pending on the probe.
func (n *node) stop() {
	n.t.Helper()
	n.probe.Watch(n.pid)
	n.system.Root.Stop(n.pid)
	n.probe.ExpectTerminated(n.pid, replyTimeout)
}

func hs(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: proto.Uint64(term), Vote: proto.Uint64(vote), Commit: proto.Uint64(commit)}
}

func ents(from, to, term uint64) []*raftpb.Entry {
	var es []*raftpb.Entry
	for i := from; i <= to; i++ {
		es = append(es, &raftpb.Entry{
			Term:  proto.Uint64(term),
			Index: proto.Uint64(i),
			Type:  raftpb.EntryType_EntryNormal.Enum(),
			Data:  fmt.Appendf(nil, "entry-%06d", i),
		})
	}
	return es
}

// stateOf is the value of "state" in the store file of the recovered
// snapshot s of the data directory dir.
func stateOf(t testing.TB, dir string, s *raftpb.Snapshot) string {
	t.Helper()
	meta, err := messages.DecodeSnapshotMeta(s.GetData())
	if err != nil {
		t.Fatal(err)
	}
	md := s.GetMetadata()
	st, err := snapfile.Load(snapfile.Dir(filepath.Join(dir, "snap")), md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte("state")})
	if len(r.KVs) != 1 {
		return ""
	}
	return string(r.KVs[0].Value)
}

func wantEntries(t testing.TB, got []*raftpb.Entry, from, to uint64) {
	t.Helper()
	if n := int(to - from + 1); len(got) != n {
		t.Fatalf("recovered %d entries, want %d (%d..%d)", len(got), n, from, to)
	}
	for i, e := range got {
		if e.GetIndex() != from+uint64(i) || !bytes.Equal(e.GetData(), fmt.Appendf(nil, "entry-%06d", e.GetIndex())) {
			t.Fatalf("entry %d: got index %d data %q", i, e.GetIndex(), e.GetData())
		}
	}
}

func wantHardState(t testing.TB, got, want *raftpb.HardState) {
	t.Helper()
	if got == nil {
		t.Fatalf("HardState is nil")
	}
	if got.GetTerm() != want.GetTerm() || got.GetVote() != want.GetVote() || got.GetCommit() != want.GetCommit() {
		t.Fatalf("HardState = %v, want %v", got, want)
	}
}

func filesWithExt(t testing.TB, dir, ext string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ext) {
			names = append(names, de.Name())
		}
	}
	return names
}

func TestOpenNewDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node1")
	d, rec := open(t, dir)
	if rec.Exists || rec.Snapshot != nil || len(rec.Entries) != 0 {
		t.Fatalf("new dir: %+v", rec)
	}
	wantHardState(t, rec.HardState, &raftpb.HardState{})
	for _, sub := range []string{"wal", "snap"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", sub, err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// An empty WAL exists now: the node restarts rather than bootstraps.
	d, rec = open(t, dir)
	defer d.Close()
	if !rec.Exists || rec.Snapshot != nil || len(rec.Entries) != 0 {
		t.Fatalf("reopened empty WAL: %+v", rec)
	}
}

func TestPersistAndRecover(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 0), Entries: ents(1, 3, 1)})
	n.persist(&messages.Persist{Seq: 2, Entries: ents(4, 5, 1)}) // hard state unchanged
	n.persist(&messages.Persist{Seq: 3, HardState: hs(1, 1, 5)}) // commit only
	n.persist(&messages.Persist{Seq: 4})                         // nothing at all
	n.stop()

	d, rec := open(t, dir)
	defer d.Close()
	if !rec.Exists || rec.Snapshot != nil {
		t.Fatalf("Exists=%v Snapshot=%v", rec.Exists, rec.Snapshot)
	}
	wantHardState(t, rec.HardState, hs(1, 1, 5))
	wantEntries(t, rec.Entries, 1, 5)
}

// TestPersistSendsThenBeforeItsAck checks that the messages a Persist
// carries leave once it is durable, before Persisted: a follower's answer
// to its leader leaves straight from the persister.
func TestPersistSendsThenBeforeItsAck(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	link := testkit.NewProbe(t, n.system)
	resp := &raftpb.Message{Type: raftpb.MsgAppResp.Enum(), From: proto.Uint64(2), To: proto.Uint64(1), Index: proto.Uint64(3)}
	heartbeat := &raftpb.Message{Type: raftpb.MsgHeartbeatResp.Enum(), From: proto.Uint64(2), To: proto.Uint64(3)}
	// The first goes to the probe that asks, so that its order against
	// the reply shows.
	n.probe.Send(n.pid, &messages.Persist{Seq: 1, HardState: hs(1, 1, 0), Entries: ents(1, 3, 1), Then: []messages.Outgoing{
		{To: n.probe.PID(), Message: resp}, {To: link.PID(), Message: heartbeat},
	}})
	if got := testkit.ExpectMsg[*raftpb.Message](n.probe, replyTimeout); got != resp {
		t.Fatalf("first message %v, want the append response", got)
	}
	if got := testkit.ExpectMsg[*messages.Persisted](n.probe, replyTimeout); got.Seq != 1 {
		t.Fatalf("reply %+v, want Persisted{1}", got)
	}
	if got := testkit.ExpectMsg[*raftpb.Message](link, replyTimeout); got != heartbeat {
		t.Fatalf("second link got %v, want the heartbeat response", got)
	}
	n.stop()

	d, rec := open(t, dir)
	defer d.Close()
	wantEntries(t, rec.Entries, 1, 3)
}

func TestRecoveredDiskAppends(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 2), Entries: ents(1, 2, 1)})
	n.stop()

	d, _ = open(t, dir)
	n = spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(2, 1, 4), Entries: ents(3, 4, 2)})
	n.stop()

	d, rec := open(t, dir)
	defer d.Close()
	wantHardState(t, rec.HardState, hs(2, 1, 4))
	wantEntries(t, rec.Entries, 1, 4)
}

func TestPersistWithSnapshot(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 3), Entries: ents(1, 5, 1)})
	// A snapshot from the leader replaces the log: install it with the
	// entries that follow it.
	n.persist(&messages.Persist{Seq: 2, Snapshot: persister.MakeSnapshot(t, dir, 10, 2), HardState: hs(2, 0, 10), Entries: ents(11, 12, 2)})
	n.persist(&messages.Persist{Seq: 3, HardState: hs(2, 0, 13), Entries: ents(13, 13, 2)})
	n.stop()

	if got := filesWithExt(t, filepath.Join(dir, "snap"), ".snap"); len(got) != 1 {
		t.Fatalf("snap files %v, want one", got)
	}
	d, rec := open(t, dir)
	defer d.Close()
	if rec.Snapshot.GetMetadata().GetIndex() != 10 || rec.Snapshot.GetMetadata().GetTerm() != 2 ||
		stateOf(t, dir, rec.Snapshot) != "at-10" {
		t.Fatalf("snapshot = %v", rec.Snapshot)
	}
	if got := rec.Snapshot.GetMetadata().GetConfState().GetVoters(); len(got) != 3 {
		t.Fatalf("ConfState voters = %v", got)
	}
	wantHardState(t, rec.HardState, hs(2, 0, 13))
	wantEntries(t, rec.Entries, 11, 13)
}

func TestSaveSnapshotPurgesSnapshotFiles(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d, persister.WithMaxSnapshots(2))
	for i := uint64(1); i <= 6; i++ {
		n.persist(&messages.Persist{Seq: i, HardState: hs(1, 1, 2*i), Entries: ents(2*i-1, 2*i, 1)})
		n.saveSnapshot(persister.MakeSnapshot(t, dir, 2*i, 1))
	}
	n.persist(&messages.Persist{Seq: 7, HardState: hs(1, 1, 13), Entries: ents(13, 13, 1)})
	n.stop()

	got := filesWithExt(t, filepath.Join(dir, "snap"), ".snap")
	want := []string{"0000000000000001-000000000000000a.snap", "0000000000000001-000000000000000c.snap"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("snap files %v, want %v", got, want)
	}
	// The store files go with their snapshots.
	got = filesWithExt(t, snapfile.Dir(filepath.Join(dir, "snap")), ".db")
	want = []string{"0000000000000001-000000000000000a.db", "0000000000000001-000000000000000c.db"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("store files %v, want %v", got, want)
	}
	d, rec := open(t, dir)
	defer d.Close()
	if rec.Snapshot.GetMetadata().GetIndex() != 12 {
		t.Fatalf("snapshot index %d, want 12", rec.Snapshot.GetMetadata().GetIndex())
	}
	wantHardState(t, rec.HardState, hs(1, 1, 13))
	wantEntries(t, rec.Entries, 13, 13)
}

// TestPurgeWALSegments cuts many small WAL segments and checks that purge
// removes the old ones but never one the WAL still needs: with
// WithMaxWALFiles(1) it tries to remove all but the newest, so only the
// lock rule keeps the segment that holds the snapshot.
func TestPurgeWALSegments(t *testing.T) {
	old := wal.SegmentSizeBytes
	wal.SegmentSizeBytes = 16 * 1024
	t.Cleanup(func() { wal.SegmentSizeBytes = old })

	dir := t.TempDir()
	walDir := filepath.Join(dir, "wal")
	d, _ := open(t, dir)
	n := spawn(t, d, persister.WithMaxWALFiles(1))
	big := func(from, to uint64) []*raftpb.Entry {
		es := ents(from, to, 1)
		for _, e := range es {
			e.Data = append(e.Data, bytes.Repeat([]byte{'x'}, 1024)...)
		}
		return es
	}
	var index uint64
	maxSegments := 0
	for round := uint64(1); round <= 8; round++ {
		for range 4 {
			n.persist(&messages.Persist{Seq: index + 1, HardState: hs(1, 1, index+10), Entries: big(index+1, index+10)})
			index += 10
		}
		maxSegments = max(maxSegments, len(filesWithExt(t, walDir, ".wal")))
		n.saveSnapshot(persister.MakeSnapshot(t, dir, index-5, 1))
	}
	// Entries after the last snapshot, in the segment(s) still locked.
	n.persist(&messages.Persist{Seq: index + 1, HardState: hs(1, 1, index+3), Entries: big(index+1, index+3)})
	lastSnap := index - 5
	index += 3
	n.stop()

	segs := filesWithExt(t, walDir, ".wal")
	if maxSegments < 3 {
		t.Fatalf("the test cut only %d segments", maxSegments)
	}
	if len(segs) >= maxSegments || segs[0] == "0000000000000000-0000000000000000.wal" {
		t.Fatalf("old WAL segments not purged: %v", segs)
	}
	d, rec := open(t, dir)
	defer d.Close()
	if rec.Snapshot.GetMetadata().GetIndex() != lastSnap {
		t.Fatalf("snapshot index %d, want %d", rec.Snapshot.GetMetadata().GetIndex(), lastSnap)
	}
	if len(rec.Entries) != int(index-lastSnap) || rec.Entries[0].GetIndex() != lastSnap+1 ||
		rec.Entries[len(rec.Entries)-1].GetIndex() != index {
		t.Fatalf("recovered %d entries, want %d..%d", len(rec.Entries), lastSnap+1, index)
	}
	wantHardState(t, rec.HardState, hs(1, 1, index))
}

// lastWAL returns the path of the newest WAL segment and the offset just
// after its last non-zero byte (segments are preallocated with zeros).
func lastWAL(t *testing.T, dir string) (string, int64) {
	t.Helper()
	segs := filesWithExt(t, filepath.Join(dir, "wal"), ".wal")
	p := filepath.Join(dir, "wal", segs[len(segs)-1])
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	end := int64(len(bytes.TrimRight(b, "\x00")))
	return p, end
}

// A torn tail — the frame of a last record written, part of its data not
// (a sector of zeros), nothing after it — is cut off as etcd repairs it;
// the cut part is kept in a .broken file and the WAL takes new writes.
func TestTornWALTailIsRepaired(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 5), Entries: ents(1, 5, 1)})
	n.persist(&messages.Persist{Seq: 2, Entries: ents(6, 8, 1)})
	n.stop()

	path, end := lastWAL(t, dir)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The frame of a 4000-byte record of which only 100 bytes reached the
	// disk.
	frame := binary.LittleEndian.AppendUint64(nil, 4000)
	frame = append(frame, bytes.Repeat([]byte{0xab}, 100)...)
	if _, err := f.WriteAt(frame, (end+7)/8*8); err != nil {
		t.Fatal(err)
	}
	f.Close()

	d, rec := open(t, dir)
	wantHardState(t, rec.HardState, hs(1, 1, 5))
	wantEntries(t, rec.Entries, 1, 8)
	if _, err := os.Stat(path + ".broken"); err != nil {
		t.Fatalf("no backup of the torn segment: %v", err)
	}
	// The repaired WAL takes new writes.
	n = spawn(t, d)
	n.persist(&messages.Persist{Seq: 3, HardState: hs(1, 1, 9), Entries: ents(9, 9, 1)})
	n.stop()
	d, rec = open(t, dir)
	defer d.Close()
	wantHardState(t, rec.HardState, hs(1, 1, 9))
	wantEntries(t, rec.Entries, 1, 9)
}

// A WAL segment cut short is not a torn tail (a segment being written is
// preallocated, so a write cut short never shortens it): the member may
// have acknowledged what was cut. It is refused, saying so, unless opened
// with WithRepairWAL.
func TestCutWALIsRefused(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 5), Entries: ents(1, 5, 1)})
	n.persist(&messages.Persist{Seq: 2, Entries: ents(6, 8, 1)})
	n.stop()
	path, end := lastWAL(t, dir)
	if err := os.Truncate(path, end-5); err != nil {
		t.Fatal(err)
	}
	_, _, err := persister.Open(dir, nil)
	if !errors.Is(err, persister.ErrDamaged) || !strings.Contains(err.Error(), "it was cut") {
		t.Fatalf("Open of a cut WAL: %v, want ErrDamaged saying it was cut", err)
	}
	d, rec, err := persister.Open(dir, nil, persister.WithRepairWAL())
	if err != nil {
		t.Fatalf("Open with WithRepairWAL: %v", err)
	}
	defer d.Close()
	wantEntries(t, rec.Entries, 1, 7) // the cut took entry 8
}

func TestCorruptSnapshotFallsBackToOlder(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 10), Entries: ents(1, 10, 1)})
	n.saveSnapshot(persister.MakeSnapshot(t, dir, 5, 1))
	n.saveSnapshot(persister.MakeSnapshot(t, dir, 8, 1))
	n.stop()

	newest := filepath.Join(dir, "snap", "0000000000000001-0000000000000008.snap")
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 2; i < len(b)/2+4; i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(newest, b, 0o644); err != nil {
		t.Fatal(err)
	}

	log, buf := testLogger(t)
	d, rec, err := persister.Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if rec.Snapshot.GetMetadata().GetIndex() != 5 || stateOf(t, dir, rec.Snapshot) != "at-5" {
		t.Fatalf("snapshot = %v, want the one at 5", rec.Snapshot)
	}
	wantEntries(t, rec.Entries, 6, 10)
	wantHardState(t, rec.HardState, hs(1, 1, 10))
	if _, err := os.Stat(newest + ".broken"); err != nil {
		t.Fatalf("corrupt snapshot not set aside: %v", err)
	}
	if !strings.Contains(buf.String(), "newest_index=8") || !strings.Contains(buf.String(), "loaded_index=5") {
		t.Fatalf("fallback not logged:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), `msg="snap file is corrupt" component=etcd`) {
		t.Fatalf("etcd's warning not logged through slog:\n%s", buf.String())
	}
}

// A snapshot whose store file does not match its recorded size and CRC is
// not used: the persister falls back to the older one, as for a damaged
// snap file.
func TestDamagedStoreFileFallsBackToOlder(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 10), Entries: ents(1, 10, 1)})
	n.saveSnapshot(persister.MakeSnapshot(t, dir, 5, 1))
	n.saveSnapshot(persister.MakeSnapshot(t, dir, 8, 1))
	n.stop()

	newest := filepath.Join(snapfile.Dir(filepath.Join(dir, "snap")), snapfile.Name(1, 8))
	b, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(newest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	log, buf := testLogger(t)
	d, rec, err := persister.Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if rec.Snapshot.GetMetadata().GetIndex() != 5 || stateOf(t, dir, rec.Snapshot) != "at-5" {
		t.Fatalf("snapshot = %v, want the one at 5", rec.Snapshot.GetMetadata())
	}
	wantEntries(t, rec.Entries, 6, 10)
	if !strings.Contains(buf.String(), "does not match its snapshot") {
		t.Fatalf("the mismatch is not logged:\n%s", buf.String())
	}
}

// A snapshot written by an earlier raftkv (the whole store in the raft
// snapshot, format 1) is refused with a message that says so, rather than
// taken for a damaged one.
func TestOldSnapshotFormatIsRefused(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d)
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 10), Entries: ents(1, 10, 1)})
	old := persister.MakeSnapshot(t, dir, 5, 1)
	data, err := messages.Encode(&struct {
		Version uint8 `msgpack:"version"`
		KVs     []int `msgpack:"kvs"`
	}{Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	old.Data = data
	n.saveSnapshot(old)
	n.stop()
	_, _, err = persister.Open(dir, nil)
	if !errors.Is(err, messages.ErrVersion) || !strings.Contains(err.Error(), "earlier raftkv") {
		t.Fatalf("Open: %v, want a version error naming an earlier raftkv", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		corrupt bool
	}{
		{"dir is a file", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"wal dir is a file", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "wal"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"wal dir without wal files", func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "wal"), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "wal", "precious"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"crc mismatch inside the wal", func(t *testing.T, dir string) {
			d, _ := open(t, dir)
			n := spawn(t, d)
			n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 5), Entries: ents(1, 5, 1)})
			n.persist(&messages.Persist{Seq: 2, HardState: hs(1, 1, 8), Entries: ents(6, 8, 1)})
			n.stop()
			path, _ := lastWAL(t, dir)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(b, []byte("entry-000002"))
			if i < 0 {
				t.Fatal("entry 2 not found in the WAL")
			}
			b[i+len("entry-00000")] = '9'
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "node")
			tt.setup(t, dir)
			log, _ := testLogger(t)
			d, rec, err := persister.Open(dir, log)
			if err == nil {
				d.Close()
				t.Fatalf("%d: Open succeeded: %+v", i, rec)
			}
			if d != nil || rec != nil {
				t.Fatalf("%d: Open returned values with error %v", i, err)
			}
			if got := errors.Is(err, persister.ErrCorrupt); got != tt.corrupt {
				t.Fatalf("%d: errors.Is(%v, ErrCorrupt) = %v, want %v", i, err, got, tt.corrupt)
			}
			t.Logf("%s: %v", tt.name, err)
			if tt.name == "wal dir without wal files" {
				if _, err := os.Stat(filepath.Join(dir, "wal", "precious")); err != nil {
					t.Fatalf("%d: Open removed a file it does not own: %v", i, err)
				}
			}
		})
	}
}

// flushed is sent by a probe to itself: any message already in the probe's
// mailbox is taken before it.
type flushed struct{}

// TestWriteErrorIsFatal makes the snapshot file write fail and checks that
// the actor fails (for its supervisor to stop the node) without replying or
// sending the messages that wait for the write, and that nothing after the
// failed step reached the WAL.
func TestWriteErrorIsFatal(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	system := testkit.NewSystem(t)
	events := testkit.WatchSupervision(t, system)
	raftnode := testkit.NewProbe(t, system)
	// As the node's fatal actors are: stopped, never restarted.
	stop := actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.StopDirective })
	pid := testkit.Spawn(t, system, persister.Props(d).Configure(actor.WithGuardian(stop)))
	raftnode.Watch(pid)

	persisted := testkit.Request[*messages.Persisted](raftnode, pid,
		&messages.Persist{Seq: 1, HardState: hs(1, 1, 3), Entries: ents(1, 3, 1)}, replyTimeout)
	if persisted.Seq != 1 {
		t.Fatalf("reply %v", persisted)
	}

	snap := persister.MakeSnapshot(t, dir, 10, 2)
	if err := os.RemoveAll(filepath.Join(dir, "snap")); err != nil {
		t.Fatal(err)
	}
	link := testkit.NewProbe(t, system)
	resp := &raftpb.Message{Type: raftpb.MsgAppResp.Enum(), From: proto.Uint64(1), To: proto.Uint64(2), Index: proto.Uint64(12)}
	raftnode.Send(pid, &messages.Persist{Seq: 2, Snapshot: snap, HardState: hs(2, 0, 12), Entries: ents(11, 12, 2),
		Then: []messages.Outgoing{{To: link.PID(), Message: resp}}})
	ev := events.ExpectFailure(pid, replyTimeout)
	if ev.Directive != actor.StopDirective {
		t.Fatalf("directive %v, want a stop", ev.Directive)
	}
	err, ok := ev.Reason.(error)
	if !ok || !strings.Contains(err.Error(), "persist ready 2: save snapshot file 10") {
		t.Fatalf("failure reason %v", ev.Reason)
	}
	raftnode.ExpectTerminated(pid, replyTimeout)
	// Terminated is a system message and may overtake a reply in the
	// probe's mailbox; a reply sent before the failure is ahead of flushed.
	raftnode.Send(raftnode.PID(), flushed{})
	testkit.ExpectMsg[flushed](raftnode, replyTimeout)
	raftnode.ExpectNoMsg(quiet)
	// Nor did the messages that wait for the write leave (rule 2): any
	// the persister sent is ahead of a marker sent after it stopped.
	link.Send(link.PID(), flushed{})
	testkit.ExpectMsg[flushed](link, replyTimeout)

	// The disk was closed on failure, so the node can reopen it; the failed
	// Ready left nothing in the WAL.
	d, rec := open(t, dir)
	defer d.Close()
	if rec.Snapshot != nil {
		t.Fatalf("snapshot %v recovered after a failed write", rec.Snapshot)
	}
	wantHardState(t, rec.HardState, hs(1, 1, 3))
	wantEntries(t, rec.Entries, 1, 3)
}

// BenchmarkPersist measures Persist round trips through the actor, each an
// fsynced WAL append of a batch of entries of 128 bytes, past the WAL's
// first segment, where a running member writes. entries/s is the write
// throughput a node can reach with that group-commit batch size.
func BenchmarkPersist(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
			d, _, err := persister.Open(b.TempDir(), log)
			if err != nil {
				b.Fatal(err)
			}
			// A benchmark's log is always printed: keep the system quiet.
			system := testkit.NewSystem(b, actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
				return slog.New(slog.NewTextHandler(io.Discard, nil))
			}))
			n := spawnIn(b, system, d)
			defer n.stop()
			var index uint64
			// A segment's worth of 64 KiB entries, so that the WAL cuts.
			big := bytes.Repeat([]byte{'w'}, 64<<10)
			for i := 0; i < int(wal.SegmentSizeBytes)/len(big)+1; i++ {
				index++
				n.persist(&messages.Persist{Seq: index, HardState: hs(1, 1, index),
					Entries: []*raftpb.Entry{{Term: proto.Uint64(1), Index: proto.Uint64(index), Data: big}}})
			}
			warm := index
			data := bytes.Repeat([]byte{'v'}, 128)
			b.SetBytes(int64(batch * len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				es := make([]*raftpb.Entry, batch)
				for j := range es {
					index++
					es[j] = &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(index), Data: data}
				}
				n.persist(&messages.Persist{Seq: warm + uint64(i) + 1, HardState: hs(1, 1, index), Entries: es})
			}
			b.StopTimer()
			b.ReportMetric(float64(index-warm)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
		})
	}
}

// TestPurgeKeepsTheWALOfTheOlderSnapshot cuts many small WAL segments with
// two snapshots kept and WithMaxWALFiles(1): the WAL from the older
// snapshot on must stay, so that a member whose newest store file is
// damaged falls back to the older snapshot with every entry after it.
func TestPurgeKeepsTheWALOfTheOlderSnapshot(t *testing.T) {
	old := wal.SegmentSizeBytes
	wal.SegmentSizeBytes = 16 * 1024
	t.Cleanup(func() { wal.SegmentSizeBytes = old })

	dir := t.TempDir()
	d, _ := open(t, dir)
	n := spawn(t, d, persister.WithMaxSnapshots(2), persister.WithMaxWALFiles(1))
	var index uint64
	var snaps []uint64
	for round := uint64(1); round <= 6; round++ {
		for range 4 {
			es := ents(index+1, index+10, 1)
			for _, e := range es {
				e.Data = append(e.Data, bytes.Repeat([]byte{'x'}, 1024)...)
			}
			n.persist(&messages.Persist{Seq: index + 1, HardState: hs(1, 1, index+10), Entries: es})
			index += 10
		}
		n.saveSnapshot(persister.MakeSnapshot(t, dir, index, 1))
		snaps = append(snaps, index)
	}
	n.stop()
	if segs := filesWithExt(t, filepath.Join(dir, "wal"), ".wal"); segs[0] == "0000000000000000-0000000000000000.wal" {
		t.Fatalf("no WAL segment purged: %v", segs)
	}

	newest, older := snaps[len(snaps)-1], snaps[len(snaps)-2]
	db := filepath.Join(snapfile.Dir(filepath.Join(dir, "snap")), snapfile.Name(1, newest))
	if err := os.WriteFile(db, []byte("damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, rec := open(t, dir)
	defer d.Close()
	if got := rec.Snapshot.GetMetadata().GetIndex(); got != older {
		t.Fatalf("recovered snapshot %d, want the older one, %d", got, older)
	}
	if len(rec.Entries) != int(index-older) || rec.Entries[0].GetIndex() != older+1 ||
		rec.Entries[len(rec.Entries)-1].GetIndex() != index {
		t.Fatalf("recovered %d entries, want %d..%d", len(rec.Entries), older+1, index)
	}
}

// A new WAL's segment is WALSegmentSize bytes, preallocated, not etcd's
// 64 MB.
func TestWALSegmentSize(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	defer d.Close()
	segs, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("WAL segments %v (%v), want one", segs, err)
	}
	fi, err := os.Stat(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != persister.WALSegmentSize {
		t.Errorf("the first segment is %d bytes, want %d", fi.Size(), persister.WALSegmentSize)
	}
}

// TestPersistDoesNotWaitForAPurge: the files a snapshot makes unneeded are
// removed apart from the writes (removing a big file can take the file
// system most of a second): a Ready is persisted while a purge is held
// up, and the purge still happens.
func TestPersistDoesNotWaitForAPurge(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, dir)
	started, release := make(chan struct{}, 8), make(chan struct{})
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	t.Cleanup(letGo) // a failing test must not leave the purger held up
	n := spawn(t, d, persister.WithMaxSnapshots(1), persister.WithPurgeHook(func() {
		started <- struct{}{}
		<-release
	}))
	n.persist(&messages.Persist{Seq: 1, HardState: hs(1, 1, 2), Entries: ents(1, 2, 1)})
	n.saveSnapshot(persister.MakeSnapshot(t, dir, 1, 1))
	n.saveSnapshot(persister.MakeSnapshot(t, dir, 2, 1))
	select {
	case <-started:
	case <-time.After(replyTimeout):
		t.Fatal("no purge after a snapshot")
	}
	n.persist(&messages.Persist{Seq: 2, HardState: hs(1, 1, 4), Entries: ents(3, 4, 1)})
	letGo()
	n.stop() // waits for the purge asked for
	want := []string{"0000000000000001-0000000000000002.snap"}
	if got := filesWithExt(t, filepath.Join(dir, "snap"), ".snap"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("snap files %v, want %v", got, want)
	}
}
