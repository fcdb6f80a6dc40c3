package store

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// Short constructors for the tables.

func put(k, v string) messages.Op {
	return messages.Op{Type: messages.OpPut, Key: []byte(k), Value: []byte(v)}
}

func putPrev(k, v string) messages.Op {
	op := put(k, v)
	op.PrevKV = true
	return op
}

func get(k string) messages.Op { return messages.Op{Type: messages.OpGet, Key: []byte(k)} }

func getRange(k, end string, limit int64) messages.Op {
	return messages.Op{Type: messages.OpGet, Key: []byte(k), End: []byte(end), Limit: limit}
}

func del(k string) messages.Op { return messages.Op{Type: messages.OpDelete, Key: []byte(k)} }

func delRange(k, end string, prev bool) messages.Op {
	return messages.Op{Type: messages.OpDelete, Key: []byte(k), End: []byte(end), PrevKV: prev}
}

func txn(ops ...messages.Op) messages.Txn { return messages.Txn{Success: ops} }

// kv builds an expected KeyValue.
func kv(k, v string, create, mod, version int64) messages.KeyValue {
	return messages.KeyValue{Key: []byte(k), Value: []byte(v), CreateRevision: create, ModRevision: mod, Version: version}
}

func kvs(list ...messages.KeyValue) []messages.KeyValue { return list }

// fmtKVs prints KeyValues readably for failure messages.
func fmtKVs(list []messages.KeyValue) string {
	var b strings.Builder
	b.WriteString("[")
	for i, x := range list {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%q=%q(c%d m%d v%d)", x.Key, x.Value, x.CreateRevision, x.ModRevision, x.Version)
	}
	b.WriteString("]")
	return b.String()
}

func fmtResult(r messages.TxnResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{ok:%v rev:%d", r.Succeeded, r.Revision)
	if r.Responses == nil {
		b.WriteString(" responses:nil")
	}
	for i, o := range r.Responses {
		fmt.Fprintf(&b, " #%d{kvs:%s more:%v deleted:%d}", i, fmtKVs(o.KVs), o.More, o.Deleted)
	}
	b.WriteString("}")
	return b.String()
}

// all returns every key of s.
func all(s *Store) []messages.KeyValue {
	res, _ := s.Range(getRange("", "\x00", 0))
	return res.KVs
}

// applyAll applies txns in order.
func applyAll(s *Store, txns ...messages.Txn) {
	for _, x := range txns {
		s.Apply(x)
	}
}

// populated returns a store with some keys and some history: updates,
// deletes, an empty key, an empty value and binary bytes.
func populated() *Store {
	s := New()
	for i := range 20 {
		s.Apply(txn(put(fmt.Sprintf("key%02d", i), fmt.Sprintf("value%d", i))))
	}
	s.Apply(txn(put("key03", "again"), put("key04", "")))
	s.Apply(txn(delRange("key10", "key15", false)))
	s.Apply(txn(put("", "empty key"), put("\x00\xff", "binary")))
	return s
}

// mustEncode returns messages.Encode(v).
func mustEncode(t testing.TB, v any) []byte {
	t.Helper()
	data, err := messages.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sameState fails the test unless a and b hold the same keys and revision,
// which it finds by walking both stores.
func sameState(t testing.TB, name string, a, b *Store) {
	t.Helper()
	if a.Revision() != b.Revision() {
		t.Errorf("%s: revision %d != %d", name, a.Revision(), b.Revision())
	}
	if a.Len() != b.Len() {
		t.Errorf("%s: len %d != %d", name, a.Len(), b.Len())
	}
	if ka, kb := all(a), all(b); !reflect.DeepEqual(ka, kb) {
		if len(ka) > 20 || len(kb) > 20 {
			t.Errorf("%s: keys differ (%d and %d keys)", name, len(ka), len(kb))
		} else {
			t.Errorf("%s: keys differ:\n %s\n %s", name, fmtKVs(ka), fmtKVs(kb))
		}
	}
}
