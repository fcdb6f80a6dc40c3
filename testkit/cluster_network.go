package testkit

import (
	"bytes"
	"math/rand"
	"sort"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/messages"
)

// network is the simulated network of an in-process cluster. Every node's
// peer links send to a network actor in the node's own actor system, which
// hands the message here; the network decides whether, when and how often
// it arrives. All its randomness comes from one seeded source.
type network struct {
	mu            sync.Mutex
	rng           *rand.Rand
	deterministic bool
	cut           map[[2]uint64]bool // from, to
	drop, dup     float64
	minDelay      time.Duration
	maxDelay      time.Duration
	queue         []*raftpb.Message // deterministic mode: waiting for Step
	received      map[uint64]uint64 // messages handed in, by sender
	delivered     map[uint64]uint64 // messages handed out, by receiver
	ticks         map[uint64]uint64 // ticks sent, by member
	deliver       func(*raftpb.Message)
	deliverNotice func(to uint64, w *wrapperspb.BytesValue)
	closed        bool
}

func newNetwork(rng *rand.Rand, deterministic bool, deliver func(*raftpb.Message)) *network {
	return &network{rng: rng, deterministic: deterministic, cut: map[[2]uint64]bool{},
		received: map[uint64]uint64{}, delivered: map[uint64]uint64{}, ticks: map[uint64]uint64{}, deliver: deliver}
}

// props is the network actor spawned in each node's system.
func (nw *network) props() *actor.Props {
	return actor.PropsFromFunc(func(ctx actor.Context) {
		switch m := ctx.Message().(type) {
		case *raftpb.Message:
			nw.route(m)
		case *wrapperspb.BytesValue:
			nw.notice(m)
		}
	})
}

// notice delivers a member's PeerNotice (outside raft) unless the network
// between the two is cut.
func (nw *network) notice(w *wrapperspb.BytesValue) {
	n, err := messages.DecodePeerNotice(w)
	if err != nil {
		return
	}
	nw.mu.Lock()
	cut := nw.cut[[2]uint64{n.From, n.To}] || nw.closed
	nw.mu.Unlock()
	if !cut {
		nw.deliverNotice(n.To, w)
	}
}

// route takes one message from a node. Without deterministic mode it is
// dropped, duplicated and delayed at once; in deterministic mode it waits
// in the queue and Step decides.
func (nw *network) route(m *raftpb.Message) {
	m = proto.Clone(m).(*raftpb.Message) // members share no memory
	nw.mu.Lock()
	nw.received[m.GetFrom()]++
	if nw.closed {
		nw.mu.Unlock()
		return
	}
	if nw.deterministic {
		nw.queue = append(nw.queue, m)
		nw.mu.Unlock()
		return
	}
	copies := nw.fateLocked(m)
	delay := nw.minDelay
	if nw.maxDelay > nw.minDelay {
		delay += time.Duration(nw.rng.Int63n(int64(nw.maxDelay - nw.minDelay)))
	}
	nw.mu.Unlock()
	for range copies {
		if delay > 0 {
			time.AfterFunc(delay, func() { nw.deliver(m) })
		} else {
			nw.deliver(m)
		}
	}
}

// fateLocked says how many copies of m arrive: 0 when cut or dropped, 2
// when duplicated.
func (nw *network) fateLocked(m *raftpb.Message) int {
	switch {
	case nw.cut[[2]uint64{m.GetFrom(), m.GetTo()}]:
		return 0
	case nw.drop > 0 && nw.rng.Float64() < nw.drop:
		return 0
	case nw.dup > 0 && nw.rng.Float64() < nw.dup:
		return 2
	}
	return 1
}

// deliverOne delivers one queued message chosen by the seed and returns it
// with the number of copies that arrived; it returns nil when the queue is
// empty. The queue is put in a canonical order
// first, so the choice does not depend on the order in which concurrent
// peer links handed their messages in.
func (nw *network) deliverOne() (*raftpb.Message, int) {
	nw.mu.Lock()
	if len(nw.queue) == 0 {
		nw.mu.Unlock()
		return nil, 0
	}
	keys := make([][]byte, len(nw.queue))
	for i, m := range nw.queue {
		keys[i] = orderKey(m)
	}
	sort.Sort(byKey{nw.queue, keys})
	i := nw.rng.Intn(len(nw.queue))
	m := nw.queue[i]
	nw.queue = append(nw.queue[:i], nw.queue[i+1:]...)
	copies := nw.fateLocked(m)
	nw.mu.Unlock()
	for range copies {
		nw.deliver(m)
	}
	return m, copies
}

// countDelivered records that n messages reached member id's inbox.
func (nw *network) countDelivered(id uint64, n uint64) {
	nw.mu.Lock()
	nw.delivered[id] += n
	nw.mu.Unlock()
}

// orderKey is m without its entries' payloads, which hold request ids drawn
// from the wall clock; what remains says where the message sits in raft's
// protocol.
func orderKey(m *raftpb.Message) []byte {
	k := proto.Clone(m).(*raftpb.Message)
	for _, e := range k.GetEntries() {
		e.Data = nil
	}
	if s := k.GetSnapshot(); s != nil {
		s.Data = nil
	}
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(k)
	return b
}

type byKey struct {
	msgs []*raftpb.Message
	keys [][]byte
}

func (b byKey) Len() int           { return len(b.msgs) }
func (b byKey) Less(i, j int) bool { return bytes.Compare(b.keys[i], b.keys[j]) < 0 }
func (b byKey) Swap(i, j int) {
	b.msgs[i], b.msgs[j] = b.msgs[j], b.msgs[i]
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
}

func (nw *network) queued() int {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return len(nw.queue)
}

// countTick records a tick sent to member id.
func (nw *network) countTick(id uint64) {
	nw.mu.Lock()
	nw.ticks[id]++
	nw.mu.Unlock()
}

// counts returns how many messages member id handed in, how many were
// handed out to it and how many ticks it was sent, since it started.
func (nw *network) counts(id uint64) (in, out, ticks uint64) {
	nw.mu.Lock()
	defer nw.mu.Unlock()
	return nw.received[id], nw.delivered[id], nw.ticks[id]
}

func (nw *network) resetCounts(id uint64) {
	nw.mu.Lock()
	nw.received[id], nw.delivered[id], nw.ticks[id] = 0, 0, 0
	nw.mu.Unlock()
}

func (nw *network) close() {
	nw.mu.Lock()
	nw.closed = true
	nw.queue = nil
	nw.mu.Unlock()
}
