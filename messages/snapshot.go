package messages

import "fmt"

// SnapshotMeta is what a raft snapshot's Data holds in raftkv: the
// membership and the applied requests at the snapshot's index, and the size
// and checksum of the file that holds the store's state at that index (its name follows from the
// snapshot's term and index). The store itself lives in that file, so that
// neither raft's in-memory log nor a raft message ever holds it whole.
type SnapshotMeta struct {
	Version    uint8           `msgpack:"version"`
	DBSize     uint64          `msgpack:"db_size"`
	DBCRC      uint32          `msgpack:"db_crc"`
	Membership MembershipState `msgpack:"membership"`
	// Requests are the request ids whose commands were applied up to the
	// snapshot's index, so that a command in the log twice applies once.
	Requests []AppliedRequests `msgpack:"requests,omitempty"`
	// Alarms are the members whose NOSPACE alarm is raised, ascending.
	Alarms []uint64 `msgpack:"alarms,omitempty"`
}

// RequestWindow is how many of a member's most recent request counters the
// state machine tells apart (see AppliedRequests).
const RequestWindow = 1 << 16

// AppliedRequests are the applied commands of the member Node: the highest
// request counter applied, Top, and which of the RequestWindow counters up
// to it were applied: counter s is bit s%64 of word s%RequestWindow/64 of
// Seen, which has RequestWindow/64 words.
type AppliedRequests struct {
	Node uint64   `msgpack:"node"`
	Top  uint64   `msgpack:"top"`
	Seen []uint64 `msgpack:"seen"`
}

// MembershipState is the cluster's membership as the log defines it at some
// index: the cluster id, the members in ascending id order, and the members
// that were removed (ids are never reused), also in ascending id order.
type MembershipState struct {
	ClusterID uint64          `msgpack:"cluster_id"`
	Members   []Member        `msgpack:"members"`
	Removed   []RemovedMember `msgpack:"removed,omitempty"`
	// Requests are the request ids of the latest committed membership
	// changes, applied or refused, oldest first: a copy of one of them (a
	// request forwarded twice, or asked again after a leader change) is
	// not proposed, nor applied, again.
	Requests []RequestID `msgpack:"requests,omitempty"`
}

// RemovedMember is a member that was removed, with the peer address it had,
// so that it can be told if it comes back.
type RemovedMember struct {
	ID          uint64 `msgpack:"id"`
	PeerAddress string `msgpack:"peer_address"`
}

// SnapshotFormatVersion is the version of SnapshotMeta. Version 1 was a
// snapshot holding the whole store in the raft snapshot itself.
const SnapshotFormatVersion = 2

// EncodeSnapshotMeta stamps m with SnapshotFormatVersion and encodes it for
// a raft snapshot's Data.
func EncodeSnapshotMeta(m SnapshotMeta) ([]byte, error) {
	m.Version = SnapshotFormatVersion
	return Encode(&m)
}

// DecodeSnapshotMeta decodes a raft snapshot's Data written by
// EncodeSnapshotMeta.
func DecodeSnapshotMeta(data []byte) (SnapshotMeta, error) {
	var h struct {
		Version uint8 `msgpack:"version"`
	}
	if err := Decode(data, &h); err != nil {
		return SnapshotMeta{}, fmt.Errorf("snapshot data: %w", err)
	}
	if h.Version != SnapshotFormatVersion {
		return SnapshotMeta{}, fmt.Errorf("snapshot data of format version %d (this build reads %d; version 1 is an earlier raftkv's): %w",
			h.Version, SnapshotFormatVersion, ErrVersion)
	}
	var m SnapshotMeta
	if err := Decode(data, &m); err != nil {
		return SnapshotMeta{}, fmt.Errorf("snapshot data: %w", err)
	}
	seen := map[uint64]bool{}
	for _, a := range m.Requests {
		if len(a.Seen) != RequestWindow/64 || seen[a.Node] {
			return SnapshotMeta{}, fmt.Errorf("snapshot data: applied requests of member %d: %d words (want %d), or listed twice",
				a.Node, len(a.Seen), RequestWindow/64)
		}
		seen[a.Node] = true
	}
	return m, nil
}
