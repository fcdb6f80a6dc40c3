package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/raftkv/raftkv/messages"
)

// snapshotVersion is the format version of the data Snapshot writes.
// Restore refuses any other version with an error wrapping
// messages.ErrVersion.
const snapshotVersion = 1

// errCorrupt is wrapped by Restore's errors for data that decodes but breaks
// an invariant of the store.
var errCorrupt = errors.New("raftkv: corrupt store snapshot")

// The snapshot format. Every field has an explicit msgpack name (the codec
// of package messages reads msgpack tags), so renaming a Go field never
// changes the format. The store defines its own KeyValue record rather than
// encoding messages.KeyValue, so the snapshot format does not depend on how
// another package tags its types.

// snapshotHeader is decoded first, to refuse an unknown version before the
// rest of the data is interpreted.
type snapshotHeader struct {
	Version uint8 `msgpack:"version"`
}

// snapshotData is the whole state. KVs are in strictly ascending key order,
// Members in strictly ascending id order, so that equal states encode to
// equal bytes.
type snapshotData struct {
	Version  uint8            `msgpack:"version"`
	Revision int64            `msgpack:"revision"`
	KVs      []snapshotKV     `msgpack:"kvs"`
	Members  []snapshotMember `msgpack:"members"`
}

type snapshotKV struct {
	Key            []byte `msgpack:"key"`
	Value          []byte `msgpack:"value"`
	CreateRevision int64  `msgpack:"create_revision"`
	ModRevision    int64  `msgpack:"mod_revision"`
	Version        int64  `msgpack:"version"`
}

type snapshotMember struct {
	ID      uint64 `msgpack:"id"`
	Address string `msgpack:"address"`
}

// Snapshot serializes the whole state (keys, revision and members) with
// messages.Encode. Equal states give equal bytes. The data holds the whole
// store in memory once more while it is built.
func (s *Store) Snapshot() ([]byte, error) {
	d := snapshotData{
		Version:  snapshotVersion,
		Revision: s.revision,
		KVs:      make([]snapshotKV, 0, s.tree.Len()),
		Members:  make([]snapshotMember, 0, len(s.members)),
	}
	s.tree.Ascend(func(kv *messages.KeyValue) bool {
		d.KVs = append(d.KVs, snapshotKV{
			Key:            kv.Key,
			Value:          kv.Value,
			CreateRevision: kv.CreateRevision,
			ModRevision:    kv.ModRevision,
			Version:        kv.Version,
		})
		return true
	})
	for id, addr := range s.members {
		d.Members = append(d.Members, snapshotMember{ID: id, Address: addr})
	}
	slices.SortFunc(d.Members, func(a, b snapshotMember) int { return cmp.Compare(a.ID, b.ID) })
	data, err := messages.Encode(&d)
	if err != nil {
		return nil, fmt.Errorf("store snapshot: %w", err)
	}
	return data, nil
}

// Restore replaces the whole state with data written by Snapshot. It returns
// an error, and leaves the store unchanged, if data is malformed, breaks an
// invariant of the store (keys out of order, revisions out of range, ...),
// or has a format version this build does not know (the error then wraps
// messages.ErrVersion). Restore does not keep a reference to data.
func (s *Store) Restore(data []byte) error {
	var h snapshotHeader
	if err := messages.Decode(data, &h); err != nil {
		return fmt.Errorf("store restore: %w", err)
	}
	if h.Version != snapshotVersion {
		return fmt.Errorf("store restore: snapshot version %d: %w", h.Version, messages.ErrVersion)
	}
	var d snapshotData
	if err := messages.Decode(data, &d); err != nil {
		return fmt.Errorf("store restore: %w", err)
	}
	tree, members, err := d.build()
	if err != nil {
		return fmt.Errorf("store restore: %w", err)
	}
	s.tree, s.revision, s.members = tree, d.Revision, members
	return nil
}

// build checks the invariants that Apply maintains and returns the tree and
// membership d describes.
func (d *snapshotData) build() (*btreeKV, map[uint64]string, error) {
	if d.Version != snapshotVersion {
		return nil, nil, fmt.Errorf("snapshot version %d: %w", d.Version, messages.ErrVersion)
	}
	if d.Revision < 0 {
		return nil, nil, fmt.Errorf("%w: negative revision %d", errCorrupt, d.Revision)
	}
	tree := newTree()
	for i := range d.KVs {
		kv := &d.KVs[i]
		if i > 0 && bytes.Compare(d.KVs[i-1].Key, kv.Key) >= 0 {
			return nil, nil, fmt.Errorf("%w: key %d is not after key %d", errCorrupt, i, i-1)
		}
		if kv.CreateRevision < 1 || kv.ModRevision < kv.CreateRevision || kv.ModRevision > d.Revision {
			return nil, nil, fmt.Errorf("%w: key %d: create revision %d, mod revision %d, store revision %d",
				errCorrupt, i, kv.CreateRevision, kv.ModRevision, d.Revision)
		}
		if kv.Version < 1 {
			return nil, nil, fmt.Errorf("%w: key %d: version %d", errCorrupt, i, kv.Version)
		}
		// The decoder allocates fresh slices (it does not alias data), so the
		// store may own them. Normalize nil to empty like put does.
		stored := &messages.KeyValue{
			Key:            kv.Key,
			Value:          kv.Value,
			CreateRevision: kv.CreateRevision,
			ModRevision:    kv.ModRevision,
			Version:        kv.Version,
		}
		if stored.Key == nil {
			stored.Key = []byte{}
		}
		if stored.Value == nil {
			stored.Value = []byte{}
		}
		tree.ReplaceOrInsert(stored)
	}
	members := make(map[uint64]string, len(d.Members))
	for i, m := range d.Members {
		if i > 0 && d.Members[i-1].ID >= m.ID {
			return nil, nil, fmt.Errorf("%w: member %d (id %d) is not after member %d", errCorrupt, i, m.ID, i-1)
		}
		members[m.ID] = m.Address
	}
	return tree, members, nil
}
