package backup

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// RestoreTerm is the term of the snapshot a restored member starts from.
const RestoreTerm = 1

// RestoreConfig says what Restore restores where.
type RestoreConfig struct {
	// File is the backup (GET /v1/snapshot saved to a file).
	File string
	// DataDir is the data dir of the new member; it must not exist, or be
	// an empty directory.
	DataDir string
	// ID is the id of the member whose data dir this is, one of Cluster.
	ID uint64
	// Cluster is every member of the new cluster: id to peer address, as
	// node.ParseCluster reads --cluster. Every member of the new cluster
	// must be restored from the same File with the same Cluster.
	Cluster map[uint64]string
	// Logger gets a line about what was restored; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Restored says what Restore restored: the backup's header, and the new
// cluster and snapshot the data dir starts from.
type Restored struct {
	// Backup is the header of the backup, with its checksum.
	Backup Header
	// ClusterID is the id of the new cluster (ClusterID), Members its
	// number of members.
	ClusterID uint64
	Members   int
	// Index and Term are those of the snapshot the member starts from.
	Index, Term uint64
}

// Restore verifies the backup cfg.File (see Read) and seeds cfg.DataDir
// with it for member cfg.ID of a new cluster of the members cfg.Cluster, as
// etcdctl's snapshot restore does. The data dir then holds the store of
// the backup as a snapshot — its keys with their values, versions and
// create and mod revisions, and the store revision, so the new cluster's
// first write gets the next revision — whose membership is cfg.Cluster (all
// voters, no client addresses yet: each member publishes its own when it
// starts), with no request ids and no alarms, and a WAL that records it.
// Start raftkv on it with the same --id and --cluster, without --join: it
// does not bootstrap again, and once a quorum of the members runs they
// elect a leader and serve.
//
// The snapshot's index is the backup's index (1 if that is 0) and its term
// RestoreTerm; the cluster id is ClusterID(members, checksum). So members
// restored from the same file with the same cfg.Cluster start with
// identical state, and members restored from different backups, or with
// different lists, refuse each other (their cluster ids differ).
//
// Restore refuses a data dir that is not empty, a cfg that does not hold
// cfg.ID or whose addresses are not valid peer addresses, and a backup that
// does not verify, before it writes anything; if seeding fails, it leaves
// the data dir as it found it. It returns what it restored.
func Restore(cfg RestoreConfig) (Restored, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	members, err := restoredMembers(cfg)
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	if err := persister.CheckNewDataDir(cfg.DataDir); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	h, st, err := ReadFile(cfg.File)
	if err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	state := messages.MembershipState{ClusterID: ClusterID(members, h.Checksum), Members: members}
	if _, err := membership.FromState(state); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	voters := make([]uint64, len(members))
	for i, m := range members {
		voters[i] = m.ID
	}
	view := st.View()
	seed := persister.SeedState{
		Index: max(h.Index, 1), Term: RestoreTerm,
		ConfState:  &raftpb.ConfState{Voters: voters},
		Meta:       messages.SnapshotMeta{Membership: state},
		WriteStore: func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, view) },
	}
	if err := persister.Seed(cfg.DataDir, seed, logger); err != nil {
		return Restored{}, fmt.Errorf("restore: %w", err)
	}
	logger.Info("restored a backup into a new data dir", "file", cfg.File, "data_dir", cfg.DataDir, "member", cfg.ID,
		"members", len(members), "cluster_id", fmt.Sprintf("%016x", state.ClusterID),
		"revision", h.Revision, "keys", h.Keys, "index", seed.Index, "backup_taken", h.Taken, "backup_cluster_id", fmt.Sprintf("%016x", h.ClusterID))
	return Restored{Backup: h, ClusterID: state.ClusterID, Members: len(members), Index: seed.Index, Term: seed.Term}, nil
}

// restoredMembers checks the member id and the cluster of cfg and returns
// the members of the new cluster, in id order, their addresses in
// canonical form.
func restoredMembers(cfg RestoreConfig) ([]messages.Member, error) {
	switch {
	case cfg.File == "":
		return nil, errors.New("no backup file given")
	case cfg.DataDir == "":
		return nil, errors.New("no data dir given")
	case len(cfg.Cluster) == 0:
		return nil, errors.New("no cluster given: list every member of the new cluster, as --cluster does")
	}
	if err := membership.CheckID(cfg.ID); err != nil {
		return nil, err
	}
	if _, ok := cfg.Cluster[cfg.ID]; !ok {
		return nil, fmt.Errorf("member %d is not in the cluster given (%d members)", cfg.ID, len(cfg.Cluster))
	}
	members := make([]messages.Member, 0, len(cfg.Cluster))
	for id, addr := range cfg.Cluster {
		if err := membership.CheckID(id); err != nil {
			return nil, err
		}
		a, err := membership.ParsePeerAddress(addr)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", id, err)
		}
		members = append(members, messages.Member{ID: id, PeerAddress: a})
	}
	slices.SortFunc(members, func(a, b messages.Member) int { return cmp.Compare(a.ID, b.ID) })
	return members, nil
}

// ClusterID is the cluster id of a cluster of members restored from the
// backup whose checksum is sum: a hash of membership.ClusterIDOf(members)
// and sum. It differs from the id of the cluster the backup came from, even
// when restored at the same addresses, and from that of a cluster restored
// from another backup, so that members of either refuse each other.
func ClusterID(members []messages.Member, sum [32]byte) uint64 {
	h := fnv.New64a()
	h.Write(binary.BigEndian.AppendUint64(nil, membership.ClusterIDOf(members)))
	h.Write(sum[:])
	if id := h.Sum64(); id != 0 {
		return id
	}
	return 1
}
