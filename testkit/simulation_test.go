package testkit

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftkv/raftkv/linearizability"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
)

// The simulation: seeded schedules of a deterministic cluster under
// concurrent clients, faults and membership changes, whose every client
// operation is recorded and checked (see TestSimulation).

// simGroups are the groups of keys: single-key operations use any key, a
// Range or a Txn the two keys of one group.
var simGroups = []string{"x", "y"}

func groupKeys(g string) []string { return []string{g + "0", g + "1"} }

const (
	simClients      = 5   // logical clients, one operation in flight each
	simActiveSteps  = 400 // steps of clients and faults before the end
	simRequestSteps = 150 // a request unanswered for this many steps gives up
	simMaxMembers   = 6   // members ever started, those that joined included
	simFaultEvery   = 35  // one step in this many takes a fault action
	simChangeEvery  = 25  // one in this many asks for a membership change
)

// simulation is one schedule.
type simulation struct {
	t    *testing.T
	seed int64
	c    *Cluster
	rng  *rand.Rand
	rec  *linearizability.Recorder
	// clock: the recorder's time is the step count, then the order of the
	// events within the step.
	clockStep, clockSeq int64

	clients []*simClient
	down    map[uint64]bool // stopped by the schedule, to start again
	admin   *Call           // a membership change in flight
	change  messages.MemberChange
	nextID  uint64 // the next member id to add
	stats   simStats
	// reported tells that a failure was reported with the trace already.
	reported bool
}

// simClient is one logical client: at most one operation in flight.
type simClient struct {
	n       int
	rec     *linearizability.Client
	call    *Call
	op      *linearizability.Op
	in      linearizability.Input
	idle    int // steps to wait before the next operation
	seq     int
	lastRev map[string]int64 // the mod revision this client last saw of a key (0: absent)
}

// simStats counts what a schedule did.
type simStats struct {
	schedules                    int
	steps                        int
	ops, unknown, dropped        int
	serializable                 int
	byKind                       map[string]int
	droppedBy                    map[string]int
	crashes, restarts, crashAll  int
	partitions                   int
	added, promoted, removed     int
	snapshots                    int
	checkTime                    time.Duration
	maxCheck                     time.Duration
	maxCheckSeed                 int64
	refusedChanges, unknownConfs int
}

func (s *simStats) add(o simStats) {
	s.schedules += o.schedules
	s.steps += o.steps
	s.ops += o.ops
	s.unknown += o.unknown
	s.dropped += o.dropped
	s.serializable += o.serializable
	s.crashes += o.crashes
	s.restarts += o.restarts
	s.crashAll += o.crashAll
	s.partitions += o.partitions
	s.added += o.added
	s.promoted += o.promoted
	s.removed += o.removed
	s.snapshots += o.snapshots
	s.checkTime += o.checkTime
	s.refusedChanges += o.refusedChanges
	s.unknownConfs += o.unknownConfs
	if o.maxCheck > s.maxCheck {
		s.maxCheck, s.maxCheckSeed = o.maxCheck, o.maxCheckSeed
	}
	if s.byKind == nil {
		s.byKind = map[string]int{}
	}
	for k, n := range o.byKind {
		s.byKind[k] += n
	}
	if s.droppedBy == nil {
		s.droppedBy = map[string]int{}
	}
	for k, n := range o.droppedBy {
		s.droppedBy[k] += n
	}
}

func (s simStats) String() string {
	counts := func(m map[string]int) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, m[k])
		}
		return b.String()
	}
	return fmt.Sprintf("%d schedules, %d steps; %d operations checked (%d of unknown outcome, %d serializable reads; by kind:%s), %d dropped (refused, or reads that failed:%s); "+
		"%d crashes (%d of every member), %d restarts, %d partitions; %d members added, %d promoted, %d removed (%d changes refused, %d of unknown outcome); "+
		"%d snapshots installed; checking took %v (longest %v, seed %d)",
		s.schedules, s.steps, s.ops, s.unknown, s.serializable, counts(s.byKind), s.dropped, counts(s.droppedBy),
		s.crashes, s.crashAll, s.restarts, s.partitions, s.added, s.promoted, s.removed, s.refusedChanges, s.unknownConfs,
		s.snapshots, s.checkTime.Round(time.Millisecond), s.maxCheck.Round(time.Millisecond), s.maxCheckSeed)
}

// simResult is what a schedule leaves for its callers: the recorded
// history, the trace, and what it did.
type simResult struct {
	seed    int64
	history []porcupine.Operation
	trace   []string
	stats   simStats
	members string // what the members were at the end
}

func newSimulation(t *testing.T, seed int64) *simulation {
	rng := rand.New(rand.NewSource(seed*7919 + 17))
	// Snapshots come often and lagging members catch up by them; how often
	// is part of the schedule.
	snapCount := []uint64{5, 10, 25}[rng.Intn(3)]
	catchUp := []uint64{1, 3, 10}[rng.Intn(3)]
	c := NewCluster(t, 3, WithSeed(seed), Deterministic(), InBubble(), WithSnapshotCount(snapCount),
		WithCatchUpEntries(catchUp), WithRequestSteps(simRequestSteps))
	s := &simulation{t: t, seed: seed, c: c, rng: rng, down: map[uint64]bool{}, nextID: 4}
	s.stats.byKind = map[string]int{}
	s.stats.droppedBy = map[string]int{}
	s.rec = linearizability.NewRecorderWithClock(s.now)
	for i := range simClients {
		s.clients = append(s.clients, &simClient{n: i, rec: s.rec.Client(), lastRev: map[string]int64{}})
	}
	c.Note("simulation seed %d: snapshot count %d, catch-up entries %d", seed, snapCount, catchUp)
	// A failure that stops the test (a wait that never ends) leaves the
	// same report as one found by the checks.
	t.Cleanup(func() {
		if t.Failed() && !s.reported {
			res := s.result()
			res.fail(t, "")
		}
	})
	return s
}

// result is what the schedule recorded so far.
func (s *simulation) result() simResult {
	s.stats.schedules, s.stats.steps = 1, s.c.Steps()
	return simResult{seed: s.seed, history: s.rec.History(), trace: s.c.Trace(), stats: s.stats, members: s.c.Describe()}
}

// now is the recorder's clock: the step, then the order within the step,
// so that every call and return has its own time, in the order they
// happened.
func (s *simulation) now() int64 {
	step := int64(s.c.Steps())
	if step != s.clockStep {
		s.clockStep, s.clockSeq = step, 0
	}
	s.clockSeq++
	return step*1_000_000 + s.clockSeq
}

// runSimulation plays the schedule of seed in a synctest bubble (so that
// the members' clocks are the cluster's ticks), then checks what it
// recorded.
func runSimulation(t *testing.T, seed int64) simResult {
	var res simResult
	synctest.Test(t, func(t *testing.T) { res = newSimulation(t, seed).play() })
	if !t.Failed() {
		res.check(t)
	}
	if dir := os.Getenv("RAFTKV_TRACE_DIR"); dir != "" && !t.Failed() {
		if _, err := res.writeTrace(dir); err != nil {
			t.Errorf("write the trace: %v", err)
		}
	}
	return res
}

// writeTrace writes the whole trace to a file in dir (the system's temp
// directory if "") and returns its path.
func (r *simResult) writeTrace(dir string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("raftkv-simulation-%d.trace", r.seed))
	return path, os.WriteFile(path, []byte(strings.Join(r.trace, "\n")+"\n"), 0o644)
}

// play plays the schedule.
func (s *simulation) play() simResult {
	t := s.t
	s.waitLeader()
	for range simActiveSteps {
		if s.rng.Intn(simFaultEvery) == 0 {
			s.fault()
		}
		if s.admin == nil && s.rng.Intn(simChangeEvery) == 0 {
			s.membershipChange()
		}
		s.startOps()
		s.c.Step()
		s.collect()
		s.checkExits()
		if t.Failed() {
			break
		}
	}
	if !t.Failed() {
		s.finish()
	}
	res := s.result()
	if t.Failed() {
		s.reported = true
		res.fail(t, "")
	}
	return res
}

// startOps starts an operation for every idle client.
func (s *simulation) startOps() {
	serving := s.serving()
	for _, cl := range s.clients {
		if cl.call != nil {
			continue
		}
		if cl.idle > 0 {
			cl.idle--
			continue
		}
		// Mostly through a member that serves, as a client that knows the
		// membership would; now and then through any member.
		targets := serving
		if s.rng.Intn(10) == 0 || len(targets) == 0 {
			targets = s.c.Running()
		}
		if len(targets) == 0 {
			continue
		}
		s.startOp(cl, targets[s.rng.Intn(len(targets))])
	}
	// Answers that came at once (refusals, serializable reads).
	s.collect()
}

// startOp starts one random operation of client cl through member id.
func (s *simulation) startOp(cl *simClient, id uint64) {
	cl.seq++
	value := func() string { return fmt.Sprintf("c%d.%d", cl.n, cl.seq) }
	g := simGroups[s.rng.Intn(len(simGroups))]
	keys := groupKeys(g)
	key := keys[s.rng.Intn(len(keys))]
	in := linearizability.Input{Member: id}
	var msg any
	switch r := s.rng.Intn(100); {
	case r < 18:
		in.Kind, in.Key, in.Value = linearizability.Put, key, value()
		msg = &messages.ClientTxn{Txn: messages.Txn{Success: []messages.Op{putOp(key, in.Value)}}}
	case r < 25:
		in.Kind, in.Key = linearizability.Delete, key
		msg = &messages.ClientTxn{Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte(key)}}}}
	case r < 38:
		in.Kind, in.Key, in.Value, in.Expect = linearizability.CAS, key, value(), cl.lastRev[key]
		msg = &messages.ClientTxn{Txn: messages.Txn{
			Compares: []messages.Compare{modRevIs(key, in.Expect)},
			Success:  []messages.Op{putOp(key, in.Value)},
			Failure:  []messages.Op{{Type: messages.OpGet, Key: []byte(key)}},
		}}
	case r < 48:
		in.Kind = linearizability.Txn
		txn := messages.Txn{}
		for i, k := range keys {
			in.Conds = append(in.Conds, linearizability.Cond{Key: k, Expect: cl.lastRev[k]})
			txn.Compares = append(txn.Compares, modRevIs(k, cl.lastRev[k]))
			txn.Failure = append(txn.Failure, messages.Op{Type: messages.OpGet, Key: []byte(k)})
			if i == 1 && s.rng.Intn(4) == 0 {
				in.Writes = append(in.Writes, linearizability.Write{Key: k, Delete: true})
				txn.Success = append(txn.Success, messages.Op{Type: messages.OpDelete, Key: []byte(k)})
				continue
			}
			v := value() + "." + k
			in.Writes = append(in.Writes, linearizability.Write{Key: k, Value: v})
			txn.Success = append(txn.Success, putOp(k, v))
		}
		msg = &messages.ClientTxn{Txn: txn}
	case r < 66, r >= 74 && r < 92:
		// a linearizable get (48-65) or a serializable one (74-91)
		in.Kind, in.Key, in.Serializable = linearizability.Get, key, r >= 74
		msg = &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte(key)}, Serializable: in.Serializable}
	default:
		// a range of the group's keys, linearizable (66-73) or serializable
		in.Kind, in.Keys, in.Serializable = linearizability.Range, keys, r >= 92
		msg = &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte(keys[0]), End: []byte(g + "2")}, Serializable: in.Serializable}
	}
	cl.in = in
	cl.op = cl.rec.Call(in)
	cl.call = s.c.Go(id, msg)
	s.c.Note("client %d made call #%d", cl.n, cl.call.seq)
}

// dropReason names the error an operation dropped from the history got.
func dropReason(err error) string {
	for _, e := range []error{ErrMemberDown, ErrNoAnswer, messages.ErrNoLeader, messages.ErrNotReady, messages.ErrTimeout, messages.ErrStopped} {
		if errors.Is(err, e) {
			name, _, _ := strings.Cut(e.Error(), " (")
			return strings.TrimPrefix(strings.TrimPrefix(name, "raftkv: "), "testkit: ")
		}
	}
	return "other"
}

func putOp(key, value string) messages.Op {
	return messages.Op{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}
}

func modRevIs(key string, rev int64) messages.Compare {
	return messages.Compare{Key: []byte(key), Target: messages.TargetModRevision, Result: messages.Equal, Revision: rev}
}

// collect records the operations whose calls are done.
func (s *simulation) collect() {
	for _, cl := range s.clients {
		if cl.call == nil || !cl.call.Done() {
			continue
		}
		v, err := cl.call.Reply()
		s.end(cl, v, err)
		cl.call, cl.op = nil, nil
	}
	s.collectAdmin()
}

// end records the outcome of client cl's operation.
func (s *simulation) end(cl *simClient, v any, err error) {
	in := cl.in
	write := in.Kind != linearizability.Get && in.Kind != linearizability.Range
	kind := in.Kind.String()
	if in.Serializable {
		kind = "serializable-" + kind
	}
	if err == nil {
		switch r := v.(type) {
		case *messages.TxnReply:
			err = r.Err
		case *messages.ReadReply:
			err = r.Err
		default:
			err = fmt.Errorf("unexpected answer %T", v)
		}
	}
	switch {
	case err == nil:
		out := s.output(cl, v)
		cl.op.Return(out)
		s.stats.ops++
		s.stats.byKind[kind]++
		if in.Serializable {
			s.stats.serializable++
		}
		cl.idle = s.rng.Intn(3)
		return
	case errors.Is(err, ErrMemberDown), errors.Is(err, messages.ErrNoLeader), errors.Is(err, messages.ErrNotReady):
		// Never reached raft: it had no effect.
		cl.op.Discard()
		s.stats.dropped++
		s.stats.droppedBy[dropReason(err)]++
	case !write:
		cl.op.Discard() // a read that failed changed nothing
		s.stats.dropped++
		s.stats.droppedBy["read: "+dropReason(err)]++
	case errors.Is(err, ErrNoAnswer), errors.Is(err, messages.ErrTimeout), errors.Is(err, messages.ErrStopped):
		cl.op.Unknown()
		s.stats.ops++
		s.stats.unknown++
		s.stats.byKind[kind]++
	default:
		cl.op.Unknown()
		s.t.Errorf("client %d: %s through member %d failed with an unexpected error: %v", cl.n, kind, in.Member, err)
	}
	// A real client backs off after a failure.
	cl.idle = 5 + s.rng.Intn(20)
}

// output turns an answer into the recorder's Output, and remembers the
// revisions the client saw.
func (s *simulation) output(cl *simClient, v any) linearizability.Output {
	in := cl.in
	switch r := v.(type) {
	case *messages.ReadReply:
		out := linearizability.Output{Revision: r.Revision}
		kvs := simKVs(r.Result.KVs)
		if in.Kind == linearizability.Range {
			out.KVs = kvs
			for _, k := range in.Keys {
				cl.lastRev[k] = 0
			}
			for _, kv := range kvs {
				cl.lastRev[kv.Key] = kv.ModRevision
			}
			return out
		}
		cl.lastRev[in.Key] = 0
		if len(kvs) > 0 {
			out.Found, out.Value, out.ModRevision = true, kvs[0].Value, kvs[0].ModRevision
			cl.lastRev[in.Key] = kvs[0].ModRevision
		}
		return out
	case *messages.TxnReply:
		res := r.Result
		out := linearizability.Output{Revision: res.Revision, Succeeded: res.Succeeded}
		switch in.Kind {
		case linearizability.Put:
			cl.lastRev[in.Key] = res.Revision
		case linearizability.Delete:
			out.Found = len(res.Responses) == 1 && res.Responses[0].Deleted > 0
			cl.lastRev[in.Key] = 0
		case linearizability.CAS:
			if res.Succeeded {
				cl.lastRev[in.Key] = res.Revision
				break
			}
			cl.lastRev[in.Key] = 0
			if len(res.Responses) == 1 && len(res.Responses[0].KVs) == 1 {
				kv := res.Responses[0].KVs[0]
				out.Found, out.Value, out.ModRevision = true, string(kv.Value), kv.ModRevision
				cl.lastRev[in.Key] = kv.ModRevision
			}
		case linearizability.Txn:
			if res.Succeeded {
				for _, w := range in.Writes {
					cl.lastRev[w.Key] = res.Revision
					if w.Delete {
						cl.lastRev[w.Key] = 0
					}
				}
				break
			}
			for _, c := range in.Conds {
				cl.lastRev[c.Key] = 0
			}
			for _, resp := range res.Responses {
				for _, kv := range simKVs(resp.KVs) {
					out.KVs = append(out.KVs, kv)
					cl.lastRev[kv.Key] = kv.ModRevision
				}
			}
		}
		return out
	}
	return linearizability.Output{}
}

func simKVs(kvs []messages.KeyValue) []linearizability.KV {
	out := make([]linearizability.KV, len(kvs))
	for i, kv := range kvs {
		out[i] = linearizability.KV{Key: string(kv.Key), Value: string(kv.Value), ModRevision: kv.ModRevision}
	}
	return out
}

// fault takes one action of the schedule against the cluster.
func (s *simulation) fault() {
	c := s.c
	running := c.Running()
	members := c.members()
	target := func() uint64 {
		// The leader half of the time, when there is one.
		if s.rng.Intn(2) == 0 {
			if l := s.leader(); l != 0 {
				return l
			}
		}
		return running[s.rng.Intn(len(running))]
	}
	switch r := s.rng.Intn(100); {
	case r < 12 && len(running) > 0:
		c.Isolate(target())
		s.stats.partitions++
	case r < 20:
		// Two sides at random; a member in neither is on a side of its own.
		var a, b []uint64
		for _, id := range members {
			if s.rng.Intn(2) == 0 {
				a = append(a, id)
			} else {
				b = append(b, id)
			}
		}
		c.Partition(a, b)
		s.stats.partitions++
	case r < 36:
		c.Heal()
	case r < 50 && len(running) > 0:
		id := target()
		c.Stop(id)
		s.down[id] = true
		s.stats.crashes++
	case r < 53 && len(running) > 0:
		for _, id := range running {
			c.Stop(id)
			s.down[id] = true
		}
		s.stats.crashes += len(running)
		s.stats.crashAll++
	case r < 70:
		s.startDown(s.rng.Intn(2) == 0)
	case r < 77:
		c.SetDropRate([]float64{0, 0.05, 0.15, 0.3}[s.rng.Intn(4)])
	default:
		c.SetDuplicateRate([]float64{0, 0.05, 0.15, 0.3}[s.rng.Intn(4)])
	}
}

// startDown starts the members the schedule stopped: all, or one.
func (s *simulation) startDown(all bool) {
	var ids []uint64
	for id := range s.down {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !all && len(ids) > 1 {
		i := s.rng.Intn(len(ids))
		ids = ids[i : i+1]
	}
	for _, id := range ids {
		delete(s.down, id)
		s.c.Start(id)
		s.stats.restarts++
	}
}

// membershipChange asks for one membership change, unless one is in
// flight: add a learner (and start it), promote a learner that has caught
// up, or remove a learner, or a voter while there are more than three.
// The leader refuses what could cost the cluster its quorum.
func (s *simulation) membershipChange() {
	c := s.c
	leader := s.leader()
	if s.admin != nil || leader == 0 {
		return
	}
	st, err := c.Status(leader)
	if err != nil || !st.Serving {
		return
	}
	var voters, learners, caughtUp []uint64
	for _, m := range st.Members {
		switch {
		case !m.Learner:
			voters = append(voters, m.ID)
		default:
			learners = append(learners, m.ID)
			if m.Progress != nil {
			}
			if m.Progress != nil && m.Progress.Match*10 >= st.Commit*9 {
				caughtUp = append(caughtUp, m.ID)
			}
		}
	}
	removable := learners
	if len(voters) > 3 {
		removable = append(slices.Clone(learners), voters...)
	}
	pick := func(ids []uint64) uint64 { return ids[s.rng.Intn(len(ids))] }
	var ch messages.MemberChange
	switch r := s.rng.Intn(4); {
	case r < 2 && len(caughtUp) > 0:
		ch = messages.MemberChange{Type: messages.Promote, Member: messages.Member{ID: pick(caughtUp)}}
	case r == 2 && len(removable) > 0:
		ch = messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: pick(removable)}}
	case s.nextID <= simMaxMembers:
		ch = messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: s.nextID, PeerAddress: c.Address(s.nextID)}}
		s.nextID++
	default:
		return
	}
	// Through any member: a follower forwards it to the leader.
	var via uint64
	if running := s.serving(); len(running) > 0 {
		via = running[s.rng.Intn(len(running))]
	} else {
		return
	}
	s.change = ch
	s.admin = c.Go(via, &messages.ClientConfChange{Change: ch})
	c.Note("membership change: %s member %d through member %d", ch.Type, ch.Member.ID, via)
	s.collectAdmin()
}

// collectAdmin takes the outcome of the membership change in flight; a
// learner whose addition may have applied is started.
func (s *simulation) collectAdmin() {
	if s.admin == nil || !s.admin.Done() {
		return
	}
	v, err := s.admin.Reply()
	s.admin = nil
	if err == nil {
		if r, ok := v.(*messages.ConfChangeReply); ok {
			err = r.Err
		} else {
			err = fmt.Errorf("unexpected answer %T", v)
		}
	}
	ch := s.change
	s.c.Note("membership change %s member %d: %v", ch.Type, ch.Member.ID, err)
	// A change whose answer was lost is proposed again by the member that
	// took it; when the first one applied, the repeat is refused as done
	// already (the member exists, or is gone). The schedule never adds an
	// id twice nor removes one that is not there, so such a refusal means
	// that the change applied.
	done := err == nil ||
		ch.Type == messages.AddLearner && errors.Is(err, messages.ErrMemberExists) ||
		ch.Type == messages.Remove && (errors.Is(err, messages.ErrMemberRemoved) || errors.Is(err, messages.ErrMemberNotFound))
	unknown := errors.Is(err, ErrNoAnswer) || errors.Is(err, messages.ErrTimeout) || errors.Is(err, messages.ErrStopped)
	switch {
	case done:
		switch ch.Type {
		case messages.AddLearner:
			s.stats.added++
		case messages.Promote:
			s.stats.promoted++
		case messages.Remove:
			s.stats.removed++
		}
	case unknown:
		s.stats.unknownConfs++
	default:
		s.stats.refusedChanges++
	}
	if ch.Type == messages.AddLearner && (done || unknown) {
		s.c.Join(ch.Member.ID)
	}
}

// checkExits fails the run when a member stopped on its own for another
// reason than its removal.
func (s *simulation) checkExits() {
	for _, id := range s.c.members() {
		if err := s.c.Exited(id); err != nil && !errors.Is(err, node.ErrRemoved) {
			s.t.Errorf("member %d stopped on its own: %v", id, err)
		}
	}
}

// finish ends the schedule: the network heals, the members that are down
// start again, the operations in flight end, and the members converge.
// Then every member reads every key linearizably.
func (s *simulation) finish() {
	c := s.c
	c.Note("simulation: the end: heal, restart, converge")
	c.Heal()
	s.startDown(true)
	for !s.idle() {
		c.Step()
		s.collect()
	}
	s.waitLeader()
	c.WaitConverged()
	// A member removed while it could not learn it (its notice lost) says
	// hello to the members once it hears no leader, and they tell it.
	c.await(func() string { return fmt.Sprintf("removed members learn it (%v still serve)", c.StaleMembers()) },
		func() bool { return len(c.StaleMembers()) == 0 })
	s.checkExits()
	// Final reads through every member, all at once: a linearizable range
	// of each group of keys. An acknowledged write that was lost shows
	// here, if nowhere else. A read that fails (a read index round lost on
	// the way) is asked again.
	type final struct {
		cl *simClient
		id uint64
		g  string
	}
	var reads []*final
	for _, id := range c.Running() {
		if st, err := c.Status(id); err != nil || !st.Serving {
			continue
		}
		for _, g := range simGroups {
			reads = append(reads, &final{cl: &simClient{n: -1, rec: s.rec.Client(), lastRev: map[string]int64{}}, id: id, g: g})
		}
	}
	for attempt := 0; len(reads) > 0; attempt++ {
		if attempt == 5 {
			for _, r := range reads {
				s.t.Errorf("final range of %s* through member %d: no answer in %d attempts", r.g, r.id, attempt)
			}
			return
		}
		for _, r := range reads {
			keys := groupKeys(r.g)
			r.cl.in = linearizability.Input{Kind: linearizability.Range, Keys: keys, Member: r.id}
			r.cl.op = r.cl.rec.Call(r.cl.in)
			r.cl.call = c.Go(r.id, &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte(keys[0]), End: []byte(r.g + "2")}})
		}
		var failed []*final
		for _, r := range reads {
			for !r.cl.call.Done() {
				c.Step()
			}
			v, err := r.cl.call.Reply()
			if err == nil {
				if rr, ok := v.(*messages.ReadReply); ok && rr.Err != nil {
					err = rr.Err
				}
			}
			s.end(r.cl, v, err)
			r.cl.call, r.cl.op = nil, nil
			if err != nil {
				failed = append(failed, r)
			}
		}
		reads = failed
	}
}

// serving lists the running members that serve.
func (s *simulation) serving() []uint64 {
	var ids []uint64
	for _, id := range s.c.Running() {
		if st, err := s.c.Status(id); err == nil && st.Serving {
			ids = append(ids, id)
		}
	}
	return ids
}

// leader returns the leader that the running members that serve agree
// on, if it is running, or 0. A member that joined but whose addition
// never committed does not serve, and has no say; neither has one that
// the membership no longer lists (removed without knowing it).
func (s *simulation) leader() uint64 {
	var sts []*messages.Status
	var ref *messages.Status
	for _, id := range s.c.Running() {
		st, err := s.c.Status(id)
		if err != nil {
			return 0
		}
		if !st.Serving {
			continue
		}
		sts = append(sts, st)
		if ref == nil || st.Applied > ref.Applied {
			ref = st
		}
	}
	if ref == nil {
		return 0
	}
	var leader uint64
	for _, st := range sts {
		if !slices.ContainsFunc(ref.Members, func(m messages.MemberStatus) bool { return m.ID == st.ID }) {
			continue
		}
		if st.Leader == 0 || leader != 0 && st.Leader != leader {
			return 0
		}
		leader = st.Leader
	}
	if leader == 0 || s.c.Node(leader) == nil {
		return 0
	}
	return leader
}

func (s *simulation) waitLeader() {
	s.c.Await("the members that serve agree on a leader", func() bool { return s.leader() != 0 })
}

// idle tells whether no operation or membership change is in flight.
func (s *simulation) idle() bool {
	for _, cl := range s.clients {
		if cl.call != nil {
			return false
		}
	}
	return s.admin == nil
}

// check checks the recorded history: linearizable operations with
// porcupine, every read against CheckSerializable.
func (r *simResult) check(t *testing.T) {
	start := time.Now()
	res, info := linearizability.Check(r.history, 60*time.Second)
	violations := linearizability.CheckSerializable(r.history)
	took := time.Since(start)
	r.stats.checkTime, r.stats.maxCheck, r.stats.maxCheckSeed = took, took, r.seed
	for _, line := range r.trace {
		if strings.Contains(line, "PeerSnapshotAck") && strings.Contains(line, " done x1") {
			r.stats.snapshots++
		}
	}
	var why []string
	if res != porcupine.Ok {
		path, err := linearizability.VisualizeTemp(info, fmt.Sprintf("raftkv-simulation-%d", r.seed))
		if err != nil {
			path = err.Error()
		}
		why = append(why, fmt.Sprintf("the history is not linearizable (%v); porcupine's view: %s", res, path))
	}
	for _, v := range violations {
		why = append(why, "read violates its specification: "+v.String())
	}
	if len(why) > 0 {
		t.Errorf("%s", strings.Join(why, "\n"))
		r.fail(t, fmt.Sprintf("%d operations recorded", len(r.history)))
	}
}

// fail prints how to replay the schedule, the tail of its trace, and
// where the whole trace is.
func (r *simResult) fail(t *testing.T, what string) {
	path, err := r.writeTrace(os.Getenv("RAFTKV_TRACE_DIR"))
	if err != nil {
		path = err.Error()
	}
	t.Errorf("simulation seed %d failed after %d steps %s\nreplay: RAFTKV_SEED=%d go test -count=1 -run '^TestSimulation$' ./testkit\nwhole trace: %s\nthe members at the end:\n%sthe trace ends with:\n%s",
		r.seed, r.stats.steps, what, r.seed, path, r.members, strings.Join(r.trace[max(0, len(r.trace)-60):], "\n"))
}

// TestSimulation runs seeded schedules of a deterministic three-member
// cluster with small snapshots: five concurrent clients put, delete,
// compare-and-swap, run two-key transactions, and read linearizably and
// serializably through random members, while the schedule partitions the
// network, crashes and restarts members (the leader, and all of them),
// loses and duplicates messages, and adds, promotes and removes members.
// At the end the network heals, every member that is down starts again,
// and the members must converge on one state; the recorded history must
// be linearizable (porcupine) and every read must be one a member could
// serve (linearizability.CheckSerializable).
//
// RAFTKV_SCHEDULES sets how many schedules run (default: simSchedules,
// fewer under the race detector); RAFTKV_SEED=<n> replays one, with the
// same trace.
func TestSimulation(t *testing.T) {
	first, n := simSchedules(t)
	var mu sync.Mutex
	var total simStats
	start := time.Now()
	for seed := first; seed < first+int64(n); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			res := runSimulation(t, seed)
			mu.Lock()
			total.add(res.stats)
			mu.Unlock()
		})
	}
	t.Logf("%v in %v", total, time.Since(start).Round(time.Millisecond))
}

// simSchedules is the first seed and the number of schedules to run.
func simSchedules(t *testing.T) (first int64, n int) {
	if os.Getenv("RAFTKV_SEED") != "" || os.Getenv("RAFTKV_SCHEDULES") != "" {
		return schedules(t)
	}
	switch {
	case testing.Short():
		return 1, simSchedulesShort
	case raceEnabled:
		return 1, simSchedulesRace
	}
	return 1, simSchedulesDefault
}

// How many schedules TestSimulation runs by default. A schedule takes
// about 0.3 s, and 1 s under the race detector: make test runs 40 of them
// with the race detector, then 500 without (RAFTKV_SCHEDULES=500).
const (
	simSchedulesDefault = 100
	simSchedulesRace    = 40
	simSchedulesShort   = 10
)

// TestSimulationReplaysFromSeed runs schedules twice and compares their
// traces, which list every step, call, answer and change to the network
// and the members: a seed must give the very same run, so that
// RAFTKV_SEED replays a failure. The seeds were chosen for what their
// schedules do: learners added, promoted and removed, members crashed and
// restarted, snapshots sent to members that lag.
func TestSimulationReplaysFromSeed(t *testing.T) {
	seeds := []int64{14, 45}
	if s := os.Getenv("RAFTKV_SEED"); s != "" {
		first, _ := schedules(t)
		seeds = []int64{first}
	}
	var all []string
	for _, seed := range seeds {
		first := runSimulation(t, seed)
		second := runSimulation(t, seed)
		if t.Failed() {
			return
		}
		if i, differ := firstDifference(withoutLogs(first.trace), withoutLogs(second.trace)); differ {
			first.trace, second.trace = withoutLogs(first.trace), withoutLogs(second.trace)
			for j := max(0, i-10); j < i; j++ {
				t.Logf("   %s", first.trace[j])
			}
			for j := i + 1; j < i+10; j++ {
				t.Logf("first:  %s", line(first.trace, j))
			}
			for j := i + 1; j < i+10; j++ {
				t.Logf("second: %s", line(second.trace, j))
			}
			t.Fatalf("seed %d: the runs differ after %d lines of trace:\nfirst:  %s\nsecond: %s", seed, i, line(first.trace, i), line(second.trace, i))
		}
		all = append(all, first.trace...)
	}
	if os.Getenv("RAFTKV_SEED") != "" {
		return
	}
	// The seeds still do what they were chosen for.
	for _, want := range []string{
		"membership change add learner member", "membership change promote member", "membership change remove member",
	} {
		if !slices.ContainsFunc(all, func(l string) bool { return strings.Contains(l, want) && strings.HasSuffix(l, ": <nil>") }) {
			t.Errorf("no schedule made a %q that applied", strings.TrimPrefix(want, "membership change "))
		}
	}
	for _, want := range []string{"PeerSnapshotAck", "stop "} {
		if !slices.ContainsFunc(all, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no schedule has a %q in its trace", want)
		}
	}
}

// withoutLogs leaves out the members' log lines (RAFTKV_TRACE_LOGS),
// whose order within a step is not the schedule's.
func withoutLogs(trace []string) []string {
	var out []string
	for _, l := range trace {
		_, rest, _ := strings.Cut(strings.TrimLeft(l, " "), " ")
		if !strings.HasPrefix(strings.TrimLeft(rest, " "), "log ") {
			out = append(out, l)
		}
	}
	return out
}

// firstDifference is the first line where a and b differ, if they do.
func firstDifference(a, b []string) (int, bool) {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i, true
		}
	}
	return min(len(a), len(b)), len(a) != len(b)
}

func line(trace []string, i int) string {
	if i < len(trace) {
		return trace[i]
	}
	return "(the end)"
}
