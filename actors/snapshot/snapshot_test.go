package snapshot_test

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/actors/snapshot"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// replyTimeout bounds a wait for the actor (fsyncs and megabytes under
// -race may be slow); the kit dilates it by RAFTKV_TEST_TIMEFACTOR.
const replyTimeout = 20 * time.Second

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

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
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	buf := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newStore returns a store of n keys with values of valueSize bytes.
func newStore(n, valueSize int) *store.Store {
	st := store.New()
	value := make([]byte, valueSize)
	for i := range n {
		for j := range value {
			value[j] = byte(i + j)
		}
		st.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: fmt.Appendf(nil, "key/%06d", i), Value: value}}})
	}
	return st
}

// allKVs returns every key of st.
func allKVs(st *store.Store) []messages.KeyValue {
	res, _ := st.Range(messages.Op{Type: messages.OpGet, Key: []byte{}, End: []byte{0}})
	return res.KVs
}

// sameStore fails the test unless got holds what want holds.
func sameStore(t *testing.T, got, want *store.Store) {
	t.Helper()
	if got.Revision() != want.Revision() || got.Len() != want.Len() || !reflect.DeepEqual(allKVs(got), allKVs(want)) {
		t.Fatalf("the store read back has %d keys at revision %d, want the %d keys at revision %d it was made of",
			got.Len(), got.Revision(), want.Len(), want.Revision())
	}
}

var testMembership = messages.MembershipState{
	ClusterID: 0xc1,
	Members:   []messages.Member{{ID: 1, PeerAddress: "n1:1"}, {ID: 2, PeerAddress: "n2:1", Learner: true}, {ID: 3, PeerAddress: "n3:1"}},
	Removed:   []messages.RemovedMember{{ID: 9, PeerAddress: "n9:1"}},
}

// msgSnap returns the MsgSnap from member from to member to of a snapshot
// at term, index, as the applier makes it: its Data the meta without the
// DB fields.
func msgSnap(t *testing.T, from, to, term, index uint64) *raftpb.Message {
	t.Helper()
	data, err := messages.EncodeSnapshotMeta(messages.SnapshotMeta{Membership: testMembership})
	if err != nil {
		t.Fatal(err)
	}
	return &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(), From: new(from), To: new(to), Term: new(term),
		Snapshot: &raftpb.Snapshot{
			Data: data,
			Metadata: &raftpb.SnapshotMetadata{Index: new(index), Term: new(term),
				ConfState: &raftpb.ConfState{Voters: []uint64{1, 3}, Learners: []uint64{2}}},
		},
	}
}

// harness runs snapshot actors in one actor system. In manual mode (the
// default) every PeerMessage an actor sends goes to the wire probe, and the
// test delivers, drops, repeats or answers it; route makes the actors
// deliver to each other by themselves.
type harness struct {
	t       *testing.T
	system  *actor.ActorSystem
	wire    *testkit.Probe
	members map[uint64]*member
	log     *slog.Logger
	barrier uint64 // index of the last barrier snapshot
}

type member struct {
	id       uint64
	addr     string
	dir      string
	raftnode *testkit.Probe
	applier  *testkit.Probe
	pid      *actor.PID
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	system := testkit.NewSystem(t)
	return &harness{t: t, system: system, wire: testkit.NewProbe(t, system), members: map[uint64]*member{},
		log: testLogger(t), barrier: 1000}
}

func addr(id uint64) string { return fmt.Sprintf("n%d:1", id) }

func pidName(id uint64) string { return fmt.Sprintf("snapshot-%d", id) }

// start starts the snapshot actor of member id, in manual mode with small
// chunks, a window of 2, a timeout of 20 ticks and a backoff of 3; opts
// change that.
func (h *harness) start(id uint64, opts ...func(*snapshot.Config)) *member {
	h.t.Helper()
	m := &member{id: id, addr: addr(id), dir: h.t.TempDir(),
		raftnode: testkit.NewProbe(h.t, h.system), applier: testkit.NewProbe(h.t, h.system)}
	wire := h.wire.PID()
	cfg := snapshot.Config{
		ID: id, Address: m.addr, StoreDir: m.dir, Raftnode: m.raftnode.PID(), Applier: m.applier.PID(),
		Route:     func(uint64, string) *actor.PID { return wire },
		ChunkSize: 4 << 10, Window: 2, TimeoutTicks: 20, BackoffTicks: 3, MaxBackoffTicks: 100,
		Logger: h.log,
	}
	for _, o := range opts {
		o(&cfg)
	}
	m.dir = cfg.StoreDir
	pid, err := h.system.Root.SpawnNamed(snapshot.Props(cfg), pidName(id))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = h.system.Root.StopFuture(pid).Wait() })
	m.pid = pid
	h.members[id] = m
	return m
}

// route returns a Route under which the members ids deliver to each other
// by themselves, through an actor per member that decodes what it gets as
// the member's inbox does. What does not decode goes to the wire probe.
func (h *harness) route(ids ...uint64) func(uint64, string) *actor.PID {
	inboxes := map[uint64]*actor.PID{}
	wire := h.wire.PID()
	for _, id := range ids {
		to := h.system.NewLocalPID(pidName(id))
		inboxes[id] = testkit.Spawn(h.t, h.system, actor.PropsFromFunc(func(ctx actor.Context) {
			if w, ok := ctx.Message().(*wrapperspb.BytesValue); ok {
				m, err := messages.DecodePeerMessage(w)
				if err != nil {
					ctx.Send(wire, err)
					return
				}
				ctx.Send(to, &m)
			}
		}))
	}
	return func(id uint64, _ string) *actor.PID { return inboxes[id] }
}

// take returns the next PeerMessage on the wire.
func (h *harness) take() messages.PeerMessage {
	h.t.Helper()
	w := testkit.ExpectMsg[*wrapperspb.BytesValue](h.wire, replyTimeout)
	m, err := messages.DecodePeerMessage(w)
	if err != nil {
		h.t.Fatalf("an actor sent a PeerMessage that does not decode: %v", err)
	}
	return m
}

// takeChunk returns the next PeerMessage on the wire, which must be a chunk
// from member from to member to.
func (h *harness) takeChunk(from, to uint64) messages.SnapshotChunk {
	h.t.Helper()
	m := h.take()
	if m.Kind != messages.PeerSnapshotChunk || m.From != from || m.To != to || m.FromAddress != addr(from) {
		h.t.Fatalf("on the wire: %+v, want a chunk from member %d to %d", m, from, to)
	}
	return *m.Chunk
}

// takeAck returns the next PeerMessage on the wire, which must be an ack
// from member from to member to.
func (h *harness) takeAck(from, to uint64) messages.SnapshotAck {
	h.t.Helper()
	m := h.take()
	if m.Kind != messages.PeerSnapshotAck || m.From != from || m.To != to || m.FromAddress != addr(from) {
		h.t.Fatalf("on the wire: %+v, want an ack from member %d to %d", m, from, to)
	}
	return *m.Ack
}

// deliver hands m to the actor of member m.To, as its inbox does.
func (h *harness) deliver(m messages.PeerMessage) {
	h.t.Helper()
	to, ok := h.members[m.To]
	if !ok {
		h.t.Fatalf("no actor for member %d", m.To)
	}
	h.system.Root.Send(to.pid, &m)
}

// chunk hands m a chunk from member from, the test playing that member.
func (h *harness) chunk(m *member, from uint64, c messages.SnapshotChunk) {
	h.system.Root.Send(m.pid, &messages.PeerMessage{Version: messages.FormatVersion, Kind: messages.PeerSnapshotChunk,
		From: from, To: m.id, FromAddress: addr(from), Chunk: &c})
}

// ack hands m an ack from member from, the test playing that member.
func (h *harness) ack(m *member, from uint64, a messages.SnapshotAck) {
	h.system.Root.Send(m.pid, &messages.PeerMessage{Version: messages.FormatVersion, Kind: messages.PeerSnapshotAck,
		From: from, To: m.id, FromAddress: addr(from), Ack: &a})
}

func (h *harness) tick(m *member, n int) {
	for range n {
		h.system.Root.Send(m.pid, &messages.Tick{})
	}
}

// sync has m write a barrier snapshot (an empty store, at term 1 and an
// index of its own) and returns what m's raftnode got before its
// SnapshotCreated: everything m sent raftnode for what it was sent before.
func (h *harness) sync(m *member) []any {
	h.t.Helper()
	h.barrier++
	index := h.barrier
	h.system.Root.Send(m.pid, &messages.WriteSnapshot{Index: index, Term: 1, ConfState: &raftpb.ConfState{Voters: []uint64{m.id}},
		Membership: &testMembership, Stream: store.NewSnapshotEncoder(store.New().View())})
	var before []any
	for {
		msg := m.raftnode.ReceiveN(1, replyTimeout)[0].Message
		if c, ok := msg.(*messages.SnapshotCreated); ok && c.Index == index {
			break
		}
		before = append(before, msg)
	}
	if w := testkit.ExpectMsg[*messages.SnapshotWritten](m.applier, replyTimeout); w.Index != index {
		h.t.Fatalf("applier got %+v, want SnapshotWritten{%d}", w, index)
	}
	return before
}

// expectNothing fails the test if m sent raftnode anything for what it was
// sent before.
func (h *harness) expectNothing(m *member, when string) {
	h.t.Helper()
	if got := h.sync(m); len(got) != 0 {
		h.t.Fatalf("%s: member %d's raftnode got %s, want nothing", when, m.id, describe(got))
	}
}

func describe(msgs []any) string {
	var b strings.Builder
	for i, m := range msgs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%T%+v", m, m)
	}
	return b.String()
}

// expectWireQuiet fails the test if m put anything on the wire for what it
// was sent before: it hands m a chunk 0 without a message from member 99,
// which m refuses, and expects that refusal to be the next thing on the
// wire. It must not be used while m receives a snapshot (the chunk ends
// that transfer).
func (h *harness) expectWireQuiet(m *member, when string) {
	h.t.Helper()
	h.chunk(m, 99, messages.SnapshotChunk{Transfer: 4242})
	got := h.take()
	if got.Kind != messages.PeerSnapshotAck || got.To != 99 || got.Ack.Transfer != 4242 || got.Ack.Error == "" {
		h.t.Fatalf("%s: member %d sent %+v, want nothing", when, m.id, got)
	}
}

// expectStatus takes the next message of m's raftnode, which must be
// SnapshotStatus want.
func expectStatus(t *testing.T, m *member, want messages.SnapshotStatus) {
	t.Helper()
	if got := testkit.ExpectMsg[*messages.SnapshotStatus](m.raftnode, replyTimeout); *got != want {
		t.Fatalf("member %d's raftnode got %+v, want %+v", m.id, *got, want)
	}
}

// ticksUntilStatus ticks m one tick at a time, up to max, until its
// raftnode gets a SnapshotStatus, which must be want, and returns how many
// ticks that took; anything else to raftnode fails the test.
func (h *harness) ticksUntilStatus(m *member, max int, want messages.SnapshotStatus) int {
	h.t.Helper()
	for n := 1; n <= max; n++ {
		h.tick(m, 1)
		got := h.sync(m)
		if len(got) == 0 {
			continue
		}
		if s, ok := got[0].(*messages.SnapshotStatus); !ok || len(got) != 1 || *s != want {
			h.t.Fatalf("after %d ticks raftnode got %s, want %+v", n, describe(got), want)
		}
		return n
	}
	h.t.Fatalf("no %+v within %d ticks", want, max)
	return 0
}

// sendSnapshot asks from to stream st to member to, with the MsgSnap of a
// snapshot at term, index.
func (h *harness) sendSnapshot(from *member, to, term, index uint64, st *store.Store) *raftpb.Message {
	h.t.Helper()
	msg := msgSnap(h.t, from.id, to, term, index)
	h.system.Root.Send(from.pid, &messages.SendSnapshot{To: to, Address: addr(to), Message: msg,
		Stream: store.NewSnapshotEncoder(st.View())})
	return msg
}

// files lists the names in dir: the temporary ones and the others.
func files(t *testing.T, dir string) (temps, others []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			temps = append(temps, e.Name())
		} else {
			others = append(others, e.Name())
		}
	}
	return temps, others
}

func expectNoTemps(t *testing.T, dir, when string) {
	t.Helper()
	if temps, _ := files(t, dir); len(temps) != 0 {
		t.Fatalf("%s: temporary files %q are left", when, temps)
	}
}

func exists(t *testing.T, dir, name string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

// expectReceived checks the MsgSnap that a receiver hands its raftnode: the
// message sent, its Data the meta with the size and CRC of the store file,
// which holds want.
func expectReceived(t *testing.T, m *member, sent *raftpb.Message, want *store.Store) {
	t.Helper()
	got := testkit.ExpectMsg[*raftpb.Message](m.raftnode, replyTimeout)
	meta, err := messages.DecodeSnapshotMeta(got.GetSnapshot().GetData())
	if err != nil {
		t.Fatalf("the MsgSnap's Data: %v", err)
	}
	if !reflect.DeepEqual(meta.Membership, testMembership) {
		t.Errorf("membership %+v, want %+v", meta.Membership, testMembership)
	}
	wantMsg := proto.Clone(sent).(*raftpb.Message)
	wantMsg.Snapshot.Data = got.GetSnapshot().GetData()
	if !proto.Equal(got, wantMsg) {
		t.Errorf("raftnode got %v, want %v with the meta filled in", got, sent)
	}
	md := got.GetSnapshot().GetMetadata()
	if err := snapfile.Verify(m.dir, md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC); err != nil {
		t.Fatalf("the received store file: %v", err)
	}
	st, err := snapfile.Load(m.dir, md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC)
	if err != nil {
		t.Fatalf("the received store file: %v", err)
	}
	sameStore(t, st, want)
}

// gatedStream passes Next on to a stream, except that its call number gate
// first tells entered and waits for release.
type gatedStream struct {
	inner   messages.SnapshotStream
	gate    int
	calls   int
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGatedStream(t *testing.T, inner messages.SnapshotStream, gate int) *gatedStream {
	g := &gatedStream{inner: inner, gate: gate, entered: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(g.open) // an actor blocked in Next would never stop
	return g
}

func (g *gatedStream) Next(buf []byte, max int) ([]byte, bool, error) {
	g.calls++
	if g.calls == g.gate {
		close(g.entered)
		<-g.release
	}
	return g.inner.Next(buf, max)
}

func (g *gatedStream) open() { g.once.Do(func() { close(g.release) }) }

func (g *gatedStream) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(testkit.Dilated(replyTimeout)):
		t.Fatal("the actor did not read the stream")
	}
}

// Paced, a local snapshot of several steps is written all the same, and
// one still being written when the actor stops leaves no file behind.
func TestPacedLocalSnapshot(t *testing.T) {
	h := newHarness(t)
	m := h.start(1, func(c *snapshot.Config) { c.Pace = 1 })
	st := newStore(5000, 1<<10) // over 4 MiB: several steps, a pause after each
	h.system.Root.Send(m.pid, &messages.WriteSnapshot{Index: 40, Term: 3, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
		Membership: &testMembership, Stream: store.NewSnapshotEncoder(st.View())})
	created := testkit.ExpectMsg[*messages.SnapshotCreated](m.raftnode, replyTimeout)
	meta, err := messages.DecodeSnapshotMeta(created.Data)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := snapfile.Load(m.dir, 3, 40, meta.DBSize, meta.DBCRC)
	if err != nil {
		t.Fatal(err)
	}
	sameStore(t, loaded, st)

	// A pace long enough that the actor is stopped while it waits.
	slow := h.start(2, func(c *snapshot.Config) { c.Pace = 1 << 20 })
	h.system.Root.Send(slow.pid, &messages.WriteSnapshot{Index: 40, Term: 3, ConfState: &raftpb.ConfState{Voters: []uint64{2}},
		Membership: &testMembership, Stream: store.NewSnapshotEncoder(st.View())})
	testkit.AwaitCondition(t, "the temporary file of the first step", func() bool {
		temps, _ := files(t, slow.dir)
		return len(temps) == 1
	}, replyTimeout)
	if err := h.system.Root.StopFuture(slow.pid).Wait(); err != nil {
		t.Fatal(err)
	}
	if temps, others := files(t, slow.dir); len(temps) != 0 || len(others) != 0 {
		t.Errorf("after a stop during a pause the directory holds %q and %q, want nothing", temps, others)
	}
}

// A local snapshot is written to a temporary file, then under its final
// name; raftnode hears of it once it is durable, with the meta that
// records the file and the request's membership; then the applier.
func TestLocalSnapshot(t *testing.T) {
	h := newHarness(t)
	m := h.start(1)
	st := newStore(5000, 1<<10) // over 4 MiB: two steps at least
	stream := newGatedStream(t, store.NewSnapshotEncoder(st.View()), 2)
	confState := &raftpb.ConfState{Voters: []uint64{1, 3}, Learners: []uint64{2}}
	h.system.Root.Send(m.pid, &messages.WriteSnapshot{Index: 40, Term: 3, ConfState: confState,
		Membership: &testMembership, Stream: stream})

	stream.waitEntered(t) // one step written, the next one waits
	temps, others := files(t, m.dir)
	if len(temps) != 1 || len(others) != 0 {
		t.Fatalf("while writing, the directory holds %q and %q, want only a temporary file", temps, others)
	}
	stream.open()

	created := testkit.ExpectMsg[*messages.SnapshotCreated](m.raftnode, replyTimeout)
	if created.Index != 40 || !proto.Equal(created.ConfState, confState) {
		t.Errorf("SnapshotCreated{Index %d, ConfState %v}, want 40, %v", created.Index, created.ConfState, confState)
	}
	meta, err := messages.DecodeSnapshotMeta(created.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(meta.Membership, testMembership) {
		t.Errorf("membership %+v, want the request's %+v", meta.Membership, testMembership)
	}
	if err := snapfile.Verify(m.dir, 3, 40, meta.DBSize, meta.DBCRC); err != nil {
		t.Fatalf("the file does not match its meta: %v", err)
	}
	loaded, err := snapfile.Load(m.dir, 3, 40, meta.DBSize, meta.DBCRC)
	if err != nil {
		t.Fatal(err)
	}
	sameStore(t, loaded, st)
	if w := testkit.ExpectMsg[*messages.SnapshotWritten](m.applier, replyTimeout); w.Index != 40 || w.Size != meta.DBSize {
		t.Errorf("applier got %+v, want SnapshotWritten{40} with the file's size %d", w, meta.DBSize)
	}
	if temps, others := files(t, m.dir); len(temps) != 0 || !slices.Equal(others, []string{snapfile.Name(3, 40)}) {
		t.Errorf("after the write the directory holds %q and %q, want only %s", temps, others, snapfile.Name(3, 40))
	}
}

// Snapshots asked for while one is written are written after it, in order.
func TestLocalSnapshotsInOrder(t *testing.T) {
	h := newHarness(t)
	m := h.start(1)
	stores := map[uint64]*store.Store{}
	for i := uint64(10); i < 14; i++ {
		stores[i] = newStore(int(i)*100, 100)
		h.system.Root.Send(m.pid, &messages.WriteSnapshot{Index: i, Term: 2, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
			Membership: &testMembership, Stream: store.NewSnapshotEncoder(stores[i].View())})
	}
	for i := uint64(10); i < 14; i++ {
		created := testkit.ExpectMsg[*messages.SnapshotCreated](m.raftnode, replyTimeout)
		if created.Index != i {
			t.Fatalf("SnapshotCreated{Index %d}, want %d", created.Index, i)
		}
		if w := testkit.ExpectMsg[*messages.SnapshotWritten](m.applier, replyTimeout); w.Index != i {
			t.Fatalf("SnapshotWritten{%d}, want %d", w.Index, i)
		}
		meta, err := messages.DecodeSnapshotMeta(created.Data)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := snapfile.Load(m.dir, 2, i, meta.DBSize, meta.DBCRC)
		if err != nil {
			t.Fatal(err)
		}
		sameStore(t, loaded, stores[i])
	}
}

// A snapshot goes from one member to another in chunks, at most Window of
// them unacknowledged; the receiver hands raftnode the MsgSnap once the file
// is whole and durable, and the sender reports success only once the last
// chunk is acknowledged.
func TestTransfer(t *testing.T) {
	h := newHarness(t)
	sender, receiver := h.start(1), h.start(2)
	st := newStore(200, 512) // about 100 KiB: some 25 chunks of 4 KiB
	sent := h.sendSnapshot(sender, 2, 3, 40, st)

	var chunks, acked, nextSeq, size uint64
	var done messages.PeerMessage
	for {
		m := h.take()
		if m.Kind == messages.PeerSnapshotChunk {
			c := m.Chunk
			if m.From != 1 || m.To != 2 || c.Seq != nextSeq || c.Offset != size {
				t.Fatalf("chunk %+v from %d to %d, want seq %d at offset %d from 1 to 2", *c, m.From, m.To, nextSeq, size)
			}
			if c.Seq >= acked+2 {
				t.Fatalf("chunk %d sent with only %d acknowledged: more than the window of 2", c.Seq, acked)
			}
			nextSeq++
			chunks++
			size += uint64(len(c.Data))
		} else {
			a := m.Ack
			if m.From != 2 || m.To != 1 || a.Error != "" {
				t.Fatalf("ack %+v from %d to %d", *a, m.From, m.To)
			}
			if a.Done {
				done = m
				break
			}
			acked = a.Seq + 1
		}
		h.deliver(m)
	}
	if chunks < 10 {
		t.Errorf("the snapshot went in %d chunks, want many", chunks)
	}
	if done.Ack.Seq != chunks-1 {
		t.Errorf("done at chunk %d, want the last one, %d", done.Ack.Seq, chunks-1)
	}
	expectReceived(t, receiver, sent, st)
	expectNoTemps(t, receiver.dir, "after the transfer")
	// Not a word to raft before the last ack arrives.
	h.expectNothing(sender, "with the last ack on its way")
	h.deliver(done)
	expectStatus(t, sender, messages.SnapshotStatus{ID: 2})
	h.expectNothing(receiver, "after the transfer")
}

// A store of several MiB goes through in many chunks of the default size,
// the two actors delivering to each other by themselves.
func TestTransferLargeStore(t *testing.T) {
	h := newHarness(t)
	route := h.route(1, 2)
	defaults := func(c *snapshot.Config) { c.Route, c.ChunkSize, c.Window = route, 0, 0 }
	sender, receiver := h.start(1, defaults), h.start(2, defaults)
	st := newStore(8<<10, 1<<10) // 8 MiB of values: 16 chunks and more
	sent := h.sendSnapshot(sender, 2, 5, 9000, st)
	expectReceived(t, receiver, sent, st)
	expectStatus(t, sender, messages.SnapshotStatus{ID: 2})
	expectNoTemps(t, receiver.dir, "after the transfer")
	if n := h.wire.Stats().Received; n != 0 {
		t.Errorf("%d messages did not decode", n)
	}
}

// A transfer the receiver refuses fails; raft hears of it only after the
// backoff, and no other snapshot goes to that member until then.
func TestRefusedTransferBacksOff(t *testing.T) {
	h := newHarness(t)
	sender, receiver := h.start(1), h.start(2)
	st := newStore(30, 512)
	// The receiver refuses a MsgSnap without an index.
	h.sendSnapshot(sender, 2, 3, 0, st)
	c0, c1 := h.takeChunk(1, 2), h.takeChunk(1, 2)
	h.deliver(messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 1, To: 2, FromAddress: addr(1), Chunk: &c0})
	h.deliver(messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 1, To: 2, FromAddress: addr(1), Chunk: &c1})
	for seq := range uint64(2) {
		m := h.take()
		if m.Kind != messages.PeerSnapshotAck || m.From != 2 || m.To != 1 || m.Ack.Error == "" || m.Ack.Seq != seq || m.Ack.Transfer != c0.Transfer {
			t.Fatalf("the receiver sent %+v, want a refusal of chunk %d", m, seq)
		}
		h.deliver(m)
	}
	h.expectNothing(receiver, "after the refused chunks")
	expectNoTemps(t, receiver.dir, "after the refused chunks")

	// During the backoff, raft's wish to send one again is not followed.
	h.sendSnapshot(sender, 2, 3, 41, st)
	h.expectWireQuiet(sender, "a second snapshot during the backoff")
	if n := h.ticksUntilStatus(sender, 10, messages.SnapshotStatus{ID: 2, Failed: true}); n != 3 {
		t.Errorf("raft heard of the failure after %d ticks, want the backoff, 3", n)
	}
	// The backoff over, a new transfer starts.
	h.sendSnapshot(sender, 2, 3, 42, st)
	if c := h.takeChunk(1, 2); c.Seq != 0 || c.Transfer == c0.Transfer {
		t.Errorf("after the backoff the sender sent %+v, want chunk 0 of a new transfer", c)
	}
}

// The backoff doubles with each failure in a row, up to MaxBackoffTicks; a
// success starts over. Acks of a transfer given up on are ignored.
func TestBackoffDoubles(t *testing.T) {
	h := newHarness(t)
	sender := h.start(1, func(c *snapshot.Config) { c.BackoffTicks, c.MaxBackoffTicks, c.TimeoutTicks = 3, 10, 1000 })
	st := newStore(30, 512)
	var last uint64
	refuse := func(attempt int) {
		t.Helper()
		h.sendSnapshot(sender, 2, 3, 40, st)
		c0, c1 := h.takeChunk(1, 2), h.takeChunk(1, 2)
		if c0.Seq != 0 || c1.Seq != 1 || c1.Transfer != c0.Transfer || c0.Transfer == last {
			t.Fatalf("attempt %d: chunks %d, %d of transfers %d, %d; want 0 and 1 of a new transfer", attempt, c0.Seq, c1.Seq, c0.Transfer, c1.Transfer)
		}
		if last != 0 {
			// The refusal of the last transfer, late, changes nothing.
			h.ack(sender, 2, messages.SnapshotAck{Transfer: last, Seq: 0, Error: "late"})
		}
		// One transfer at a time to a member.
		h.sendSnapshot(sender, 2, 3, 41, st)
		h.ack(sender, 2, messages.SnapshotAck{Transfer: c0.Transfer, Seq: 0})
		if c2 := h.takeChunk(1, 2); c2.Transfer != c0.Transfer || c2.Seq != 2 {
			t.Fatalf("attempt %d: after an ack of chunk 0 the sender sent chunk %d of transfer %d, want chunk 2 of %d",
				attempt, c2.Seq, c2.Transfer, c0.Transfer)
		}
		h.ack(sender, 2, messages.SnapshotAck{Transfer: c0.Transfer, Seq: 1, Error: "refused"})
		last = c0.Transfer
	}
	tests := []struct {
		succeed bool // a successful transfer before this one
		wait    int
	}{
		{false, 3}, {false, 6}, {false, 10}, {false, 10}, {true, 3}, {false, 6},
	}
	for i, tt := range tests {
		if tt.succeed {
			h.sendSnapshot(sender, 2, 3, 40, st)
			for {
				c := h.takeChunk(1, 2)
				h.ack(sender, 2, messages.SnapshotAck{Transfer: c.Transfer, Seq: c.Seq, Done: c.Last})
				if c.Last {
					break
				}
			}
			expectStatus(t, sender, messages.SnapshotStatus{ID: 2})
		}
		refuse(i)
		h.expectWireQuiet(sender, fmt.Sprintf("%d: after the refusal", i))
		if n := h.ticksUntilStatus(sender, 20, messages.SnapshotStatus{ID: 2, Failed: true}); n != tt.wait {
			t.Errorf("%d: raft heard of failure %d after %d ticks, want %d", i, i+1, n, tt.wait)
		}
	}
}

// A transfer that makes no progress for TimeoutTicks fails (and raft hears
// of it after the backoff); an ack that acknowledges more is progress.
func TestTransferTimeout(t *testing.T) {
	const timeout, backoff = 4, 3
	h := newHarness(t)
	sender := h.start(1, func(c *snapshot.Config) { c.TimeoutTicks, c.BackoffTicks = timeout, backoff })
	st := newStore(30, 512)

	h.sendSnapshot(sender, 2, 3, 40, st)
	h.takeChunk(1, 2)
	h.takeChunk(1, 2)
	// Failed after timeout ticks without progress (or the tick after),
	// reported after the backoff.
	n := h.ticksUntilStatus(sender, 20, messages.SnapshotStatus{ID: 2, Failed: true})
	if n < timeout+backoff || n > timeout+1+backoff {
		t.Errorf("raft heard of the stalled transfer after %d ticks, want %d or %d", n, timeout+backoff, timeout+1+backoff)
	}
	h.expectWireQuiet(sender, "after the timeout")

	// The second failure in a row waits twice as long. An ack at tick 3
	// restarts the clock; the same ack again does not.
	h.sendSnapshot(sender, 2, 3, 41, st)
	c0 := h.takeChunk(1, 2)
	h.takeChunk(1, 2)
	h.tick(sender, 3)
	h.ack(sender, 2, messages.SnapshotAck{Transfer: c0.Transfer, Seq: 0})
	h.takeChunk(1, 2)
	h.tick(sender, 2)
	h.ack(sender, 2, messages.SnapshotAck{Transfer: c0.Transfer, Seq: 0})
	n = 2 + h.ticksUntilStatus(sender, 30, messages.SnapshotStatus{ID: 2, Failed: true})
	if n < timeout+2*backoff || n > timeout+1+2*backoff {
		t.Errorf("raft heard of the second stalled transfer %d ticks after its last progress, want %d or %d", n, timeout+2*backoff, timeout+1+2*backoff)
	}
}

// A snapshot for a member without an address fails at once, and is
// reported after the backoff.
func TestSendWithoutAddress(t *testing.T) {
	h := newHarness(t)
	sender := h.start(1)
	h.system.Root.Send(sender.pid, &messages.SendSnapshot{To: 2, Message: msgSnap(t, 1, 2, 3, 40),
		Stream: store.NewSnapshotEncoder(store.New().View())})
	h.expectWireQuiet(sender, "a snapshot without an address")
	if n := h.ticksUntilStatus(sender, 10, messages.SnapshotStatus{ID: 2, Failed: true}); n != 3 {
		t.Errorf("raft heard of the failure after %d ticks, want the backoff, 3", n)
	}
}

// A chunk that arrives twice is acknowledged again and changes nothing:
// the transfer completes once, and raft gets one MsgSnap.
func TestDuplicateChunks(t *testing.T) {
	h := newHarness(t)
	sender, receiver := h.start(1), h.start(2)
	st := newStore(60, 512)
	sent := h.sendSnapshot(sender, 2, 3, 40, st)
	dones := 0
	var lastSeq uint64
	for dones < 2 {
		m := h.take()
		if m.Kind == messages.PeerSnapshotChunk {
			h.deliver(m)
			h.deliver(m) // again
			lastSeq = m.Chunk.Seq
			continue
		}
		if m.Ack.Error != "" {
			t.Fatalf("the receiver refused: %+v", *m.Ack)
		}
		if m.Ack.Done {
			dones++
			if m.Ack.Seq != lastSeq {
				t.Errorf("done at chunk %d, want %d", m.Ack.Seq, lastSeq)
			}
		}
		h.deliver(m)
	}
	expectReceived(t, receiver, sent, st)
	expectStatus(t, sender, messages.SnapshotStatus{ID: 2})
	h.expectNothing(receiver, "after the duplicate of the last chunk")
	h.expectNothing(sender, "after the duplicate acks")
	expectNoTemps(t, receiver.dir, "after the transfer")
}

// Chunk 0 of a duplicate, or any chunk already received, is acknowledged up
// to what arrived, and the transfer goes on.
func TestDuplicateEarlierChunk(t *testing.T) {
	h := newHarness(t)
	receiver := h.start(2)
	st := newStore(60, 512)
	msg := msgSnap(t, 1, 2, 3, 40)
	chunks := cut(t, st, 7, marshal(t, msg), 4<<10)
	order := []struct {
		seq int
		ack uint64
	}{{0, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 2}, {3, 3}}
	for _, o := range order {
		h.chunk(receiver, 1, chunks[o.seq])
		if a := h.takeAck(2, 1); a.Seq != o.ack || a.Error != "" || a.Done {
			t.Fatalf("chunk %d: ack %+v, want an ack of %d", o.seq, a, o.ack)
		}
	}
	for _, c := range chunks[4:] {
		h.chunk(receiver, 1, c)
		if a := h.takeAck(2, 1); a.Seq != c.Seq || a.Error != "" || a.Done != c.Last {
			t.Fatalf("chunk %d: ack %+v", c.Seq, a)
		}
	}
	expectReceived(t, receiver, msg, st)
}

// cut returns the stream of st in chunks of size, as a sender does.
func cut(t *testing.T, st *store.Store, transfer uint64, message []byte, size int) []messages.SnapshotChunk {
	t.Helper()
	var b bytes.Buffer
	if _, err := store.WriteSnapshot(&b, st.View()); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	var out []messages.SnapshotChunk
	for off := 0; ; off += size {
		end := min(off+size, len(data))
		c := messages.SnapshotChunk{Transfer: transfer, Seq: uint64(len(out)), Offset: uint64(off), Data: data[off:end]}
		if off == 0 {
			c.Message = message
		}
		if end == len(data) {
			c.Last, c.Size, c.CRC = true, uint64(len(data)), crc32.Checksum(data, castagnoli)
			if len(out) < 3 {
				t.Fatalf("the stream makes %d chunks, want at least 4", len(out)+1)
			}
			return append(out, c)
		}
		out = append(out, c)
	}
}

func marshal(t *testing.T, m *raftpb.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Chunk 0 of a new transfer, from the same member or another, replaces the
// one under way: its temporary file goes, and its chunks are refused.
func TestNewTransferReplacesIncoming(t *testing.T) {
	tests := []struct {
		name        string
		from        uint64 // of the new transfer
		term, index uint64
	}{
		{"another member, another snapshot", 3, 4, 50},
		{"the same member, another snapshot", 1, 4, 50},
		{"the same member, the same snapshot", 1, 3, 40},
	}
	for i, tt := range tests {
		h := newHarness(t)
		receiver := h.start(2)
		stA, stB := newStore(40, 512), newStore(50, 512)
		chunksA := cut(t, stA, 7, marshal(t, msgSnap(t, 1, 2, 3, 40)), 4<<10)
		msgB := msgSnap(t, tt.from, 2, tt.term, tt.index)
		chunksB := cut(t, stB, 8, marshal(t, msgB), 4<<10)
		for _, c := range chunksA[:2] {
			h.chunk(receiver, 1, c)
			if a := h.takeAck(2, 1); a.Error != "" {
				t.Fatalf("%d (%s): transfer A refused: %+v", i, tt.name, a)
			}
		}
		if temps, _ := files(t, receiver.dir); !slices.Equal(temps, []string{snapfile.Name(3, 40) + ".tmp"}) {
			t.Fatalf("%d (%s): during transfer A the directory holds temporary files %q", i, tt.name, temps)
		}
		h.chunk(receiver, tt.from, chunksB[0])
		if a := h.takeAck(2, tt.from); a.Error != "" || a.Transfer != 8 || a.Seq != 0 {
			t.Fatalf("%d (%s): chunk 0 of transfer B: %+v", i, tt.name, a)
		}
		if temps, _ := files(t, receiver.dir); !slices.Equal(temps, []string{snapfile.Name(tt.term, tt.index) + ".tmp"}) {
			t.Errorf("%d (%s): once transfer B started the directory holds temporary files %q, want only B's", i, tt.name, temps)
		}
		h.chunk(receiver, 1, chunksA[2])
		if a := h.takeAck(2, 1); a.Error == "" || a.Transfer != 7 {
			t.Errorf("%d (%s): a chunk of the replaced transfer A: %+v, want a refusal", i, tt.name, a)
		}
		for _, c := range chunksB[1:] {
			h.chunk(receiver, tt.from, c)
			if a := h.takeAck(2, tt.from); a.Error != "" || a.Seq != c.Seq || a.Done != c.Last {
				t.Fatalf("%d (%s): chunk %d of transfer B: %+v", i, tt.name, c.Seq, a)
			}
		}
		expectReceived(t, receiver, msgB, stB)
		expectNoTemps(t, receiver.dir, tt.name)
		if tt.index != 40 && exists(t, receiver.dir, snapfile.Name(3, 40)) {
			t.Errorf("%d (%s): the replaced snapshot has a store file", i, tt.name)
		}
	}
}

// A receiver refuses a broken stream, removes what it wrote, and hands raft
// nothing.
func TestIncomingRefusals(t *testing.T) {
	st := newStore(40, 512)
	tests := []struct {
		name string
		// send gives the chunks to send, in order, from the snapshot's
		// chunks; refused says which of them must be refused.
		send    func(cs []messages.SnapshotChunk) []messages.SnapshotChunk
		refused []bool
	}{
		{"a chunk 0 that is not a MsgSnap", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			c := cs[0]
			c.Message = marshal(t, &raftpb.Message{Type: raftpb.MessageType_MsgApp.Enum(), From: new(uint64(1)), To: new(uint64(2))})
			return []messages.SnapshotChunk{c, cs[1]}
		}, []bool{true, true}},
		{"a chunk 0 for another member", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			c := cs[0]
			c.Message = marshal(t, msgSnap(t, 1, 3, 3, 40))
			return []messages.SnapshotChunk{c}
		}, []bool{true}},
		{"a chunk of a transfer never started", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			return cs[1:3]
		}, []bool{true, true}},
		{"a chunk skipped", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			return []messages.SnapshotChunk{cs[0], cs[1], cs[3], cs[2]}
		}, []bool{false, false, true, true}},
		{"a chunk at the wrong offset", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			c := cs[1]
			c.Offset--
			return []messages.SnapshotChunk{cs[0], c}
		}, []bool{false, true}},
		{"a last chunk with the wrong CRC", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			out := slices.Clone(cs)
			out[len(out)-1].CRC ^= 0x100
			return out
		}, nil},
		{"a last chunk with the wrong size", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			out := slices.Clone(cs)
			out[len(out)-1].Size--
			return out
		}, nil},
		{"a byte changed on the way", func(cs []messages.SnapshotChunk) []messages.SnapshotChunk {
			out := slices.Clone(cs)
			out[1].Data = bytes.Clone(out[1].Data)
			out[1].Data[100] ^= 1
			return out
		}, nil},
	}
	for i, tt := range tests {
		h := newHarness(t)
		receiver := h.start(2)
		chunks := tt.send(cut(t, st, 7, marshal(t, msgSnap(t, 1, 2, 3, 40)), 4<<10))
		refused := tt.refused
		if refused == nil { // all accepted but the last
			refused = make([]bool, len(chunks))
			refused[len(refused)-1] = true
		}
		for j, c := range chunks {
			h.chunk(receiver, 1, c)
			a := h.takeAck(2, 1)
			if a.Transfer != 7 || a.Seq != c.Seq || (a.Error != "") != refused[j] || a.Done {
				t.Errorf("%d (%s): chunk %d (seq %d): ack %+v, refused %v", i, tt.name, j, c.Seq, a, refused[j])
			}
		}
		h.expectNothing(receiver, tt.name)
		expectNoTemps(t, receiver.dir, tt.name)
		if exists(t, receiver.dir, snapfile.Name(3, 40)) {
			t.Errorf("%d (%s): the refused snapshot has a store file", i, tt.name)
		}
	}
}

// An incoming snapshot that stops arriving for TimeoutTicks is given up:
// its temporary file goes, and its later chunks are refused. A chunk is
// progress.
func TestIncomingTimeout(t *testing.T) {
	const timeout = 4
	h := newHarness(t)
	receiver := h.start(2, func(c *snapshot.Config) { c.TimeoutTicks = timeout })
	chunks := cut(t, newStore(40, 512), 7, marshal(t, msgSnap(t, 1, 2, 3, 40)), 4<<10)
	h.chunk(receiver, 1, chunks[0])
	h.takeAck(2, 1)
	h.tick(receiver, 3)
	h.chunk(receiver, 1, chunks[1])
	if a := h.takeAck(2, 1); a.Error != "" {
		t.Fatalf("chunk 1: %+v", a)
	}
	h.tick(receiver, timeout-1)
	h.sync(receiver)
	if temps, _ := files(t, receiver.dir); len(temps) != 1 {
		t.Fatalf("%d ticks after the last chunk the transfer was given up", timeout-1)
	}
	h.tick(receiver, 2)
	h.sync(receiver)
	expectNoTemps(t, receiver.dir, fmt.Sprintf("%d ticks after the last chunk", timeout+1))
	h.chunk(receiver, 1, chunks[2])
	if a := h.takeAck(2, 1); a.Error == "" {
		t.Errorf("a chunk of the given up transfer: %+v, want a refusal", a)
	}
}

// Stopping the actor removes the temporary file of a snapshot it receives.
func TestStopRemovesIncoming(t *testing.T) {
	h := newHarness(t)
	receiver := h.start(2)
	chunks := cut(t, newStore(40, 512), 7, marshal(t, msgSnap(t, 1, 2, 3, 40)), 4<<10)
	for _, c := range chunks[:2] {
		h.chunk(receiver, 1, c)
		h.takeAck(2, 1)
	}
	if temps, _ := files(t, receiver.dir); len(temps) != 1 {
		t.Fatalf("during the transfer the directory holds temporary files %q, want one", temps)
	}
	if err := h.system.Root.StopFuture(receiver.pid).Wait(); err != nil {
		t.Fatal(err)
	}
	temps, others := files(t, receiver.dir)
	if len(temps) != 0 || len(others) != 0 {
		t.Errorf("after the stop the directory holds %q and %q, want nothing", temps, others)
	}
}

// zeros is a stream of n parts of max zero bytes.
type zeros struct{ n int }

func (z *zeros) Next(buf []byte, max int) ([]byte, bool, error) {
	z.n--
	return append(buf, make([]byte, max)...), z.n <= 0, nil
}

// Stopping the actor while it writes a local snapshot removes the
// temporary file, and raft hears of no snapshot.
func TestStopAbortsLocalWrite(t *testing.T) {
	h := newHarness(t)
	m := h.start(1)
	stream := newGatedStream(t, &zeros{n: 4}, 1)
	h.system.Root.Send(m.pid, &messages.WriteSnapshot{Index: 40, Term: 3, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
		Membership: &testMembership, Stream: stream})
	stream.waitEntered(t)
	if temps, _ := files(t, m.dir); len(temps) != 1 {
		t.Fatalf("while writing the directory holds temporary files %q, want one", temps)
	}
	// The stop is queued while the actor is in the middle of a step; it is
	// handled before the next step.
	stopped := h.system.Root.StopFuture(m.pid)
	stream.open()
	if err := stopped.Wait(); err != nil {
		t.Fatal(err)
	}
	temps, others := files(t, m.dir)
	if len(temps) != 0 || len(others) != 0 {
		t.Errorf("after the stop the directory holds %q and %q, want nothing", temps, others)
	}
	// Had the actor told raftnode, that would come before this.
	h.system.Root.Send(m.raftnode.PID(), "marker")
	if got := testkit.ExpectMsg[string](m.raftnode); got != "marker" {
		t.Errorf("raftnode got %q", got)
	}
}

// At start the actor removes the temporary files a crash left, and keeps
// the store files.
func TestStartRemovesTemporaryFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), snapfile.DirName)
	w, err := snapfile.Create(dir, 2, 20)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := store.WriteSnapshot(&b, newStore(10, 10).View()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	size, crc, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	crashed, err := snapfile.Create(dir, 2, 30) // never committed
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crashed.Write(b.Bytes()[:10]); err != nil {
		t.Fatal(err)
	}
	if temps, _ := files(t, dir); len(temps) != 1 {
		t.Fatalf("the crash left temporary files %q, want one", temps)
	}

	h := newHarness(t)
	m := h.start(1, func(c *snapshot.Config) { c.StoreDir = dir })
	h.sync(m) // started
	expectNoTemps(t, dir, "after the start")
	if err := snapfile.Verify(dir, 2, 20, size, crc); err != nil {
		t.Errorf("the committed store file: %v", err)
	}
}

// A chunk 0 that is refused (here one without its raft message) does not
// end the transfer under way: it goes on and completes.
func TestRefusedStartKeepsTransferUnderWay(t *testing.T) {
	h := newHarness(t)
	receiver := h.start(2)
	st := newStore(40, 512)
	sent := msgSnap(t, 1, 2, 3, 40)
	chunks := cut(t, st, 7, marshal(t, sent), 4<<10)
	h.chunk(receiver, 1, chunks[0])
	if a := h.takeAck(2, 1); a.Error != "" {
		t.Fatalf("chunk 0: %+v", a)
	}
	h.chunk(receiver, 3, messages.SnapshotChunk{Transfer: 9, Seq: 0, Data: []byte("x")})
	if a := h.takeAck(2, 3); a.Error == "" || a.Transfer != 9 {
		t.Fatalf("a chunk 0 without a message: %+v, want a refusal", a)
	}
	for _, c := range chunks[1:] {
		h.chunk(receiver, 1, c)
		if a := h.takeAck(2, 1); a.Error != "" || a.Seq != c.Seq || a.Done != c.Last {
			t.Fatalf("chunk %d after the refused start: %+v", c.Seq, a)
		}
	}
	expectReceived(t, receiver, sent, st)
}

// A duplicate of an early chunk that arrives after the transfer completed
// is acknowledged as the whole transfer (its last chunk), so that a sender
// that gets that ack first does not take the transfer for broken.
func TestLateDuplicateAcknowledgesTheLastChunk(t *testing.T) {
	h := newHarness(t)
	receiver := h.start(2)
	st := newStore(40, 512)
	sent := msgSnap(t, 1, 2, 3, 40)
	chunks := cut(t, st, 7, marshal(t, sent), 4<<10)
	for _, c := range chunks {
		h.chunk(receiver, 1, c)
		h.takeAck(2, 1)
	}
	expectReceived(t, receiver, sent, st)
	h.chunk(receiver, 1, chunks[1])
	last := chunks[len(chunks)-1].Seq
	if a := h.takeAck(2, 1); a.Error != "" || !a.Done || a.Seq != last {
		t.Errorf("late duplicate of chunk 1: %+v, want done at chunk %d", a, last)
	}
}

// fullDisk is a stream that fails as a write to a full disk does.
type fullDisk struct{}

func (fullDisk) Next([]byte, int) ([]byte, bool, error) {
	return nil, false, &os.PathError{Op: "write", Path: "store file", Err: syscall.ENOSPC}
}

// A full disk is no reason to stop the node: the local snapshot is given
// up (its temporary file removed), the applier hears why and asks again
// later, and the next snapshot is written as usual.
func TestLocalSnapshotOnAFullDisk(t *testing.T) {
	h := newHarness(t)
	m := h.start(1)
	h.system.Root.Send(m.pid, &messages.WriteSnapshot{Index: 40, Term: 3, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
		Membership: &testMembership, Stream: fullDisk{}})
	w := testkit.ExpectMsg[*messages.SnapshotWritten](m.applier, replyTimeout)
	if w.Index != 40 || !errors.Is(w.Err, syscall.ENOSPC) {
		t.Fatalf("applier got %+v, want SnapshotWritten{40} with the full disk's error", w)
	}
	expectNoTemps(t, m.dir, "after a full disk")
	st := newStore(10, 10)
	h.system.Root.Send(m.pid, &messages.WriteSnapshot{Index: 41, Term: 3, ConfState: &raftpb.ConfState{Voters: []uint64{1}},
		Membership: &testMembership, Stream: store.NewSnapshotEncoder(st.View())})
	if c := testkit.ExpectMsg[*messages.SnapshotCreated](m.raftnode, replyTimeout); c.Index != 41 {
		t.Errorf("raftnode got %+v, want the next snapshot", c)
	}
}
