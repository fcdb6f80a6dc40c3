package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"go.etcd.io/raft/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/actors/peer"
	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/actors/proposer"
	"github.com/raftkv/raftkv/actors/raftnode"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// ErrRemoved is the reason a node stops after the cluster removed it.
var ErrRemoved = errors.New("raftkv: this member was removed from the cluster")

// MaxPeerMessageSize bounds one raft message between members (gRPC's limit,
// raised from its 4 MiB default so that snapshots of a moderate store fit in
// one message).
const MaxPeerMessageSize = 512 << 20

// Config describes one node.
type Config struct {
	// ID is this member's id, 1-based: member i has address Cluster[i-1].
	ID uint64
	// Cluster lists the peer addresses (host:port, an http:// prefix is
	// accepted) of the initial members.
	Cluster []string
	// Join starts a member that an existing cluster has just added.
	Join    bool
	DataDir string
	// SnapshotCount is how many applied entries trigger a snapshot.
	SnapshotCount uint64
	// CatchUpEntries is how many entries stay in the log behind a snapshot
	// for slow followers; 0 means raftnode.DefaultCatchUpEntries.
	CatchUpEntries uint64
	// TickInterval is raft's tick; 0 means raftnode.DefaultTickInterval.
	TickInterval time.Duration
	// ManualTicks turns off the node's timers: whoever runs the node sends
	// messages.Tick to Raftnode() and proposer.Sweep to Proposer(). The test
	// kit's deterministic mode uses it.
	ManualTicks bool
	// Network, when set, replaces protoactor remote: the node spawns an actor
	// from these props, every raft message to another member goes to it (it
	// routes by the message's To field), and the node opens no port. The
	// test kit's simulated network sets it.
	Network *actor.Props
	// UnsafeNoFsync turns off the WAL's fsync, for in-process tests that
	// simulate no power loss. Never in production.
	UnsafeNoFsync bool
	Logger        *slog.Logger
}

// Node is one running raftkv member: its actor system and actors.
type Node struct {
	cfg      Config
	log      *slog.Logger
	system   *actor.ActorSystem
	remote   *remote.Remote
	top      *actor.PID
	inbox    *actor.PID
	proposer *actor.PID
	raftnode *actor.PID

	done     chan struct{}
	doneOnce sync.Once
	err      error
	stopOnce sync.Once
}

// Start recovers the node's data directory, starts its actors and, unless
// cfg.Network is set, listens for peers on its cluster address.
func Start(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cluster, err := ParseCluster(cfg.Cluster)
	if err != nil {
		return nil, err
	}
	if cfg.ID == 0 || cfg.ID > uint64(len(cluster)) {
		return nil, fmt.Errorf("member id %d: must be between 1 and the %d members of --cluster", cfg.ID, len(cluster))
	}
	log := cfg.Logger.With("member", cfg.ID)
	// Peers first: a node that cannot listen must fail before it creates a
	// WAL, or its next start would take the empty WAL for a restart and
	// never bootstrap.
	n := &Node{cfg: cfg, log: log, done: make(chan struct{})}
	n.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(warnOnly{log.Handler()}).With("lib", "protoactor")
	}))
	self := cluster[cfg.ID-1]
	var network *actor.PID
	if cfg.Network == nil {
		err = n.startRemote(self)
	} else if network, err = n.system.Root.SpawnNamed(cfg.Network, "network"); err != nil {
		err = fmt.Errorf("spawn network: %w", err)
	}
	if err != nil {
		n.shutdownSystem()
		return nil, err
	}
	disk, rec, err := persister.Open(cfg.DataDir, log)
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
	st := store.New()
	var snapIndex uint64
	if rec.Snapshot != nil {
		if err := st.Restore(rec.Snapshot.GetData()); err != nil {
			return fail(fmt.Errorf("restore snapshot %d: %w", rec.Snapshot.GetMetadata().GetIndex(), err))
		}
		snapIndex = rec.Snapshot.GetMetadata().GetIndex()
	}
	addresses := map[uint64]string{}
	for i, addr := range cluster {
		addresses[uint64(i+1)] = addr
	}
	for id, addr := range st.Members() {
		addresses[id] = addr
	}
	// A WAL with nothing in it (a crash right after it was created) is a
	// new node too: it never voted nor acknowledged anything.
	restart := rec.Exists && (rec.Snapshot != nil || len(rec.Entries) > 0 || !raft.IsEmptyHardState(rec.HardState))
	var bootstrap []raft.Peer
	if !restart && !cfg.Join {
		for i, addr := range cluster {
			c, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{Address: addr})
			if err != nil {
				return fail(err)
			}
			bootstrap = append(bootstrap, raft.Peer{ID: uint64(i + 1), Context: c})
		}
	}

	pid := func(name string) *actor.PID { return n.system.NewLocalPID("node/" + name) }
	n.proposer, n.raftnode = pid("proposer"), pid("raftnode")
	persisterPID, applierPID := pid("persister"), pid("applier")
	tick, sweep := cfg.TickInterval, proposer.DefaultSweepInterval
	if tick == 0 {
		tick = raftnode.DefaultTickInterval
	}
	if cfg.ManualTicks {
		tick, sweep = 0, 0
	}
	raftProps, err := raftnode.Props(raftnode.Config{
		ID: cfg.ID, Addresses: addresses, Bootstrap: bootstrap,
		Restart: restart, Snapshot: rec.Snapshot, HardState: rec.HardState, Entries: rec.Entries,
		Persister: persisterPID, Applier: applierPID, Proposer: n.proposer,
		Link: func(id uint64, address string) *actor.Props {
			return peer.Props(peer.Config{ID: id, Address: address, Target: network, Logger: log})
		},
		TickInterval:   tick,
		CatchUpEntries: cfg.CatchUpEntries,
		Logger:         log,
	})
	if err != nil {
		return fail(fmt.Errorf("start raft: %w", err))
	}
	children := []child{
		{"persister", persister.Props(disk, persisterOptions(cfg, log)...)},
		{"applier", applier.Props(applier.Config{
			ID: cfg.ID, Store: st, Applied: snapIndex, Proposer: n.proposer,
			SnapshotCount: cfg.SnapshotCount, Logger: log,
		})},
		{"proposer", proposer.Props(proposer.Config{
			ID: cfg.ID, Raftnode: n.raftnode, Applier: applierPID,
			SweepInterval: sweep, Logger: log,
		})},
		{"raftnode", raftProps},
	}
	top, err := n.system.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
		return &supervisor{node: n, children: children}
	}, actor.WithSupervisor(fatal{n})), "node")
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
	n.inbox, err = n.system.Root.SpawnNamed(peer.InboxProps(cfg.ID, n.raftnode, log), peer.InboxName)
	if err != nil {
		n.Stop()
		return nil, fmt.Errorf("spawn inbox: %w", err)
	}
	log.Info("node started", "peer_address", self, "restart", restart, "join", cfg.Join,
		"snapshot_index", snapIndex, "wal_entries", len(rec.Entries))
	return n, nil
}

func persisterOptions(cfg Config, log *slog.Logger) []persister.Option {
	opts := []persister.Option{persister.WithLogger(log)}
	if cfg.UnsafeNoFsync {
		opts = append(opts, persister.WithoutFsync())
	}
	return opts
}

func (n *Node) startRemote(self string) (err error) {
	host, portStr, err := net.SplitHostPort(self)
	if err != nil {
		return fmt.Errorf("peer address %q: %w", self, err)
	}
	port, _ := strconv.Atoi(portStr)
	conf := remote.Configure(host, port,
		remote.WithAdvertisedHost(self),
		remote.WithServerOptions(grpc.MaxRecvMsgSize(MaxPeerMessageSize)),
		remote.WithDialOptions(grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(MaxPeerMessageSize))))
	// One quick attempt per connection: a failed link reports Unreachable
	// and the next message dials again, instead of protoactor's five
	// attempts with a blocking 2 s sleep each.
	conf.MaxRetryCount = 1
	n.remote = remote.NewRemote(n.system, conf)
	defer func() {
		if r := recover(); r != nil {
			n.remote = nil // never started: nothing to shut down
			err = fmt.Errorf("listen for peers on %s: %v", self, r)
		}
	}()
	n.remote.Start()
	return nil
}

// Proposer is the PID that takes client requests (messages.Client*).
func (n *Node) Proposer() *actor.PID { return n.proposer }

// Raftnode is the PID of the node's raft actor.
func (n *Node) Raftnode() *actor.PID { return n.raftnode }

// Inbox is the PID that takes raft messages from other members.
func (n *Node) Inbox() *actor.PID { return n.inbox }

// System is the node's actor system.
func (n *Node) System() *actor.ActorSystem { return n.system }

// Done is closed when the node stops on its own: removed from the cluster,
// or a fatal storage or apply error. Err tells which.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err is why the node stopped on its own, once Done is closed.
func (n *Node) Err() error {
	<-n.done
	return n.err
}

func (n *Node) fail(err error) {
	n.doneOnce.Do(func() {
		n.err = err
		close(n.done)
	})
}

// Stop shuts the node down in order: the inbox (nothing new from peers),
// then the actors (the persister closes the WAL last of all), then the
// peer listener, then the actor system. It is safe to call more than once.
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		for _, pid := range []*actor.PID{n.inbox, n.top} {
			if pid == nil {
				continue
			}
			if err := n.system.Root.StopFuture(pid).Wait(); err != nil {
				n.log.Warn("actor did not confirm its stop", "actor", pid.GetId(), "err", err)
			}
		}
		n.shutdownSystem()
		n.log.Info("node stopped")
	})
}

func (n *Node) shutdownSystem() {
	if n.remote != nil {
		// Not protoactor's graceful shutdown: it races with its own endpoint
		// event handlers (seen under -race, and as a panic). The node's actors
		// are stopped by now; raft tolerates whatever was still in flight.
		n.remote.Shutdown(false)
	}
	n.system.Shutdown()
}

// ParseCluster normalizes a --cluster list: it drops http:// or https://
// and checks that every entry is host:port.
func ParseCluster(entries []string) ([]string, error) {
	if len(entries) == 0 {
		return nil, errors.New("cluster: no member addresses")
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		e = strings.TrimSpace(e)
		e = strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://")
		e = strings.TrimSuffix(e, "/")
		host, port, err := net.SplitHostPort(e)
		if err != nil || host == "" {
			return nil, fmt.Errorf("cluster member %d: %q is not host:port", i+1, entries[i])
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("cluster member %d: %q has no valid port", i+1, entries[i])
		}
		out[i] = e
	}
	return out, nil
}
