package store

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// populated returns a store with some keys, some history and two members.
func populated() *Store {
	s := New()
	for i := range 20 {
		s.Apply(txn(put(fmt.Sprintf("key%02d", i), fmt.Sprintf("value%d", i))))
	}
	s.Apply(txn(put("key03", "again"), put("key04", "")))
	s.Apply(txn(delRange("key10", "key15", false)))
	s.Apply(txn(put("", "empty key"), put("\x00\xff", "binary")))
	s.SetMember(3, "127.0.0.1:7003")
	s.SetMember(1, "127.0.0.1:7001")
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	for i, src := range []*Store{New(), populated()} {
		data := mustSnapshot(t, src)
		dst := New()
		dst.Apply(txn(put("stale", "x"), put("key00", "old")))
		dst.SetMember(9, "stale:9")
		if err := dst.Restore(data); err != nil {
			t.Fatalf("#%d Restore: %v", i, err)
		}
		sameState(t, src, dst)
		if again := mustSnapshot(t, dst); !bytes.Equal(again, data) {
			t.Errorf("#%d: the snapshot of a restored store differs from its source", i)
		}
		// Both go on identically.
		next := txn(putPrev("key00", "next"), del("key01"), getRange("", "\x00", 3))
		if a, b := src.Apply(next), dst.Apply(next); !reflect.DeepEqual(a, b) {
			t.Errorf("#%d: after restore\n got %s\nwant %s", i, fmtResult(b), fmtResult(a))
		}
		sameState(t, src, dst)
	}
}

func TestSnapshotDeterministic(t *testing.T) {
	a, b := populated(), populated()
	b.RemoveMember(1)
	b.SetMember(5, "x")
	b.RemoveMember(5)
	b.SetMember(1, "127.0.0.1:7001")
	if !bytes.Equal(mustSnapshot(t, a), mustSnapshot(t, b)) {
		t.Error("equal states gave different snapshots")
	}
}

// TestRestoreOwnsItsData checks that the store does not keep a reference to
// the buffer it restored from.
func TestRestoreOwnsItsData(t *testing.T) {
	src := populated()
	data := mustSnapshot(t, src)
	dst := New()
	if err := dst.Restore(data); err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0xAA
	}
	sameState(t, src, dst)
}

func TestRestoreErrors(t *testing.T) {
	enc := func(d snapshotData) []byte {
		data, err := messages.Encode(&d)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	k := func(key string, create, mod, version int64) snapshotKV {
		return snapshotKV{Key: []byte(key), Value: []byte("v"), CreateRevision: create, ModRevision: mod, Version: version}
	}
	good := mustSnapshot(t, populated())
	tests := []struct {
		name        string
		data        []byte
		wantVersion bool // the error must wrap messages.ErrVersion
	}{
		{name: "nil", data: nil},
		{name: "empty", data: []byte{}},
		{name: "garbage", data: []byte("this is not msgpack at all")},
		{name: "msgpack string", data: enc2(t, "hello")},
		{name: "msgpack array", data: enc2(t, []int{1, 2, 3})},
		{name: "msgpack nil", data: []byte{0xc0}, wantVersion: true},
		{name: "truncated", data: good[:len(good)/2]},
		{name: "truncated by one byte", data: good[:len(good)-1]},
		{name: "no version", data: enc2(t, map[string]int64{"revision": 3}), wantVersion: true},
		{name: "version 0", data: enc(snapshotData{Version: 0, Revision: 1}), wantVersion: true},
		{name: "version 2", data: enc(snapshotData{Version: 2, Revision: 1}), wantVersion: true},
		{name: "negative revision", data: enc(snapshotData{Version: 1, Revision: -1})},
		{name: "keys out of order", data: enc(snapshotData{Version: 1, Revision: 2, KVs: []snapshotKV{k("b", 1, 1, 1), k("a", 2, 2, 1)}})},
		{name: "duplicate key", data: enc(snapshotData{Version: 1, Revision: 2, KVs: []snapshotKV{k("a", 1, 1, 1), k("a", 2, 2, 1)}})},
		{name: "create revision 0", data: enc(snapshotData{Version: 1, Revision: 2, KVs: []snapshotKV{k("a", 0, 1, 1)}})},
		{name: "mod before create", data: enc(snapshotData{Version: 1, Revision: 2, KVs: []snapshotKV{k("a", 2, 1, 1)}})},
		{name: "mod after store revision", data: enc(snapshotData{Version: 1, Revision: 2, KVs: []snapshotKV{k("a", 1, 3, 1)}})},
		{name: "version 0 key", data: enc(snapshotData{Version: 1, Revision: 2, KVs: []snapshotKV{k("a", 1, 1, 0)}})},
		{name: "duplicate member", data: enc(snapshotData{Version: 1, Members: []snapshotMember{{1, "a"}, {1, "b"}}})},
		{name: "members out of order", data: enc(snapshotData{Version: 1, Members: []snapshotMember{{2, "a"}, {1, "b"}}})},
		{name: "wrong field type", data: enc2(t, map[string]any{"version": 1, "revision": "three"})},
	}
	for i, tt := range tests {
		s := populated()
		before := mustSnapshot(t, s)
		err := s.Restore(tt.data)
		if err == nil {
			t.Errorf("#%d %s: Restore returned no error", i, tt.name)
			continue
		}
		if got := errors.Is(err, messages.ErrVersion); got != tt.wantVersion {
			t.Errorf("#%d %s: errors.Is(%v, ErrVersion) = %v, want %v", i, tt.name, err, got, tt.wantVersion)
		}
		if after := mustSnapshot(t, s); !bytes.Equal(before, after) {
			t.Errorf("#%d %s: a failed Restore changed the store", i, tt.name)
		}
		sameState(t, populated(), s)
	}
}

func enc2(t *testing.T, v any) []byte {
	t.Helper()
	data, err := messages.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRestoreAccepts checks edge cases Restore must accept, since Apply can
// produce them.
func TestRestoreAccepts(t *testing.T) {
	d := snapshotData{Version: 1, Revision: 7, KVs: []snapshotKV{
		{Key: nil, Value: nil, CreateRevision: 1, ModRevision: 1, Version: 1},
		{Key: []byte("a"), Value: []byte{}, CreateRevision: 2, ModRevision: 7, Version: 9},
	}, Members: []snapshotMember{{ID: 0, Address: ""}, {ID: 1<<64 - 1, Address: "max"}}}
	data, err := messages.Encode(&d)
	if err != nil {
		t.Fatal(err)
	}
	s := New()
	if err := s.Restore(data); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if want := kvs(kv("", "", 1, 1, 1), kv("a", "", 2, 7, 9)); !reflect.DeepEqual(all(s), want) {
		t.Errorf("keys %s, want %s", fmtKVs(all(s)), fmtKVs(want))
	}
	if want := map[uint64]string{0: "", 1<<64 - 1: "max"}; !reflect.DeepEqual(s.Members(), want) {
		t.Errorf("members %v, want %v", s.Members(), want)
	}
	if s.Revision() != 7 {
		t.Errorf("revision %d, want 7", s.Revision())
	}
}
