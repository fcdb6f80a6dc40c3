package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/api"
)

// putMany writes n keys prefix+"%05d" with small values, in txns of
// api.MaxTxnOps puts.
func putMany(t *testing.T, prefix string, n int) []string {
	t.Helper()
	var keys []string
	for i := 0; i < n; {
		var ops []string
		for ; i < n && len(ops) < api.MaxTxnOps; i++ {
			k := fmt.Sprintf("%s%05d", prefix, i)
			keys = append(keys, k)
			ops = append(ops, `{"put":{"key":"`+k+`","value":"`+b64("v")+`"}}`)
		}
		mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: `{"success":[` + strings.Join(ops, ",") + `]}`})
	}
	return keys
}

// pageThrough follows "next" from path and returns every key it saw and
// the number of keys of each page.
func pageThrough(t *testing.T, path string) (keys []string, sizes []int) {
	t.Helper()
	next := ""
	for {
		p := path
		if next != "" {
			p += "&next=" + next
		}
		var page api.RangeReply
		mustDo(t, http.StatusOK, call{method: "GET", path: p}).json(t, &page)
		sizes = append(sizes, len(page.KVs))
		for _, kv := range page.KVs {
			keys = append(keys, kv.Key)
		}
		if page.More != (page.Next != "") {
			t.Fatalf("%s: more %v with next %q", p, page.More, page.Next)
		}
		if !page.More {
			return keys, sizes
		}
		if len(sizes) > 100 {
			t.Fatalf("%s: no end after %d pages", path, len(sizes))
		}
		next = page.Next
	}
}

// TestV1RangePagesByDefault checks that a range without a limit answers a
// page of api.DefaultRangeLimit keys with "more" and "next" (it answered
// the whole store before), that paging visits every key once, that a limit
// over api.MaxRangeLimit is refused, and that txn gets and the prev_kvs of
// a prefix delete are bounded the same way.
func TestV1RangePagesByDefault(t *testing.T) {
	const prefix = "many/"
	clean(t, prefix)
	n := api.DefaultRangeLimit + 250
	want := putMany(t, prefix, n)

	got, sizes := pageThrough(t, "/v1/kv?prefix="+prefix)
	if len(sizes) != 2 || sizes[0] != api.DefaultRangeLimit || sizes[1] != 250 {
		t.Errorf("pages without a limit: sizes %v, want [%d 250]", sizes, api.DefaultRangeLimit)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pages without a limit: %d keys, not every key once in order", len(got))
	}
	got, sizes = pageThrough(t, "/v1/kv?limit=0&prefix="+prefix)
	if len(sizes) != 2 || sizes[0] != api.DefaultRangeLimit || len(got) != n {
		t.Errorf("limit=0: sizes %v", sizes)
	}
	got, sizes = pageThrough(t, fmt.Sprintf("/v1/kv?limit=%d&prefix=%s", api.MaxRangeLimit, prefix))
	if len(sizes) != 1 || len(got) != n {
		t.Errorf("limit=%d: sizes %v", api.MaxRangeLimit, sizes)
	}
	got, _ = pageThrough(t, "/v1/kv?limit=333&start="+prefix+"&end="+prefix+"~")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("start/end pages of 333: %d keys, not every key once in order", len(got))
	}

	r := mustDo(t, http.StatusBadRequest, call{method: "GET", path: fmt.Sprintf("/v1/kv?limit=%d", api.MaxRangeLimit+1)})
	if e := errorOf(t, r); !strings.Contains(e.Error, fmt.Sprint(api.MaxRangeLimit)) {
		t.Errorf("limit over the max: %q does not say the max", e.Error)
	}

	// A txn get without a limit gets the default page and "more".
	var txn api.TxnReply
	mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: `{"success":[{"get":{"key":"` + prefix + `","prefix":true}},{"get":{"key":"` + prefix + `","prefix":true,"limit":5}}]}`}).json(t, &txn)
	if g := txn.Responses[0].Get; len(g.KVs) != api.DefaultRangeLimit || !g.More {
		t.Errorf("txn get without limit: %d keys, more %v", len(g.KVs), g.More)
	}
	if g := txn.Responses[1].Get; len(g.KVs) != 5 || !g.More {
		t.Errorf("txn get with limit 5: %d keys, more %v", len(g.KVs), g.More)
	}
	manyGets := strings.Repeat(`{"get":{"key":"`+prefix+`","prefix":true}},`, api.MaxRangeLimit/api.DefaultRangeLimit)
	mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: `{"success":[` + strings.TrimSuffix(manyGets, ",") + `]}`})
	for i, body := range []string{
		fmt.Sprintf(`{"success":[{"get":{"key":"a","range_end":"b","limit":%d}}]}`, api.MaxRangeLimit+1),
		`{"success":[` + manyGets + `{"get":{"key":"a","prefix":true}}]}`,
		`{"failure":[` + manyGets + `{"delete":{"key":"a","prefix":true,"prev_kv":true}}]}`,
	} {
		r := mustDo(t, http.StatusBadRequest, call{method: "POST", path: "/v1/txn", body: body})
		if e := errorOf(t, r); !strings.Contains(e.Error, fmt.Sprint(api.MaxRangeLimit)) {
			t.Errorf("%d: txn reading too many keys: %q does not say the max", i, e.Error)
		}
	}

	// prev_kv of a prefix delete returns the first api.MaxDeletePrevKVs
	// keys and says so; "deleted" counts them all.
	var del api.DeleteReply
	mustDo(t, http.StatusOK, call{method: "DELETE", path: "/v1/kv/" + prefix + "?prefix&prev_kv"}).json(t, &del)
	if del.Deleted != int64(n) || len(del.PrevKVs) != api.MaxDeletePrevKVs || !del.PrevKVsTruncated || del.PrevKVs[0].Key != want[0] {
		t.Errorf("prefix delete with prev_kv: deleted %d, %d prev_kvs, truncated %v", del.Deleted, len(del.PrevKVs), del.PrevKVsTruncated)
	}
	want = putMany(t, prefix, n)
	mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: `{"success":[{"delete":{"key":"` + prefix + `","prefix":true,"prev_kv":true}},{"delete":{"key":"none/","prefix":true,"prev_kv":true}}]}`}).json(t, &txn)
	if d := txn.Responses[0].Delete; d.Deleted != int64(n) || len(d.PrevKVs) != api.MaxDeletePrevKVs || !d.PrevKVsTruncated || d.PrevKVs[api.MaxDeletePrevKVs-1].Key != want[api.MaxDeletePrevKVs-1] {
		t.Errorf("txn prefix delete with prev_kv: deleted %d, %d prev_kvs, truncated %v", d.Deleted, len(d.PrevKVs), d.PrevKVsTruncated)
	}
	if d := txn.Responses[1].Delete; d.Deleted != 0 || len(d.PrevKVs) != 0 || d.PrevKVsTruncated {
		t.Errorf("txn prefix delete of nothing: %+v", d)
	}
}

// TestV1PageStopsAtByteBound fills a range with more than api.MaxRangeBytes
// of values: a page stops before the key that would take it over (it held
// every key before), "next" goes on, and txn gets share one budget.
func TestV1PageStopsAtByteBound(t *testing.T) {
	const prefix = "heavy/"
	clean(t, prefix)
	big := bytes.Repeat([]byte("x"), 1<<20)
	octet := map[string]string{"Content-Type": "application/octet-stream"}
	var want []string
	for i := range 6 {
		k := fmt.Sprintf("%s%d", prefix, i)
		want = append(want, k)
		mustDo(t, http.StatusOK, call{method: "PUT", path: "/v1/kv/" + k, header: octet, body: string(big)})
	}
	perPage := api.MaxRangeBytes / (len(big) + len(want[0])) // 3
	got, sizes := pageThrough(t, "/v1/kv?prefix="+prefix)
	if len(sizes) != 2 || sizes[0] != perPage || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pages of 1 MiB values: sizes %v keys %v, want pages of %d", sizes, got, perPage)
	}
	var txn api.TxnReply
	mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: `{"success":[{"get":{"key":"` + prefix + `","prefix":true}},{"get":{"key":"` + prefix + `","prefix":true}}]}`}).json(t, &txn)
	if g := txn.Responses[0].Get; len(g.KVs) != perPage || !g.More {
		t.Errorf("first txn get: %d keys, more %v", len(g.KVs), g.More)
	}
	if g := txn.Responses[1].Get; len(g.KVs) != 1 || !g.More {
		t.Errorf("second txn get, past the answer's budget: %d keys, more %v; want its first key only", len(g.KVs), g.More)
	}
	var del api.DeleteReply
	mustDo(t, http.StatusOK, call{method: "DELETE", path: "/v1/kv/" + prefix + "?prefix&prev_kv"}).json(t, &del)
	if del.Deleted != 6 || len(del.PrevKVs) != perPage || !del.PrevKVsTruncated {
		t.Errorf("prefix delete with prev_kv: deleted %d, %d prev_kvs, truncated %v", del.Deleted, len(del.PrevKVs), del.PrevKVsTruncated)
	}
}

// TestV1TxnSizeBounds checks that a txn with more than api.MaxTxnOps
// compares or ops in a branch is refused while its body is decoded.
func TestV1TxnSizeBounds(t *testing.T) {
	list := func(n int, item string) string { return strings.TrimSuffix(strings.Repeat(item+",", n), ",") }
	get := `{"get":{"key":"a"}}`
	cmp := `{"key":"a","target":"version","result":"equal"}`
	mustDo(t, http.StatusOK, call{method: "POST", path: "/v1/txn", body: `{"compare":[` + list(api.MaxTxnOps, cmp) + `],"success":[` + list(api.MaxTxnOps, get) + `],"failure":[` + list(api.MaxTxnOps, get) + `]}`})
	for i, body := range []string{
		`{"success":[` + list(api.MaxTxnOps+1, get) + `]}`,
		`{"failure":[` + list(api.MaxTxnOps+1, get) + `]}`,
		`{"compare":[` + list(api.MaxTxnOps+1, cmp) + `]}`,
		`{"success":[` + list(100000, `{}`) + `]}`,
		`{"success":[` + list(api.MaxTxnOps-1, get) + `,{"delete":{"key":"a","prefix":true,"prev_kv":true}}]}`,
		`{"success":[],"success":[]}`,
	} {
		r := mustDo(t, http.StatusBadRequest, call{method: "POST", path: "/v1/txn", body: body})
		if e := errorOf(t, r); i < 5 && !strings.Contains(e.Error, fmt.Sprint(api.MaxTxnOps)) {
			t.Errorf("%d: %q does not say the max", i, e.Error)
		}
	}
}
