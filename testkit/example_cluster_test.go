package testkit_test

import (
	"fmt"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/testkit"
)

// A partition test: the member cut off from the others cannot confirm a
// linearizable read, a serializable read there is stale, and after the
// network heals it catches up. Deterministic mode makes the run a function
// of the seed.
func ExampleNewCluster_partition() {
	runTest(func(t testkit.TB) {
		c := testkit.NewCluster(t, 3, testkit.WithSeed(7), testkit.Deterministic(),
			testkit.WithRequestSteps(300))
		leader := c.WaitLeader()
		if err := c.Put(leader, "k", "before"); err != nil {
			t.Fatalf("put: %v", err)
		}

		c.Isolate(leader)
		var majority uint64
		c.Await("the other two elect a leader", func() bool {
			for _, id := range c.Running() {
				if st, err := c.Status(id); err == nil && id != leader && st.Leader != 0 && st.Leader != leader {
					majority = st.Leader
					return true
				}
			}
			return false
		})
		if err := c.Put(majority, "k", "after"); err != nil {
			t.Fatalf("put on the majority side: %v", err)
		}
		_, _, err := c.Get(leader, "k", false)
		fmt.Println("linearizable read on the cut-off member:", err != nil)
		stale, _, _ := c.Get(leader, "k", true)
		fmt.Println("serializable read on the cut-off member:", stale)

		c.Heal()
		var v string
		c.Await("the healed member reads the new value", func() bool {
			v, _, err = c.Get(leader, "k", false)
			return err == nil && v == "after"
		})
		fmt.Println("after healing:", v)
	})
	// Output:
	// linearizable read on the cut-off member: true
	// serializable read on the cut-off member: before
	// after healing: after
}

// Concurrent clients of a deterministic cluster: Go sends a request and
// returns at once, the steps answer it, and Done says so without taking a
// step. Here three clients write through three members at once; the
// cluster is stepped until all are answered.
func ExampleCluster_Go() {
	runTest(func(t testkit.TB) {
		c := testkit.NewCluster(t, 3, testkit.WithSeed(3), testkit.Deterministic(), testkit.WithRequestSteps(300))
		c.WaitLeader()
		var calls []*testkit.Call
		for id := uint64(1); id <= 3; id++ {
			put := &messages.ClientTxn{Txn: messages.Txn{Success: []messages.Op{
				{Type: messages.OpPut, Key: []byte(fmt.Sprint("k", id)), Value: []byte("v")},
			}}}
			calls = append(calls, c.Go(id, put))
		}
		for _, call := range calls {
			for !call.Done() {
				c.Step()
			}
		}
		for _, call := range calls {
			v, err := call.Reply()
			r, _ := v.(*messages.TxnReply)
			fmt.Printf("put through member %d: answered %v, err %v\n", call.Member(), r != nil && r.Err == nil, err)
		}
		c.WaitConverged()
		st, _ := c.State(1)
		fmt.Println("keys on member 1:", len(st.KVs))
	})
	// Output:
	// put through member 1: answered true, err <nil>
	// put through member 2: answered true, err <nil>
	// put through member 3: answered true, err <nil>
	// keys on member 1: 3
}
