// Package membership is the cluster's membership as the raft log defines
// it: which members there are, their peer and client addresses, which of
// them are learners, which ids were removed, and the cluster id; and the
// rules a membership change must follow.
//
// A Book is a plain value with no IO: raftnode owns the node's Book and
// applies every committed membership change to it in log order, so every
// member that applied the same log holds the same Book. Apply decides
// deterministically whether a committed change takes effect; a change it
// refuses changes nothing (and raftnode applies an empty change to raft in
// its place), so a refused change changes nothing on any member. The leader
// also checks a change before it proposes it: Check for what Apply would
// refuse, and CheckSafety for what could cost the cluster its quorum (the
// rules of etcd's --strict-reconfig-check), which only the leader can judge
// since it alone knows which members respond.
//
// # Usage
//
//	b := membership.New()
//	cc, _ := membership.DecodeEntry(entry)          // a committed conf change
//	if err := b.Apply(cc.Change, cc.ClusterID); err != nil {
//		// refused: nothing changed; answer err to the request cc.ID
//	}
//	state := b.State()                              // for a snapshot
//	b, err := membership.FromState(state)           // from a snapshot
package membership
