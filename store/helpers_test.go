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

func mustSnapshot(t testing.TB, s *Store) []byte {
	t.Helper()
	data, err := s.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return data
}

// sameState fails the test unless a and b hold the same keys, revision and
// members.
func sameState(t testing.TB, a, b *Store) {
	t.Helper()
	if a.Revision() != b.Revision() {
		t.Errorf("revision %d != %d", a.Revision(), b.Revision())
	}
	if ka, kb := all(a), all(b); !reflect.DeepEqual(ka, kb) {
		t.Errorf("keys differ:\n %s\n %s", fmtKVs(ka), fmtKVs(kb))
	}
	if ma, mb := a.Members(), b.Members(); !reflect.DeepEqual(ma, mb) {
		t.Errorf("members %v != %v", ma, mb)
	}
	if a.Len() != b.Len() {
		t.Errorf("len %d != %d", a.Len(), b.Len())
	}
}
