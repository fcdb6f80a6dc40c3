package store

import (
	"bytes"
	"reflect"
	"runtime"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func TestApply(t *testing.T) {
	abcd := []messages.Txn{txn(put("a", "1")), txn(put("b", "2")), txn(put("c", "3")), txn(put("d", "4"))}
	ok := func(rev int64, rs ...messages.OpResult) messages.TxnResult {
		return messages.TxnResult{Succeeded: true, Revision: rev, Responses: rs}
	}
	failed := func(rev int64, rs ...messages.OpResult) messages.TxnResult {
		return messages.TxnResult{Succeeded: false, Revision: rev, Responses: rs}
	}
	found := func(list ...messages.KeyValue) messages.OpResult { return messages.OpResult{KVs: list} }
	deleted := func(n int64, list ...messages.KeyValue) messages.OpResult {
		return messages.OpResult{Deleted: n, KVs: list}
	}
	var none messages.OpResult

	tests := []struct {
		name  string
		setup []messages.Txn
		txn   messages.Txn
		want  messages.TxnResult
		state []messages.KeyValue // every key after the txn
	}{
		{
			name:  "put creates",
			txn:   txn(put("a", "1")),
			want:  ok(1, none),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "put updates, keeps create revision, increments version",
			setup: []messages.Txn{txn(put("a", "1")), txn(put("b", "x"))},
			txn:   txn(put("a", "2")),
			want:  ok(3, none),
			state: kvs(kv("a", "2", 1, 3, 2), kv("b", "x", 2, 2, 1)),
		},
		{
			name:  "put prev_kv on update returns the previous key",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(putPrev("a", "2")),
			want:  ok(2, found(kv("a", "1", 1, 1, 1))),
			state: kvs(kv("a", "2", 1, 2, 2)),
		},
		{
			name:  "put prev_kv on create returns nothing",
			txn:   txn(putPrev("a", "1")),
			want:  ok(1, none),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "put of an empty value",
			txn:   txn(put("a", "")),
			want:  ok(1, none),
			state: kvs(kv("a", "", 1, 1, 1)),
		},
		{
			name:  "put twice in one txn: one revision, version twice",
			txn:   txn(put("a", "1"), put("a", "2")),
			want:  ok(1, none, none),
			state: kvs(kv("a", "2", 1, 1, 2)),
		},
		{
			name:  "delete then put recreates with a new create revision",
			setup: []messages.Txn{txn(put("a", "1")), txn(put("a", "2")), txn(del("a"))},
			txn:   txn(put("a", "3")),
			want:  ok(4, none),
			state: kvs(kv("a", "3", 4, 4, 1)),
		},
		{
			name:  "get of an existing key does not bump the revision",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(get("a")),
			want:  ok(1, found(kv("a", "1", 1, 1, 1))),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "get of a missing key",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(get("b")),
			want:  ok(1, none),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "get range [b, d)",
			setup: abcd,
			txn:   txn(getRange("b", "d", 0)),
			want:  ok(4, found(kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1))),
			state: kvs(kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1), kv("d", "4", 4, 4, 1)),
		},
		{
			name:  "get every key >= b",
			setup: abcd,
			txn:   txn(getRange("b", "\x00", 0)),
			want:  ok(4, found(kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1), kv("d", "4", 4, 4, 1))),
			state: kvs(kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1), kv("d", "4", 4, 4, 1)),
		},
		{
			name:  "get with limit sets More",
			setup: abcd,
			txn:   txn(getRange("", "\x00", 2)),
			want:  ok(4, messages.OpResult{KVs: kvs(kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1)), More: true}),
			state: kvs(kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1), kv("d", "4", 4, 4, 1)),
		},
		{
			name:  "get of an empty range (end <= key)",
			setup: abcd,
			txn:   txn(getRange("c", "b", 0), getRange("c", "c", 0), getRange("x", "\x00", 5), getRange("b", "bb", 5)),
			want:  ok(4, none, none, none, found(kv("b", "2", 2, 2, 1))),
			state: kvs(kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1), kv("d", "4", 4, 4, 1)),
		},
		{
			name:  "delete of an existing key bumps the revision",
			setup: []messages.Txn{txn(put("a", "1")), txn(put("b", "2"))},
			txn:   txn(del("a")),
			want:  ok(3, deleted(1)),
			state: kvs(kv("b", "2", 2, 2, 1)),
		},
		{
			name:  "delete of a missing key does not bump the revision",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(del("z")),
			want:  ok(1, none),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "delete of an empty range does not bump the revision",
			setup: abcd,
			txn:   txn(delRange("x", "z", true), delRange("d", "a", false)),
			want:  ok(4, none, none),
			state: kvs(kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1), kv("d", "4", 4, 4, 1)),
		},
		{
			name:  "delete prev_kv returns the removed key",
			setup: []messages.Txn{txn(put("a", "1")), txn(put("b", "2"))},
			txn:   txn(messages.Op{Type: messages.OpDelete, Key: []byte("a"), PrevKV: true}),
			want:  ok(3, deleted(1, kv("a", "1", 1, 1, 1))),
			state: kvs(kv("b", "2", 2, 2, 1)),
		},
		{
			name:  "delete range [b, d)",
			setup: abcd,
			txn:   txn(delRange("b", "d", false)),
			want:  ok(5, deleted(2)),
			state: kvs(kv("a", "1", 1, 1, 1), kv("d", "4", 4, 4, 1)),
		},
		{
			name: "prefix delete",
			setup: []messages.Txn{txn(put("p", "0")), txn(put("p/1", "1")), txn(put("p/2", "2")),
				txn(put("p0", "x")), txn(put("q", "y"))},
			txn:   txn(delRange("p/", "p0", true)),
			want:  ok(6, deleted(2, kv("p/1", "1", 2, 2, 1), kv("p/2", "2", 3, 3, 1))),
			state: kvs(kv("p", "0", 1, 1, 1), kv("p0", "x", 4, 4, 1), kv("q", "y", 5, 5, 1)),
		},
		{
			name:  "delete everything",
			setup: abcd,
			txn:   txn(delRange("", "\x00", true)),
			want:  ok(5, deleted(4, kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1), kv("c", "3", 3, 3, 1), kv("d", "4", 4, 4, 1))),
			state: nil,
		},
		{
			name:  "all writes of a txn share one revision",
			setup: []messages.Txn{txn(put("c", "3"))},
			txn:   txn(put("a", "1"), put("b", "2"), del("c"), del("zz")),
			want:  ok(2, none, none, deleted(1), none),
			state: kvs(kv("a", "1", 2, 2, 1), kv("b", "2", 2, 2, 1)),
		},
		{
			name:  "get sees the puts before it in the txn",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(get("a"), put("a", "2"), get("a")),
			want:  ok(2, found(kv("a", "1", 1, 1, 1)), none, found(kv("a", "2", 1, 2, 2))),
			state: kvs(kv("a", "2", 1, 2, 2)),
		},
		{
			name:  "get does not see a key deleted before it in the txn",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(del("a"), get("a")),
			want:  ok(2, deleted(1), none),
			state: nil,
		},
		{
			name:  "read-only txn",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(del("z"), get("a"), getRange("a", "\x00", 1)),
			want:  ok(1, none, found(kv("a", "1", 1, 1, 1)), found(kv("a", "1", 1, 1, 1))),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "empty txn",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   messages.Txn{},
			want:  ok(1),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "create if absent: succeeds",
			txn:   messages.Txn{Compares: []messages.Compare{{Key: []byte("a"), Target: messages.TargetExists, Result: messages.Equal}}, Success: []messages.Op{put("a", "1")}, Failure: []messages.Op{get("a")}},
			want:  ok(1, none),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "create if absent: fails when present",
			setup: []messages.Txn{txn(put("a", "0"))},
			txn:   messages.Txn{Compares: []messages.Compare{{Key: []byte("a"), Target: messages.TargetExists, Result: messages.Equal}}, Success: []messages.Op{put("a", "1")}, Failure: []messages.Op{get("a")}},
			want:  failed(1, found(kv("a", "0", 1, 1, 1))),
			state: kvs(kv("a", "0", 1, 1, 1)),
		},
		{
			name:  "failure branch writes bump the revision",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   messages.Txn{Compares: []messages.Compare{{Key: []byte("a"), Target: messages.TargetValue, Result: messages.Equal, Value: []byte("x")}}, Success: []messages.Op{put("s", "s")}, Failure: []messages.Op{put("f", "f"), get("a")}},
			want:  failed(2, none, found(kv("a", "1", 1, 1, 1))),
			state: kvs(kv("a", "1", 1, 1, 1), kv("f", "f", 2, 2, 1)),
		},
		{
			name:  "empty failure branch",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   messages.Txn{Compares: []messages.Compare{{Key: []byte("a"), Target: messages.TargetVersion, Result: messages.Greater, Revision: 5}}, Success: []messages.Op{put("s", "s")}},
			want:  failed(1),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "every compare must hold",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn: messages.Txn{Compares: []messages.Compare{
				{Key: []byte("a"), Target: messages.TargetValue, Result: messages.Equal, Value: []byte("1")},
				{Key: []byte("a"), Target: messages.TargetVersion, Result: messages.Equal, Revision: 2},
			}, Success: []messages.Op{put("s", "s")}, Failure: []messages.Op{put("f", "f")}},
			want:  failed(2, none),
			state: kvs(kv("a", "1", 1, 1, 1), kv("f", "f", 2, 2, 1)),
		},
		{
			name:  "compares see the state before the txn",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn: messages.Txn{Compares: []messages.Compare{
				{Key: []byte("a"), Target: messages.TargetModRevision, Result: messages.Equal, Revision: 1},
			}, Success: []messages.Op{put("a", "2"), put("a", "3")}},
			want:  ok(2, none, none),
			state: kvs(kv("a", "3", 1, 2, 3)),
		},
		{
			name:  "an op of unknown type is skipped with an empty result",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(messages.Op{Type: 0, Key: []byte("a")}, messages.Op{Type: 99, Key: []byte("a"), Value: []byte("x")}, put("b", "2")),
			want:  ok(2, none, none, none),
			state: kvs(kv("a", "1", 1, 1, 1), kv("b", "2", 2, 2, 1)),
		},
		{
			name:  "only unknown ops: nothing changes",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   txn(messages.Op{Type: 42, Key: []byte("a")}),
			want:  ok(1, none),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			name:  "a compare of unknown target does not hold",
			setup: []messages.Txn{txn(put("a", "1"))},
			txn:   messages.Txn{Compares: []messages.Compare{{Key: []byte("a"), Target: 77, Result: messages.NotEqual}}, Success: []messages.Op{put("s", "s")}},
			want:  failed(1),
			state: kvs(kv("a", "1", 1, 1, 1)),
		},
		{
			// Validate refuses an empty key; Apply, which must not fail,
			// stores it like any other key.
			name:  "a put of an empty key that slipped past Validate",
			txn:   txn(put("", "v"), get("")),
			want:  ok(1, none, found(kv("", "v", 1, 1, 1))),
			state: kvs(kv("", "v", 1, 1, 1)),
		},
	}
	for i, tt := range tests {
		s := New()
		applyAll(s, tt.setup...)
		got := s.Apply(tt.txn)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("#%d %s:\n got %s\nwant %s", i, tt.name, fmtResult(got), fmtResult(tt.want))
		}
		if s.Revision() != got.Revision {
			t.Errorf("#%d %s: Revision() = %d, result revision %d", i, tt.name, s.Revision(), got.Revision)
		}
		if st := all(s); !reflect.DeepEqual(st, tt.state) {
			t.Errorf("#%d %s: state\n got %s\nwant %s", i, tt.name, fmtKVs(st), fmtKVs(tt.state))
		}
		if s.Len() != len(tt.state) {
			t.Errorf("#%d %s: Len() = %d, want %d", i, tt.name, s.Len(), len(tt.state))
		}
	}
}

func TestApplyCompare(t *testing.T) {
	// k: value "v2", create 1, mod 3, version 2; m is missing.
	setup := []messages.Txn{txn(put("k", "v1")), txn(put("other", "o")), txn(put("k", "v2"))}
	value := func(key string, r messages.CompareResult, v string) messages.Compare {
		return messages.Compare{Key: []byte(key), Target: messages.TargetValue, Result: r, Value: []byte(v)}
	}
	num := func(key string, target messages.CompareTarget, r messages.CompareResult, n int64) messages.Compare {
		return messages.Compare{Key: []byte(key), Target: target, Result: r, Revision: n}
	}
	exists := func(key string, r messages.CompareResult, e bool) messages.Compare {
		return messages.Compare{Key: []byte(key), Target: messages.TargetExists, Result: r, Exists: e}
	}
	const (
		eq  = messages.Equal
		ne  = messages.NotEqual
		gt  = messages.Greater
		lt  = messages.Less
		mod = messages.TargetModRevision
		crt = messages.TargetCreateRevision
		ver = messages.TargetVersion
	)
	tests := []struct {
		c    messages.Compare
		want bool
	}{
		{value("k", eq, "v2"), true},
		{value("k", eq, "v1"), false},
		{value("k", ne, "v1"), true},
		{value("k", ne, "v2"), false},
		{value("k", gt, "v1"), true},
		{value("k", gt, "v3"), false},
		{value("k", lt, "v3"), true},
		{value("k", lt, "v1"), false},
		{num("k", mod, eq, 3), true},
		{num("k", mod, eq, 2), false},
		{num("k", mod, ne, 2), true},
		{num("k", mod, ne, 3), false},
		{num("k", mod, gt, 2), true},
		{num("k", mod, gt, 3), false},
		{num("k", mod, lt, 4), true},
		{num("k", mod, lt, 3), false},
		{num("k", crt, eq, 1), true},
		{num("k", crt, eq, 0), false},
		{num("k", crt, ne, 1), false},
		{num("k", crt, gt, 0), true},
		{num("k", crt, lt, 1), false},
		{num("k", crt, lt, 2), true},
		{num("k", ver, eq, 2), true},
		{num("k", ver, ne, 2), false},
		{num("k", ver, gt, 1), true},
		{num("k", ver, lt, 2), false},
		{num("k", ver, lt, 3), true},
		{exists("k", eq, true), true},
		{exists("k", eq, false), false},
		{exists("k", ne, false), true},
		{exists("k", ne, true), false},
		// A missing key has a nil value and revisions and version 0.
		{exists("m", eq, false), true},
		{exists("m", eq, true), false},
		{exists("m", ne, true), true},
		{value("m", eq, ""), true},
		{value("m", eq, "x"), false},
		{value("m", lt, "x"), true},
		{num("m", mod, eq, 0), true},
		{num("m", crt, eq, 0), true},
		{num("m", ver, eq, 0), true},
		{num("m", ver, gt, 0), false},
		// Malformed compares never hold.
		{exists("k", gt, true), false},
		{exists("k", lt, false), false},
		{messages.Compare{Key: []byte("k"), Target: 0, Result: eq}, false},
		{messages.Compare{Key: []byte("k"), Target: 9, Result: ne}, false},
		{messages.Compare{Key: []byte("k"), Target: ver, Result: 0, Revision: 2}, false},
		{messages.Compare{Key: []byte("k"), Target: ver, Result: 9, Revision: 2}, false},
	}
	for i, tt := range tests {
		s := New()
		applyAll(s, setup...)
		got := s.Apply(messages.Txn{
			Compares: []messages.Compare{tt.c},
			Success:  []messages.Op{put("branch", "success")},
			Failure:  []messages.Op{put("branch", "failure")},
		})
		if got.Succeeded != tt.want {
			t.Errorf("#%d compare %+v: succeeded %v, want %v", i, tt.c, got.Succeeded, tt.want)
		}
		wantBranch := map[bool]string{true: "success", false: "failure"}[tt.want]
		if r, _ := s.Range(get("branch")); len(r.KVs) != 1 || string(r.KVs[0].Value) != wantBranch {
			t.Errorf("#%d compare %+v: branch key %s, want %q", i, tt.c, fmtKVs(r.KVs), wantBranch)
		}
		if got.Revision != 4 {
			t.Errorf("#%d: revision %d, want 4", i, got.Revision)
		}
	}
}

func TestRange(t *testing.T) {
	s := New()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		s.Apply(txn(put(k, k)))
	}
	keys := func(r messages.OpResult) string {
		var out string
		for _, x := range r.KVs {
			out += string(x.Key)
		}
		return out
	}
	tests := []struct {
		op       messages.Op
		want     string
		wantMore bool
	}{
		{get("c"), "c", false},
		{get("cc"), "", false},
		{messages.Op{Type: messages.OpGet, Key: []byte("c"), Limit: 1}, "c", false},
		{getRange("", "\x00", 0), "abcde", false},
		{getRange("", "\x00", -1), "abcde", false},
		{getRange("", "\x00", 1), "a", true},
		{getRange("", "\x00", 4), "abcd", true},
		{getRange("", "\x00", 5), "abcde", false},
		{getRange("", "\x00", 6), "abcde", false},
		{getRange("b", "\x00", 2), "bc", true},
		{getRange("b", "e", 3), "bcd", false},
		{getRange("b", "e", 2), "bc", true},
		{getRange("b", "bb", 0), "b", false},
		{getRange("", "c", 0), "ab", false},
		{getRange("e", "a", 0), "", false},
		{getRange("f", "\x00", 1), "", false},
		// Range answers only gets.
		{messages.Op{Type: messages.OpDelete, Key: []byte("a")}, "", false},
		{messages.Op{Type: messages.OpPut, Key: []byte("a"), Value: []byte("z")}, "", false},
		{messages.Op{Type: 0, Key: []byte("a")}, "", false},
	}
	for i, tt := range tests {
		got, rev := s.Range(tt.op)
		if keys(got) != tt.want || got.More != tt.wantMore || got.Deleted != 0 {
			t.Errorf("#%d Range(%+v) = %q more %v, want %q more %v", i, tt.op, keys(got), got.More, tt.want, tt.wantMore)
		}
		if rev != 5 {
			t.Errorf("#%d: revision %d, want 5", i, rev)
		}
	}
	if s.Len() != 5 || s.Revision() != 5 {
		t.Errorf("Range changed the store: len %d revision %d", s.Len(), s.Revision())
	}
}

// TestNoAliasing checks that what Apply and Range return never changes
// afterwards, and that the store keeps no reference to the caller's slices.
func TestNoAliasing(t *testing.T) {
	s := New()
	key, value := []byte("a"), []byte("one")
	s.Apply(txn(messages.Op{Type: messages.OpPut, Key: key, Value: value}))
	key[0], value[0] = 'X', 'X' // the caller reuses its buffers
	r1, _ := s.Range(get("a"))
	if want := kvs(kv("a", "one", 1, 1, 1)); !reflect.DeepEqual(r1.KVs, want) {
		t.Fatalf("store aliased the caller's slices: %s", fmtKVs(r1.KVs))
	}
	res := s.Apply(txn(putPrev("a", "two")))
	s.Apply(txn(put("a", "three")))
	s.Apply(txn(delRange("", "\x00", false)))
	if want := kvs(kv("a", "one", 1, 1, 1)); !reflect.DeepEqual(r1.KVs, want) {
		t.Errorf("an earlier Range result changed: %s", fmtKVs(r1.KVs))
	}
	if want := kvs(kv("a", "one", 1, 1, 1)); !reflect.DeepEqual(res.Responses[0].KVs, want) {
		t.Errorf("an earlier prev_kv changed: %s", fmtKVs(res.Responses[0].KVs))
	}
}

// TestShareValues checks that a store that shares values keeps a big
// value by reference — alive after the caller drops it and the collector
// runs, in views, history and snapshots — and copies a small one.
func TestShareValues(t *testing.T) {
	s := New()
	s.ShareValues()
	big := bytes.Repeat([]byte("b"), sharedValueMin)
	small := []byte("small")
	s.Apply(txn(messages.Op{Type: messages.OpPut, Key: []byte("big"), Value: big}))
	s.Apply(txn(messages.Op{Type: messages.OpPut, Key: []byte("small"), Value: small}))
	r, _ := s.Range(get("big"))
	if &r.KVs[0].Value[0] != &big[0] {
		t.Fatal("a big value was copied")
	}
	r, _ = s.Range(get("small"))
	if &r.KVs[0].Value[0] == &small[0] {
		t.Fatal("a small value was kept by reference")
	}
	want := bytes.Clone(big)
	big, r = nil, messages.OpResult{}
	view := s.View()
	s.Apply(txn(putPrev("big", "replaced"))) // the old item lives on in the view and the history
	for range 3 {
		_ = make([]byte, 1<<20) // garbage, for the collector to reuse freed memory
		runtime.GC()
	}
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, view); err != nil {
		t.Fatal(err)
	}
	restored, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := restored.Range(get("big")); len(got.KVs) != 1 || !bytes.Equal(got.KVs[0].Value, want) {
		t.Fatalf("the snapshot of a view lost the shared value: %s", fmtKVs(got.KVs))
	}
	events, err := s.Changes(3)
	if err != nil || len(events) != 1 || events[0].PrevKV == nil || !bytes.Equal(events[0].PrevKV.Value, want) {
		t.Fatalf("history of the replacing put: %+v, %v", events, err)
	}
}
