// Package node wires one raftkv member: it recovers the data directory,
// builds the actors and spawns them in one actor system, and shuts them
// down in order. cmd/raftkv and the test kit's in-process cluster both use
// it, so that tests run the very node that users run.
//
// Start refuses the data directory of a member that was removed (its
// REMOVED marker, or its own log removing it), opens the data directory
// with the persister (snapshot + WAL replay), reads the store from the
// newest snapshot's store file, and spawns under one supervisor actor
// ("node"):
//
//	node/persister  WAL and snapshot files
//	node/snapshot   snapshots' store files; snapshot transfers to and from members
//	node/applier    the state machine (store.Store)
//	node/proposer   client requests
//	node/raftnode   raft and the membership; spawns one peer link per member it talks to
//
// and, outside the supervisor, the peer inbox under peer.InboxName (a
// process, not an actor: it checks and routes in the sender's goroutine), which
// receives what the other members send through the transport (package
// transport: one TCP stream per member) or from Config.Network, the test
// kit's simulated network, in which case no port is opened. Peers are
// listened for on Config.ListenPeer (every interface by default) and the
// member advertises Config.AdvertisePeer; whatever address a member dialed
// to reach this one, what it sends goes to this node's inbox. A brand-new cluster is bootstrapped with
// the members of Config.Cluster and a cluster id derived from them; a node
// with a data directory restarts from it; a node started with Join waits
// to be contacted by the cluster that added it.
//
// The failure of persister, snapshot, applier, raftnode or proposer is
// fatal: the supervisor stops the node's actors and Done is closed, with
// Err telling why. So is raftnode's report that this member was removed
// (ErrRemoved); the node then leaves the REMOVED marker in its data
// directory.
//
// # Usage
//
//	cluster, err := node.ParseCluster([]string{"127.0.0.1:12379", "127.0.0.1:22379", "127.0.0.1:32379"})
//	n, err := node.Start(node.Config{ID: 1, Cluster: cluster, DataDir: "raftkv-1", SnapshotCount: 10000})
//	if err != nil { ... }
//	defer n.Stop() // inbox, then actors (the persister closes the WAL last), then the transport
//	srv := httpapi.New(n.System().Root, n.Proposer(), logger)
//	select {
//	case <-n.Done(): // removed, or a fatal storage or apply error: n.Err()
//	case <-interrupted:
//	}
package node
