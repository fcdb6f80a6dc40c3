package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/raftkv/raftkv/client"
)

// The examples run against a one-member cluster started by this package's
// tests; endpoint is its HTTP address, such as "http://127.0.0.1:12380".

func Example() {
	c, err := client.New([]string{endpoint})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	put, err := c.Put(ctx, "example/greeting", []byte("hello"))
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := c.Get(ctx, "example/greeting") // linearizable: sees the put
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s (written at revision %v)\n", got.KV.Value, got.KV.ModRevision == put.Revision)

	// Compare-and-swap: write only if nobody wrote since we read.
	_, err = c.Put(ctx, "example/greeting", []byte("hi"), client.IfMatch(got.KV.ModRevision))
	fmt.Println("first swap:", err)
	_, err = c.Put(ctx, "example/greeting", []byte("hey"), client.IfMatch(got.KV.ModRevision))
	var failed *client.Error
	if errors.Is(err, client.ErrPreconditionFailed) && errors.As(err, &failed) {
		fmt.Printf("second swap: precondition failed, the value is now %s\n", failed.KV.Value)
	}

	_, err = c.Get(ctx, "example/missing")
	fmt.Println("missing key:", errors.Is(err, client.ErrNotFound))
	// Output:
	// hello (written at revision true)
	// first swap: <nil>
	// second swap: precondition failed, the value is now hi
	// missing key: true
}

func ExampleClient_RangePrefix() {
	c, err := client.New([]string{endpoint})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{"ada", "alan", "barbara", "edsger", "grace"} {
		if _, err := c.Put(ctx, "example/users/"+name, []byte(name)); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Two keys a page, following the continuation token.
	var opts []client.OpOption
	for {
		page, err := c.RangePrefix(ctx, "example/users/", append(opts, client.WithLimit(2))...)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, kv := range page.KVs {
			fmt.Print(string(kv.Value), " ")
		}
		fmt.Println("| more:", page.More)
		if !page.More {
			break
		}
		opts = []client.OpOption{client.WithNext(page.Next)}
	}
	// Output:
	// ada alan | more: true
	// barbara edsger | more: true
	// grace | more: false
}

func ExampleClient_Txn() {
	c, err := client.New([]string{endpoint})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, "example/balance", []byte("100")); err != nil {
		fmt.Println(err)
		return
	}
	// Move the balance to another key, atomically, only if it is still 100.
	res, err := c.Txn(ctx, client.TxnRequest{
		Compare: []client.Compare{client.CompareValue("example/balance", client.Equal, []byte("100"))},
		Success: []client.Op{
			client.OpDelete("example/balance"),
			client.OpPut("example/savings", []byte("100")),
		},
		Failure: []client.Op{client.OpGet("example/balance")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("succeeded:", res.Succeeded, "deleted:", res.Responses[0].Deleted)
	// Output:
	// succeeded: true deleted: 1
}
