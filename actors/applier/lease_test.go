package applier_test

import (
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/metrics/metricstest"
	"github.com/raftkv/raftkv/testkit"
)

func leaseEntry(index, seq uint64, ch messages.LeaseChange) *raftpb.Entry {
	data, err := messages.EncodeCommand(messages.Command{ID: messages.RequestID{Node: self, Seq: seq}, Lease: &ch})
	if err != nil {
		panic(err)
	}
	return entry(index, raftpb.EntryNormal, data)
}

// Lease commands apply in the log, the lessor hears of each, a put needs
// its lease to exist, and a lease's end deletes its keys.
func TestLeaseCommands(t *testing.T) {
	m := metrics.New()
	f := newFixture(t, applier.Config{Metrics: m})
	leases := func() float64 { return metricstest.Value(t, m.Registry(), "raftkv_store_leases", nil) }
	if all := testkit.ExpectMsg[*messages.LeaseApplied](f.lessor); !all.Reset || len(all.All) != 0 {
		t.Errorf("at start the lessor got %+v, want every lease (none)", all)
	}
	result := func() *messages.Result { return testkit.ExpectMsg[*messages.Result](f.proposer) }

	f.applyEntries(leaseEntry(1, 1, messages.LeaseChange{Op: messages.LeaseGrant, ID: 9, TTL: 5}))
	if r := result(); r.Err != nil {
		t.Fatalf("grant: %+v", r)
	}
	if l := testkit.ExpectMsg[*messages.LeaseApplied](f.lessor); l.Lease.ID != 9 || l.Lease.TTL != 5 || l.Gone {
		t.Errorf("the lessor got %+v, want lease 9 granted", l)
	}
	if n := leases(); n != 1 {
		t.Errorf("raftkv_store_leases %v after a grant, want 1", n)
	}
	withLease := putTxn("k", "v")
	withLease.Success[0].Lease = 9
	withMissing := putTxn("m", "v")
	withMissing.Success[0].Lease = 10
	f.applyEntries(txnEntry(2, 1, self, 2, withLease), txnEntry(3, 1, self, 3, withMissing))
	if r := result(); r.Err != nil {
		t.Errorf("put with lease 9: %+v", r)
	}
	if r := result(); !errors.Is(r.Err, messages.ErrLeaseNotFound) {
		t.Errorf("put with lease 10: %+v, want ErrLeaseNotFound", r)
	}
	if res, _ := f.get("m"); len(res.KVs) != 0 {
		t.Error("the put with a missing lease wrote its key")
	}

	f.applyEntries(leaseEntry(4, 4, messages.LeaseChange{Op: messages.LeaseKeepAlive, ID: 9}))
	result()
	if l := testkit.ExpectMsg[*messages.LeaseApplied](f.lessor); l.Lease.Renewals != 1 {
		t.Errorf("after a keepalive the lessor got %+v, want 1 renewal", l)
	}
	client := testkit.NewProbe(t, f.system)
	f.system.Root.Send(f.pid, &messages.ReadBatch{Reads: []messages.Read{{Op: messages.Op{Type: messages.OpLeaseInfo, Lease: 9}, ReplyTo: client.PID()}}})
	if r := testkit.ExpectMsg[*messages.ReadReply](client); r.Lease == nil || len(r.Lease.Keys) != 1 || string(r.Lease.Keys[0]) != "k" {
		t.Errorf("lease 9: %+v", r)
	}

	// An expiry decided before the renewal does nothing; one after it
	// ends the lease and deletes its key.
	f.applyEntries(leaseEntry(5, 5, messages.LeaseChange{Op: messages.LeaseExpire, ID: 9, Renewals: 0}))
	if r := result(); r.Err != nil {
		t.Errorf("stale expiry: %+v", r)
	}
	if res, _ := f.get("k"); len(res.KVs) != 1 {
		t.Error("a stale expiry deleted the key")
	}
	f.applyEntries(leaseEntry(6, 6, messages.LeaseChange{Op: messages.LeaseExpire, ID: 9, Renewals: 1}))
	if r := result(); r.Err != nil || r.Result.Revision != 2 {
		t.Errorf("expiry: %+v, want the key deleted at revision 2", r)
	}
	if l := testkit.ExpectMsg[*messages.LeaseApplied](f.lessor); l.Lease.ID != 9 || !l.Gone {
		t.Errorf("the lessor got %+v, want lease 9 gone", l)
	}
	if res, _ := f.get("k"); len(res.KVs) != 0 {
		t.Error("the expired lease's key is still there")
	}
	if n := leases(); n != 0 {
		t.Errorf("raftkv_store_leases %v after the expiry, want 0", n)
	}
	f.applyEntries(leaseEntry(7, 7, messages.LeaseChange{Op: messages.LeaseKeepAlive, ID: 9}))
	if r := result(); !errors.Is(r.Err, messages.ErrLeaseNotFound) {
		t.Errorf("keepalive of an expired lease: %+v", r)
	}
	f.barrier(f.lessor)
}
