package store

import (
	"bytes"
	"math"
	"reflect"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func TestItemRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   messages.KeyValue
	}{
		{"small", kv("k", "v", 1, 1, 1)},
		{"empty key and value", kv("", "", 3, 4, 2)},
		{"large revisions", kv("key", "value", math.MaxInt64-1, math.MaxInt64, math.MaxInt64)},
		{"multi-byte lengths", messages.KeyValue{Key: bytes.Repeat([]byte("k"), 300), Value: bytes.Repeat([]byte("v"), 70000),
			CreateRevision: 200, ModRevision: 70000, Version: 129}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := newItem(&tc.kv)
			got := it.kv()
			if got.Key == nil || got.Value == nil {
				t.Fatalf("nil key or value: %+v", got)
			}
			if !reflect.DeepEqual(got, tc.kv) {
				t.Fatalf("kv() = %s, want %s", fmtKVs(kvs(got)), fmtKVs(kvs(tc.kv)))
			}
			if !bytes.Equal(it.key(), tc.kv.Key) {
				t.Fatalf("key() = %q, want %q", it.key(), tc.kv.Key)
			}
			// Appending to what an item hands out copies: the item's bytes stay.
			before := bytes.Clone(it.b)
			_ = append(got.Key, 'x')
			_ = append(got.Value, 'x')
			_ = append(it.key(), 'x')
			if !bytes.Equal(it.b, before) {
				t.Fatal("an append to a returned slice changed the item")
			}
		})
	}
}

func TestItemOrder(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"", "a"}, {"a", "b"}, {"a", "aa"}, {"ab", "b"}, {"\x00", "\x01"},
	} {
		a, b := newItem(&messages.KeyValue{Key: []byte(tc.a)}), newItem(&messages.KeyValue{Key: []byte(tc.b)})
		_, p := probe(nil, []byte(tc.a))
		if !lessItem(a, b) || lessItem(b, a) || !lessItem(p, b) || lessItem(a, p) || lessItem(p, a) {
			t.Errorf("%q < %q is not what lessItem says", tc.a, tc.b)
		}
	}
}
