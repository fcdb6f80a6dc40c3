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
// With WithSeed and Deterministic no timer runs and nothing is delivered by
// itself: Step takes one action chosen by the seed (a tick of one member or
// the delivery of one queued message: raft's, or raftkv's own, such as a
// snapshot chunk) and then waits until every member is quiet — a
// dispatcher that runs each member's actors counts the mailboxes at work,
// and a member is quiet when none is — and requests step until they are
// answered. etcd raft's election
// jitter is drawn from the seed as well, so a seed gives one schedule:
// Trace lists it, and a failure message names the seed to replay.
//
// StartHTTPNode runs a single member with its HTTP API for tests of the API
// and its clients; NewPorts hands out ports from a band of their own.
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
