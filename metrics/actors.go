package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "raftkv"

// Buckets of the histograms.
var (
	// fastBuckets: 100 µs to 3.3 s, for an fsync or a Ready's apply.
	fastBuckets = prometheus.ExponentialBuckets(0.0001, 2, 16)
	// slowBuckets: 1 ms to 33 s, for a snapshot.
	slowBuckets = prometheus.ExponentialBuckets(0.001, 2, 16)
	// sizeBuckets: 0, then 1 to 4096, for the entries or messages of a
	// Ready.
	sizeBuckets = append([]float64{0}, prometheus.ExponentialBuckets(1, 2, 13)...)
)

// actors are the collectors that the node's actors update, each from its
// own Receive.
type actors struct {
	// proposer
	proposalsCommitted prometheus.Counter
	proposalsFailed    prometheus.Counter
	proposalsPending   prometheus.Gauge

	// applier
	applyDuration         prometheus.Histogram
	storeKeys             prometheus.Gauge
	leases                prometheus.Gauge
	watches               prometheus.Gauge
	snapshotRestores      prometheus.Counter
	snapshotWrite         prometheus.Histogram
	snapshotWriteFailures prometheus.Counter
	snapshotWriting       prometheus.Gauge

	// persister
	walFsync     prometheus.Histogram
	snapshotSave prometheus.Histogram
	walBytes     prometheus.Gauge
	snapBytes    prometheus.Gauge

	// raftnode
	readyEntries   prometheus.Histogram
	readyCommitted prometheus.Histogram
	readyMessages  prometheus.Histogram
	term           prometheus.Gauge
	commit         prometheus.Gauge
	applied        prometheus.Gauge
	leader         prometheus.Gauge
	isLeader       prometheus.Gauge
	hasLeader      prometheus.Gauge
	leaderChanges  prometheus.Counter

	// peer links (and raftnode, for snapshots)
	peerSent         *prometheus.CounterVec
	peerSendFailures *prometheus.CounterVec
	peerUnreachable  *prometheus.CounterVec
	peerSnapshots    *prometheus.CounterVec
}

func counter(subsystem, name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help})
}

func gauge(subsystem, name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help})
}

func histogram(subsystem, name, help string, buckets []float64) prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: subsystem, Name: name, Help: help, Buckets: buckets,
	})
}

func peerCounter(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "peer", Name: name, Help: help},
		append([]string{"peer"}, labels...))
}

func newActors() actors {
	return actors{
		proposalsCommitted: counter("proposals", "committed_total",
			"Writes and membership changes of this member whose entry was committed and applied (their outcome, success or refusal at apply, went to the client)."),
		proposalsFailed: counter("proposals", "failed_total",
			"Writes and membership changes of this member that got no outcome from the log: timed out, failed without a leader, refused by the leader, or cut off by a stop."),
		proposalsPending: gauge("proposals", "pending",
			"Writes and membership changes of this member waiting for their outcome."),

		applyDuration: histogram("", "apply_duration_seconds",
			"Time the applier takes to apply the committed entries of one raft Ready to the store.", fastBuckets),
		storeKeys: gauge("store", "keys", "Keys in the store, at the applied index."),
		leases:    gauge("store", "leases", "Leases in the store, at the applied index."),
		watches:   gauge("watch", "streams", "Watches this member serves."),
		snapshotRestores: counter("snapshot", "restores_total",
			"Snapshots received from the leader that replaced the store."),
		snapshotWrite: histogram("snapshot", "write_duration_seconds",
			"Time to write a snapshot of the store to its file (from the applier's request to the file synced); the count is the snapshots written.", slowBuckets),
		snapshotWriteFailures: counter("snapshot", "write_failures_total",
			"Snapshots of the store that could not be written (such as on a full disk)."),
		snapshotWriting: gauge("snapshot", "writing",
			"1 while the member writes a snapshot of its store, else 0."),

		walFsync: histogram("wal", "fsync_duration_seconds",
			"Time to write one raft Ready's entries and hard state to the WAL and fsync it.", fastBuckets),
		snapshotSave: histogram("snapshot", "save_duration_seconds",
			"Time to save a raft snapshot: its file written and synced, and its record in the WAL.", slowBuckets),
		walBytes: gauge("disk", "wal_bytes",
			"Bytes of the WAL directory on disk (segments are preallocated), measured at start, after a snapshot, and every 8 MB written."),
		snapBytes: gauge("disk", "snapshot_bytes",
			"Bytes of the snapshot directory on disk (raft snapshot files and store files), measured at start and after a snapshot."),

		readyEntries: histogram("raft", "ready_entries",
			"Log entries per raft Ready, written to the WAL in one fsync.", sizeBuckets),
		readyCommitted: histogram("raft", "ready_committed_entries",
			"Committed entries per raft Ready, handed to the applier.", sizeBuckets),
		readyMessages: histogram("raft", "ready_messages",
			"Raft messages to other members per raft Ready.", sizeBuckets),
		term:      gauge("raft", "term", "Raft term of this member."),
		commit:    gauge("raft", "commit_index", "Raft commit index of this member."),
		applied:   gauge("raft", "applied_index", "Log index this member has applied to its store."),
		leader:    gauge("raft", "leader", "Id of the leader this member knows (0: none)."),
		isLeader:  gauge("raft", "is_leader", "1 while this member leads, else 0."),
		hasLeader: gauge("raft", "has_leader", "1 while this member knows a leader, else 0."),
		leaderChanges: counter("raft", "leader_changes_total",
			"Times this member saw a new leader (another member, or none turning into one)."),

		peerSent: peerCounter("sent_messages_total",
			"Raft messages handed to the connection to a member."),
		peerSendFailures: peerCounter("send_failures_total",
			"Raft messages to a member that were dropped: no address, or its link not verified (no answer to its hello yet) or refused."),
		peerUnreachable: peerCounter("unreachable_total",
			"Times the connection to a member was lost or could not be made."),
		peerSnapshots: peerCounter("snapshot_sends_total",
			"Snapshots sent to a member, by result: succeeded (the member acknowledged all of it) or failed.", "result"),
	}
}

func (a *actors) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		a.proposalsCommitted, a.proposalsFailed, a.proposalsPending,
		a.applyDuration, a.storeKeys, a.leases, a.watches, a.snapshotRestores, a.snapshotWrite, a.snapshotWriteFailures, a.snapshotWriting,
		a.walFsync, a.snapshotSave, a.walBytes, a.snapBytes,
		a.readyEntries, a.readyCommitted, a.readyMessages,
		a.term, a.commit, a.applied, a.leader, a.isLeader, a.hasLeader, a.leaderChanges,
		a.peerSent, a.peerSendFailures, a.peerUnreachable, a.peerSnapshots,
	}
}

// ProposalsCommitted counts n proposals of this member whose outcome came
// from the log (the proposer).
func (m *Metrics) ProposalsCommitted(n int) {
	if m != nil && n > 0 {
		m.proposalsCommitted.Add(float64(n))
	}
}

// ProposalsFailed counts n proposals of this member answered with an
// error that did not come from the log (the proposer).
func (m *Metrics) ProposalsFailed(n int) {
	if m != nil && n > 0 {
		m.proposalsFailed.Add(float64(n))
	}
}

// SetProposalsPending sets how many proposals wait for their outcome (the
// proposer).
func (m *Metrics) SetProposalsPending(n int) {
	if m != nil {
		m.proposalsPending.Set(float64(n))
	}
}

// ObserveApply records the time the applier took to apply one Ready's
// committed entries.
func (m *Metrics) ObserveApply(d time.Duration) {
	if m != nil {
		m.applyDuration.Observe(d.Seconds())
	}
}

// SetStoreKeys sets the number of keys in the store (the applier).
func (m *Metrics) SetStoreKeys(n int) {
	if m != nil {
		m.storeKeys.Set(float64(n))
	}
}

// SetLeases records the number of leases in the store.
func (m *Metrics) SetLeases(n int) {
	if m != nil {
		m.leases.Set(float64(n))
	}
}

// SetWatches records the number of watches the member serves.
func (m *Metrics) SetWatches(n int) {
	if m != nil {
		m.watches.Set(float64(n))
	}
}

// SnapshotRestored counts a snapshot from the leader that replaced the
// store (the applier).
func (m *Metrics) SnapshotRestored() {
	if m != nil {
		m.snapshotRestores.Inc()
	}
}

// SnapshotWriting records that the member started (true) or ended (false)
// writing a snapshot of its store (the applier).
func (m *Metrics) SnapshotWriting(on bool) {
	if m != nil {
		v := 0.0
		if on {
			v = 1
		}
		m.snapshotWriting.Set(v)
	}
}

// ObserveSnapshotWrite records a snapshot of the store written in d, or
// counts a failure when err is not nil (the applier, from its request to
// the snapshot actor's answer).
func (m *Metrics) ObserveSnapshotWrite(d time.Duration, err error) {
	switch {
	case m == nil:
	case err != nil:
		m.snapshotWriteFailures.Inc()
	default:
		m.snapshotWrite.Observe(d.Seconds())
	}
}

// ObserveWALFsync records the time to write and fsync one Ready to the WAL
// (the persister).
func (m *Metrics) ObserveWALFsync(d time.Duration) {
	if m != nil {
		m.walFsync.Observe(d.Seconds())
	}
}

// ObserveSnapshotSave records the time to save a raft snapshot (the
// persister).
func (m *Metrics) ObserveSnapshotSave(d time.Duration) {
	if m != nil {
		m.snapshotSave.Observe(d.Seconds())
	}
}

// SetDiskUsage sets the bytes on disk of the WAL and snapshot directories
// (the persister).
func (m *Metrics) SetDiskUsage(walBytes, snapshotBytes int64) {
	if m != nil {
		m.walBytes.Set(float64(walBytes))
		m.snapBytes.Set(float64(snapshotBytes))
	}
}

// ObserveReady records the sizes of one raft Ready: the entries to write,
// the committed entries to apply, the messages to send (raftnode).
func (m *Metrics) ObserveReady(entries, committed, messages int) {
	if m != nil {
		m.readyEntries.Observe(float64(entries))
		m.readyCommitted.Observe(float64(committed))
		m.readyMessages.Observe(float64(messages))
	}
}

// Raft is what raftnode knows of raft after a Ready.
type Raft struct {
	Term, Commit, Applied uint64
	// Leader is the leader known (0: none); IsLeader says it is this
	// member.
	Leader   uint64
	IsLeader bool
}

// SetRaft sets the gauges of raft's state (raftnode).
func (m *Metrics) SetRaft(r Raft) {
	if m == nil {
		return
	}
	m.term.Set(float64(r.Term))
	m.commit.Set(float64(r.Commit))
	m.applied.Set(float64(r.Applied))
	m.leader.Set(float64(r.Leader))
	m.isLeader.Set(boolValue(r.IsLeader))
	m.hasLeader.Set(boolValue(r.Leader != 0))
}

// LeaderChanged counts a new leader seen (raftnode).
func (m *Metrics) LeaderChanged() {
	if m != nil {
		m.leaderChanges.Inc()
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Peer is the metrics of the connection to one member, bound to its id.
// Its methods, too, do nothing on a nil *Peer.
type Peer struct {
	m            *Metrics
	id           string
	sent, failed prometheus.Counter
	unreachable  prometheus.Counter
}

// Peer returns the metrics of the connection to member id (nil on a nil
// *Metrics).
func (m *Metrics) Peer(id uint64) *Peer {
	if m == nil {
		return nil
	}
	l := strconv.FormatUint(id, 10)
	return &Peer{m: m, id: l, sent: m.peerSent.WithLabelValues(l), failed: m.peerSendFailures.WithLabelValues(l),
		unreachable: m.peerUnreachable.WithLabelValues(l)}
}

// ForgetPeer removes the series of member id, once it was removed from the
// cluster: the peer label takes only the values of members.
func (m *Metrics) ForgetPeer(id uint64) {
	if m == nil {
		return
	}
	match := prometheus.Labels{"peer": strconv.FormatUint(id, 10)}
	for _, v := range []*prometheus.CounterVec{m.peerSent, m.peerSendFailures, m.peerUnreachable, m.peerSnapshots} {
		v.DeletePartialMatch(match)
	}
	m.mailboxes.remove(mailboxKey{actor: PeerActor, peer: match["peer"]})
}

// Sent counts a raft message handed to the connection.
func (p *Peer) Sent() {
	if p != nil {
		p.sent.Inc()
	}
}

// SendFailed counts a raft message dropped.
func (p *Peer) SendFailed() {
	if p != nil {
		p.failed.Inc()
	}
}

// Unreachable counts a connection lost or not made.
func (p *Peer) Unreachable() {
	if p != nil {
		p.unreachable.Inc()
	}
}

// SnapshotSent counts a snapshot sent to the member, acknowledged whole or
// failed.
func (p *Peer) SnapshotSent(failed bool) {
	if p == nil {
		return
	}
	result := "succeeded"
	if failed {
		result = "failed"
	}
	p.m.peerSnapshots.WithLabelValues(p.id, result).Inc()
}
