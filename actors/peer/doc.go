// Package peer carries raft messages between the members of a cluster over
// protoactor remote.
//
// Two actors live here:
//
//   - A link (Props) is a child of raftnode, one per remote member. It sends
//     each *raftpb.Message to the member's inbox, actor.NewPID(address,
//     InboxName), or to Config.Target when set (the test kit's simulated
//     network). Delivery is at most once: a link never blocks or retries,
//     raft resends what is lost. It tells its parent SnapshotStatus after
//     each MsgSnap, and Unreachable when protoactor reports the member's
//     endpoint terminated.
//   - The inbox (InboxProps) is spawned by every node under the name
//     InboxName. It receives raft messages from the other members and hands
//     raftnode only those that a peer could have sent: addressed to this
//     member, from another non-zero member, of a known type that is not
//     local to a node (MsgHup, MsgBeat, MsgStorage*...). Anything else is
//     dropped with a rate-limited warning.
//
// # Usage
//
//	inbox, _ := root.SpawnNamed(peer.InboxProps(id, raftnodePID, logger), peer.InboxName)
//
//	raftnode.Config{Link: func(id uint64, addr string) *actor.Props {
//		return peer.Props(peer.Config{ID: id, Address: addr, Logger: logger})
//	}}
package peer
