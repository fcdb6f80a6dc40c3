package testkit

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/actors/proposer"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
)

// ClusterOption configures NewCluster.
type ClusterOption func(*clusterConfig)

type clusterConfig struct {
	seed          int64
	seeded        bool
	deterministic bool
	snapshotCount uint64
	catchUp       uint64
	tick          time.Duration
	maxSteps      int
	requestSteps  int
	logLevel      slog.Level
}

// WithSeed seeds every random choice of the cluster's network (drops,
// duplicates, delays, and in deterministic mode the delivery order). The
// seed is logged, so a failing run can be repeated.
func WithSeed(seed int64) ClusterOption {
	return func(c *clusterConfig) { c.seed, c.seeded = seed, true }
}

// Deterministic makes the test drive the cluster: no timer runs, nothing is
// delivered by itself, and Step performs one action (a tick of one member,
// or the delivery of one queued message) chosen by the seed, then waits
// until every member is quiet. Raft's election jitter, which etcd raft draws
// from crypto/rand, comes from the seed as well while the cluster runs, so
// one seed gives one schedule. Only one deterministic cluster may run in a
// process at a time (tests using it must not call t.Parallel).
func Deterministic() ClusterOption {
	return func(c *clusterConfig) { c.deterministic = true }
}

// WithSnapshotCount sets the members' --snapshot-count.
func WithSnapshotCount(n uint64) ClusterOption {
	return func(c *clusterConfig) { c.snapshotCount = n }
}

// WithCatchUpEntries sets how many entries the members keep behind a
// snapshot; a small number makes lagging members catch up by snapshot.
func WithCatchUpEntries(n uint64) ClusterOption {
	return func(c *clusterConfig) { c.catchUp = n }
}

// WithRequestSteps bounds how many steps a client request may take in
// deterministic mode before it gives up with an unknown outcome (default:
// WithMaxSteps). A request to a member cut off from the majority never
// completes, so schedules with partitions want a small bound.
func WithRequestSteps(n int) ClusterOption {
	return func(c *clusterConfig) { c.requestSteps = n }
}

// WithTickInterval sets the raft tick of a real-time cluster (default 10 ms,
// ten times raftexample's speed, so that tests elect leaders quickly).
func WithTickInterval(d time.Duration) ClusterOption {
	return func(c *clusterConfig) { c.tick = d }
}

// WithMaxSteps bounds how many steps a wait may take in deterministic mode
// before it fails (default 20000).
func WithMaxSteps(n int) ClusterOption {
	return func(c *clusterConfig) { c.maxSteps = n }
}

// WithLogLevel sets the level of the members' logs, which go to t.Logf
// (default Warn).
func WithLogLevel(l slog.Level) ClusterOption {
	return func(c *clusterConfig) { c.logLevel = l }
}

// Cluster is a whole raftkv cluster in one test process: real node actors,
// real WALs in a temporary directory, and a network that the test controls.
type Cluster struct {
	t       TB
	cfg     clusterConfig
	dir     string
	net     *network
	rng     *mrand.Rand
	logs    *tbWriter
	restore func()

	mu    sync.Mutex
	nodes []*node.Node // by id-1; nil while a member is down
	trace []string     // deterministic mode: the actions taken
	once  sync.Once
}

// NewCluster starts n members and registers their shutdown with t.Cleanup.
// It does not wait for a leader: call WaitLeader.
func NewCluster(t TB, n int, opts ...ClusterOption) *Cluster {
	t.Helper()
	cfg := clusterConfig{tick: 10 * time.Millisecond, maxSteps: 20000, logLevel: slog.LevelWarn}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.requestSteps == 0 {
		cfg.requestSteps = cfg.maxSteps
	}
	if !cfg.seeded {
		cfg.seed = time.Now().UnixNano()
	}
	dir, err := os.MkdirTemp("", "raftkv-cluster-")
	if err != nil {
		t.Fatalf("testkit: NewCluster: %v", err)
	}
	c := &Cluster{t: t, cfg: cfg, dir: dir, rng: mrand.New(mrand.NewSource(cfg.seed)),
		logs: &tbWriter{t: t}, nodes: make([]*node.Node, n)}
	c.net = newNetwork(c.rng, cfg.deterministic, c.deliver)
	c.net.deliverNotice = func(to uint64, w *wrapperspb.BytesValue) {
		if n := c.Node(to); n != nil {
			n.System().Root.Send(n.Inbox(), w)
		}
	}
	if cfg.deterministic {
		c.restore = seedCryptoRand(mrand.New(mrand.NewSource(cfg.seed ^ 0x5eed)))
	}
	t.Logf("testkit: cluster of %d, seed %d (deterministic %v)", n, cfg.seed, cfg.deterministic)
	t.Cleanup(c.Close)
	for id := uint64(1); id <= uint64(n); id++ {
		c.Start(id)
	}
	return c
}

// seedCryptoRand makes crypto/rand.Reader, from which etcd raft draws its
// election jitter, a seeded stream, and returns what restores it.
func seedCryptoRand(r *mrand.Rand) func() {
	old := rand.Reader
	rand.Reader = &lockedReader{r: r}
	return func() { rand.Reader = old }
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}

// Seed is the seed of this cluster's schedule.
func (c *Cluster) Seed() int64 { return c.cfg.seed }

// Size is the number of members.
func (c *Cluster) Size() int { return len(c.nodes) }

func (c *Cluster) address(id uint64) string { return fmt.Sprintf("member-%d:1", id) }

// Start starts member id, or restarts it from its data directory.
func (c *Cluster) Start(id uint64) {
	c.t.Helper()
	if c.Node(id) != nil {
		c.t.Fatalf("testkit: Start(%d): member is running", id)
	}
	cluster := make([]string, len(c.nodes))
	for i := range cluster {
		cluster[i] = c.address(uint64(i + 1))
	}
	log := slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: c.cfg.logLevel}))
	c.net.resetCounts(id)
	n, err := node.Start(node.Config{
		ID: id, Cluster: cluster, DataDir: filepath.Join(c.dir, fmt.Sprintf("member-%d", id)),
		SnapshotCount: c.cfg.snapshotCount, CatchUpEntries: c.cfg.catchUp,
		TickInterval: c.cfg.tick, ManualTicks: c.cfg.deterministic,
		// Stop drops what is in flight but loses nothing written: the kit
		// simulates crashes of processes, not of machines, so fsync only
		// costs time.
		UnsafeNoFsync: true,
		Network:       c.net.props(), Logger: log,
	})
	if err != nil {
		c.t.Fatalf("testkit: start member %d: %v", id, err)
	}
	c.mu.Lock()
	c.nodes[id-1] = n
	c.mu.Unlock()
	if c.cfg.deterministic {
		c.settle() // the recovered or bootstrap Ready is handled before any step
	}
}

// Stop crashes member id at a message boundary: its actors stop at once,
// so everything it had not made durable is lost, as in a process crash:
// Readies waiting in mailboxes, raft's unstable log, requests in flight.
// What survives is what the persister wrote, and it acknowledges a Ready
// only once it is written (and, outside the test kit, fsynced) within one
// message, so no acknowledged state is lost and no unacknowledged state
// survives half-written. Losing the OS page cache (power failure) is not
// simulated; torn WAL tails are covered by the persister's own tests.
func (c *Cluster) Stop(id uint64) {
	c.t.Helper()
	n := c.Node(id)
	if n == nil {
		c.t.Fatalf("testkit: Stop(%d): member is not running", id)
	}
	c.mu.Lock()
	c.nodes[id-1] = nil
	c.mu.Unlock()
	n.Stop()
}

// Restart stops member id and starts it again from its data directory.
func (c *Cluster) Restart(id uint64) {
	c.t.Helper()
	c.Stop(id)
	c.Start(id)
}

// Node is member id's node, or nil while it is down.
func (c *Cluster) Node(id uint64) *node.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id-1]
}

// Running lists the ids of the members that are up.
func (c *Cluster) Running() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []uint64
	for i, n := range c.nodes {
		if n != nil {
			ids = append(ids, uint64(i+1))
		}
	}
	return ids
}

func (c *Cluster) deliver(m *raftpb.Message) {
	if m.GetTo() == 0 || m.GetTo() > uint64(len(c.nodes)) {
		return
	}
	if n := c.Node(m.GetTo()); n != nil {
		c.net.countDelivered(m.GetTo(), 1)
		n.System().Root.Send(n.Inbox(), proto.Clone(m))
	}
}

// Close stops every member and removes the data directories. NewCluster
// registers it with t.Cleanup; calling it earlier is fine.
func (c *Cluster) Close() {
	c.once.Do(c.close)
}

func (c *Cluster) close() {
	c.net.close()
	for _, id := range c.Running() {
		n := c.Node(id)
		c.mu.Lock()
		c.nodes[id-1] = nil
		c.mu.Unlock()
		n.Stop()
	}
	c.logs.close()
	if c.restore != nil {
		c.restore()
	}
	os.RemoveAll(c.dir)
}

// Partition cuts the network between the groups: a member of one group
// reaches no member of another. Members in no group form a group of their own.
func (c *Cluster) Partition(groups ...[]uint64) {
	group := map[uint64]int{}
	for g, ids := range groups {
		for _, id := range ids {
			group[id] = g + 1
		}
	}
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.net.cut = map[[2]uint64]bool{}
	for a := uint64(1); a <= uint64(len(c.nodes)); a++ {
		for b := uint64(1); b <= uint64(len(c.nodes)); b++ {
			if a != b && group[a] != group[b] {
				c.net.cut[[2]uint64{a, b}] = true
			}
		}
	}
}

// Isolate cuts member id off from every other member.
func (c *Cluster) Isolate(id uint64) { c.Partition([]uint64{id}, c.others(id)) }

func (c *Cluster) others(id uint64) []uint64 {
	var ids []uint64
	for i := uint64(1); i <= uint64(len(c.nodes)); i++ {
		if i != id {
			ids = append(ids, i)
		}
	}
	return ids
}

// Heal removes every partition, drop, duplication and delay.
func (c *Cluster) Heal() {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.net.cut = map[[2]uint64]bool{}
	c.net.drop, c.net.dup, c.net.minDelay, c.net.maxDelay = 0, 0, 0, 0
}

// SetDropRate makes the network lose each message with probability p.
func (c *Cluster) SetDropRate(p float64) {
	c.net.mu.Lock()
	c.net.drop = p
	c.net.mu.Unlock()
}

// SetDuplicateRate makes the network deliver each message twice with
// probability p.
func (c *Cluster) SetDuplicateRate(p float64) {
	c.net.mu.Lock()
	c.net.dup = p
	c.net.mu.Unlock()
}

// SetDelay delays each message by a random duration in [min, max) (real-time
// mode only; in deterministic mode the delivery order is the delay).
func (c *Cluster) SetDelay(min, max time.Duration) {
	c.net.mu.Lock()
	c.net.minDelay, c.net.maxDelay = min, max
	c.net.mu.Unlock()
}

// Status asks member id for its status. The request goes through the
// proposer, which forwards it to raftnode: so it is answered after whatever
// the proposer sent to raftnode before.
func (c *Cluster) Status(id uint64) (*messages.Status, error) {
	n := c.Node(id)
	if n == nil {
		return nil, fmt.Errorf("member %d is down", id)
	}
	v, err := n.System().Root.RequestFuture(n.Proposer(), &messages.ClientStatus{}, Dilated(5*time.Second)).Result()
	if err != nil {
		return nil, fmt.Errorf("status of member %d: %w", id, err)
	}
	st, ok := v.(*messages.Status)
	if !ok {
		return nil, fmt.Errorf("status of member %d: unexpected %T", id, v)
	}
	return st, nil
}

// Await waits until cond holds: in real time with AwaitCondition, in
// deterministic mode by taking steps (at most WithMaxSteps).
func (c *Cluster) Await(desc string, cond func() bool, timeout ...time.Duration) {
	c.t.Helper()
	if !c.cfg.deterministic {
		AwaitCondition(c.t, desc, cond, timeout...)
		return
	}
	for i := 0; !cond(); i++ {
		if i >= c.cfg.maxSteps {
			c.t.Fatalf("testkit: cluster (seed %d): %s: still false after %d steps", c.cfg.seed, desc, i)
			return
		}
		c.Step()
	}
}

// Leader returns the leader that every running member agrees on and that
// is itself running, or 0.
func (c *Cluster) Leader() uint64 {
	var leader uint64
	for _, id := range c.Running() {
		st, err := c.Status(id)
		if err != nil || st.Leader == 0 || !st.Serving || (leader != 0 && st.Leader != leader) {
			return 0
		}
		leader = st.Leader
	}
	if leader == 0 || c.Node(leader) == nil {
		return 0
	}
	return leader
}

// WaitLeader waits until the running members agree on a running leader and
// returns it.
func (c *Cluster) WaitLeader(timeout ...time.Duration) uint64 {
	c.t.Helper()
	var leader uint64
	c.Await("running members agree on a leader", func() bool {
		leader = c.Leader()
		return leader != 0
	}, timeout...)
	return leader
}

// WaitApplied waits until every running member has applied index.
func (c *Cluster) WaitApplied(index uint64, timeout ...time.Duration) {
	c.t.Helper()
	c.Await(fmt.Sprintf("every running member applied index %d", index), func() bool {
		for _, id := range c.Running() {
			st, err := c.Status(id)
			if err != nil || st.Applied < index {
				return false
			}
		}
		return true
	}, timeout...)
}

// Step performs one action of the deterministic schedule, chosen by the
// seed: a tick of one running member (raft's clock and the proposer's
// retry sweep) or the delivery of one queued message. Then it waits until
// the cluster is quiet: every member idle and every message it sent queued.
func (c *Cluster) Step() {
	c.t.Helper()
	if !c.cfg.deterministic {
		c.t.Fatalf("testkit: Step needs a Deterministic() cluster")
		return
	}
	running, queued := c.Running(), c.net.queued()
	if queued == 0 || c.rng.Intn(4) == 0 {
		if len(running) > 0 {
			id := running[c.rng.Intn(len(running))]
			c.trace = append(c.trace, fmt.Sprintf("tick %d (%d queued)", id, queued))
			c.net.countTick(id)
			n := c.Node(id)
			n.System().Root.Send(n.Raftnode(), &messages.Tick{})
			n.System().Root.Send(n.Proposer(), &proposer.Sweep{})
		}
	} else if m, copies := c.net.deliverOne(); m != nil {
		c.trace = append(c.trace, fmt.Sprintf("deliver %s %d->%d term %d index %d x%d",
			m.GetType(), m.GetFrom(), m.GetTo(), m.GetTerm(), m.GetIndex(), copies))
	}
	c.settle()
}

// Trace lists the actions Step took, one line each: two runs with the same
// seed and the same test code give the same trace.
func (c *Cluster) Trace() []string { return append([]string(nil), c.trace...) }

// settle waits until every running member is idle and every raft message it
// sent has reached the network, twice in a row with nothing changing.
func (c *Cluster) settle() {
	c.t.Helper()
	deadline := time.Now().Add(Dilated(30 * time.Second))
	var last string
	quietRounds := 0
	for quietRounds < 2 {
		if time.Now().After(deadline) {
			c.t.Fatalf("testkit: cluster (seed %d) did not settle: %s", c.cfg.seed, last)
			return
		}
		snapshot, quiet := c.quiet()
		if quiet && snapshot == last {
			quietRounds++
		} else {
			quietRounds = 0
			if !quiet {
				runtime.Gosched() // a member is still at work
			}
		}
		last = snapshot
	}
}

func (c *Cluster) quiet() (string, bool) {
	var b strings.Builder
	quiet := true
	for _, id := range c.Running() {
		st, err := c.Status(id)
		if err != nil {
			return err.Error(), false
		}
		in, out, ticks := c.net.counts(id)
		fmt.Fprintf(&b, "m%d idle=%v sent=%d/%d received=%d/%d ticks=%d/%d applied=%d commit=%d; ",
			id, st.Idle, st.Sent, in, st.Received, out, st.Ticks, ticks, st.Applied, st.Commit)
		if !st.Idle || st.Sent != in || st.Received != out || st.Ticks != ticks {
			quiet = false
		}
	}
	fmt.Fprintf(&b, "network queue %d", c.net.queued())
	return b.String(), quiet
}
