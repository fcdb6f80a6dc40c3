package client_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/client"
)

// TestRangePagesByDefault checks that a range without WithLimit answers
// the server's default page with More and Next, that paging visits every
// key once, and that a limit over the max is ErrInvalid.
func TestRangePagesByDefault(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	const prefix = "cmany/"
	if _, err := c.DeletePrefix(ctx, prefix); err != nil {
		t.Fatal(err)
	}
	n := api.DefaultRangeLimit + 10
	for i := 0; i < n; {
		var ops []client.Op
		for ; i < n && len(ops) < api.MaxTxnOps; i++ {
			ops = append(ops, client.OpPut(fmt.Sprintf("%s%05d", prefix, i), nil))
		}
		if _, err := c.Txn(ctx, client.TxnRequest{Success: ops}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.RangePrefix(ctx, prefix)
	if err != nil || len(page.KVs) != api.DefaultRangeLimit || !page.More || page.Next == "" {
		t.Fatalf("first page: %d keys, more %v, %v", len(page.KVs), page.More, err)
	}
	seen := len(page.KVs)
	page, err = c.RangePrefix(ctx, prefix, client.WithNext(page.Next))
	if err != nil || len(page.KVs) != 10 || page.More || page.KVs[0].Key != fmt.Sprintf("%s%05d", prefix, seen) {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	if _, err := c.RangePrefix(ctx, prefix, client.WithLimit(api.MaxRangeLimit+1)); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("limit over the max: %v, want ErrInvalid", err)
	}
	res, err := c.Txn(ctx, client.TxnRequest{Success: []client.Op{client.OpGet(prefix, client.WithPrefix())}})
	if err != nil || len(res.Responses[0].KVs) != api.DefaultRangeLimit || !res.Responses[0].More {
		t.Fatalf("txn get without limit: %v", err)
	}
	del, err := c.DeletePrefix(ctx, prefix, client.WithPrevKV())
	if err != nil || del.Deleted != int64(n) || len(del.PrevKVs) != api.MaxDeletePrevKVs || !del.PrevKVsTruncated {
		t.Fatalf("DeletePrefix with prev kv: deleted %d, %d prev kvs, truncated %v, %v", del.Deleted, len(del.PrevKVs), del.PrevKVsTruncated, err)
	}
}
