package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/client"
	"github.com/raftkv/raftkv/testkit"
)

// memberClient returns a client pinned to member id (no failover).
func (c *cluster) memberClient(id uint64) *client.Client {
	c.t.Helper()
	kv, err := client.New([]string{c.url(id, "")}, client.WithRetryRounds(1))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(kv.Close)
	return kv
}

func v1Ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Dilated(15*time.Second))
	t.Cleanup(cancel)
	return ctx
}

func TestV1ReadsWritesAndCASAcrossMembers(t *testing.T) {
	c := newCluster(t, 3)
	ctx := v1Ctx(t)
	m1, m2, m3 := c.memberClient(1), c.memberClient(2), c.memberClient(3)

	// A write acknowledged by one member is read at once by the others:
	// reads are linearizable on followers too.
	put, err := m1.Put(ctx, "v1/k", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	for id, kv := range map[uint64]*client.Client{2: m2, 3: m3} {
		got, err := kv.Get(ctx, "v1/k")
		if err != nil || string(got.KV.Value) != "one" || got.KV.ModRevision != put.Revision || got.Revision < put.Revision {
			t.Errorf("member %d reads %+v, %v; want one at %d", id, got, err, put.Revision)
		}
	}

	// CAS across members: the revision read on member 2 lets member 3
	// swap; member 1, swapping on the same revision, gets 412 and the
	// current value.
	got, err := m2.Get(ctx, "v1/k")
	if err != nil {
		t.Fatal(err)
	}
	swapped, err := m3.Put(ctx, "v1/k", []byte("two"), client.IfMatch(got.KV.ModRevision))
	if err != nil {
		t.Fatalf("CAS on member 3: %v", err)
	}
	_, err = m1.Put(ctx, "v1/k", []byte("three"), client.IfMatch(got.KV.ModRevision))
	var failed *client.Error
	if !errors.Is(err, client.ErrPreconditionFailed) || !errors.As(err, &failed) || failed.KV == nil ||
		string(failed.KV.Value) != "two" || failed.KV.ModRevision != swapped.Revision {
		t.Fatalf("stale CAS on member 1: %v, want 412 with two@%d", err, swapped.Revision)
	}

	// A range paged across members with the continuation token.
	for i := range 7 {
		if _, err := m1.Put(ctx, fmt.Sprintf("v1/range/%d", i), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	page, err := m2.RangePrefix(ctx, "v1/range/", client.WithLimit(4))
	if err != nil || len(page.KVs) != 4 || !page.More {
		t.Fatalf("first page on member 2: %+v, %v", page, err)
	}
	rest, err := m3.RangePrefix(ctx, "v1/range/", client.WithLimit(4), client.WithNext(page.Next))
	if err != nil || len(rest.KVs) != 3 || rest.More || rest.KVs[0].Key != "v1/range/4" {
		t.Fatalf("second page on member 3: %+v, %v", rest, err)
	}

	// A transaction on member 2, a prefix delete on member 3.
	res, err := m2.Txn(ctx, client.TxnRequest{
		Compare: []client.Compare{client.CompareValue("v1/k", client.Equal, []byte("two"))},
		Success: []client.Op{client.OpPut("v1/txn", []byte("yes")), client.OpGet("v1/range/", client.WithPrefix(), client.WithLimit(1))},
	})
	if err != nil || !res.Succeeded || len(res.Responses) != 2 || len(res.Responses[1].KVs) != 1 {
		t.Fatalf("txn on member 2: %+v, %v", res, err)
	}
	del, err := m3.DeletePrefix(ctx, "v1/range/")
	if err != nil || del.Deleted != 7 {
		t.Fatalf("delete prefix on member 3: %+v, %v", del, err)
	}
	if page, err := m1.RangePrefix(ctx, "v1/range/"); err != nil || len(page.KVs) != 0 {
		t.Fatalf("member 1 after the prefix delete: %+v, %v", page, err)
	}

	// Every member reports the same revision once it applied everything.
	var revs []int64
	testkit.AwaitCondition(t, "members agree on the revision", func() bool {
		revs = nil
		for _, kv := range []*client.Client{m1, m2, m3} {
			st, err := kv.Status(ctx)
			if err != nil {
				return false
			}
			revs = append(revs, st.Revision)
		}
		agree := revs[0] == del.Revision && revs[1] == del.Revision && revs[2] == del.Revision
		if !agree {
			t.Logf("members report revisions %v, want %d", revs, del.Revision)
		}
		return agree
	}, 10*time.Second)

	// The raw HTTP shapes: revision header, ETag, raw value.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url(3, "/v1/kv/v1/txn?raw"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get(api.HeaderRevision) == "" ||
		resp.Header.Get("ETag") != fmt.Sprintf(`"%d"`, res.Revision) {
		t.Errorf("raw GET: %d, headers %v", resp.StatusCode, resp.Header)
	}
}

func TestV1ClientFailsOverWhenAMemberDies(t *testing.T) {
	c := newCluster(t, 3)
	ctx := v1Ctx(t)
	leader := c.waitLeader()
	// The client prefers the leader, which is about to die.
	var eps []string
	for id := uint64(1); id <= 3; id++ {
		if id == leader {
			eps = append([]string{c.url(id, "")}, eps...)
		} else {
			eps = append(eps, c.url(id, ""))
		}
	}
	kv, err := client.New(eps, client.WithRetryBackoff(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if _, err := kv.Put(ctx, "fo/before", []byte("1")); err != nil {
		t.Fatal(err)
	}
	c.kill(leader)
	// A write sent to a follower that still takes the dead member for the
	// leader is forwarded to it and lost, and would end in a timeout: wait
	// until the others agree on a new leader.
	c.waitLeader()
	// The next calls find the dead member refusing connections and go on
	// to the others.
	put, err := kv.Put(ctx, "fo/after", []byte("2"))
	if err != nil {
		t.Fatalf("Put after the leader died: %v", err)
	}
	got, err := kv.Get(ctx, "fo/before")
	if err != nil || string(got.KV.Value) != "1" || got.Revision < put.Revision {
		t.Fatalf("Get after the leader died: %+v, %v", got, err)
	}
	m, err := kv.Members(ctx)
	if err != nil || len(m.Members) != 3 || m.Leader == leader {
		t.Fatalf("Members after the leader died: %+v, %v", m, err)
	}
	st, err := kv.Status(ctx)
	if err != nil || st.Endpoint == c.url(leader, "") {
		t.Fatalf("Status after the leader died: %+v, %v", st, err)
	}
}

func TestV1AddAndRemoveMember(t *testing.T) {
	c := newCluster(t, 3)
	ctx := v1Ctx(t)
	kv, err := client.New([]string{c.url(1, ""), c.url(2, ""), c.url(3, "")})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if _, err := kv.Put(ctx, "mem/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	id := c.addSlot()
	if err := kv.AddMember(ctx, id, c.peers[id-1]); err != nil {
		t.Fatalf("AddMember %d: %v", id, err)
	}
	c.start(id, true)
	newbie := c.memberClient(id)
	testkit.AwaitCondition(t, "the new member reads mem/k", func() bool {
		got, err := newbie.Get(ctx, "mem/k")
		return err == nil && string(got.KV.Value) == "v"
	}, 20*time.Second)
	if err := kv.AddMember(ctx, id, c.peers[id-1]); !errors.Is(err, client.ErrMemberExists) {
		t.Fatalf("AddMember %d again: %v, want ErrMemberExists", id, err)
	}
	m, err := newbie.Members(ctx)
	if err != nil || len(m.Members) != 4 {
		t.Fatalf("Members on the new member: %+v, %v", m, err)
	}

	if err := kv.RemoveMember(ctx, id); err != nil {
		t.Fatalf("RemoveMember %d: %v", id, err)
	}
	select {
	case <-c.procs[id].exited:
	case <-time.After(testkit.Dilated(20 * time.Second)):
		t.Fatalf("removed member %d did not shut down", id)
	}
	if err := kv.RemoveMember(ctx, id); !errors.Is(err, client.ErrMemberNotFound) {
		t.Fatalf("RemoveMember %d again: %v, want ErrMemberNotFound", id, err)
	}
}
