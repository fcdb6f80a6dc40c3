// Package proposer is the client-facing actor of a node: it turns client
// requests into raft proposals and read index rounds, remembers who waits
// for what, and answers each request exactly once.
//
// # Usage
//
//	pid := ctx.Spawn(proposer.Props(proposer.Config{
//		ID: id, Raftnode: raftnode, Applier: applier, SweepInterval: proposer.DefaultSweepInterval,
//	}))
//	reply, err := root.RequestFuture(pid, &messages.ClientTxn{Txn: txn}, timeout).Result()
//
//	ClientTxn        --Propose{ID, Data}-->             raftnode;  Result{ID} from the applier --> TxnReply
//	ClientConfChange --ProposeConfChange{ID, Change}--> raftnode;  Result{ID} from the applier, or
//	                                                               Result{ID, Err} from raftnode --> ConfChangeReply
//	ClientRead       --ReadIndex{Ctx}-->                raftnode;  ReadState{Ctx, Index} --> ReadBatch{Index} to the applier
//	ClientStatus     forwarded to raftnode, which answers Status
//	ClientCompact, ClientLease  --Propose{ID, Data}--> raftnode;   Result{ID} from the applier --> TxnReply
//	ClientLeaseTTL   answered LeaseTTL from the lessor
//	WatchCreate, WatchCancel    forwarded to the watch actor
//	LeaseApplied     from the applier, to the lessor
//
// # Leases
//
// The lessor (lessor.go, a plain type) reckons each lease from the last
// grant or keepalive this member applied (LeaseApplied from the applier).
// On the leader, Sweep proposes the expiry of every lease whose time ran
// out, with the renewals it saw; a member that becomes leader (RaftState)
// first gives every lease an election timeout more.
//
// Every write gets a RequestID (this node's id and a counter that starts at
// the wall clock, so ids are not reused across restarts). A membership
// change goes to raftnode as the client asked for it; raftnode refuses it
// with Result{ID, Err} (answered as it is) or drops it like a write.
// Linearizable reads are batched: one ReadIndex round is in flight at a
// time and every read that arrives meanwhile joins the next round, which
// goes to the applier as one ReadBatch. Serializable reads go to the
// applier at once.
//
// Until raftnode reports a RaftState with Serving, every request is
// answered ErrNotReady. A proposal raft dropped (ProposalDropped) or made
// while no leader is known is parked, and proposed again with the same id
// once a leader is known: it never entered the log, so it cannot apply
// twice. Sweep (sent every SweepInterval; tests send it by hand) proposes
// parked requests again under a leader, answers requests older than MaxWait
// with ErrTimeout and asks a read round again after ReadRetry. When the
// actor stops, whatever still waits is answered ErrStopped.
//
// # No leader: fail fast
//
// A member cut off from the others knows it: raftnode sets Leaderless in
// RaftState once no leader has been known for longer than an election
// timeout. While the last RaftState says Leaderless, the proposer answers
// ErrNoLeader at once rather than at the deadline:
//
//   - a new write, membership change or linearizable read is refused, and
//     nothing is sent to raftnode; serializable reads are still served, and
//     ErrNotReady comes before ErrNoLeader;
//   - when Leaderless arrives, every request not in raft's hands (parked:
//     never sent, or dropped) and every read, queued or in the round in
//     flight, is answered ErrNoLeader and forgotten; so is a request raft
//     drops later while Leaderless. Reads change nothing, so failing them is
//     always safe;
//   - a request handed to raft and not dropped keeps waiting for its result
//     or its deadline: it may be in the log and still apply, so only the
//     outcome, or ErrTimeout, is a truthful answer.
//
// # Structure
//
// Every decision lives in waiting (waiting.go), a plain type with no IO and
// no clock: the pending requests by RequestID, the queued reads and the
// read round in flight, and what raftnode last said about the leader. Each
// of its methods takes the current time where it needs it and returns an
// outbox: the messages for raftnode, the ReadBatches for the applier and
// the answers to clients. The actor turns each message into one such call
// and sends what it returns; waiting_test.go tests the rules without
// actors, proposer_test.go the actor through probes.
package proposer
