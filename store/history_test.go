package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// Reads at past revisions, point and range, with and without limits, and
// the errors around the history's ends.
func TestRangeAt(t *testing.T) {
	s := New()
	applyAll(s,
		txn(put("a", "1")),                               // 1
		txn(put("b", "1")),                               // 2
		txn(put("a", "2"), put("c", "1")),                // 3
		txn(del("b")),                                    // 4
		txn(put("b", "2"), delRange("c", "\x00", false)), // 5
	)
	cases := []struct {
		name string
		op   messages.Op
		rev  int64
		want []messages.KeyValue
		more bool
	}{
		{"a key before it existed", get("a"), 0, kvs(kv("a", "2", 1, 3, 2)), false}, // 0: current
		{"a key at its creation", get("a"), 1, kvs(kv("a", "1", 1, 1, 1)), false},
		{"a key before an update", get("a"), 2, kvs(kv("a", "1", 1, 1, 1)), false},
		{"a key after an update", get("a"), 4, kvs(kv("a", "2", 1, 3, 2)), false},
		{"a deleted key", get("b"), 4, nil, false},
		{"a key before its deletion", get("c"), 4, kvs(kv("c", "1", 3, 3, 1)), false},
		{"everything at 3", getRange("", "\x00", 0), 3, kvs(kv("a", "2", 1, 3, 2), kv("b", "1", 2, 2, 1), kv("c", "1", 3, 3, 1)), false},
		{"everything at 4", getRange("", "\x00", 0), 4, kvs(kv("a", "2", 1, 3, 2), kv("c", "1", 3, 3, 1)), false},
		{"everything at 5", getRange("", "\x00", 0), 5, kvs(kv("a", "2", 1, 3, 2), kv("b", "2", 5, 5, 1)), false},
		{"a range with a limit", getRange("a", "z", 2), 3, kvs(kv("a", "2", 1, 3, 2), kv("b", "1", 2, 2, 1)), true},
		{"a range whose limit is its size", getRange("a", "z", 3), 3, kvs(kv("a", "2", 1, 3, 2), kv("b", "1", 2, 2, 1), kv("c", "1", 3, 3, 1)), false},
		{"a range without its end", getRange("b", "c", 0), 3, kvs(kv("b", "1", 2, 2, 1)), false},
		{"nothing at 0", getRange("", "\x00", 0), 0, kvs(kv("a", "2", 1, 3, 2), kv("b", "2", 5, 5, 1)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := s.RangeAt(c.op, c.rev)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.KVs, c.want) || res.More != c.more {
				t.Errorf("got %s more=%v, want %s more=%v", fmtKVs(res.KVs), res.More, fmtKVs(c.want), c.more)
			}
		})
	}
	if _, err := s.RangeAt(get("a"), 6); !errors.Is(err, messages.ErrFutureRevision) {
		t.Errorf("a read at revision 6 of 5: %v, want ErrFutureRevision", err)
	}
	if err := s.Compact(3); err != nil {
		t.Fatal(err)
	}
	var ce *messages.CompactedError
	if _, err := s.RangeAt(get("a"), 2); !errors.As(err, &ce) || ce.Oldest != 3 {
		t.Errorf("a read at 2 after compacting to 3: %v, want compacted at 3", err)
	}
	if res, err := s.RangeAt(get("c"), 3); err != nil || len(res.KVs) != 1 {
		t.Errorf("a read at 3 after compacting to 3: %+v, %v", res, err)
	}
	if err := s.Compact(2); !errors.As(err, &ce) {
		t.Errorf("compacting to 2 after 3: %v, want compacted", err)
	}
	if err := s.Compact(9); !errors.Is(err, messages.ErrFutureRevision) {
		t.Errorf("compacting to 9 of 5: %v, want ErrFutureRevision", err)
	}
}

// Changes gives every change from a revision on, with the previous values.
func TestChanges(t *testing.T) {
	s := New()
	applyAll(s, txn(put("a", "1")), txn(put("a", "2")), txn(delRange("", "\x00", false)))
	got, err := s.Changes(2)
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := kv("a", "1", 1, 1, 1), kv("a", "2", 1, 2, 2)
	want := []messages.Event{
		{Type: messages.EventPut, KV: a2, PrevKV: &a1},
		{Type: messages.EventDelete, KV: messages.KeyValue{Key: []byte("a"), ModRevision: 3}, PrevKV: &a2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes from 2: %+v, want %+v", got, want)
	}
	if got, err := s.Changes(4); err != nil || len(got) != 0 {
		t.Errorf("changes from 4 (the next revision): %v, %v, want none", got, err)
	}
	if err := s.Compact(1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Changes(1); !errors.Is(err, messages.ErrCompacted) {
		t.Errorf("changes from 1 after compacting to 1: %v, want compacted", err)
	}
}

// The history keeps the last Revisions revisions, and fewer while it takes
// more than Bytes; a snapshot holds the history.
func TestHistoryLimits(t *testing.T) {
	s := New()
	s.SetHistoryLimits(HistoryLimits{Revisions: 3})
	for i := range 10 {
		applyAll(s, txn(put("k", fmt.Sprint(i))))
	}
	if s.OldestRevision() != 7 {
		t.Errorf("oldest revision %d with 3 of 10 kept, want 7", s.OldestRevision())
	}
	if _, err := s.RangeAt(get("k"), 7); err != nil {
		t.Errorf("read at the oldest revision: %v", err)
	}
	s.SetHistoryLimits(HistoryLimits{Bytes: 2 * int64(s.hist.changes[len(s.hist.changes)-1].bytes)})
	if s.OldestRevision() != 8 {
		t.Errorf("oldest revision %d with two events' bytes, want 8", s.OldestRevision())
	}
	r, err := ReadSnapshot(snapshotOf(t, s))
	if err != nil || r.OldestRevision() != 8 {
		t.Fatalf("restored store: oldest %v, want 8 (the history is in the snapshot)", err)
	}
	got, _ := r.Changes(9)
	want, _ := s.Changes(9)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("restored changes from 9: %+v, want %+v", got, want)
	}
}

// Against a model that records every state: any revision in the history
// reads as that state was, and the changes since any revision, replayed on
// its state, give the current one; also in a store that shares big values
// (ShareValues), given some.
func TestHistoryAgainstModel(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("shared=", shared), func(t *testing.T) { historyAgainstModel(t, shared) })
	}
}

func historyAgainstModel(t *testing.T, shared bool) {
	r := rand.New(rand.NewPCG(1, 2))
	s := New()
	s.SetHistoryLimits(HistoryLimits{Revisions: 50})
	value := func() string {
		v := fmt.Sprint(r.Int())
		if shared && r.IntN(2) == 0 {
			v = strings.Repeat(v, 1+sharedValueMin/len(v))
		}
		return v
	}
	if shared {
		s.ShareValues()
	}
	states := []map[string]messages.KeyValue{{}}
	key := func() string { return fmt.Sprint("k", r.IntN(12)) }
	for range 300 {
		var ops []messages.Op
		for range 1 + r.IntN(3) {
			switch r.IntN(4) {
			case 0:
				ops = append(ops, del(key()))
			case 1:
				a, b := key(), key()
				ops = append(ops, delRange(min(a, b), max(a, b), false))
			default:
				ops = append(ops, put(key(), value()))
			}
		}
		before := s.Revision()
		s.Apply(txn(ops...))
		if s.Revision() != before {
			state := map[string]messages.KeyValue{}
			for _, kv := range all(s) {
				state[string(kv.Key)] = kv
			}
			states = append(states, state)
		}
		for range 3 * min(s.Revision(), 1) {
			oldest := max(s.OldestRevision(), 1) // 0 reads the current state
			rev := oldest + r.Int64N(max(s.Revision()-oldest+1, 1))
			a, b := key(), key()
			op := getRange(min(a, b), max(a, b), r.Int64N(4))
			res, err := s.RangeAt(op, rev)
			if err != nil {
				t.Fatalf("read at %d: %v", rev, err)
			}
			want, more := modelRange(states[rev], op)
			if !reflect.DeepEqual(res.KVs, want) || res.More != more {
				t.Fatalf("range %q-%q limit %d at %d: got %s more=%v, want %s more=%v",
					op.Key, op.End, op.Limit, rev, fmtKVs(res.KVs), res.More, fmtKVs(want), more)
			}
		}
	}
	restored, err := ReadSnapshot(snapshotOf(t, s))
	if err != nil {
		t.Fatalf("the store's snapshot: %v", err)
	}
	a, _ := s.Changes(s.OldestRevision() + 1)
	b, _ := restored.Changes(s.OldestRevision() + 1)
	if !reflect.DeepEqual(a, b) || restored.OldestRevision() != s.OldestRevision() {
		t.Fatal("the history read back from the snapshot differs")
	}
	for from := s.OldestRevision() + 1; from <= s.Revision()+1; from++ {
		changes, err := s.Changes(from)
		if err != nil {
			t.Fatal(err)
		}
		state := maps.Clone(states[from-1])
		for _, e := range changes {
			if e.Type == messages.EventDelete {
				delete(state, string(e.KV.Key))
			} else {
				state[string(e.KV.Key)] = e.KV
			}
		}
		if !reflect.DeepEqual(state, states[len(states)-1]) {
			t.Fatalf("the changes from %d replayed do not give the current state", from)
		}
	}
}

// modelRange reads op from a recorded state.
func modelRange(state map[string]messages.KeyValue, op messages.Op) ([]messages.KeyValue, bool) {
	var keys []string
	for k := range state {
		if InRange([]byte(k), op.Key, op.End) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []messages.KeyValue
	for _, k := range keys {
		if op.Limit > 0 && int64(len(out)) == op.Limit {
			return out, true
		}
		out = append(out, state[k])
	}
	return out, false
}

// snapshotOf is s's snapshot stream.
func snapshotOf(t *testing.T, s *Store) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, s.View()); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// The history goes through a snapshot whole; a damaged history section is
// refused, wherever the stream is cut.
func TestHistoryInSnapshot(t *testing.T) {
	s := New()
	applyAll(s, txn(put("a", "1")), txn(put("a", "2"), put("b", "1")), txn(del("a")), txn(put("c", "")))
	if err := s.Compact(1); err != nil {
		t.Fatal(err)
	}
	data := snapshotOf(t, s).Bytes()
	r, err := ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.Changes(2)
	want, _ := s.Changes(2)
	if !reflect.DeepEqual(got, want) || r.OldestRevision() != 1 {
		t.Errorf("restored history %+v (oldest %d), want %+v (oldest 1)", got, r.OldestRevision(), want)
	}
	patch := refusesDamage(t, data)
	for name, bad := range map[string][]byte{
		"unknown event type":       patch(nameType+"\x01", nameType+"\x07"),
		"oldest after the store":   patch(nameOldest+"\x01", nameOldest+"\x09"),
		"more events than counted": patch(nameEvents+"\x04", nameEvents+"\x03"),
		"a delete without prev":    append(patch(nameEvents+"\x04", nameEvents+"\x05"), appendEvent(nil, &messages.Event{Type: messages.EventDelete, KV: messages.KeyValue{Key: []byte("z"), ModRevision: 4}})...),
		"an event out of order":    append(patch(nameEvents+"\x04", nameEvents+"\x05"), appendEvent(nil, &messages.Event{Type: messages.EventPut, KV: messages.KeyValue{Key: []byte("z"), CreateRevision: 2, ModRevision: 2, Version: 1}})...),
		"trailing data":            append(bytes.Clone(data), 0),
	} {
		if _, err := ReadSnapshot(bytes.NewReader(bad)); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: %v, want corrupt", name, err)
		}
	}
}

// refusesDamage checks that data, a snapshot stream, cut anywhere is
// refused, and returns a function that patches data (the first place old
// is) for the caller's cases of damage.
func refusesDamage(t *testing.T, data []byte) func(old, new string) []byte {
	t.Helper()
	for i := range data {
		if _, err := ReadSnapshot(bytes.NewReader(data[:i])); !errors.Is(err, errCorrupt) {
			t.Fatalf("the stream cut at byte %d of %d: %v, want corrupt", i, len(data), err)
		}
	}
	return func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%q is not in the stream", old)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
}
