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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing/synctest"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

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
	bubble        bool
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
// until every member is quiet. Each member's actors run one mailbox at a
// time, in an order that the messages alone decide. Raft's election
// jitter, which etcd raft draws from crypto/rand, comes from the seed as
// well while the cluster runs, so one seed gives one schedule (see
// InBubble for what members time on the clock). Only one deterministic
// cluster may run in a process at a time (tests using it must not call
// t.Parallel): it sets crypto/rand.Reader and etcd's WAL segment size,
// which are the process's.
func Deterministic() ClusterOption {
	return func(c *clusterConfig) { c.deterministic = true }
}

// InBubble tells a Deterministic cluster that it runs inside a
// testing/synctest bubble (NewCluster is called from synctest.Test's
// function): every tick then advances the bubble's fake clock by the tick
// interval, so that what members time on the clock rather than in ticks
// (the proposer's retry of a read index round after a second, its expiry
// of requests after a minute) comes after a number of ticks, whatever the
// speed of the machine; and waiting until the cluster is quiet is
// synctest.Wait. Without it, a schedule in which a read index round is
// lost replays the same only as long as it runs in less than a second.
//
//	synctest.Test(t, func(t *testing.T) {
//		c := testkit.NewCluster(t, 3, testkit.WithSeed(seed), testkit.Deterministic(), testkit.InBubble())
//		...
//	})
func InBubble() ClusterOption {
	return func(c *clusterConfig) { c.bubble = true }
}

// inBubble tells whether the calling goroutine runs in a synctest bubble.
func inBubble() (in bool) {
	defer func() {
		if recover() != nil {
			in = false
		}
	}()
	synctest.Wait() // panics outside a bubble
	return true
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

	mu sync.Mutex
	// initial is the number of members the cluster started with (ids 1 to
	// initial); ids are every member started so far, in order, and joined
	// those that joined later.
	initial int
	ids     []uint64
	joined  map[uint64]bool
	nodes   map[uint64]*node.Node // nil or absent while a member is down
	busy    map[uint64]*countingDispatcher
	// exited holds why members stopped on their own (deterministic mode).
	exited map[uint64]error
	trace  []string // deterministic mode: the actions taken
	steps  int      // steps taken
	// calls counts the calls made; inFlight are those not done yet.
	calls    int
	inFlight []*Call
	once     sync.Once
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
	if cfg.bubble && (!cfg.deterministic || !inBubble()) {
		t.Fatalf("testkit: NewCluster: InBubble needs a Deterministic cluster made inside synctest.Test")
	}
	dir, err := os.MkdirTemp("", "raftkv-cluster-")
	if err != nil {
		t.Fatalf("testkit: NewCluster: %v", err)
	}
	c := &Cluster{t: t, cfg: cfg, dir: dir, rng: mrand.New(mrand.NewSource(cfg.seed)),
		logs: &tbWriter{t: t}, initial: n, joined: map[uint64]bool{},
		nodes: map[uint64]*node.Node{}, busy: map[uint64]*countingDispatcher{},
		exited: map[uint64]error{}}
	c.net = newNetwork(c.rng, cfg.deterministic, c.byAddress, c.deliver)
	if cfg.deterministic {
		restoreRand := seedCryptoRand(mrand.New(mrand.NewSource(cfg.seed ^ 0x5eed)))
		// etcd's WAL preallocates its segments, and a member that starts
		// again reads its last segment to the end: small segments make
		// restarts cheap (and segment cuts frequent).
		segment := wal.SegmentSizeBytes
		wal.SegmentSizeBytes = deterministicWALSegment
		c.restore = func() {
			restoreRand()
			wal.SegmentSizeBytes = segment
		}
	}
	t.Logf("testkit: cluster of %d, seed %d (deterministic %v)", n, cfg.seed, cfg.deterministic)
	t.Cleanup(c.Close)
	for id := uint64(1); id <= uint64(n); id++ {
		c.Start(id)
	}
	return c
}

// deterministicWALSegment is the size of the WAL segments of the members
// of a deterministic cluster (etcd's default is 64 MB).
const deterministicWALSegment = 256 << 10

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

// Size is the number of members started so far, those that joined
// included.
func (c *Cluster) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

// Address is member id's peer address on the simulated network.
func (c *Cluster) Address(id uint64) string { return fmt.Sprintf("member-%d:1", id) }

// byAddress is the member at a peer address.
func (c *Cluster) byAddress(addr string) (uint64, bool) {
	var id uint64
	if _, err := fmt.Sscanf(addr, "member-%d:1", &id); err != nil || c.Address(id) != addr {
		return 0, false
	}
	return id, true
}

// Join starts member id as a new member of the running cluster (the
// raftkv command's --join), after the cluster added it (ChangeMembers):
// it knows the initial members' addresses, and learns the rest from the
// log.
func (c *Cluster) Join(id uint64) {
	c.t.Helper()
	c.mu.Lock()
	c.joined[id] = true
	c.mu.Unlock()
	c.note("join %d", id)
	c.Start(id)
}

// Start starts member id, or restarts it from its data directory.
func (c *Cluster) Start(id uint64) {
	c.t.Helper()
	if c.Node(id) != nil {
		c.t.Fatalf("testkit: Start(%d): member is running", id)
	}
	cluster := map[uint64]string{}
	for i := uint64(1); i <= uint64(c.initial); i++ {
		cluster[i] = c.Address(i)
	}
	c.mu.Lock()
	join := c.joined[id]
	c.mu.Unlock()
	if join {
		cluster[id] = c.Address(id)
	} else if id > uint64(c.initial) {
		c.t.Fatalf("testkit: Start(%d): the cluster started with members 1 to %d; use Join for a new one", id, c.initial)
	}
	log := slog.New(slog.NewTextHandler(c.logs, &slog.HandlerOptions{Level: c.cfg.logLevel}))
	if c.cfg.deterministic && os.Getenv(TraceLogsEnv) != "" {
		log = slog.New(slog.NewTextHandler(traceWriter{c}, &slog.HandlerOptions{Level: slog.LevelDebug,
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
	}
	busy := newCountingDispatcher(c.cfg.deterministic)
	n, err := node.Start(node.Config{
		ID: id, Cluster: cluster, Join: join, Dispatcher: busy,
		DataDir:       filepath.Join(c.dir, fmt.Sprintf("member-%d", id)),
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
	c.nodes[id], c.busy[id] = n, busy
	delete(c.exited, id)
	if !slices.Contains(c.ids, id) {
		c.ids = append(c.ids, id)
	}
	c.mu.Unlock()
	c.note("start %d", id)
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
	delete(c.nodes, id)
	c.mu.Unlock()
	c.note("stop %d", id)
	n.Stop()
	// What the member had not answered it never will: its calls end now
	// (those it answered while stopping, with messages.ErrStopped, keep
	// that answer).
	c.resolve()
}

// Shutdown stops member id as an operator does (node.Shutdown): a leader
// first hands the leadership over, while the member is still on the
// network, then stops like Stop. It returns the member that leads after
// the hand-over (see node.HandOver). In a deterministic cluster, whose
// clock the test moves, it is Stop.
func (c *Cluster) Shutdown(id uint64) (leader uint64) {
	c.t.Helper()
	n := c.Node(id)
	if n == nil {
		c.t.Fatalf("testkit: Shutdown(%d): member is not running", id)
	}
	c.note("shut down %d", id)
	leader = n.HandOver()
	c.Stop(id)
	return leader
}

// TraceLogsEnv names the environment variable that puts the members' logs
// into the trace of a deterministic cluster, at level Debug, as lines
// starting with "log": RAFTKV_TRACE_LOGS=1 with RAFTKV_SEED=<n> shows what
// each member did at each step of a replayed schedule. The order of the
// log lines of one step may differ between two runs (the members' actors
// log as they go); the rest of the trace does not.
const TraceLogsEnv = "RAFTKV_TRACE_LOGS"

// traceWriter passes log lines to the trace.
type traceWriter struct{ c *Cluster }

func (w traceWriter) Write(b []byte) (int, error) {
	w.c.note("  log %s", strings.TrimSpace(string(b)))
	return len(b), nil
}

// Exited tells why member id stopped on its own (removed from the
// cluster, or a fatal error), or nil if it did not. In deterministic mode
// Step notices such a member and takes it out of Running, so that it is
// not mistaken for a member that is down (Start would refuse a removed
// member's data directory); in real time Exited looks at the member's
// Done.
func (c *Cluster) Exited(id uint64) error {
	c.mu.Lock()
	err, n := c.exited[id], c.nodes[id]
	c.mu.Unlock()
	if err != nil || n == nil {
		return err
	}
	select {
	case <-n.Done():
		return n.Err()
	default:
		return nil
	}
}

// reap takes the members that stopped on their own out of Running.
func (c *Cluster) reap() {
	for _, id := range c.Running() {
		n := c.Node(id)
		select {
		case <-n.Done():
		default:
			continue
		}
		err := n.Err()
		c.mu.Lock()
		delete(c.nodes, id)
		c.exited[id] = err
		c.mu.Unlock()
		c.note("member %d stopped on its own: %v", id, err)
		n.Stop()
	}
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
	return c.nodes[id]
}

// Running lists the ids of the members that are up, in the order they
// were first started.
func (c *Cluster) Running() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []uint64
	for _, id := range c.ids {
		if c.nodes[id] != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// deliver hands a packet to the inbox of the member it is for.
// It tells whether that member is running.
func (c *Cluster) deliver(p *packet) bool {
	n := c.Node(p.to)
	if n == nil {
		return false
	}
	if p.raft != nil {
		n.System().Root.Send(n.Inbox(), proto.Clone(p.raft))
		return true
	}
	n.System().Root.Send(n.Inbox(), wrapperspb.Bytes(p.peer.GetValue()))
	return true
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
		delete(c.nodes, id)
		c.mu.Unlock()
		n.Stop()
	}
	c.logs.close()
	if c.restore != nil {
		c.restore()
	}
	os.RemoveAll(c.dir)
	if c.cfg.bubble {
		// Let the timers that protoactor leaves behind (the dead letter
		// throttle's) fire on the bubble's clock, so that their goroutines
		// end before the bubble does.
		time.Sleep(time.Hour)
	}
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
	c.note("partition %v", groups)
	ids := c.members()
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.net.cut = map[[2]uint64]bool{}
	for _, a := range ids {
		for _, b := range ids {
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
	for _, i := range c.members() {
		if i != id {
			ids = append(ids, i)
		}
	}
	return ids
}

// members lists every member started so far.
func (c *Cluster) members() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

// Heal removes every partition, drop, duplication and delay.
func (c *Cluster) Heal() {
	c.note("heal")
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	c.net.cut = map[[2]uint64]bool{}
	c.net.drop, c.net.dup, c.net.minDelay, c.net.maxDelay = 0, 0, 0, 0
}

// SetDropRate makes the network lose each message with probability p.
func (c *Cluster) SetDropRate(p float64) {
	c.note("drop rate %g", p)
	c.net.mu.Lock()
	c.net.drop = p
	c.net.mu.Unlock()
}

// SetDuplicateRate makes the network deliver each message twice with
// probability p.
func (c *Cluster) SetDuplicateRate(p float64) {
	c.note("duplicate rate %g", p)
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
	c.await(func() string { return desc }, cond, timeout...)
}

// await is Await with a description made when it fails, so that it can
// say what is still wrong.
func (c *Cluster) await(desc func() string, cond func() bool, timeout ...time.Duration) {
	c.t.Helper()
	if !c.cfg.deterministic {
		within := timeoutOf(timeout)
		deadline := time.Now().Add(within)
		interval := time.Millisecond
		for !cond() {
			left := time.Until(deadline)
			if left <= 0 {
				c.t.Fatalf("testkit: cluster (seed %d): %s: still false after %v", c.cfg.seed, desc(), within)
				return
			}
			time.Sleep(min(interval, left))
			interval = min(2*interval, maxPollInterval)
		}
		return
	}
	for i := 0; !cond(); i++ {
		if i >= c.cfg.maxSteps {
			c.t.Fatalf("testkit: cluster (seed %d): %s: still false after %d steps; the trace ends with\n%s",
				c.cfg.seed, desc(), i, c.TraceTail(40))
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
// seed: a tick of one running member (raft's clock, the snapshot actor's
// and the proposer's retry sweep) or the delivery of one queued message
// (usually one of the oldest; ticks come less often while many messages
// wait). Then it waits until the cluster is quiet (no actor of any member
// at work), takes out of Running the members that stopped on their own,
// and answers the calls in flight whose answer arrived, or gives them up.
func (c *Cluster) Step() {
	c.t.Helper()
	if !c.cfg.deterministic {
		c.t.Fatalf("testkit: Step needs a Deterministic() cluster")
		return
	}
	c.mu.Lock()
	c.steps++
	c.mu.Unlock()
	c.net.advance()
	running, queued := c.Running(), c.net.queued()
	if queued == 0 || c.rng.Intn(4+queued/2) == 0 {
		if len(running) > 0 {
			id := running[c.rng.Intn(len(running))]
			c.note("tick %d (%d queued)", id, queued)
			if c.cfg.bubble {
				time.Sleep(c.cfg.tick)
			}
			c.Node(id).Tick()
		}
	} else if p, copies := c.net.deliverOne(); p != nil {
		if copies < 0 {
			c.note("deliver %s: member %d is down", p, p.to)
		} else {
			c.note("deliver %s x%d", p, copies)
		}
	}
	c.settle()
	c.reap()
	c.resolve()
}

// Steps is the number of steps taken so far: the logical clock of a
// deterministic cluster.
func (c *Cluster) Steps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.steps
}

// Trace lists what happened in a deterministic cluster, one line each: the
// action of each step, the calls made and their outcomes, the changes to
// the network and to the members, and the test's own Notes. Two runs with
// the same seed and the same test code give the same trace.
func (c *Cluster) Trace() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.trace...)
}

// Note adds a line of the test's own to the trace (deterministic mode),
// such as the operation a simulated client starts, so that the trace of a
// failing run tells the whole story. Each line is prefixed with the step
// it happened at.
func (c *Cluster) Note(format string, args ...any) { c.note(format, args...) }

func (c *Cluster) note(format string, args ...any) {
	if !c.cfg.deterministic {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trace = append(c.trace, fmt.Sprintf("%6d ", c.steps)+fmt.Sprintf(format, args...))
}

// TraceTail is the last n lines of the trace, one per line, for a failure
// message.
func (c *Cluster) TraceTail(n int) string {
	tr := c.Trace()
	return strings.Join(tr[max(0, len(tr)-n):], "\n")
}

// settle waits until no actor of any running member is at work or has a
// message waiting, twice in a row. In deterministic mode nothing reaches
// a member from outside but through Step, so the cluster then stays as it
// is until the next step.
func (c *Cluster) settle() {
	c.t.Helper()
	// What the members sent meanwhile goes to the trace, in an order of
	// its own: they sent it concurrently.
	defer func() {
		for _, s := range c.net.takeSent() {
			c.note("  sent %s", s)
		}
	}()
	if c.cfg.bubble {
		// Every goroutine of the bubble durably blocked: no actor at work,
		// none with a message waiting (it would be running).
		synctest.Wait()
		if b := c.busyMembers(); b != "" {
			c.t.Fatalf("testkit: cluster (seed %d): the bubble is idle, but %s", c.cfg.seed, b)
		}
		return
	}
	deadline := time.Now().Add(Dilated(30 * time.Second))
	for quiet := 0; quiet < 2; {
		if time.Now().After(deadline) {
			c.t.Fatalf("testkit: cluster (seed %d) did not settle: %s", c.cfg.seed, c.busyMembers())
			return
		}
		if c.busyMembers() == "" {
			quiet++
		} else {
			quiet = 0
		}
		runtime.Gosched()
	}
}

// busyMembers names the running members with an actor at work, or is "".
func (c *Cluster) busyMembers() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, id := range c.ids {
		if c.nodes[id] == nil {
			continue
		}
		if n := c.busy[id].active.Load(); n != 0 {
			fmt.Fprintf(&b, "member %d has %d actors at work; ", id, n)
		}
	}
	return b.String()
}

// countingDispatcher runs a node's actors and counts the mailboxes that
// are scheduled or being processed. A mailbox is scheduled the moment a
// message is posted to it while idle, and its run ends only once it is
// empty, so a count of zero means that no actor of the node is at work and
// none has a message waiting.
//
// In deterministic mode it runs the mailboxes one at a time, in the order
// they were scheduled, on one goroutine (started when there is work, ended
// when there is none): the actors of a member then take their messages in
// one order, which the messages alone decide. On protoactor's default
// dispatcher each mailbox runs on a goroutine of its own, and when an actor
// sends to two others their work interleaves as the Go scheduler pleases:
// raftnode sending the last messages to a member's link and stopping the
// link as the member's removal applies, say, lets the link forward them or
// not. Real-time clusters keep the default dispatcher.
type countingDispatcher struct {
	inner  actor.Dispatcher // nil: serial
	active atomic.Int64

	mu      sync.Mutex
	queue   []func()
	running bool
}

func newCountingDispatcher(serial bool) *countingDispatcher {
	if serial {
		return &countingDispatcher{}
	}
	return &countingDispatcher{inner: actor.NewDefaultDispatcher(300)}
}

// Schedule runs fn, counting it until it returns.
func (d *countingDispatcher) Schedule(fn func()) {
	d.active.Add(1)
	if d.inner != nil {
		d.inner.Schedule(func() {
			defer d.active.Add(-1)
			fn()
		})
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.queue = append(d.queue, fn)
	if !d.running {
		d.running = true
		go d.run()
	}
}

// run runs the queued mailboxes one after the other until none is left.
func (d *countingDispatcher) run() {
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		fn := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		fn()
		d.active.Add(-1)
	}
}

// Throughput is how many messages a mailbox takes before it lets others
// run (protoactor's default).
func (d *countingDispatcher) Throughput() int { return 300 }
