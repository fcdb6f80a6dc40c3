// Package peer carries messages between the members of a cluster, through
// the transport (package transport) that resolves other members' PIDs.
//
// Two things live here:
//
//   - A link (Props) is a child of raftnode, one per remote member. It
//     sends each *raftpb.Message to the member's inbox, actor.NewPID(address,
//     InboxName), or to Config.Target when set (the test kit's simulated
//     network) — but only once the member at the address said who it is:
//     on start, and again after a lost connection or every 1000 messages,
//     the link sends a PeerHello, raftnode passes it the answer as
//     LinkChecked, and until an answer names the member the link leads to
//     (of the same cluster) raft messages are dropped (a hello is sent
//     again every 10). An address that leads to another member, or back
//     to this one, is refused with an error in the log. Delivery is at
//     most once: a link never blocks or retries, raft resends what is
//     lost. It tells its parent Unreachable when the transport reports
//     the connection to the member's address down (transport.Down).
//   - The inbox (StartInbox) is registered by every node under the name
//     InboxName: a process of the actor system, not an actor, that runs in
//     the sender's goroutine (the transport's reader). It hands raftnode
//     only the raft messages that a peer could have sent: addressed to this member, from another non-zero member,
//     of a known type that is not local to a node (MsgHup, MsgBeat,
//     MsgStorage*...), and never a MsgSnap (snapshots arrive in chunks). It
//     decodes raftkv's own PeerMessages: snapshot chunks and acks go to the
//     snapshot actor, the others (hellos, forwarded membership changes,
//     removal notices) to raftnode; a message for another member is dropped,
//     except a hello, which is answered so that its sender learns who is at
//     the address it dialed. Anything else is dropped with a rate-limited
//     warning.
//
// # Usage
//
//	inbox, err := peer.StartInbox(system, id, raftnodePID, snapshotPID, logger)
//
//	raftnode.Config{Link: func(id uint64, addr string, clusterID uint64) *actor.Props {
//		return peer.Props(peer.Config{ID: id, Address: addr, Self: self, SelfAddress: selfAddr,
//			ClusterID: clusterID, Logger: logger})
//	}}
package peer
