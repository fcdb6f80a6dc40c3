package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/raftkv/raftkv/api"
)

// escapeAll percent-encodes every byte of key, for a path or a query.
func escapeAll(key []byte) string {
	var b strings.Builder
	for _, c := range key {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// binaryKeys are the keys of TestV1KeysOfAnyBytes: prefix and each byte
// 0x00..0xff (0x80 and up are not UTF-8 alone), and prefix and every byte
// in a row.
func binaryKeys(prefix string) [][]byte {
	var keys [][]byte
	for b := range 256 {
		keys = append(keys, append([]byte(prefix), byte(b)))
	}
	all := []byte(prefix)
	for b := range 256 {
		all = append(all, byte(b))
	}
	return append(keys, all)
}

// checkKeyFields checks that every object of a JSON answer that has a
// "key" or "key_base64" carries exactly one of them, "key" only for valid
// UTF-8, and returns how many such objects it saw.
func checkKeyFields(t *testing.T, body []byte) int {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	n := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			text, hasText := v["key"]
			b64, hasB64 := v["key_base64"]
			if hasText || hasB64 {
				n++
				switch {
				case hasText && hasB64:
					t.Errorf("object with both key and key_base64: %v", v)
				case hasB64:
					raw, err := base64.StdEncoding.DecodeString(b64.(string))
					if err != nil || utf8.Valid(raw) {
						t.Errorf("key_base64 %q for a key that is UTF-8 (or not base64: %v)", b64, err)
					}
				case strings.ContainsRune(text.(string), utf8.RuneError):
					t.Errorf("key %q holds U+FFFD: a byte that JSON could not carry was lost", text)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return n
}

// TestV1KeysOfAnyBytes round-trips keys of every byte, valid UTF-8 or
// not, NUL included, through the JSON API: put, get, range, prev_kv, and
// every kind of txn op and compare (key_base64, range_end_base64).
func TestV1KeysOfAnyBytes(t *testing.T) {
	const prefix = "bin/"
	clean(t, prefix)
	keys := binaryKeys(prefix)
	value := func(i int) string { return b64(fmt.Sprint(i)) }
	for i, key := range keys {
		r := mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/" + escapeAll(key), body: `{"value":"` + value(i) + `"}`})
		checkKeyFields(t, r.body)
	}
	// GET of each key answers its bytes.
	for i, key := range keys {
		r := mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv/" + escapeAll(key)})
		if checkKeyFields(t, r.body) != 1 {
			t.Fatalf("GET %q: %s", key, r.body)
		}
		var got api.GetReply
		r.json(t, &got)
		if !bytes.Equal(got.KV.KeyBytes(), key) || string(got.KV.Value) != fmt.Sprint(i) {
			t.Errorf("GET %q: key %q value %q", key, got.KV.KeyBytes(), got.KV.Value)
		}
	}
	// A range over the prefix, in pages, gives every key once, in order.
	var seen [][]byte
	next := ""
	for pages := 0; ; pages++ {
		path := "/v1/kv?limit=50&prefix=" + escapeAll([]byte(prefix))
		if next != "" {
			path += "&next=" + next
		}
		r := mustDo(t, http.StatusOK, call{method: "GET", path: path})
		checkKeyFields(t, r.body)
		var page api.RangeReply
		r.json(t, &page)
		for _, kv := range page.KVs {
			seen = append(seen, kv.KeyBytes())
		}
		if !page.More || pages > 10 {
			break
		}
		next = page.Next
	}
	// Keys sort bytewise: prefix+"\x00".."\xff", with prefix+every byte
	// after prefix+"\x00".
	want := append([][]byte{keys[0], keys[256]}, keys[1:256]...)
	if len(seen) != len(want) {
		t.Fatalf("range: %d keys, want %d", len(seen), len(want))
	}
	for i := range want {
		if !bytes.Equal(seen[i], want[i]) {
			t.Fatalf("range: key %d is %q, want %q", i, seen[i], want[i])
		}
	}
	// start/end are bytes too: [prefix+0x80, prefix+0x90).
	var rng api.RangeReply
	mustDo(t, http.StatusOK, call{method: "GET", path: "/v1/kv?start=" + escapeAll([]byte(prefix+"\x80")) + "&end=" + escapeAll([]byte(prefix+"\x90"))}).json(t, &rng)
	if len(rng.KVs) != 16 || !bytes.Equal(rng.KVs[0].KeyBytes(), []byte(prefix+"\x80")) {
		t.Errorf("start/end range: %d keys, first %q", len(rng.KVs), rng.KVs[0].KeyBytes())
	}

	// prev_kv of a put carries the key it replaced.
	for _, i := range []int{0, 0x41, 0x80, 0xff, 256} {
		r := mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/" + escapeAll(keys[i]) + "?prev_kv", body: `{"value":"` + value(i+1000) + `"}`})
		checkKeyFields(t, r.body)
		var put api.PutReply
		r.json(t, &put)
		if put.PrevKV == nil || !bytes.Equal(put.PrevKV.KeyBytes(), keys[i]) || string(put.PrevKV.Value) != fmt.Sprint(i) {
			t.Errorf("PUT %q ?prev_kv: %+v", keys[i], put.PrevKV)
		}
	}

	// A txn names keys and range ends in base64: compare, put, get with a
	// range end, delete with a range end and prev_kv.
	key64 := func(k []byte) string { return base64.StdEncoding.EncodeToString(k) }
	newKey := []byte(prefix + "\xfe\x00new")
	body := `{
		"compare": [{"key_base64":"` + key64(keys[0xff]) + `","target":"value","result":"equal","value":"` + value(0xff+1000) + `"}],
		"success": [
			{"put":{"key_base64":"` + key64(newKey) + `","value":"` + b64("new") + `","prev_kv":true}},
			{"put":{"key_base64":"` + key64(keys[0x80]) + `","value":"` + b64("x") + `","prev_kv":true}},
			{"get":{"key_base64":"` + key64(keys[0xf0]) + `","range_end_base64":"` + key64(keys[0xff]) + `"}},
			{"delete":{"key_base64":"` + key64(keys[0xfe]) + `","range_end_base64":"` + key64([]byte(prefix+"\xff\x00")) + `","prev_kv":true}},
			{"get":{"key":"` + prefix + `\u0000"}}
		]}`
	r := mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: body})
	if n := checkKeyFields(t, r.body); n != 1+16+3+1 {
		t.Errorf("txn answer has %d keys, want 21: %s", n, r.body)
	}
	var txn api.TxnReply
	r.json(t, &txn)
	if !txn.Succeeded || len(txn.Responses) != 5 {
		t.Fatalf("txn: %s", r.body)
	}
	if p := txn.Responses[0].Put; p == nil || p.PrevKV != nil {
		t.Errorf("put of a new key: %+v", p)
	}
	if p := txn.Responses[1].Put; p == nil || p.PrevKV == nil || !bytes.Equal(p.PrevKV.KeyBytes(), keys[0x80]) {
		t.Errorf("put prev_kv: %+v", p)
	}
	// [prefix+0xf0, prefix+0xff): 15 keys and the new one, put before.
	if g := txn.Responses[2].Get; g == nil || len(g.KVs) != 16 || !bytes.Equal(g.KVs[0].KeyBytes(), keys[0xf0]) || !bytes.Equal(g.KVs[15].KeyBytes(), newKey) {
		t.Errorf("get [0xf0, 0xff): %+v", g)
	}
	// [prefix+0xfe, prefix+0xff 0x00): prefix+0xfe, prefix+0xfe 0x00 new, prefix+0xff.
	if d := txn.Responses[3].Delete; d == nil || d.Deleted != 3 || len(d.PrevKVs) != 3 ||
		!bytes.Equal(d.PrevKVs[0].KeyBytes(), keys[0xfe]) || !bytes.Equal(d.PrevKVs[1].KeyBytes(), newKey) || !bytes.Equal(d.PrevKVs[2].KeyBytes(), keys[0xff]) {
		t.Errorf("delete [0xfe, 0xff 0x00): %+v", d)
	}
	if g := txn.Responses[4].Get; g == nil || len(g.KVs) != 1 || g.KVs[0].Key != prefix+"\x00" || g.KVs[0].KeyBase64 != nil {
		t.Errorf("get of a key with NUL, valid UTF-8: %+v", g)
	}
	mustDo(t, http.StatusNotFound, call{method: "GET", path: "/v1/kv/" + escapeAll(keys[0xff])})

	// DELETE by path, with prev_kv, of the key of every byte.
	r = mustDo(t, http.StatusOK, call{method: "DELETE", path: "/v1/kv/" + escapeAll(keys[256]) + "?prev_kv"})
	var del api.DeleteReply
	r.json(t, &del)
	if checkKeyFields(t, r.body) != 1 || del.Deleted != 1 || !bytes.Equal(del.PrevKVs[0].KeyBytes(), keys[256]) {
		t.Errorf("DELETE ?prev_kv of the key of every byte: %s", r.body)
	}
}
