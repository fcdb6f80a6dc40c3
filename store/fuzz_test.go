package store

import (
	"bytes"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func FuzzRestore(f *testing.F) {
	for _, s := range []*Store{New(), populated()} {
		data, err := s.Snapshot()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0xc0})
	f.Add([]byte("garbage"))
	f.Add([]byte{0x81, 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := populated()
		before := mustSnapshot(t, s)
		if err := s.Restore(data); err != nil {
			if after := mustSnapshot(t, s); !bytes.Equal(before, after) {
				t.Fatalf("a failed Restore (%v) changed the store", err)
			}
			return
		}
		// Whatever Restore accepts must survive its own round trip.
		snap := mustSnapshot(t, s)
		again := New()
		if err := again.Restore(snap); err != nil {
			t.Fatalf("Restore of a restored store's snapshot: %v", err)
		}
		sameState(t, s, again)
		if !bytes.Equal(mustSnapshot(t, again), snap) {
			t.Fatal("snapshot not stable across a round trip")
		}
	})
}

func FuzzApply(f *testing.F) {
	seeds := []messages.Txn{
		{},
		txn(put("key01", "v")),
		txn(putPrev("key02", "v"), get("key02"), del("key03")),
		txn(delRange("key", "\x00", true)),
		txn(getRange("", "\x00", 3), messages.Op{Type: 9}),
		{
			Compares: []messages.Compare{
				{Key: []byte("key05"), Target: messages.TargetVersion, Result: messages.Greater, Revision: 0},
				{Key: []byte("nope"), Target: messages.TargetExists, Result: messages.Equal},
			},
			Success: []messages.Op{put("a", "b"), delRange("key00", "key09", true)},
			Failure: []messages.Op{get("a")},
		},
		{Compares: []messages.Compare{{Key: []byte("x"), Target: 200, Result: 200}}, Failure: []messages.Op{put("", "")}},
	}
	for _, x := range seeds {
		data, err := messages.Encode(&x)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var x messages.Txn
		if err := messages.Decode(data, &x); err != nil {
			return
		}
		_ = Validate(x) // must not panic either
		s := populated()
		rev := s.Revision()
		res := s.Apply(x)
		if res.Revision != s.Revision() || (res.Revision != rev && res.Revision != rev+1) {
			t.Fatalf("revision %d -> %d, result %d", rev, s.Revision(), res.Revision)
		}
		branch := x.Success
		if !res.Succeeded {
			branch = x.Failure
		}
		if len(res.Responses) != len(branch) {
			t.Fatalf("%d responses for %d ops", len(res.Responses), len(branch))
		}
		// Deterministic: a second replica ends in the same state.
		other := populated()
		other.Apply(x)
		sameState(t, s, other)
		// Every state Apply makes can be snapshotted and restored.
		snap := mustSnapshot(t, s)
		restored := New()
		if err := restored.Restore(snap); err != nil {
			t.Fatalf("Restore of the snapshot after Apply: %v", err)
		}
		sameState(t, s, restored)
	})
}
