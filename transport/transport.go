// Package transport carries what a node's actors send to other members:
// one TCP stream per member address, each message a length-prefixed frame,
// written by one goroutine per stream that flushes when its queue runs
// empty (as etcd's rafthttp streams do). A message sent while that
// goroutine idles is written at once by the sender, with one non-blocking
// write: waking the goroutine would take longer than the write (tens of
// µs on a virtual machine), and it is on the path of every write a client
// waits for. What the socket does not take at once goes to the goroutine.
//
// It plugs into protoactor as the resolver of every PID whose address is
// not this node's: ctx.Send(actor.NewPID(address, inbox), msg) queues msg
// on the stream to address. Only raft messages (*raftpb.Message) and
// raftkv's own peer messages (*wrapperspb.BytesValue) travel; anything
// else is dropped. Delivery is at most once: a full queue, a failed dial
// or a broken connection drops messages (raft resends), and each failure
// is published on the actor system's event stream as Down, so that the
// link to that member reports it unreachable.
//
// The receiving side reads each connection in its own goroutine and hands
// every message to the local inbox, whatever address the sender dialed;
// a malformed frame closes the connection, nothing that arrives panics.
//
// # Wire format
//
// A connection starts with the magic "RKV1" and the address the sender
// dialed (a byte of length, then the bytes). Then frames: a 4-byte
// big-endian length n, a byte of kind (1 raft, 2 peer message), n bytes of
// payload (the raftpb.Message in protobuf, or the peer message's bytes).
// A raft message is read back by decodeRaft (decode.go), which gives what
// proto.Unmarshal gives in a handful of allocations.
package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Config describes the transport of one node.
type Config struct {
	// System is the node's actor system: the transport sets its address
	// to Advertise and resolves the PIDs of other addresses.
	System *actor.ActorSystem
	// Listen is where to listen for members, host:port.
	Listen string
	// Advertise is the address other members reach this one by.
	Advertise string
	// Inbox is the name of the local actor that receives every incoming
	// message.
	Inbox string
	// MaxMessageSize bounds one message; a larger one is dropped when sent
	// and closes the connection when received.
	MaxMessageSize int
	// QueueSize is how many messages may wait for one stream before more
	// are dropped; 0 means DefaultQueueSize.
	QueueSize int
	// MaxConnections bounds the incoming connections held at once; 0 means
	// DefaultMaxConnections.
	MaxConnections int
	Logger         *slog.Logger
}

// Defaults of Config.
const (
	DefaultQueueSize      = 4096
	DefaultMaxConnections = 64
)

// Down is published on the actor system's event stream when a connection
// to Address could not be made or was lost.
type Down struct{ Address string }

// Frame kinds.
const (
	kindRaft byte = 1
	kindPeer byte = 2
)

const (
	magic       = "RKV1"
	headerSize  = 5
	dialTimeout = time.Second
	// redialAfter is how long a stream drops messages after a failed dial
	// before it dials again.
	redialAfter = 200 * time.Millisecond
	// handshakeTimeout bounds the wait for a new connection's preamble.
	handshakeTimeout = 5 * time.Second
)

// A member that vanished without closing its connections (cut off, or its
// address moved) is noticed within seconds: by TCP keepalive on a
// connection that carries nothing, and on one that carries messages by
// TCP_USER_TIMEOUT, which aborts a connection whose sent data stays
// unacknowledged (keepalive probes only an idle connection).
var keepalive = net.KeepAliveConfig{Enable: true, Idle: 2 * time.Second, Interval: 2 * time.Second, Count: 3}

const userTimeout = 4 * time.Second

// control sets TCP_USER_TIMEOUT on a socket before it connects or listens
// (accepted sockets inherit it).
func control(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(userTimeout.Milliseconds()))
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("set TCP_USER_TIMEOUT: %w", serr)
	}
	return nil
}

// Transport is a node's connections to the other members.
type Transport struct {
	cfg      Config
	log      *slog.Logger
	inbox    *actor.PID
	listener net.Listener
	aliases  aliasLog
	slots    chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	streams map[string]*stream
	conns   map[net.Conn]struct{}
	closed  bool
}

// Start listens on cfg.Listen, makes cfg.Advertise the actor system's
// address and resolves every other address to a stream of this transport.
func Start(cfg Config) (*Transport, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if len(cfg.Advertise) > 255 {
		return nil, fmt.Errorf("advertised address %q: longer than 255 bytes", cfg.Advertise)
	}
	lc := net.ListenConfig{KeepAliveConfig: keepalive, Control: control}
	l, err := lc.Listen(context.Background(), "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for peers on %s: %w", cfg.Listen, err)
	}
	log := cfg.Logger.With("component", "transport")
	t := &Transport{
		cfg: cfg, log: log, listener: l,
		aliases: aliasLog{log: log, advertised: cfg.Advertise, seen: map[string]bool{}},
		slots:   make(chan struct{}, cfg.MaxConnections),
		done:    make(chan struct{}),
		streams: map[string]*stream{},
		conns:   map[net.Conn]struct{}{},
	}
	registry := cfg.System.ProcessRegistry
	registry.Address = cfg.Advertise
	t.inbox = cfg.System.NewLocalPID(cfg.Inbox)
	registry.RegisterAddressResolver(func(*actor.PID) (actor.Process, bool) { return t, true })
	t.wg.Add(1)
	go t.accept()
	return t, nil
}

// Addr is the address the transport listens on.
func (t *Transport) Addr() net.Addr { return t.listener.Addr() }

// Close stops listening, closes every connection and waits for the
// transport's goroutines to end. Messages still queued are dropped.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.done)
	err := t.listener.Close()
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
	return err
}

// SendUserMessage queues message for the stream to pid's address.
func (t *Transport) SendUserMessage(pid *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	frame, err := encode(msg, t.cfg.MaxMessageSize)
	if err != nil {
		t.log.Warn("dropping a message for a member", "address", pid.GetAddress(), "err", err)
		return
	}
	if s := t.stream(pid.GetAddress()); s != nil {
		s.push(frame)
	}
}

// SendSystemMessage drops message: no actor watches or stops another
// member's actors.
func (t *Transport) SendSystemMessage(*actor.PID, any) {}

// Stop does nothing: another member's actors are not stopped from here.
func (t *Transport) Stop(*actor.PID) {}

// encode frames one message.
func encode(msg any, limit int) ([]byte, error) {
	var frame []byte
	switch m := msg.(type) {
	case *raftpb.Message:
		var err error
		frame, err = proto.MarshalOptions{}.MarshalAppend(make([]byte, headerSize, headerSize+proto.Size(m)), m)
		if err != nil {
			return nil, fmt.Errorf("encode raft %s: %w", m.GetType(), err)
		}
		frame[4] = kindRaft
	case *wrapperspb.BytesValue:
		frame = make([]byte, headerSize+len(m.GetValue()))
		copy(frame[headerSize:], m.GetValue())
		frame[4] = kindPeer
	default:
		return nil, fmt.Errorf("a %T cannot go to another member", msg)
	}
	n := len(frame) - headerSize
	if limit > 0 && n > limit {
		return nil, fmt.Errorf("message of %d bytes, over the limit of %d", n, limit)
	}
	binary.BigEndian.PutUint32(frame, uint32(n))
	return frame, nil
}

// stream returns the stream to address, started on first use; nil once
// the transport is closed.
func (t *Transport) stream(address string) *stream {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	s := t.streams[address]
	if s == nil {
		s = &stream{t: t, address: address, queue: make(chan []byte, t.cfg.QueueSize)}
		t.streams[address] = s
		t.wg.Add(1)
		go s.run()
	}
	return s
}

// track records an open connection so that Close closes it; false if the
// transport is closed (the caller closes c).
func (t *Transport) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *Transport) untrack(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	c.Close()
}

// down tells the links to address that it is unreachable.
func (t *Transport) down(address string) {
	t.cfg.System.EventStream.Publish(&Down{Address: address})
}

// stream is the outgoing connection to one address and its queue.
type stream struct {
	t       *Transport
	address string
	queue   chan []byte

	// mu orders the senders' writes with the stream goroutine's. idle is
	// true while the goroutine waits for a frame with everything written
	// and flushed (so the queue is empty), raw is the connection then.
	mu   sync.Mutex
	idle bool
	raw  syscall.RawConn
}

// push writes a frame at once if the stream is idle, and queues what the
// socket did not take (all of it otherwise); a frame that finds the queue
// full is dropped.
func (s *stream) push(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idle {
		n := writeNow(s.raw, frame)
		if n == len(frame) {
			return
		}
		// The rest goes first, before any later frame: the queue is empty
		// while the stream idles, so it fits.
		frame = frame[n:]
		s.idle = false
	}
	select {
	case s.queue <- frame:
	default:
	}
}

// writeNow writes what it can of frame to raw without waiting, and returns
// how much that was. It stops at the first error (the socket full, the
// connection broken or closed) and leaves it to the stream goroutine, which
// writes the rest and meets a lasting error itself: so raw.Write's own
// error, a closed connection, is not looked at either.
func writeNow(raw syscall.RawConn, frame []byte) int {
	written := 0
	_ = raw.Write(func(fd uintptr) bool {
		for written < len(frame) {
			n, err := unix.Write(int(fd), frame[written:])
			if err != nil || n <= 0 {
				break
			}
			written += n
		}
		return true // never wait for the socket: the goroutine will
	})
	return written
}

// idleWith marks the stream idle on the connection raw if nothing is
// queued; the goroutine calls it once it has written and flushed.
func (s *stream) idleWith(raw syscall.RawConn) {
	s.mu.Lock()
	s.idle, s.raw = len(s.queue) == 0 && raw != nil, raw
	s.mu.Unlock()
}

// run writes queued frames to the connection, dialing it when there is
// none, until the transport closes.
func (s *stream) run() {
	defer s.t.wg.Done()
	var (
		conn   net.Conn
		raw    syscall.RawConn
		w      *bufio.Writer
		failed time.Time
	)
	defer func() {
		s.idleWith(nil)
		if conn != nil {
			s.t.untrack(conn)
		}
	}()
	for {
		var frame []byte
		select {
		case frame = <-s.queue:
		case <-s.t.done:
			return
		}
		if conn == nil {
			if time.Since(failed) < redialAfter {
				continue // dropped: raft resends
			}
			var err error
			if conn, err = s.dial(); err != nil {
				s.t.log.Debug("cannot connect to member", "address", s.address, "err", err)
				failed = time.Now()
				s.t.down(s.address)
				continue
			}
			w = bufio.NewWriterSize(conn, 64<<10)
			if raw, err = conn.(syscall.Conn).SyscallConn(); err != nil {
				raw = nil // every frame goes through the goroutine
			}
		}
		if err := s.write(w, frame); err != nil {
			s.t.log.Debug("connection to member lost", "address", s.address, "err", err)
			s.t.untrack(conn)
			conn, raw = nil, nil
			s.t.down(s.address)
		}
		s.idleWith(raw)
	}
}

// write writes frame and whatever else is queued, then flushes.
func (s *stream) write(w *bufio.Writer, frame []byte) error {
	for {
		if _, err := w.Write(frame); err != nil {
			return err
		}
		select {
		case frame = <-s.queue:
			continue
		default:
		}
		return w.Flush()
	}
}

// dial connects to the stream's address and sends the preamble.
func (s *stream) dial() (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAliveConfig: keepalive, Control: control}
	conn, err := d.Dial("tcp", s.address)
	if err != nil {
		return nil, err
	}
	if !s.t.track(conn) {
		conn.Close()
		return nil, errors.New("transport closed")
	}
	preamble := make([]byte, 0, len(magic)+1+len(s.address))
	preamble = append(append(append(preamble, magic...), byte(len(s.address))), s.address...)
	if len(s.address) > 255 {
		s.t.untrack(conn)
		return nil, fmt.Errorf("address %q: longer than 255 bytes", s.address)
	}
	if _, err := conn.Write(preamble); err != nil {
		s.t.untrack(conn)
		return nil, fmt.Errorf("send preamble: %w", err)
	}
	return conn, nil
}

// accept takes incoming connections until the listener closes.
func (t *Transport) accept() {
	defer t.wg.Done()
	for {
		conn, err := t.listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				t.log.Error("accept a member's connection", "err", err)
			}
			return
		}
		select {
		case t.slots <- struct{}{}:
		default:
			t.log.Warn("refusing a connection: too many open", "remote", conn.RemoteAddr(), "max", t.cfg.MaxConnections)
			conn.Close()
			continue
		}
		if !t.track(conn) {
			conn.Close()
			return
		}
		t.wg.Add(1)
		go func() {
			defer func() { <-t.slots }()
			t.receive(conn)
		}()
	}
}

// receive reads one connection's frames and delivers them to the inbox
// until the connection ends or breaks the format.
func (t *Transport) receive(conn net.Conn) {
	defer t.wg.Done()
	defer t.untrack(conn)
	r := bufio.NewReaderSize(conn, 64<<10)
	conn.SetReadDeadline(time.Now().Add(handshakeTimeout))
	dialed, err := readPreamble(r)
	if err != nil {
		t.log.Warn("closing a connection without a valid preamble", "remote", conn.RemoteAddr(), "err", err)
		return
	}
	conn.SetReadDeadline(time.Time{})
	if dialed != t.cfg.Advertise {
		t.aliases.note(dialed)
	}
	for {
		msg, err := readFrame(r, t.cfg.MaxMessageSize)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				t.log.Warn("closing a member's connection", "remote", conn.RemoteAddr(), "err", err)
			}
			return
		}
		t.cfg.System.Root.Send(t.inbox, msg)
	}
}

// readPreamble reads the magic and the address the sender dialed.
func readPreamble(r *bufio.Reader) (string, error) {
	var head [len(magic) + 1]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return "", fmt.Errorf("read preamble: %w", err)
	}
	if string(head[:len(magic)]) != magic {
		return "", fmt.Errorf("not a raftkv member: starts with %q", head[:len(magic)])
	}
	addr := make([]byte, head[len(magic)])
	if _, err := io.ReadFull(r, addr); err != nil {
		return "", fmt.Errorf("read dialed address: %w", err)
	}
	return string(addr), nil
}

// readFrame reads and decodes one frame. The payload's buffer grows as its
// bytes arrive, so a length that lies costs no more memory than was sent.
func readFrame(r *bufio.Reader, limit int) (any, error) {
	var head [headerSize]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(head[:4]))
	if limit > 0 && n > limit {
		return nil, fmt.Errorf("frame of %d bytes, over the limit of %d", n, limit)
	}
	payload, err := readPayload(r, n)
	if err != nil {
		return nil, fmt.Errorf("read frame of %d bytes: %w", n, err)
	}
	switch head[4] {
	case kindRaft:
		m, err := decodeRaft(payload)
		if err != nil {
			return nil, err
		}
		return m, nil
	case kindPeer:
		return &wrapperspb.BytesValue{Value: payload}, nil
	default:
		return nil, fmt.Errorf("unknown frame kind %d", head[4])
	}
}

// readPayload reads n bytes, allocating at most 1 MiB ahead of what came.
func readPayload(r io.Reader, n int) ([]byte, error) {
	const step = 1 << 20
	buf := make([]byte, 0, min(n, step))
	for len(buf) < n {
		k := min(n-len(buf), step)
		buf = slices.Grow(buf, k)[:len(buf)+k]
		if _, err := io.ReadFull(r, buf[len(buf)-k:]); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// aliasLog warns once per name under which other members reach this one
// when it is not the name it advertises.
type aliasLog struct {
	log        *slog.Logger
	advertised string
	mu         sync.Mutex
	seen       map[string]bool
}

func (a *aliasLog) note(alias string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[alias] || len(a.seen) > 64 {
		return
	}
	a.seen[alias] = true
	a.log.Warn("a member reaches this one by another name than the one it advertises; it works, but check --advertise-peer",
		"name_used", alias, "advertised", a.advertised)
}
