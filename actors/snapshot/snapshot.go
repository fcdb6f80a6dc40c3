package snapshot

import (
	"errors"
	"fmt"
	"log/slog"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/messages"
)

// Config is what the snapshot actor needs.
type Config struct {
	// ID and Address are this member's id and own peer address.
	ID      uint64
	Address string
	// StoreDir is the directory of the snapshots' store files.
	StoreDir string
	Raftnode *actor.PID
	Applier  *actor.PID
	// Route returns where a PeerMessage for member id at address goes.
	Route func(id uint64, address string) *actor.PID
	// TickInterval is the length of a tick, the actor's clock for timeouts
	// and backoff; 0 means no timer: the caller sends messages.Tick.
	TickInterval time.Duration
	// ChunkSize is the data of one chunk; Window how many chunks may be
	// unacknowledged.
	ChunkSize int
	Window    int
	// TimeoutTicks is how long a transfer may go without progress before it
	// fails; BackoffTicks the wait after a first failure (doubled after each
	// failure in a row, at most MaxBackoffTicks) before raft hears of it.
	TimeoutTicks    uint64
	BackoffTicks    uint64
	MaxBackoffTicks uint64
	// Pace, when > 0, paces the writing of local snapshots: after each
	// step the actor waits Pace times as long as the step took, so that
	// writing one takes at most 1/(1+Pace) of a core from the write path.
	// 0 writes at full speed.
	Pace   int
	Logger *slog.Logger
}

// Defaults for Config, in raftexample's ticks of 100 ms. A chunk may exceed
// ChunkSize by one key-value record (at most about 1 MiB), so ChunkSize is
// at most MaxChunkSize, keeping every chunk under messages.MaxChunkSize.
const (
	MaxChunkSize           = 2 << 20
	DefaultChunkSize       = 512 << 10
	DefaultWindow          = 4
	DefaultTimeoutTicks    = 100
	DefaultBackoffTicks    = 10
	DefaultMaxBackoffTicks = 300
	// DefaultPace is the Pace a node gives its snapshot actor: writing a
	// snapshot takes at most a quarter of a core.
	DefaultPace = 3
)

// writeStep is how much of a local snapshot is written per message, so that
// chunks and acks are handled between two steps. One buffer of about this
// size is reused for every step of every local snapshot.
const writeStep = 1 << 20

// Props returns the props of a node's snapshot actor.
func Props(cfg Config) *actor.Props {
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	cfg.ChunkSize = min(cfg.ChunkSize, MaxChunkSize)
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.TimeoutTicks == 0 {
		cfg.TimeoutTicks = DefaultTimeoutTicks
	}
	if cfg.BackoffTicks == 0 {
		cfg.BackoffTicks = DefaultBackoffTicks
	}
	if cfg.MaxBackoffTicks == 0 {
		cfg.MaxBackoffTicks = DefaultMaxBackoffTicks
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &snapshotter{
			cfg:      cfg,
			log:      cfg.Logger.With("actor", "snapshot"),
			out:      map[uint64]*outgoing{},
			failures: map[uint64]int{},
			waiting:  map[uint64]uint64{},
			transfer: uint64(time.Now().UnixNano()),
		}
	})
}

// doneTransfer names a transfer received whole: its sender, id and last
// chunk.
type doneTransfer struct {
	from, transfer, seq uint64
}

// writeMore asks the actor to write the next step of the local snapshot.
type writeMore struct{}

// localWrite is the local snapshot being written; pause, while not nil,
// is the wait before its next step.
type localWrite struct {
	req   *messages.WriteSnapshot
	file  *snapfile.Writer
	done  bool
	pause *time.Timer
}

type snapshotter struct {
	cfg   Config
	log   *slog.Logger
	ticks uint64

	local *localWrite
	queue []*messages.WriteSnapshot
	// buf is the buffer of local snapshot writes, reused from step to step
	// (a fresh one per step made a snapshot of 1M keys allocate twice its
	// size in garbage).
	buf []byte

	out map[uint64]*outgoing // by receiver
	// failures counts the failed transfers in a row to a member; waiting
	// holds a failed transfer's report to raft until its backoff ends (the
	// tick at which it ends).
	failures map[uint64]int
	waiting  map[uint64]uint64
	transfer uint64 // id of the last transfer started

	in *incoming
	// lastDone is the last snapshot received, whose duplicate chunks are
	// acknowledged again.
	lastDone    doneTransfer
	cancelTicks func()
}

// Receive handles one message; see the package doc.
func (s *snapshotter) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if err := snapfile.RemoveTemp(s.cfg.StoreDir); err != nil {
			s.log.Warn("cannot remove temporary snapshot files", "err", err)
		}
		if s.cfg.TickInterval > 0 {
			s.cancelTicks = every.Send(ctx.ActorSystem(), ctx.Self(), s.cfg.TickInterval, &messages.Tick{})
		}
	case *actor.Stopping:
		if s.cancelTicks != nil {
			s.cancelTicks()
		}
		if s.local != nil {
			if s.local.pause != nil {
				s.local.pause.Stop()
			}
			s.local.file.Abort()
		}
		if s.in != nil {
			s.in.file.Abort()
		}
	case *messages.Tick:
		s.tick(ctx)
	case *messages.WriteSnapshot:
		s.queue = append(s.queue, msg)
		s.startLocal(ctx)
	case *writeMore:
		if s.local != nil {
			s.local.pause = nil
		}
		s.writeLocal(ctx)
	case *messages.SendSnapshot:
		s.send(ctx, msg)
	case *messages.PeerMessage:
		switch msg.Kind {
		case messages.PeerSnapshotChunk:
			s.receiveChunk(ctx, msg)
		case messages.PeerSnapshotAck:
			s.receiveAck(ctx, msg)
		}
	}
}

// startLocal starts writing the next queued local snapshot.
func (s *snapshotter) startLocal(ctx actor.Context) {
	if s.local != nil || len(s.queue) == 0 {
		return
	}
	req := s.queue[0]
	s.queue = s.queue[1:]
	f, err := snapfile.Create(s.cfg.StoreDir, req.Term, req.Index)
	if err != nil {
		s.localFailed(ctx, req, err)
		return
	}
	s.local = &localWrite{req: req, file: f}
	ctx.Send(ctx.Self(), &writeMore{})
}

// writeLocal writes one step of the local snapshot, and finishes it: the
// file is durable before raftnode hears of it (docs/design.md, rule 5).
func (s *snapshotter) writeLocal(ctx actor.Context) {
	l := s.local
	if l == nil {
		return
	}
	start := time.Now()
	for written := 0; written < writeStep && !l.done; {
		part, done, err := l.req.Stream.Next(s.buf[:0], writeStep)
		if err == nil {
			_, err = l.file.Write(part)
			s.buf = part
		}
		if err != nil {
			l.file.Abort()
			s.localFailed(ctx, l.req, err)
			return
		}
		written += len(part)
		l.done = done
	}
	if !l.done {
		if s.cfg.Pace <= 0 {
			ctx.Send(ctx.Self(), &writeMore{})
			return
		}
		system, self := ctx.ActorSystem(), ctx.Self()
		l.pause = time.AfterFunc(time.Since(start)*time.Duration(s.cfg.Pace), func() { system.Root.Send(self, &writeMore{}) })
		return
	}
	size, crc, err := l.file.Commit()
	if err != nil {
		s.localFailed(ctx, l.req, err)
		return
	}
	data, err := messages.EncodeSnapshotMeta(messages.SnapshotMeta{DBSize: size, DBCRC: crc,
		Membership: *l.req.Membership, Requests: l.req.Requests, Alarms: l.req.Alarms})
	if err != nil {
		panic(fmt.Errorf("snapshot %d: %w", l.req.Index, err))
	}
	s.log.Info("snapshot written", "index", l.req.Index, "bytes", size)
	ctx.Send(s.cfg.Raftnode, &messages.SnapshotCreated{Index: l.req.Index, ConfState: l.req.ConfState, Data: data})
	ctx.Send(s.cfg.Applier, &messages.SnapshotWritten{Index: l.req.Index, Size: size})
	s.local = nil
	s.startLocal(ctx)
}

// localFailed gives up the local snapshot req. A full disk is no reason
// to stop the node (the NOSPACE alarm keeps writes off meanwhile): the
// applier is told, and asks again later. Any other storage error is fatal.
func (s *snapshotter) localFailed(ctx actor.Context, req *messages.WriteSnapshot, err error) {
	if !errors.Is(err, syscall.ENOSPC) {
		panic(fmt.Errorf("snapshot %d: %w", req.Index, err))
	}
	s.log.Warn("no disk space to write a snapshot; it is tried again later", "index", req.Index, "err", err)
	s.local = nil
	ctx.Send(s.cfg.Applier, &messages.SnapshotWritten{Index: req.Index, Err: err})
	s.startLocal(ctx)
}

// send starts a transfer to a member, unless one to it is under way or
// waits out its backoff: raft then hears of that one.
func (s *snapshotter) send(ctx actor.Context, msg *messages.SendSnapshot) {
	if _, busy := s.out[msg.To]; busy {
		return
	}
	if _, backingOff := s.waiting[msg.To]; backingOff {
		return
	}
	if msg.Address == "" || s.cfg.Route == nil {
		s.fail(ctx, msg.To, fmt.Errorf("no address for member %d", msg.To))
		return
	}
	m, err := proto.Marshal(msg.Message)
	if err != nil {
		s.fail(ctx, msg.To, fmt.Errorf("encode raft message: %w", err))
		return
	}
	s.transfer++
	o := newOutgoing(msg.To, msg.Address, s.transfer, m, msg.Stream, s.cfg.ChunkSize, s.cfg.Window, s.ticks)
	s.out[msg.To] = o
	s.log.Info("sending a snapshot", "to", msg.To, "address", msg.Address,
		"index", msg.Message.GetSnapshot().GetMetadata().GetIndex(), "transfer", o.transfer)
	s.pump(ctx, o)
}

// pump sends the chunks o's window allows.
func (s *snapshotter) pump(ctx actor.Context, o *outgoing) {
	chunks, err := o.next()
	for i := range chunks {
		s.sendPeer(ctx, o.to, o.addr, messages.PeerMessage{Kind: messages.PeerSnapshotChunk, Chunk: &chunks[i]})
	}
	if err != nil {
		s.fail(ctx, o.to, err)
	}
}

func (s *snapshotter) receiveAck(ctx actor.Context, m *messages.PeerMessage) {
	o, ok := s.out[m.From]
	if !ok || o.transfer != m.Ack.Transfer {
		return // a transfer given up on
	}
	done, err := o.ack(m.Ack, s.ticks)
	switch {
	case err != nil:
		s.fail(ctx, m.From, err)
	case done:
		delete(s.out, m.From)
		delete(s.failures, m.From)
		s.log.Info("snapshot sent", "to", m.From, "bytes", o.offset, "transfer", o.transfer)
		ctx.Send(s.cfg.Raftnode, &messages.SnapshotStatus{ID: m.From})
	default:
		s.pump(ctx, o)
	}
}

// fail ends the transfer to member id; raft hears of the failure after a
// backoff, so that a snapshot that cannot get through is not sent in a loop.
func (s *snapshotter) fail(_ actor.Context, id uint64, err error) {
	delete(s.out, id)
	s.failures[id]++
	wait := backoff(s.failures[id], s.cfg.BackoffTicks, s.cfg.MaxBackoffTicks)
	s.waiting[id] = s.ticks + wait
	s.log.Warn("snapshot transfer failed; retrying after a backoff", "to", id, "failures", s.failures[id],
		"backoff_ticks", wait, "err", err)
}

func (s *snapshotter) tick(ctx actor.Context) {
	s.ticks++
	for id, until := range s.waiting {
		if s.ticks >= until {
			delete(s.waiting, id)
			ctx.Send(s.cfg.Raftnode, &messages.SnapshotStatus{ID: id, Failed: true})
		}
	}
	for id, o := range s.out {
		if s.ticks-o.progress >= s.cfg.TimeoutTicks {
			s.fail(ctx, id, fmt.Errorf("no progress for %d ticks", s.cfg.TimeoutTicks))
		}
	}
	if in := s.in; in != nil && s.ticks-in.progress >= s.cfg.TimeoutTicks {
		s.log.Warn("giving up an incoming snapshot that stopped arriving", "from", in.from, "transfer", in.transfer)
		in.file.Abort()
		s.in = nil
	}
}

// receiveChunk writes a chunk of an incoming snapshot and acknowledges it.
// Chunk 0 starts a transfer (one that was under way is given up); the last
// one, once the stream checks out, hands the snapshot to raftnode.
func (s *snapshotter) receiveChunk(ctx actor.Context, m *messages.PeerMessage) {
	c := m.Chunk
	ack := &messages.SnapshotAck{Transfer: c.Transfer, Seq: c.Seq}
	in := s.in
	switch {
	case s.lastDone.from == m.From && s.lastDone.transfer == c.Transfer:
		// a duplicate of a chunk of the transfer just completed
		ack.Seq, ack.Done = s.lastDone.seq, true
		s.sendPeer(ctx, m.From, m.FromAddress, messages.PeerMessage{Kind: messages.PeerSnapshotAck, Ack: ack})
		return
	case in != nil && in.from == m.From && in.transfer == c.Transfer && c.Seq < in.next:
		// a duplicate: acknowledge again what arrived
		ack.Seq = in.next - 1
		s.sendPeer(ctx, m.From, in.fromAddr, messages.PeerMessage{Kind: messages.PeerSnapshotAck, Ack: ack})
		return
	}
	if c.Seq == 0 {
		next, err := startIncoming(s.cfg.ID, m.From, m.FromAddress, c, s.ticks)
		if err != nil {
			s.refuseChunk(ctx, m, err) // a transfer under way goes on
			return
		}
		if in != nil {
			in.file.Abort()
			s.in = nil
		}
		if err := next.open(func(term, index uint64) (storeFile, error) {
			return snapfile.Create(s.cfg.StoreDir, term, index)
		}); err != nil {
			s.refuseChunk(ctx, m, err)
			return
		}
		in, s.in = next, next
	}
	if in == nil || in.from != m.From || in.transfer != c.Transfer {
		s.refuseChunk(ctx, m, fmt.Errorf("transfer %d is not under way", c.Transfer))
		return
	}
	msg, err := in.add(c, s.ticks)
	if err != nil {
		in.file.Abort()
		s.in = nil
		s.refuseChunk(ctx, m, err)
		return
	}
	if msg != nil {
		s.in = nil
		s.lastDone = doneTransfer{from: m.From, transfer: c.Transfer, seq: c.Seq}
		s.log.Info("snapshot received", "from", m.From, "index", msg.GetSnapshot().GetMetadata().GetIndex(), "bytes", in.file.Size())
		ctx.Send(s.cfg.Raftnode, msg)
		ack.Done = true
	}
	s.sendPeer(ctx, m.From, in.fromAddr, messages.PeerMessage{Kind: messages.PeerSnapshotAck, Ack: ack})
}

func (s *snapshotter) refuseChunk(ctx actor.Context, m *messages.PeerMessage, err error) {
	s.log.Warn("refusing a snapshot chunk", "from", m.From, "transfer", m.Chunk.Transfer, "seq", m.Chunk.Seq, "err", err)
	s.sendPeer(ctx, m.From, m.FromAddress, messages.PeerMessage{Kind: messages.PeerSnapshotAck,
		Ack: &messages.SnapshotAck{Transfer: m.Chunk.Transfer, Seq: m.Chunk.Seq, Error: err.Error()}})
}

func (s *snapshotter) sendPeer(ctx actor.Context, to uint64, addr string, m messages.PeerMessage) {
	if addr == "" || s.cfg.Route == nil {
		s.log.Warn("no address for member, dropping a snapshot message", "to", to)
		return
	}
	m.From, m.To, m.FromAddress = s.cfg.ID, to, s.cfg.Address
	w, err := messages.EncodePeerMessage(m)
	if err != nil {
		s.log.Error("encode peer message", "err", err)
		return
	}
	ctx.Send(s.cfg.Route(to, addr), w)
}
