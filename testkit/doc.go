// Package testkit tests actors of raftkv the way Akka's TestKit and
// Proto.Actor .NET's TestKit do: an actor under test is spawned with its
// collaborators replaced by probes, and the test asserts on what the probes
// receive and answers for them.
//
// A Probe is an actor that records every message it receives, with its
// sender. Its assertions take those messages in order and wait for them with a
// deadline: ExpectMsg (a message of a type, returned typed), ExpectMsgWhere,
// ExpectMsgEqual, ExpectNoMsg, ReceiveN, FishForMsg (skips other messages),
// ExpectTerminated (after Watch). Reply, Forward, Send and Request let a probe
// answer, pass on or start a conversation. A failing assertion stops the test
// with a message that shows what did arrive instead.
//
// Around probes: NewSystem gives each test a fresh actor system, Spawn an
// actor that stops with the test, AwaitCondition polls a condition,
// WatchDeadLetters and WatchSupervision turn dead letters and supervisor
// decisions (restarts, stops) into assertions, and MailboxStats tells when an
// actor under test has handled a message.
//
// # In-process clusters
//
// NewCluster starts whole raftkv members (the very node package that the
// raftkv command runs, real WALs in a temporary directory) in one process,
// joined by a simulated network that the test controls: Partition, Isolate
// and Heal; SetDropRate, SetDuplicateRate and SetDelay; Stop, Start and
// Restart of a member (a stop drops whatever is in flight), and Join of a
// new member once the cluster added it. Put, Get, Txn and Request talk to a
// member's proposer; WaitLeader, WaitApplied and Await wait for a state of
// the cluster. Every member has a peer address on the simulated network
// (Address); a hello goes to the member at the address it dialed, other
// messages to the member they name.
//
// Go sends a request without waiting and returns its Call: a logical
// client with one request in flight. Done tells, without waiting, whether
// it is answered; Reply waits for the answer, or says ErrNoAnswer (no
// answer in time, or its member stopped first: a write may still apply)
// or ErrMemberDown (never sent). Request is Go, then Reply.
//
// State reads what a member holds (its status and, through a serializable
// read, every key); Diverged compares the running members that serve
// (applied index, revision, membership, every key) and says how they
// differ, and WaitConverged waits until they do not. StaleMembers names
// removed members that still serve because no one told them; Describe
// says what every member is, for failure messages.
//
// # Deterministic clusters
//
// With WithSeed and Deterministic no timer runs and nothing is delivered by
// itself: Step takes one action chosen by the seed — a tick of one member,
// or the delivery of one queued message (raft's, or raftkv's own, such as a
// snapshot chunk): usually one of the four oldest, now and then any (a long
// delay); ticks come less often while many messages wait — and then waits
// until every member is quiet. A dispatcher runs each member's actors one
// mailbox at a time and counts the mailboxes at work; a member is quiet
// when none is. A Call is answered at the end of the step in which its
// answer arrived, and gives up with ErrNoAnswer after WithRequestSteps
// steps; Steps is the logical clock. etcd raft's election jitter is drawn
// from the seed as well, so a seed gives one schedule. Trace lists it, one
// line per action, with the messages each step sent, the calls and their
// answers, the changes to the network and to the members, and the test's
// own Notes; a failure message names the seed to replay. RAFTKV_TRACE_LOGS=1
// adds the members' logs to the trace.
//
// Members time a few things on the clock rather than in ticks (the
// proposer retries a read index round after a second). Run the cluster in
// a testing/synctest bubble with InBubble, and each tick advances the
// bubble's fake clock by the tick interval: a replay is then the same
// however fast the machine runs it. Only one deterministic cluster may run
// in a process at a time: it seeds crypto/rand.Reader, from which etcd raft
// draws its jitter, and makes etcd's WAL segments 256 KiB (a restarting
// member reads its last segment whole).
//
// # The simulation
//
// TestSimulation (simulation_test.go) runs seeded schedules of a
// deterministic three-member cluster with small snapshots. Five logical
// clients, each with one operation in flight, put, delete,
// compare-and-swap on the mod revision, run two-key transactions, and read
// linearizably and serializably (single keys and ranges) through random
// members, while the schedule isolates members (the leader half of the
// time) and partitions the network, crashes members between steps (the
// leader, and now and then all of them) and starts them again, loses and
// duplicates messages, and adds learners, promotes the learners that
// caught up and removes members (the leader refuses changes that could
// cost the quorum; the schedule removes a voter only while there are more
// than three). Lagging members catch up by snapshot. Every operation is
// recorded with package linearizability, with the step count as its clock;
// at the end the network heals, the members that are down start again, the
// members must converge on one state, and a linearizable range of each
// group of keys through every member closes the history, which must be
// linearizable (porcupine) with every read one a member could serve
// (linearizability.CheckSerializable). Writes without an answer, or
// answered ErrTimeout or ErrStopped, are of unknown outcome; those refused
// with ErrNoLeader or ErrNotReady, and reads that failed, are left out.
//
//	go test -run '^TestSimulation$' ./testkit                         # 100 schedules (40 under -race, 10 with -short)
//	RAFTKV_SCHEDULES=500 go test -run '^TestSimulation$' ./testkit    # what make test runs after the race run
//	RAFTKV_SEED=<n> go test -run '^TestSimulation$' -v ./testkit      # replay one, with the same trace
//	RAFTKV_SEED=<n> RAFTKV_TRACE_LOGS=1 RAFTKV_TRACE_DIR=. go test ...  # and write its trace, with the members' logs
//
// A failure prints its seed, the command that replays it, what the members
// are, the tail of the trace and where the whole trace is.
// TestSimulationReplaysFromSeed runs seeds with membership changes, crashes
// and snapshots twice and compares their traces.
//
// # Deadlines
//
// Every duration given to the kit, and DefaultTimeout where none is given, is
// multiplied by TimeFactor, read from RAFTKV_TEST_TIMEFACTOR (default 1), as
// Akka's akka.test.timefactor: on a slow CI machine, RAFTKV_TEST_TIMEFACTOR=3
// gives every wait three times as long without touching a test.
//
// # Usage
//
// A probe stands in for the persister of an actor under test, so that the
// test decides when a write is acknowledged:
//
//	func TestAckAfterPersist(t *testing.T) {
//		system := testkit.NewSystem(t)
//		persister := testkit.NewProbe(t, system)
//		client := testkit.NewProbe(t, system)
//		writer := testkit.Spawn(t, system, writerProps(persister.PID()))
//
//		client.Send(writer, &Write{Key: "a"})
//		req := testkit.ExpectMsg[*Persist](persister)
//		client.ExpectNoMsg(50 * time.Millisecond) // no ack before the fsync
//		persister.Reply(&Persisted{Seq: req.Seq})
//		testkit.ExpectMsg[*WriteAck](client)
//	}
//
// When the actor under test crashes, supervision events make it an
// assertion (here the writer was spawned with actor.WithGuardian and a
// strategy that stops it, as raftkv's fatal actors are):
//
//	events := testkit.WatchSupervision(t, system)
//	persister.Watch(writer)
//	client.Send(writer, &Write{Key: ""}) // makes it panic
//	ev := events.ExpectFailure(writer)
//	if ev.Directive != actor.StopDirective {
//		t.Fatalf("writer was not stopped: %v", ev.Directive)
//	}
//	persister.ExpectTerminated(writer)
//
// Note that protoactor's ctx.Respond sends its answer without a sender; Reply
// works for messages sent with ctx.Request, RequestFuture or Probe.Send.
//
// A probe and its assertions belong to the test that created them and must be
// called from its goroutine, as t.Fatalf must.
package testkit
