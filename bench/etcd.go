package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// EtcdMemberCommand is the hidden subcommand that runs one etcd member
// (EtcdMemberMain); the tool starts each member as its own executable
// with it.
const EtcdMemberCommand = "etcd-member"

// etcdQuota is the etcd members' backend quota: etcd's recommended
// maximum, so that a long run never raises its NOSPACE alarm.
const etcdQuota = 8 << 30

// EtcdMemberMain runs one etcd member through etcd's embed package until
// SIGTERM or SIGINT, with etcd's defaults (fsync on, unsafe-no-fsync off)
// but for warn-level logs and an 8 GiB backend quota. args are its flags
// (see etcdMemberArgs); it returns the exit code.
func EtcdMemberMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(EtcdMemberCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "member `NAME`")
	dir := fs.String("data-dir", "", "data `DIR`")
	peer := fs.String("peer-url", "", "peer `URL` to listen on and advertise")
	client := fs.String("client-url", "", "client `URL` to listen on and advertise")
	cluster := fs.String("initial-cluster", "", "name=peer-url,... of every member")
	token := fs.String("token", "raftkv-bench", "initial cluster `TOKEN`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := runEtcdMember(*name, *dir, *peer, *client, *cluster, *token); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", EtcdMemberCommand, *name, err)
		return 1
	}
	return 0
}

// runEtcdMember starts the member and serves until a signal or an error.
func runEtcdMember(name, dir, peer, client, cluster, token string) error {
	pu, err := url.Parse(peer)
	if err != nil {
		return fmt.Errorf("peer url: %w", err)
	}
	cu, err := url.Parse(client)
	if err != nil {
		return fmt.Errorf("client url: %w", err)
	}
	cfg := embed.NewConfig()
	cfg.Name = name
	cfg.Dir = dir
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.InitialCluster = cluster
	cfg.InitialClusterToken = token
	cfg.ClusterState = embed.ClusterStateFlagNew
	cfg.UnsafeNoFsync = false
	cfg.QuotaBackendBytes = etcdQuota
	cfg.LogLevel = "warn"
	cfg.LogOutputs = []string{"stderr"}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return fmt.Errorf("etcd before ready: %w", err)
	case <-sig:
		return nil
	case <-time.After(startTimeout):
		return fmt.Errorf("etcd not ready after %v", startTimeout)
	}
	select {
	case err := <-e.Err():
		return fmt.Errorf("etcd: %w", err)
	case <-sig:
		return nil
	}
}

// Etcd is a three-member etcd cluster, each member a process running
// EtcdMemberMain.
type Etcd struct {
	members   []*member
	endpoints []string
	dirs      []string
	conns     int // client connections per Connect; 0: one
	admin     *clientv3.Client
}

// StartEtcd starts len(peerPorts) etcd members on loopback, each as self
// (the command that runs this tool) followed by the subcommand
// etcd-member, member i with its peer port peerPorts[i], its client port
// clientPorts[i] and its data and log under dir; it waits until they
// serve with a leader. Connect opens conns gRPC connections to the leader
// (0: one).
func StartEtcd(ctx context.Context, self []string, dir string, peerPorts, clientPorts []int, conns int) (*Etcd, error) {
	e := &Etcd{conns: conns}
	var initial []string
	for i, p := range peerPorts {
		initial = append(initial, fmt.Sprintf("etcd-%d=http://127.0.0.1:%d", i+1, p))
	}
	for i := range peerPorts {
		name := fmt.Sprintf("etcd-%d", i+1)
		data := filepath.Join(dir, name)
		argv := append(append([]string{}, self...), EtcdMemberCommand,
			"--name", name, "--data-dir", data,
			"--peer-url", fmt.Sprintf("http://127.0.0.1:%d", peerPorts[i]),
			"--client-url", fmt.Sprintf("http://127.0.0.1:%d", clientPorts[i]),
			"--initial-cluster", strings.Join(initial, ","))
		m, err := startMember("etcd member "+name, filepath.Join(dir, name+".log"), argv)
		if err != nil {
			e.Stop()
			return nil, err
		}
		e.members = append(e.members, m)
		e.endpoints = append(e.endpoints, fmt.Sprintf("127.0.0.1:%d", clientPorts[i]))
		e.dirs = append(e.dirs, data)
	}
	admin, err := clientv3.New(clientv3.Config{Endpoints: e.endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.Stop()
		return nil, fmt.Errorf("etcd admin client: %w", err)
	}
	e.admin = admin
	if err := awaitReady(ctx, "etcd", e.Check, func(ctx context.Context) error {
		_, err := e.leader(ctx, true)
		return err
	}); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// leader returns the endpoint of the leader, asking the members in turn
// until one is it, or with all, asking all of them, which must agree.
func (e *Etcd) leader(ctx context.Context, all bool) (string, error) {
	var leader uint64
	var endpoint string
	for _, ep := range e.endpoints {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := e.admin.Status(sctx, ep)
		cancel()
		if err != nil {
			return "", fmt.Errorf("etcd status of %s: %w", ep, err)
		}
		if st.Leader == 0 || (leader != 0 && st.Leader != leader) {
			return "", fmt.Errorf("etcd members have no leader yet or disagree (%x, %x)", leader, st.Leader)
		}
		leader = st.Leader
		if st.Header.MemberId == leader {
			endpoint = ep
			if !all {
				break
			}
		}
	}
	if endpoint == "" {
		return "", fmt.Errorf("etcd leader %x is none of the members started", leader)
	}
	return endpoint, nil
}

// Name implements System.
func (e *Etcd) Name() string { return "etcd" }

// PIDs implements System.
func (e *Etcd) PIDs() []int { return pids(e.members) }

// DataDirs implements System.
func (e *Etcd) DataDirs() []string { return e.dirs }

// Check implements System.
func (e *Etcd) Check() error {
	for _, m := range e.members {
		if err := m.alive(); err != nil {
			return err
		}
	}
	return nil
}

// AfterWorkload implements System: it compacts etcd's history up to the
// current revision (raftkv keeps none), as a deployment with
// auto-compaction would, so that a long run's backend does not grow
// without bound. It does not defragment.
func (e *Etcd) AfterWorkload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := e.admin.Status(ctx, e.endpoints[0])
	if err != nil {
		return fmt.Errorf("etcd compaction: %w", err)
	}
	if _, err := e.admin.Compact(ctx, st.Header.Revision, clientv3.WithCompactPhysical()); err != nil &&
		!strings.Contains(err.Error(), "compacted") {
		return fmt.Errorf("etcd compaction at revision %d: %w", st.Header.Revision, err)
	}
	return nil
}

// Stop implements System.
func (e *Etcd) Stop() {
	if e.admin != nil {
		e.admin.Close()
	}
	killAll(e.members)
}

// Connect implements System: clientv3 clients of the leader alone (one
// gRPC connection each) that the workers share: one by default, as etcd's
// own benchmark tool has, and the fastest measured here (at 64 and 256
// clients, one connection gave up to 25% more writes/s than one per 16
// workers, and one per worker less still).
func (e *Etcd) Connect(ctx context.Context, clients int) (Client, error) {
	ep, err := e.leader(ctx, false)
	if err != nil {
		return nil, err
	}
	n := EtcdConns(e.conns, clients)
	c := &EtcdClient{}
	for range n {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("etcd client of %s: %w", ep, err)
		}
		c.clis = append(c.clis, cli)
	}
	return c, nil
}

// EtcdConns is the number of gRPC connections for clients workers: conns
// if set, else one; never more than one per worker.
func EtcdConns(conns, clients int) int {
	return max(1, min(conns, clients))
}

// EtcdClient is a Client of etcd through clientv3, spreading the workers'
// operations over its connections.
type EtcdClient struct {
	clis []*clientv3.Client
	next atomic.Uint64
}

func (c *EtcdClient) pick() *clientv3.Client {
	return c.clis[c.next.Add(1)%uint64(len(c.clis))]
}

// Put implements Client.
func (c *EtcdClient) Put(ctx context.Context, key string, value []byte) error {
	_, err := c.pick().Put(ctx, key, string(value))
	return err
}

// Get implements Client.
func (c *EtcdClient) Get(ctx context.Context, key string, serializable bool) error {
	var opts []clientv3.OpOption
	if serializable {
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := c.pick().Get(ctx, key, opts...)
	if err != nil {
		return err
	}
	if len(resp.Kvs) != 1 {
		return fmt.Errorf("etcd get %s: %d keys", key, len(resp.Kvs))
	}
	return nil
}

// Close implements Client.
func (c *EtcdClient) Close() error {
	var errs []error
	for _, cli := range c.clis {
		errs = append(errs, cli.Close())
	}
	return errors.Join(errs...)
}
