//go:build linux

package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/internal/dockercluster"
	"github.com/raftkv/raftkv/internal/failpoint"
	"github.com/raftkv/raftkv/testkit"
)

// scenarios are the faults, each run on a fresh cluster of three.
var scenarios = []scenario{
	{name: "KillLeader", inject: onMember(sigkill, true)},
	{name: "KillFollower", inject: onMember(sigkill, false)},
	{name: "KillAll", inject: killAll},
	{name: "PauseLeader", inject: onMember(sigstop, true)},
	{name: "PauseFollower", inject: onMember(sigstop, false)},
	{name: "PartitionLeader", inject: onMember(partition, true)},
	{name: "PartitionFollower", inject: onMember(partition, false)},
	{name: "FlappingPartition", inject: flappingPartition},
	{name: "SlowDiskLeader", inject: slowDisk(true, "sleep(100)")},
	{name: "SlowDiskFollower", inject: slowDisk(false, "sleep(250)")},
	{name: "StalledDiskLeader", inject: stalledDiskLeader},
	{name: "SnapshotAfterRestart", args: []string{"--snapshot-count", "200", "--catch-up-entries", "50"}, inject: snapshotAfterRestart},
	{name: "MembershipChangeKill", inject: membershipChangeKill},
}

// TestRobustness runs every scenario once, with a new seed each (or
// -seed).
func TestRobustness(t *testing.T) {
	dockercluster.Require(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			runScenario(t, sc, seed())
		})
	}
}

// TestSoak runs the scenarios in a loop, in a random order each round,
// until -soak.duration is over (make soak DURATION=10m). TestMain prints
// the summary.
func TestSoak(t *testing.T) {
	if *soakDuration <= 0 {
		t.Skip("a soak runs only with -soak.duration (make soak DURATION=10m)")
	}
	dockercluster.Require(t)
	end := time.Now().Add(*soakDuration)
	for round := 1; time.Now().Before(end); round++ {
		order := make([]scenario, len(scenarios))
		copy(order, scenarios)
		rng := newRand(seed())
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, sc := range order {
			if !time.Now().Before(end) {
				break
			}
			t.Run(fmt.Sprintf("%s/round-%d", sc.name, round), func(t *testing.T) {
				runScenario(t, sc, seed())
			})
		}
	}
}

// memberFault is a fault of one member, injected and healed from the host.
type memberFault struct {
	what   string // what is done to the member, for the log: "SIGKILL"
	state  string // what the member is meanwhile: "down"
	healed string // what is done to heal it: "restarted"
	inject func(r *run, id uint64)
	// during waits, once the others go on, for what the fault must bring
	// about on the member itself (nil: nothing).
	during func(r *run, id uint64)
	heal   func(r *run, id uint64)
}

var (
	// sigkill kills the member; it restarts from its data and catches up.
	sigkill = memberFault{what: "SIGKILL", state: "down", healed: "restarted",
		inject: func(r *run, id uint64) { r.c.Kill(id) },
		heal:   func(r *run, id uint64) { r.c.Restart(id) },
	}
	// sigstop pauses the member for longer than an election timeout: it
	// keeps its connections and its state, and when it resumes it still
	// thinks what it thought (a leader, that it leads). Its own client
	// reads through it right after it resumes: a resumed old leader must
	// not serve a stale linearizable read.
	sigstop = memberFault{what: "SIGSTOP", state: "paused", healed: "resumed (SIGCONT)",
		inject: func(r *run, id uint64) { r.c.Pause(id) },
		during: func(r *run, _ uint64) { r.hold(electionTimeout) },
		heal:   func(r *run, id uint64) { r.c.Resume(id) },
	}
	// partition cuts the member off the network (docker network
	// disconnect) until it knows it has no leader (it then refuses writes
	// and linearizable reads at once), then connects it again, at the
	// address Docker gives it.
	partition = memberFault{what: "network partition of", state: "cut off", healed: "connected again",
		inject: func(r *run, id uint64) { r.c.Disconnect(id) },
		during: func(r *run, id uint64) { r.awaitLeaderless(id) },
		heal:   func(r *run, id uint64) { r.c.Connect(id, "") },
	}
)

// onMember injects fault f on the leader (or on a follower) while the
// clients run: the others (a new leader among them, if the leader is
// hit) go on serving; once healed, the member serves its own client again.
func onMember(f memberFault, leader bool) func(r *run) {
	return func(r *run) {
		victim, role := r.leader(), "leader"
		if !leader {
			victim, role = r.follower(victim), "follower"
		}
		r.fault("%s %s %d", f.what, role, victim)
		f.inject(r, victim)
		if leader {
			r.logf("member %d leads the other two", r.c.WaitLeader(r.others(victim)...))
		}
		if f.during != nil {
			f.during(r, victim)
		}
		r.awaitProgress(fmt.Sprintf("operations are answered while member %d is %s", victim, f.state), 100)
		f.heal(r, victim)
		r.logf("member %d %s", victim, f.healed)
		r.awaitMember(victim, 20, fmt.Sprintf("member %d serves its client again", victim))
	}
}

// killAll: SIGKILL every member at once, then restart them all: nothing
// acknowledged is lost.
func killAll(r *run) {
	r.fault("SIGKILL members %v at once", r.ids)
	r.c.Kill(r.ids...)
	r.c.Restart(r.ids...)
	r.logf("restarted members %v; member %d leads", r.ids, r.c.WaitLeader())
}

// awaitLeaderless waits until cut-off member id says that it has known no
// leader for an election timeout.
func (r *run) awaitLeaderless(id uint64) {
	r.t.Helper()
	testkit.AwaitCondition(r.t, fmt.Sprintf("cut-off member %d knows it has no leader", id), func() bool {
		st, err := r.c.Status(id)
		return err == nil && st.Leaderless
	}, 30*time.Second)
	r.logf("member %d knows it has no leader", id)
}

// flappingPartition: cut a member off and connect it again, four times,
// each time another one picked at random (the leader or not), for a random
// time around an election timeout.
func flappingPartition(r *run) {
	for range 4 {
		victim := r.ids[r.rng.IntN(len(r.ids))]
		d := time.Duration(300+r.rng.IntN(1500)) * time.Millisecond
		r.fault("member %d cut off for %v", victim, d)
		r.c.Disconnect(victim)
		r.hold(d)
		r.c.Connect(victim, "")
	}
	r.logf("member %d leads", r.c.WaitLeader())
}

// slowDisk makes the WAL writes of the leader (or of a follower) slow
// with the failpoint persisterBeforeSave, for three seconds of load; the
// cluster, and the slow member itself, go on serving.
func slowDisk(leader bool, terms string) func(r *run) {
	return func(r *run) {
		victim := r.leader()
		what := "leader"
		if !leader {
			victim, what = r.follower(victim), "follower"
		}
		r.fault("slow disk (%s %s) on %s %d", failpoint.PersisterBeforeSave, terms, what, victim)
		r.setFailpoint(victim, failpoint.PersisterBeforeSave, terms)
		r.hold(3 * time.Second)
		r.awaitProgress(fmt.Sprintf("operations are answered while member %d's disk is slow", victim), 50)
		r.awaitMember(victim, 5, fmt.Sprintf("member %d serves its client on its slow disk", victim))
		n := r.clearFailpoint(victim, failpoint.PersisterBeforeSave)
		r.logf("member %d's disk is fast again; it was slowed %d times", victim, n)
		if n == 0 {
			r.t.Fatalf("the failpoint never acted on member %d: its disk was never slow", victim)
		}
	}
}

// stalledDiskLeader makes each WAL write of the leader take longer than an
// election timeout: it sends nothing more for that long (its next Ready
// waits for the write), so the others elect a leader among them. The old
// leader, slow and behind, must not serve a stale read; once its disk is
// fast again it catches up and serves its client.
func stalledDiskLeader(r *run) {
	leader := r.leader()
	terms := "sleep(2500)"
	r.fault("stalled disk (%s %s) on leader %d", failpoint.PersisterBeforeSave, terms, leader)
	r.setFailpoint(leader, failpoint.PersisterBeforeSave, terms)
	r.logf("member %d leads the other two", r.c.WaitLeader(r.others(leader)...))
	r.awaitProgress(fmt.Sprintf("operations are answered while member %d's disk stalls", leader), 100)
	r.hold(electionTimeout) // the old leader goes on, stalling, as a follower
	n := r.clearFailpoint(leader, failpoint.PersisterBeforeSave)
	r.logf("member %d's disk is fast again; it stalled %d times", leader, n)
	if n == 0 {
		r.t.Fatalf("the failpoint never acted on member %d: its disk never stalled", leader)
	}
	r.awaitMember(leader, 20, fmt.Sprintf("member %d serves its client again", leader))
}

// snapshotAfterRestart: SIGKILL a follower, go on until the leader took a
// snapshot and compacted its log past what the follower has, and restart
// the follower: it catches up from a snapshot it receives.
func snapshotAfterRestart(r *run) {
	leader := r.leader()
	victim := r.follower(leader)
	st, err := r.c.Status(victim)
	if err != nil {
		r.t.Fatal(err)
	}
	r.fault("SIGKILL follower %d at applied index %d", victim, st.Applied)
	r.c.Kill(victim)
	// --snapshot-count 200 --catch-up-entries 50: once the leader applied
	// 250 entries more, its log no longer holds what the follower misses.
	testkit.AwaitCondition(r.t, "the leader applies 300 entries more", func() bool {
		s, err := r.c.Status(leader)
		return err == nil && s.Applied >= st.Applied+300
	}, 60*time.Second)
	r.c.Restart(victim)
	r.logf("restarted member %d", victim)
	testkit.AwaitCondition(r.t, fmt.Sprintf("the restarted member %d received a snapshot", victim), func() bool {
		return strings.Contains(r.c.Logs(victim, 200), `msg="snapshot received"`)
	}, 30*time.Second)
	r.logf("member %d received a snapshot", victim)
	r.awaitMember(victim, 20, fmt.Sprintf("the restarted member %d serves its client", victim))
}

// membershipChangeKill: a fourth member is added as a learner while the
// leader is killed; the leader restarts, the learner joins, catches up and
// is promoted, and a follower is removed, so that three voters remain.
func membershipChangeKill(r *run) {
	leader := r.leader()
	others := r.others(leader)
	var endpoints []string
	for _, id := range others {
		endpoints = append(endpoints, dockercluster.Endpoint(id))
	}
	admin, err := client.New(endpoints, client.WithHTTPClient(r.c.HTTPClient(testkit.Dilated(5*time.Second))))
	if err != nil {
		r.t.Fatal(err)
	}
	defer admin.Close()
	added := r.c.Add()
	address := fmt.Sprintf("node%d:%d", added, dockercluster.PeerPort)

	// The leader is paused first, so that the change is surely in flight
	// (forwarded to it, or in its queue) when it is killed.
	r.fault("SIGSTOP, then SIGKILL, leader %d while member %d is added", leader, added)
	r.c.Pause(leader)
	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(5*time.Second))
		defer cancel()
		first <- admin.AddMember(ctx, added, address, client.AsLearner())
	}()
	r.hold(300 * time.Millisecond)
	r.c.Kill(leader)
	r.logf("adding member %d as a learner: %v", added, <-first)
	r.logf("member %d leads the other two", r.c.WaitLeader(others...))
	r.retry(fmt.Sprintf("member %d is added (or was)", added), func(ctx context.Context) error {
		return done(admin.AddMember(ctx, added, address, client.AsLearner()), "member_exists")
	})
	r.c.Restart(leader)
	r.logf("restarted member %d", leader)
	r.c.Start(added, "--join")
	r.logf("member %d started; it joins", added)
	r.retry(fmt.Sprintf("learner %d is promoted", added), func(ctx context.Context) error {
		return done(admin.PromoteMember(ctx, added), "not_learner")
	})
	removed := others[r.rng.IntN(len(others))]
	r.fault("member %d removed", removed)
	r.retry(fmt.Sprintf("member %d is removed", removed), func(ctx context.Context) error {
		return done(admin.RemoveMember(ctx, removed), "member_not_found", "member_removed")
	})
	testkit.AwaitCondition(r.t, fmt.Sprintf("removed member %d stops", removed), func() bool {
		return r.c.PID(removed) == 0
	}, 30*time.Second)
	r.ids = append(r.others(removed), added)
	r.logf("members are %v", r.ids)
}

// done treats as success an error answer with one of codes: a membership
// change repeated after its first try applied with its answer lost.
func done(err error, codes ...string) error {
	var e *client.Error
	if errors.As(err, &e) && slices.Contains(codes, e.Code) {
		return nil
	}
	return err
}

// seed returns -seed, or a new random seed.
func seed() uint64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	return rand.Uint64()%1_000_000_000 + 1
}

// newRand returns a generator of seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x50a4)) }
