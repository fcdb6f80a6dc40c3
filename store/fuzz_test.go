package store

import (
	"bytes"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

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
		sameState(t, "a second replica", s, other)
		// Every state Apply makes within the limits can be written to a
		// snapshot stream, and read back to the same state.
		var buf bytes.Buffer
		if _, err := WriteSnapshot(&buf, s.View()); err != nil {
			if Validate(x) == nil {
				t.Fatalf("WriteSnapshot after a valid txn: %v", err)
			}
			return // Apply does not check sizes: the txn wrote a key or value over the limits
		}
		stream := bytes.Clone(buf.Bytes())
		restored, err := ReadSnapshot(&buf)
		if err != nil {
			t.Fatalf("ReadSnapshot of the stream after Apply: %v", err)
		}
		checkInvariants(t, restored)
		sameState(t, "read back", s, restored)
		if again := writeStream(t, restored); !bytes.Equal(again, stream) {
			t.Fatal("the stream of the store read back differs")
		}
	})
}
