// Package node wires one raftkv member: it recovers the data directory,
// builds the actors and spawns them in one actor system, and shuts them
// down in order. cmd/raftkv and the test kit's in-process cluster both use
// it, so that tests run the very node that users run.
//
// Start opens the data directory with the persister (snapshot + WAL
// replay), restores the store from the newest snapshot, and spawns under
// one supervisor actor ("node"):
//
//	node/persister  WAL and snapshot files
//	node/applier    the state machine (store.Store)
//	node/proposer   client requests
//	node/raftnode   raft; spawns one peer link per member it talks to
//
// and, outside the supervisor, the peer inbox under peer.InboxName, which
// receives raft messages from the other members over protoactor remote
// (or from Config.Network, the test kit's simulated network, in which case
// no port is opened). A brand-new cluster is bootstrapped with the members
// of Config.Cluster; a node with a data directory restarts from it; a node
// started with Join waits to be contacted by the cluster that added it.
//
// The failure of persister, applier, raftnode or proposer is fatal: the
// supervisor stops the node's actors and Done is closed, with Err telling
// why. So is raftnode's report that this member was removed (ErrRemoved).
//
// # Usage
//
//	n, err := node.Start(node.Config{
//		ID: 1, Cluster: []string{"127.0.0.1:12379", "127.0.0.1:22379", "127.0.0.1:32379"},
//		DataDir: "raftkv-1", SnapshotCount: 10000,
//	})
//	if err != nil { ... }
//	defer n.Stop() // inbox, then actors (the persister closes the WAL last), then remote
//	srv := httpapi.New(n.System().Root, n.Proposer(), logger)
//	select {
//	case <-n.Done(): // removed, or a fatal storage or apply error: n.Err()
//	case <-interrupted:
//	}
package node
