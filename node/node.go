package node

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/actors/peer"
	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/actors/proposer"
	"github.com/raftkv/raftkv/actors/raftnode"
	"github.com/raftkv/raftkv/actors/snapshot"
	"github.com/raftkv/raftkv/actors/watch"
	"github.com/raftkv/raftkv/internal/mailbox"
	"github.com/raftkv/raftkv/internal/snapfile"
	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/transport"
)

// ErrRemoved is the reason a node stops after the cluster removed it, and
// refuses to start from the data directory of a removed member.
var ErrRemoved = errors.New("raftkv: this member was removed from the cluster")

// DefaultSpaceReserve is Config.SpaceReserve's default: room for two WAL
// segments.
const DefaultSpaceReserve = 128 << 20

// MaxPeerMessageSize bounds one message between members: a batch of
// raft messages (each at most 1 MiB of entries, plus one entry that may be
// larger) or a snapshot chunk.
const MaxPeerMessageSize = 512 << 20

// Config describes one node.
type Config struct {
	// ID is this member's id.
	ID uint64
	// Name is a human name of the member (raftkv's --name, by default
	// "member-<id>"); it names the member to people and changes nothing
	// in what it does.
	Name string
	// Cluster maps member ids to peer addresses (host:port): the members of
	// a new cluster, or for a joining node the members it can reach first.
	// ParseCluster reads it from a --cluster flag.
	Cluster map[uint64]string
	// Join starts a member that an existing cluster has just added.
	Join bool
	// AdvertisePeer is this member's peer address as the others reach it;
	// empty means Cluster[ID]. ListenPeer is where it listens for peers
	// (host:port, an empty host for every interface); empty means every
	// interface at the port of AdvertisePeer.
	AdvertisePeer string
	ListenPeer    string
	// AdvertiseClient is the URL of this member's HTTP API that it publishes
	// in the membership; empty publishes none.
	AdvertiseClient string
	DataDir         string
	// SnapshotCount is how many applied entries trigger a snapshot.
	SnapshotCount uint64
	// CatchUpEntries is how many entries stay in the log behind a snapshot
	// for slow followers; 0 means raftnode.DefaultCatchUpEntries.
	CatchUpEntries uint64
	// TickInterval is raft's tick; 0 means raftnode.DefaultTickInterval.
	TickInterval time.Duration
	// ManualTicks turns off the node's timers: whoever runs the node calls
	// Tick. The test kit's deterministic mode uses it.
	ManualTicks bool
	// Network, when set, replaces the transport: the node spawns an actor
	// from these props, everything for another member goes to it (it routes
	// by the messages' To fields), and the node opens no port. The test
	// kit's simulated network sets it.
	Network *actor.Props
	// Dispatcher, when set, runs every actor of the node (the test kit
	// counts with it when a node is quiet); nil means mailbox.Dispatcher.
	Dispatcher actor.Dispatcher
	// UnsafeNoFsync turns off the WAL's fsync, for in-process tests that
	// simulate no power loss. Never in production.
	UnsafeNoFsync bool
	// SpaceReserve is the free space on the data directory's filesystem
	// below which the member has its NOSPACE alarm raised (writes refused
	// cluster-wide) until it has space again; 0 means DefaultSpaceReserve.
	SpaceReserve uint64
	// FreeSpace reads the free space of a directory; nil means
	// persister.FreeSpace (the test kit simulates full disks with it).
	FreeSpace func(dir string) (uint64, error)
	// History bounds the history of changes the store keeps for reads at
	// past revisions and watches (0s: store's defaults).
	History store.HistoryLimits
	// RepairWAL cuts off a damaged WAL tail rather than refuse to start
	// (persister.WithRepairWAL): the member may lose entries it
	// acknowledged.
	RepairWAL bool
	Logger    *slog.Logger
}

// Node is one running raftkv member: its actor system and actors.
type Node struct {
	cfg       Config
	log       *slog.Logger
	system    *actor.ActorSystem
	transport *transport.Transport
	top       *actor.PID
	inbox     *actor.PID
	proposer  *actor.PID
	raftnode  *actor.PID
	snapshot  *actor.PID
	persister *actor.PID
	metrics   *metrics.Metrics

	done     chan struct{}
	doneOnce sync.Once
	err      error
	stopOnce sync.Once
}

// Start recovers the node's data directory, starts its actors and, unless
// cfg.Network is set, listens for peers.
func Start(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := membership.CheckID(cfg.ID); err != nil {
		return nil, err
	}
	self, err := advertised(cfg)
	if err != nil {
		return nil, err
	}
	cfg.AdvertisePeer = self
	if cfg.AdvertiseClient != "" {
		if cfg.AdvertiseClient, err = membership.ParseClientAddress(cfg.AdvertiseClient); err != nil {
			return nil, err
		}
	}
	if err := checkNotRemoved(cfg.DataDir, cfg.ID, nil); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("local_member", cfg.ID)
	// Peers first: a node that cannot listen must fail before it creates a
	// WAL, or its next start would take the empty WAL for a restart and
	// never bootstrap.
	n := &Node{cfg: cfg, log: log, done: make(chan struct{}), metrics: metrics.New()}
	n.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(warnOnly{log.Handler()}).With("lib", "protoactor")
	}))
	var network *actor.PID
	if cfg.Network == nil {
		err = n.startRemote()
	} else if network, err = n.system.Root.SpawnNamed(n.props(cfg.Network), "network"); err != nil {
		err = fmt.Errorf("spawn network: %w", err)
	}
	if err != nil {
		n.shutdownSystem()
		return nil, err
	}
	var openOpts []persister.OpenOption
	if cfg.RepairWAL {
		openOpts = append(openOpts, persister.WithRepairWAL())
	}
	disk, rec, err := persister.Open(cfg.DataDir, log, openOpts...)
	if err != nil {
		n.shutdownSystem()
		return nil, fmt.Errorf("open data dir %s: %w", cfg.DataDir, err)
	}
	// fail undoes what Start did so far, until the actors own the disk.
	fail := func(err error) (*Node, error) {
		disk.Close()
		n.shutdownSystem()
		return nil, err
	}
	if err := checkNotRemoved(cfg.DataDir, cfg.ID, rec); err != nil {
		return fail(err)
	}
	st, appl, err := recoverStore(disk, rec)
	if err != nil {
		return fail(err)
	}
	// A WAL with nothing in it (a crash right after it was created) is a
	// new node too: it never voted nor acknowledged anything.
	restart := rec.Exists && (rec.Snapshot != nil || len(rec.Entries) > 0 || !raft.IsEmptyHardState(rec.HardState))
	var bootstrap []raft.Peer
	if !restart && !cfg.Join {
		if _, ok := cfg.Cluster[cfg.ID]; !ok {
			return fail(fmt.Errorf("member %d is not in --cluster: a new cluster's members must all be listed there (or start it with --join)", cfg.ID))
		}
		if bootstrap, err = bootstrapPeers(cfg.Cluster); err != nil {
			return fail(err)
		}
	}

	pid := func(name string) *actor.PID { return n.system.NewLocalPID("node/" + name) }
	n.proposer, n.raftnode, n.snapshot = pid("proposer"), pid("raftnode"), pid("snapshot")
	n.persister = pid("persister")
	watchPID := pid("watch")
	persisterPID, applierPID := n.persister, pid("applier")
	route := func(uint64, string) *actor.PID { return network }
	if network == nil {
		route = func(_ uint64, address string) *actor.PID { return actor.NewPID(address, peer.InboxName) }
	}
	tick, sweep, spaceInterval, progress := cfg.TickInterval, proposer.DefaultSweepInterval, time.Second, watch.DefaultProgressInterval
	if tick == 0 {
		tick = raftnode.DefaultTickInterval
	}
	if cfg.ManualTicks {
		tick, sweep, spaceInterval, progress = 0, 0, 0, 0
	}
	usage, err := disk.Usage()
	if err != nil {
		log.Warn("cannot measure the data on disk", "err", err)
	}
	raftProps, err := raftnode.Props(raftnode.Config{
		ID: cfg.ID, Name: cmp.Or(cfg.Name, fmt.Sprintf("member-%d", cfg.ID)),
		Address: self, ClientAddress: cfg.AdvertiseClient, Addresses: cfg.Cluster, Bootstrap: bootstrap,
		Restart: restart, Snapshot: rec.Snapshot, HardState: rec.HardState, Entries: rec.Entries,
		Revision: st.Revision(), Keys: st.Len(), Disk: usage,
		Persister: persisterPID, Applier: applierPID, Proposer: n.proposer,
		Link: func(id uint64, address string, clusterID uint64) *actor.Props {
			return n.props(peer.Props(peer.Config{ID: id, Address: address, Self: cfg.ID, SelfAddress: self,
				ClusterID: clusterID, Target: network, Logger: log, Metrics: n.metrics}).
				Configure(actor.WithMailbox(mailbox.Gated(n.metrics.PeerMailbox(id)))))
		},
		Route:          route,
		TickInterval:   tick,
		CatchUpEntries: cfg.CatchUpEntries,
		Logger:         log,
		Metrics:        n.metrics,
	})
	if err != nil {
		return fail(fmt.Errorf("start raft: %w", err))
	}
	appl.ID, appl.Store, appl.Proposer, appl.Snapshotter = cfg.ID, st, n.proposer, n.snapshot
	appl.SnapshotCount, appl.Logger, appl.Metrics = cfg.SnapshotCount, log, n.metrics
	appl.History, appl.Watcher, appl.Lessor = cfg.History, watchPID, n.proposer
	children := []child{
		{"proposer", n.props(proposer.Props(proposer.Config{
			ID: cfg.ID, Raftnode: n.raftnode, Applier: applierPID, FirstSeq: firstSeq(cfg.ID, appl.Requests),
			SweepInterval: sweep, Logger: log, Metrics: n.metrics, Watch: watchPID,
			ElectionTimeout: tick * raftnode.DefaultElectionTick,
		}))},
		{"persister", n.props(persister.Props(disk, append(persisterOptions(cfg, log), persister.WithMetrics(n.metrics),
			persister.WithSpaceCheck(persister.SpaceCheck{
				Reserve: cmp.Or(cfg.SpaceReserve, DefaultSpaceReserve), Free: cfg.FreeSpace, Notify: n.proposer, Interval: spaceInterval,
			}))...))},
		{"snapshot", n.props(snapshot.Props(snapshot.Config{
			ID: cfg.ID, Address: self, StoreDir: disk.StoreDir(), Raftnode: n.raftnode, Applier: applierPID,
			Route: route, TickInterval: tick, Pace: snapshot.DefaultPace, Logger: log,
		}))},
		{"watch", n.props(watch.Props(watch.Config{Applier: applierPID, ProgressInterval: progress, Logger: log, Metrics: n.metrics}))},
		{"applier", n.props(applier.Props(appl))},
		{"raftnode", n.props(raftProps)},
	}
	for _, c := range children {
		c.props.Configure(actor.WithMailbox(mailbox.Gated(n.metrics.Mailbox(c.name))))
	}
	top, err := n.system.Root.SpawnNamed(n.props(actor.PropsFromProducer(func() actor.Actor {
		return &supervisor{node: n, children: children}
	}, actor.WithSupervisor(fatal{n}))), "node")
	if err != nil {
		return fail(fmt.Errorf("spawn node actors: %w", err))
	}
	n.top = top
	// Children are spawned when the supervisor handles Started; nothing may
	// be sent to them before (it would be a dead letter).
	if _, err := n.system.Root.RequestFuture(top, &started{}, 10*time.Second).Result(); err != nil {
		n.Stop()
		return nil, fmt.Errorf("start node actors: %w", err)
	}
	n.inbox, err = peer.StartInbox(n.system, cfg.ID, n.raftnode, n.snapshot, log)
	if err != nil {
		n.Stop()
		return nil, fmt.Errorf("start inbox: %w", err)
	}
	log.Info("node started", "peer_address", self, "listen_peer", cfg.ListenPeer, "restart", restart, "join", cfg.Join,
		"snapshot_index", appl.Applied, "wal_entries", len(rec.Entries))
	return n, nil
}

// advertised is the peer address the member advertises: --advertise-peer,
// or its own --cluster entry.
func advertised(cfg Config) (string, error) {
	if cfg.AdvertisePeer != "" {
		return membership.ParsePeerAddress(cfg.AdvertisePeer)
	}
	if addr, ok := cfg.Cluster[cfg.ID]; ok {
		return addr, nil
	}
	return "", fmt.Errorf("member %d has no peer address: list it in --cluster or give --advertise-peer", cfg.ID)
}

// recoverStore reads the store of the recovered snapshot, and returns it
// with the applier's configuration at that snapshot.
func recoverStore(disk *persister.Disk, rec *persister.Recovered) (*store.Store, applier.Config, error) {
	appl := applier.Config{StoreDir: disk.StoreDir()}
	s := rec.Snapshot
	if s == nil {
		return store.New(), appl, nil
	}
	md := s.GetMetadata()
	meta, err := messages.DecodeSnapshotMeta(s.GetData())
	if err != nil {
		return nil, appl, fmt.Errorf("snapshot %d: %w", md.GetIndex(), err)
	}
	st, err := snapfile.Load(disk.StoreDir(), md.GetTerm(), md.GetIndex(), meta.DBSize, meta.DBCRC)
	if err != nil {
		return nil, appl, fmt.Errorf("restore: %w", err)
	}
	appl.Applied, appl.AppliedTerm, appl.SnapshotSize = md.GetIndex(), md.GetTerm(), meta.DBSize
	appl.ConfState, appl.Membership, appl.Requests, appl.Alarms = md.GetConfState(), &meta.Membership, meta.Requests, meta.Alarms
	return st, appl, nil
}

// firstSeq is the first request counter of the member's proposer: the wall
// clock in nanoseconds, so that counters are not reused after a restart,
// and past every counter of the member that the recovered snapshot says
// was applied, should the clock have gone back.
func firstSeq(id uint64, applied []messages.AppliedRequests) uint64 {
	seq := uint64(time.Now().UnixNano())
	for _, a := range applied {
		if a.Node == id {
			seq = max(seq, a.Top+1)
		}
	}
	return seq
}

// bootstrapPeers are the entries that start a new cluster of the members
// of cluster: each carries the member's address and the cluster id.
func bootstrapPeers(cluster map[uint64]string) ([]raft.Peer, error) {
	var members []messages.Member
	for id, addr := range cluster {
		members = append(members, messages.Member{ID: id, PeerAddress: addr})
	}
	// Every member writes the same entries at the same indexes, as raft
	// requires: in the order of their ids.
	slices.SortFunc(members, func(a, b messages.Member) int { return cmp.Compare(a.ID, b.ID) })
	clusterID := membership.ClusterIDOf(members)
	var peers []raft.Peer
	for _, m := range members {
		c, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{
			Change: messages.MemberChange{Type: messages.AddVoter, Member: m}, ClusterID: clusterID,
		})
		if err != nil {
			return nil, err
		}
		peers = append(peers, raft.Peer{ID: m.ID, Context: c})
	}
	return peers, nil
}

// props is p run by the node's dispatcher: Config.Dispatcher if set, else
// mailbox.Dispatcher (protoactor's default, with each turn's stack grown
// first).
func (n *Node) props(p *actor.Props) *actor.Props {
	var d actor.Dispatcher = mailbox.Dispatcher{}
	if n.cfg.Dispatcher != nil {
		d = n.cfg.Dispatcher
	}
	return p.Configure(actor.WithDispatcher(d))
}

func persisterOptions(cfg Config, log *slog.Logger) []persister.Option {
	opts := []persister.Option{persister.WithLogger(log)}
	if cfg.UnsafeNoFsync {
		opts = append(opts, persister.WithoutFsync())
	}
	return opts
}

func (n *Node) startRemote() (err error) {
	listen := n.cfg.ListenPeer
	if listen == "" {
		if listen, err = listenAddress(n.cfg.AdvertisePeer); err != nil {
			return err
		}
	}
	n.cfg.ListenPeer = listen
	n.transport, err = transport.Start(transport.Config{
		System: n.system, Listen: listen, Advertise: n.cfg.AdvertisePeer, Inbox: peer.InboxName,
		MaxMessageSize: MaxPeerMessageSize, Logger: n.log,
	})
	return err
}

// Proposer is the PID that takes client requests (messages.Client*).
func (n *Node) Proposer() *actor.PID { return n.proposer }

// Metrics are the node's Prometheus metrics, for its HTTP API to serve.
func (n *Node) Metrics() *metrics.Metrics { return n.metrics }

// Raftnode is the PID of the node's raft actor.
func (n *Node) Raftnode() *actor.PID { return n.raftnode }

// Inbox is the PID that takes what other members send.
func (n *Node) Inbox() *actor.PID { return n.inbox }

// System is the node's actor system.
func (n *Node) System() *actor.ActorSystem { return n.system }

// Tick advances the clocks of a node started with ManualTicks by one tick:
// raft's, the snapshot actor's, the persister's disk space watch, and the
// proposer's sweep.
func (n *Node) Tick() {
	root := n.system.Root
	root.Send(n.raftnode, &messages.Tick{})
	root.Send(n.snapshot, &messages.Tick{})
	root.Send(n.persister, &messages.Tick{})
	root.Send(n.proposer, &proposer.Sweep{})
}

// Done is closed when the node stops on its own: removed from the cluster,
// or a fatal storage or apply error. Err tells which.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err is why the node stopped on its own, once Done is closed.
func (n *Node) Err() error {
	<-n.done
	return n.err
}

// ended tells whether the node has ended (Err would not block).
func (n *Node) ended() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

func (n *Node) fail(err error) {
	n.doneOnce.Do(func() {
		n.err = err
		close(n.done)
	})
}

// removed ends the node after the cluster removed it, leaving a marker in
// its data directory so that it refuses to start from it again.
func (n *Node) removed(reason string) {
	if err := markRemoved(n.cfg.DataDir, n.cfg.ID, reason); err != nil {
		n.log.Error("cannot mark the data dir as removed", "err", err)
	}
	n.fail(fmt.Errorf("%w: %s", ErrRemoved, reason))
}

// Shutdown stops the node as an operator's stop should: HandOver, then
// Stop. It returns what HandOver returns.
func (n *Node) Shutdown() (leader uint64) {
	leader = n.HandOver()
	n.Stop()
	return leader
}

// HandOver prepares a stop: a leader hands the leadership to the voter
// that holds the most of the log among those that respond (raft's
// leadership transfer), so that the others do not wait out an election
// timeout for a new leader; it waits at most two election timeouts. It
// returns the member that leads once it handed over, or the leader it
// knows if it did not lead; 0 if it could not hand over (the others then
// elect a leader as after a crash). A node started with ManualTicks, whose
// clock only its owner moves, hands nothing over.
func (n *Node) HandOver() (leader uint64) {
	if n.raftnode != nil && !n.cfg.ManualTicks && !n.ended() {
		tick := cmp.Or(n.cfg.TickInterval, raftnode.DefaultTickInterval)
		wait := 2 * time.Duration(raftnode.DefaultElectionTick) * tick
		res, err := n.system.Root.RequestFuture(n.raftnode, &messages.TransferLeadership{}, wait).Result()
		switch t, ok := res.(*messages.LeadershipTransferred); {
		case err != nil:
			n.log.Warn("no answer about the leadership before stopping", "err", err)
		case ok && t.Err != nil:
			n.log.Warn("could not hand the leadership over; the others elect a leader", "err", t.Err)
		case ok:
			leader = t.To
			if t.To != 0 && t.To != n.cfg.ID {
				n.log.Info("leadership handed over", "to", t.To)
			}
		}
	}
	return leader
}

// Stop shuts the node down in order: the inbox (nothing new from peers),
// then the actors (the persister closes the WAL last of all), then the
// peer listener, then the actor system. It hands nothing over, like a
// crash that loses nothing (see Shutdown). It is safe to call more than
// once.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		if n.inbox != nil {
			n.system.Root.Stop(n.inbox) // at once: the inbox is no actor
		}
		if n.top != nil {
			if err := n.system.Root.StopFuture(n.top).Wait(); err != nil {
				n.log.Warn("actor did not confirm its stop", "actor", n.top.GetId(), "err", err)
			}
		}
		n.shutdownSystem()
		n.log.Info("node stopped")
	})
}

func (n *Node) shutdownSystem() {
	if n.transport != nil {
		// The node's actors are stopped by now; raft tolerates whatever
		// was still queued.
		n.transport.Close()
	}
	n.system.Shutdown()
}
