package metrics

import (
	"strconv"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/prometheus/client_golang/prometheus"
)

// PeerActor is the actor label of the mailboxes of peer links (their peer
// label names the member).
const PeerActor = "peer"

// mailboxKey names one mailbox: its actor and, for a peer link, the member.
type mailboxKey struct{ actor, peer string }

// mailboxes is the collector of the mailbox lengths: a scrape reads each
// mailbox's count of waiting user messages (protoactor keeps it with an
// atomic counter, for this use), so nothing is counted per message and
// nothing drifts when an actor stops or fails with messages queued.
type mailboxes struct {
	desc  *prometheus.Desc
	mu    sync.Mutex
	boxes map[mailboxKey]actor.Mailbox
}

func newMailboxes() *mailboxes {
	return &mailboxes{
		desc: prometheus.NewDesc(namespace+"_actor_mailbox_length",
			"User messages waiting in an actor's mailbox, by actor (and member, for a peer link).",
			[]string{"actor", "peer"}, nil),
		boxes: map[mailboxKey]actor.Mailbox{},
	}
}

// Describe implements prometheus.Collector.
func (b *mailboxes) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector.
func (b *mailboxes) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, mb := range b.boxes {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(mb.UserMessageCount()), k.actor, k.peer)
	}
}

func (b *mailboxes) add(k mailboxKey, mb actor.Mailbox) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.boxes[k] = mb
}

func (b *mailboxes) remove(k mailboxKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.boxes, k)
}

// Mailbox returns a producer of unbounded mailboxes (protoactor's default)
// whose length is reported under the actor label name: give it to the
// actor's props with actor.WithMailbox. An actor spawned again under the
// same name replaces the mailbox reported. On a nil *Metrics it is plain
// actor.Unbounded().
func (m *Metrics) Mailbox(name string) actor.MailboxProducer {
	return m.mailbox(mailboxKey{actor: name})
}

// PeerMailbox is Mailbox for the link to member id.
func (m *Metrics) PeerMailbox(id uint64) actor.MailboxProducer {
	return m.mailbox(mailboxKey{actor: PeerActor, peer: strconv.FormatUint(id, 10)})
}

func (m *Metrics) mailbox(k mailboxKey) actor.MailboxProducer {
	unbounded := actor.Unbounded()
	if m == nil {
		return unbounded
	}
	return func() actor.Mailbox {
		mb := unbounded()
		m.mailboxes.add(k, mb)
		return mb
	}
}
