package store

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
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
		{"short key, long value", messages.KeyValue{Key: []byte("k"), Value: bytes.Repeat([]byte("v"), 1024),
			CreateRevision: 5, ModRevision: 6, Version: 2}},
		{"large revisions", kv("key", "value", math.MaxInt64-1, math.MaxInt64, math.MaxInt64)},
		{"multi-byte lengths", messages.KeyValue{Key: bytes.Repeat([]byte("k"), 300), Value: bytes.Repeat([]byte("v"), 70000),
			CreateRevision: 200, ModRevision: 70000, Version: 129}},
	} {
		for _, shared := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/shared=%t", tc.name, shared), func(t *testing.T) {
				it := newItem(&tc.kv)
				if shared {
					it = newSharedItem(&tc.kv)
				}
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
				// A value of sharedValueMin bytes or more is the caller's
				// own, in a shared item; any other is a copy.
				big := len(tc.kv.Value) >= sharedValueMin
				_, tail := it.parts()
				if same := len(got.Value) > 0 && &got.Value[0] == &tc.kv.Value[0]; same != (shared && big) || sharedTail(tail) != same {
					t.Fatalf("value shared with the caller's: %t, item says shared: %t; want %t", same, sharedTail(tail), shared && big)
				}
				// Appending to what an item hands out copies: the item's
				// bytes, and a shared value, stay.
				_, _, _, end := it.bounds()
				all := it.slice(0, end)
				before, value := bytes.Clone(all), bytes.Clone(got.Value)
				_ = append(got.Key, 'x')
				_ = append(got.Value, 'x')
				_ = append(it.key(), 'x')
				if !bytes.Equal(all, before) || !bytes.Equal(it.kv().Value, value) {
					t.Fatal("an append to a returned slice changed the item")
				}
			})
		}
	}
}

func TestItemSize(t *testing.T) {
	if got := (item{}).size(); got != 0 {
		t.Errorf("no item: size %d, want 0", got)
	}
	// key length, key, length of the tail, three revisions, value
	if got, want := newItem(&messages.KeyValue{Key: []byte("k"), Value: []byte("v"), CreateRevision: 1, ModRevision: 1, Version: 1}).size(), 1+1+1+3+1; got != want {
		t.Errorf("size %d, want %d", got, want)
	}
	long := messages.KeyValue{Key: []byte("k"), Value: make([]byte, 200)}
	if got, want := newItem(&long).size(), 1+1+2+3+200; got != want {
		t.Errorf("size %d, want %d", got, want)
	}
	// A shared item counts the value it keeps alive, and its reference.
	big := messages.KeyValue{Key: []byte("k"), Value: make([]byte, sharedValueMin)}
	if got, want := newSharedItem(&big).size(), 1+1+1+3+int(valueRef)+sharedValueMin; got != want {
		t.Errorf("shared: size %d, want %d", got, want)
	}
}

func TestItemOrder(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"", "a"}, {"a", "b"}, {"a", "aa"}, {"ab", "b"}, {"\x00", "\x01"},
		{strings.Repeat("a", 200), strings.Repeat("a", 200) + "b"}, {strings.Repeat("a", 200), "b"},
	} {
		a, b := newItem(&messages.KeyValue{Key: []byte(tc.a)}), newItem(&messages.KeyValue{Key: []byte(tc.b)})
		_, p := probe(nil, []byte(tc.a))
		if !lessItem(a, b) || lessItem(b, a) || !lessItem(p, b) || lessItem(a, p) || lessItem(p, a) {
			t.Errorf("%q < %q is not what lessItem says", tc.a, tc.b)
		}
	}
}
