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
//	ClientTxn        --Propose{ID, Data}-->           raftnode;  Result{ID} from the applier --> TxnReply
//	ClientConfChange --ProposeConfChange{ID, ...}-->  raftnode;  Result{ID} from the applier --> ConfChangeReply
//	ClientRead       --ReadIndex{Ctx}-->              raftnode;  ReadState{Ctx, Index} --> ReadBatch{Index} to the applier
//	ClientStatus     forwarded to raftnode, which answers Status
//
// Every write gets a RequestID (this node's id and a counter that starts at
// the wall clock, so ids are not reused across restarts). Linearizable
// reads are batched: one ReadIndex round is in flight at a time and every
// read that arrives meanwhile joins the next round, which goes to the
// applier as one ReadBatch. Serializable reads go to the applier at once.
//
// Until raftnode reports a RaftState with Serving, every request is
// answered ErrNotReady. A proposal raft dropped (ProposalDropped) or made
// while no leader is known is kept and proposed again once a leader is
// known. Sweep (sent every SweepInterval; tests send it by hand) answers
// requests older than MaxWait with ErrTimeout and asks a read round again
// after ReadRetry. When the actor stops, whatever still waits is answered
// ErrStopped.
package proposer
