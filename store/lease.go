package store

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/raftkv/raftkv/messages"
)

// leases are the store's leases and the keys attached to them: state of
// the state machine, applied in log order on every member alike and kept
// in snapshots. When a lease ends all its keys are deleted at one
// revision. Time is not here: when a lease expires is the leader's
// lessor's call, which it makes through the log (Revoke of a lease not
// renewed since).
type leases struct {
	byID map[int64]*lease
	// of holds the lease of every key attached to one.
	of map[string]int64
}

type lease struct {
	ttl      int64
	renewals uint64
	keys     map[string]struct{}
}

func newLeases() leases {
	return leases{byID: map[int64]*lease{}, of: map[string]int64{}}
}

// clone copies l for a View: the maps, not the keys' bytes.
func (l leases) clone() leases {
	c := leases{byID: make(map[int64]*lease, len(l.byID)), of: maps.Clone(l.of)}
	for id, x := range l.byID {
		c.byID[id] = &lease{ttl: x.ttl, renewals: x.renewals, keys: maps.Clone(x.keys)}
	}
	return c
}

// attach makes key's lease id (0: none, and an id that is not a lease,
// which CheckLeases keeps out), detaching it from its old one.
func (l leases) attach(key []byte, id int64) {
	if id == 0 && len(l.of) == 0 {
		return // no key has a lease: nothing to detach (the common put)
	}
	if l.byID[id] == nil {
		id = 0
	}
	k := string(key)
	if old, ok := l.of[k]; ok {
		if old == id {
			return
		}
		delete(l.byID[old].keys, k)
		delete(l.of, k)
	}
	if id != 0 {
		l.byID[id].keys[k] = struct{}{}
		l.of[k] = id
	}
}

// info describes lease id.
func (l leases) info(id int64) messages.LeaseInfo {
	x := l.byID[id]
	info := messages.LeaseInfo{ID: id, TTL: x.ttl, Renewals: x.renewals}
	for k := range x.keys {
		info.Keys = append(info.Keys, []byte(k))
	}
	slices.SortFunc(info.Keys, bytes.Compare)
	return info
}

// CheckLeases fails with ErrLeaseNotFound unless every lease that the puts
// of txn (in either branch) attach keys to exists.
func (s *Store) CheckLeases(txn messages.Txn) error {
	for _, ops := range [][]messages.Op{txn.Success, txn.Failure} {
		for i := range ops {
			if id := ops[i].Lease; ops[i].Type == messages.OpPut && id != 0 && s.leases.byID[id] == nil {
				return fmt.Errorf("put %q with lease %d: %w", ops[i].Key, id, messages.ErrLeaseNotFound)
			}
		}
	}
	return nil
}

// Grant creates lease id with a time to live of ttl seconds; it changes no
// key, and not the revision.
func (s *Store) Grant(id, ttl int64) error {
	if id <= 0 || ttl <= 0 {
		return fmt.Errorf("%w: lease %d with a TTL of %d s", ErrInvalid, id, ttl)
	}
	if s.leases.byID[id] != nil {
		return fmt.Errorf("grant lease %d: %w", id, messages.ErrLeaseExists)
	}
	s.leases.byID[id] = &lease{ttl: ttl, keys: map[string]struct{}{}}
	return nil
}

// KeepAlive counts one more renewal of lease id.
func (s *Store) KeepAlive(id int64) (messages.LeaseInfo, error) {
	x := s.leases.byID[id]
	if x == nil {
		return messages.LeaseInfo{}, fmt.Errorf("keep lease %d alive: %w", id, messages.ErrLeaseNotFound)
	}
	x.renewals++
	return messages.LeaseInfo{ID: id, TTL: x.ttl, Renewals: x.renewals}, nil
}

// Revoke ends lease id: its keys are deleted, all at the next revision
// (none if it has no key). renewals, when not nil, makes it apply only if
// the lease was renewed exactly that many times (an expiry decided before
// a renewal does nothing; it then returns false and no error).
func (s *Store) Revoke(id int64, renewals *uint64) (bool, messages.TxnResult, error) {
	x := s.leases.byID[id]
	if x == nil {
		return false, messages.TxnResult{Revision: s.revision}, fmt.Errorf("revoke lease %d: %w", id, messages.ErrLeaseNotFound)
	}
	if renewals != nil && *renewals != x.renewals {
		return false, messages.TxnResult{Revision: s.revision}, nil
	}
	keys := slices.Sorted(maps.Keys(x.keys))
	var txn messages.Txn
	for _, k := range keys {
		txn.Success = append(txn.Success, messages.Op{Type: messages.OpDelete, Key: []byte(k)})
	}
	res := s.Apply(txn) // detaches every key
	delete(s.leases.byID, id)
	return true, res, nil
}

// Lease describes lease id; false if there is none.
func (s *Store) Lease(id int64) (messages.LeaseInfo, bool) {
	if s.leases.byID[id] == nil {
		return messages.LeaseInfo{}, false
	}
	return s.leases.info(id), true
}

// LeaseCount is the number of leases.
func (s *Store) LeaseCount() int { return len(s.leases.byID) }

// Leases describes every lease, in id order.
func (s *Store) Leases() []messages.LeaseInfo {
	out := make([]messages.LeaseInfo, 0, len(s.leases.byID))
	for _, id := range slices.Sorted(maps.Keys(s.leases.byID)) {
		out = append(out, s.leases.info(id))
	}
	return out
}
