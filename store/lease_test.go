package store

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func putLease(k, v string, lease int64) messages.Op {
	op := put(k, v)
	op.Lease = lease
	return op
}

func leaseKeys(t *testing.T, s *Store, id int64) string {
	t.Helper()
	l, ok := s.Lease(id)
	if !ok {
		return "none"
	}
	return fmt.Sprintf("%q", l.Keys)
}

func TestLeases(t *testing.T) {
	s := New()
	if err := s.Grant(7, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Grant(7, 10); !errors.Is(err, messages.ErrLeaseExists) {
		t.Errorf("grant of 7 twice: %v, want ErrLeaseExists", err)
	}
	for _, bad := range [][2]int64{{0, 10}, {8, 0}, {-1, 5}} {
		if err := s.Grant(bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("grant %v: %v, want invalid", bad, err)
		}
	}
	if err := s.CheckLeases(txn(putLease("x", "1", 99))); !errors.Is(err, messages.ErrLeaseNotFound) {
		t.Errorf("a put with lease 99: %v, want ErrLeaseNotFound", err)
	}
	applyAll(s, txn(putLease("a", "1", 7), putLease("b", "1", 7), put("c", "1")))
	if got := leaseKeys(t, s, 7); got != `["a" "b"]` {
		t.Errorf("lease 7 holds %s", got)
	}
	applyAll(s, txn(put("b", "2")), txn(putLease("c", "2", 7)), txn(del("a")))
	if got := leaseKeys(t, s, 7); got != `["c"]` {
		t.Errorf("after b was put without it, c with it and a deleted, lease 7 holds %s", got)
	}
	info, err := s.KeepAlive(7)
	if err != nil || info.Renewals != 1 || info.TTL != 10 {
		t.Errorf("keepalive: %+v, %v", info, err)
	}
	stale := uint64(0)
	if done, _, err := s.Revoke(7, &stale); done || err != nil {
		t.Errorf("an expiry decided before the renewal: %v, %v; want nothing done", done, err)
	}
	before := s.Revision()
	renewed := uint64(1)
	done, res, err := s.Revoke(7, &renewed)
	if !done || err != nil || res.Revision != before+1 {
		t.Fatalf("expiry: %v, %+v, %v; want the keys deleted at %d", done, res, err, before+1)
	}
	if _, ok := s.Lease(7); ok {
		t.Error("lease 7 is still there")
	}
	if r, _ := s.Range(get("c")); len(r.KVs) != 0 {
		t.Error("the lease's key c is still there")
	}
	changes, _ := s.Changes(before + 1)
	if len(changes) != 1 || changes[0].Type != messages.EventDelete || string(changes[0].KV.Key) != "c" {
		t.Errorf("the expiry's changes: %+v, want the delete of c", changes)
	}
	if _, _, err := s.Revoke(7, nil); !errors.Is(err, messages.ErrLeaseNotFound) {
		t.Errorf("revoke of an ended lease: %v", err)
	}
	if _, err := s.KeepAlive(7); !errors.Is(err, messages.ErrLeaseNotFound) {
		t.Errorf("keepalive of an ended lease: %v", err)
	}
	// A lease without keys ends without a revision.
	if err := s.Grant(8, 1); err != nil {
		t.Fatal(err)
	}
	rev := s.Revision()
	if done, res, err := s.Revoke(8, nil); !done || err != nil || res.Revision != rev {
		t.Errorf("revoke of a lease without keys: %v, %+v, %v; want revision %d", done, res, err, rev)
	}
}

// Leases and their keys go through a snapshot; a damaged leases section
// is refused.
func TestLeasesInSnapshot(t *testing.T) {
	s := New()
	for _, id := range []int64{3, 5} {
		if err := s.Grant(id, id*10); err != nil {
			t.Fatal(err)
		}
	}
	applyAll(s, txn(putLease("a", "1", 3), putLease("b", "1", 5), putLease("c", "1", 5), put("d", "1")))
	if _, err := s.KeepAlive(5); err != nil {
		t.Fatal(err)
	}
	data := snapshotOf(t, s).Bytes()
	r, err := ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Leases(), s.Leases()) {
		t.Errorf("restored leases %+v, want %+v", r.Leases(), s.Leases())
	}
	patch := refusesDamage(t, data)
	for name, bad := range map[string][]byte{
		"lease id 0":                 patch(nameID+"\x03", nameID+"\x00"),
		"leases out of order":        patch(nameID+"\x05", nameID+"\x02"),
		"a TTL of 0":                 patch(nameTTL+"\x1e", nameTTL+"\x00"),
		"a key of no lease":          patch(nameLease+"\x03", nameLease+"\x09"),
		"a lease of a missing key":   patch("\xa3key\xc4\x01a"+nameLease, "\xa3key\xc4\x01z"+nameLease),
		"key leases out of order":    patch("\xa3key\xc4\x01c"+nameLease, "\xa3key\xc4\x01a"+nameLease),
		"more leases than the count": patch(nameLeases+"\x02", nameLeases+"\x01"),
	} {
		if _, err := ReadSnapshot(bytes.NewReader(bad)); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v, want corrupt", name, err)
		}
	}
}
