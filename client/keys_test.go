package client_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/raftkv/raftkv/client"
)

// TestKeysOfAnyBytes round-trips keys of every byte, UTF-8 or not, NUL
// included, through the client: put, get, range, prev_kv, and the ops and
// compares of a txn. KeyBytes gives each key back whatever the JSON
// carried it in.
func TestKeysOfAnyBytes(t *testing.T) {
	c, ctx := newClient(t, endpoint), testCtx(t)
	const prefix = "cbin/"
	if _, err := c.DeletePrefix(ctx, prefix); err != nil { // left by an earlier -count
		t.Fatal(err)
	}
	var keys []string
	for b := range 256 {
		keys = append(keys, prefix+string([]byte{byte(b)}))
	}
	all := []byte(prefix)
	for b := range 256 {
		all = append(all, byte(b))
	}
	keys = append(keys, string(all))
	for i, k := range keys {
		if _, err := c.Put(ctx, k, []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("Put %q: %v", k, err)
		}
	}
	for i, k := range keys {
		got, err := c.Get(ctx, k)
		if err != nil || string(got.KV.KeyBytes()) != k || string(got.KV.Value) != fmt.Sprint(i) {
			t.Fatalf("Get %q: %+v, %v", k, got, err)
		}
	}
	var seen []string
	var opts []client.OpOption
	for pages := 0; pages < 20; pages++ {
		page, err := c.RangePrefix(ctx, prefix, append(opts, client.WithLimit(100))...)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range page.KVs {
			seen = append(seen, string(kv.KeyBytes()))
		}
		if !page.More {
			break
		}
		opts = []client.OpOption{client.WithNext(page.Next)}
	}
	want := append([]string{keys[0], keys[256]}, keys[1:256]...)
	if fmt.Sprintf("%q", seen) != fmt.Sprintf("%q", want) {
		t.Fatalf("range: %q\nwant %q", seen, want)
	}
	page, err := c.Range(ctx, prefix+"\x80", prefix+"\x90")
	if err != nil || len(page.KVs) != 16 || string(page.KVs[15].KeyBytes()) != prefix+"\x8f" {
		t.Fatalf("Range [0x80, 0x90): %+v, %v", page, err)
	}
	put, err := c.Put(ctx, keys[0xc0], []byte("again"), client.WithPrevKV())
	if err != nil || put.PrevKV == nil || string(put.PrevKV.KeyBytes()) != keys[0xc0] {
		t.Fatalf("Put with prev kv: %+v, %v", put, err)
	}

	newKey := prefix + "\xfe\x00new"
	res, err := c.Txn(ctx, client.TxnRequest{
		Compare: []client.Compare{client.CompareValue(keys[0xc0], client.Equal, []byte("again")), client.CompareExists(newKey, false)},
		Success: []client.Op{
			client.OpPut(newKey, []byte("new")),
			client.OpPut(keys[0x80], []byte("x"), client.WithPrevKV()),
			client.OpGet(keys[0xf0], client.WithRangeEnd(keys[0xff])),
			client.OpDelete(keys[0xfe], client.WithRangeEnd(prefix+"\xff\x00"), client.WithPrevKV()),
			client.OpGet(prefix+"\xf0", client.WithPrefix()),
		},
	})
	if err != nil || !res.Succeeded || len(res.Responses) != 5 {
		t.Fatalf("Txn: %+v, %v", res, err)
	}
	if r := res.Responses[1]; r.PrevKV == nil || string(r.PrevKV.KeyBytes()) != keys[0x80] {
		t.Errorf("put prev kv: %+v", r)
	}
	if r := res.Responses[2]; len(r.KVs) != 16 || string(r.KVs[0].KeyBytes()) != keys[0xf0] || string(r.KVs[15].KeyBytes()) != newKey {
		t.Errorf("get [0xf0, 0xff): %+v", r)
	}
	if r := res.Responses[3]; r.Deleted != 3 || len(r.PrevKVs) != 3 || string(r.PrevKVs[1].KeyBytes()) != newKey || string(r.PrevKVs[2].KeyBytes()) != keys[0xff] {
		t.Errorf("delete [0xfe, 0xff 0x00): %+v", r)
	}
	if r := res.Responses[4]; len(r.KVs) != 1 || !bytes.Equal(r.KVs[0].KeyBytes(), []byte(keys[0xf0])) {
		t.Errorf("get prefix 0xf0: %+v", r)
	}
	del, err := c.DeletePrefix(ctx, prefix+"\x00", client.WithPrevKV())
	if err != nil || del.Deleted != 2 || len(del.PrevKVs) != 2 || string(del.PrevKVs[1].KeyBytes()) != string(all) {
		t.Fatalf("DeletePrefix of prefix+NUL: %+v, %v", del, err)
	}
}
