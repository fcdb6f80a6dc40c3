package testkit

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/messages"
)

// packet is one message on the simulated network: a raft message, or a
// message of raftkv's own (hello, snapshot chunk, ...) with its header
// decoded for routing.
type packet struct {
	from, to uint64
	raft     *raftpb.Message
	peer     *wrapperspb.BytesValue
	head     messages.PeerMessage
	key      []byte // orderKey, once computed
	age      int    // deterministic mode: the step it was sent at
}

// String describes p for the trace of a deterministic run.
func (p *packet) String() string {
	if p.raft != nil {
		m := p.raft
		return fmt.Sprintf("%s %d->%d term %d index %d", m.GetType(), p.from, p.to, m.GetTerm(), m.GetIndex())
	}
	name, ok := peerKindNames[p.head.Kind]
	if !ok {
		name = fmt.Sprintf("peer kind %d", p.head.Kind)
	}
	s := fmt.Sprintf("%s %d->%d", name, p.from, p.to)
	if c := p.head.Chunk; c != nil {
		s += fmt.Sprintf(" seq %d", c.Seq)
		if c.Last {
			s += " last"
		}
	}
	if a := p.head.Ack; a != nil {
		s += fmt.Sprintf(" seq %d", a.Seq)
		if a.Done {
			s += " done"
		}
		if a.Error != "" {
			s += " refused" // the reason may name the transfer, a wall-clock id
		}
	}
	return s
}

// peerKindNames name raftkv's own peer messages in the trace.
var peerKindNames = map[messages.PeerKind]string{
	messages.PeerRemoved:           "PeerRemoved",
	messages.PeerHello:             "PeerHello",
	messages.PeerHelloReply:        "PeerHelloReply",
	messages.PeerConfChange:        "PeerConfChange",
	messages.PeerConfChangeRefused: "PeerConfChangeRefused",
	messages.PeerSnapshotChunk:     "PeerSnapshotChunk",
	messages.PeerSnapshotAck:       "PeerSnapshotAck",
}

// orderKey says where p sits in the protocol, leaving out what differs
// between two runs of one seed: request ids and snapshot transfer ids,
// drawn from the wall clock.
func (p *packet) orderKey() []byte {
	if p.key == nil {
		p.key = p.makeOrderKey()
	}
	return p.key
}

func (p *packet) makeOrderKey() []byte {
	if p.raft != nil {
		k := proto.Clone(p.raft).(*raftpb.Message)
		for _, e := range k.GetEntries() {
			e.Data = nil
		}
		if s := k.GetSnapshot(); s != nil {
			s.Data = nil
		}
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(k)
		return append([]byte{0}, b...)
	}
	var seq uint64
	if c := p.head.Chunk; c != nil {
		seq = c.Seq
	}
	if a := p.head.Ack; a != nil {
		seq = a.Seq
	}
	return fmt.Appendf([]byte{1}, "%d/%d/%d/%d", p.head.Kind, p.from, p.to, seq)
}

// network is the simulated network of an in-process cluster. Every node's
// links and other senders of peer messages send to a network actor in the
// node's own actor system, which hands the message here; the network
// decides whether, when and how often it arrives. All its randomness comes
// from one seeded source.
type network struct {
	mu            sync.Mutex
	rng           *rand.Rand
	deterministic bool
	cut           map[[2]uint64]bool // from, to
	drop, dup     float64
	minDelay      time.Duration
	maxDelay      time.Duration
	queue         []*packet // deterministic mode: waiting for Step
	step          int       // deterministic mode: the step the cluster is at
	sent          []string  // deterministic mode: what was queued since takeSent
	// byAddress finds the member a hello dialed, deliver hands a packet to
	// the member it is for.
	byAddress func(addr string) (uint64, bool)
	deliver   func(*packet) bool
	closed    bool
}

func newNetwork(rng *rand.Rand, deterministic bool, byAddress func(string) (uint64, bool), deliver func(*packet) bool) *network {
	return &network{rng: rng, deterministic: deterministic, cut: map[[2]uint64]bool{}, byAddress: byAddress, deliver: deliver}
}

// props is the network actor spawned in each node's system.
func (nw *network) props() *actor.Props {
	return actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *raftpb.Message:
			// members share no memory
			m = proto.Clone(m).(*raftpb.Message)
			nw.route(&packet{from: m.GetFrom(), to: m.GetTo(), raft: m})
		case *wrapperspb.BytesValue:
			nw.routePeer(m)
		}
	})
}

// routePeer takes a message of raftkv's own: a hello goes to the member at
// the address it dialed (whoever that is), anything else to its To.
func (nw *network) routePeer(w *wrapperspb.BytesValue) {
	head, err := messages.DecodePeerMessage(w)
	if err != nil {
		return
	}
	p := &packet{from: head.From, to: head.To, peer: wrapperspb.Bytes(bytes.Clone(w.GetValue())), head: head}
	if head.Kind == messages.PeerHello {
		to, ok := nw.byAddress(head.DialedAddress)
		if !ok {
			return
		}
		p.to = to
	}
	nw.route(p)
}

// route takes one packet from a node. Without deterministic mode it is
// dropped, duplicated and delayed at once; in deterministic mode it waits
// in the queue and Step decides.
func (nw *network) route(p *packet) {
	nw.mu.Lock()
	if nw.closed {
		nw.mu.Unlock()
		return
	}
	if nw.deterministic {
		p.age = nw.step
		nw.sent = append(nw.sent, p.String())
		nw.queue = append(nw.queue, p)
		nw.mu.Unlock()
		return
	}
	copies := nw.fateLocked(p)
	delay := nw.minDelay
	if nw.maxDelay > nw.minDelay {
		delay += time.Duration(nw.rng.Int63n(int64(nw.maxDelay - nw.minDelay)))
	}
	nw.mu.Unlock()
	for range copies {
		if delay > 0 {
			time.AfterFunc(delay, func() { nw.deliver(p) })
		} else {
			nw.deliver(p)
		}
	}
}

// fateLocked says how many copies of p arrive: 0 when cut or dropped, 2
// when duplicated.
func (nw *network) fateLocked(p *packet) int {
	switch {
	case nw.cut[[2]uint64{p.from, p.to}]:
		return 0
	case nw.drop > 0 && nw.rng.Float64() < nw.drop:
		return 0
	case nw.dup > 0 && nw.rng.Float64() < nw.dup:
		return 2
	}
	return 1
}

// How deterministic mode picks the packet to deliver: one of the
// deliveryWindow oldest, or, one time in lateEvery, any packet (a long
// delay). Delivery stays out of order, and messages are delayed across
// elections now and then, yet a message waits a few steps on average,
// however long the queue: a uniform choice over the queue would make
// every round trip cost as many steps as there are packets in flight.
const (
	deliveryWindow = 4
	lateEvery      = 8
)

// advance tells the network that the cluster takes its next step.
func (nw *network) advance() {
	nw.mu.Lock()
	nw.step++
	nw.mu.Unlock()
}

// deliverOne delivers one queued packet chosen by the seed and returns it
// with the number of copies that arrived, -1 if its member is down; it
// returns nil when the queue is empty. The queue is put in a canonical
// order first, the oldest first (by the step that sent them), so the
// choice does not depend on the order in which concurrent senders handed
// their packets in.
func (nw *network) deliverOne() (*packet, int) {
	nw.mu.Lock()
	if len(nw.queue) == 0 {
		nw.mu.Unlock()
		return nil, 0
	}
	slices.SortStableFunc(nw.queue, func(a, b *packet) int {
		return cmp.Or(cmp.Compare(a.age, b.age), bytes.Compare(a.orderKey(), b.orderKey()))
	})
	i := nw.rng.Intn(min(len(nw.queue), deliveryWindow))
	if nw.rng.Intn(lateEvery) == 0 {
		i = nw.rng.Intn(len(nw.queue))
	}
	p := nw.queue[i]
	nw.queue = append(nw.queue[:i], nw.queue[i+1:]...)
	copies := nw.fateLocked(p)
	nw.mu.Unlock()
	for range copies {
		if !nw.deliver(p) {
			return p, -1
		}
	}
	return p, copies
}

// takeSent returns, sorted, what was queued since it was last called.
func (nw *network) takeSent() []string {
	nw.mu.Lock()
	sent := nw.sent
	nw.sent = nil
	nw.mu.Unlock()
	slices.Sort(sent)
	return sent
}

func (nw *network) queued() int {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return len(nw.queue)
}

func (nw *network) close() {
	nw.mu.Lock()
	nw.closed = true
	nw.queue = nil
	nw.mu.Unlock()
}
