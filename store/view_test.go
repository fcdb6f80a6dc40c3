package store

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// TestViewIsPointInTime checks that a View keeps the state it was taken at
// whatever the store does next.
func TestViewIsPointInTime(t *testing.T) {
	s := populated()
	want := writeStream(t, s)
	wantLen, wantRev := s.Len(), s.Revision()
	v := s.View()
	steps := []func(){
		func() { s.Apply(txn(put("key00", "changed"), put("new", "x"))) },
		func() { s.Apply(txn(delRange("", "\x00", false))) },
		func() { s.Apply(txn(put("after delete", "y"))) },
		func() {
			r, err := ReadSnapshot(bytes.NewReader(writeStream(t, New())))
			if err != nil {
				t.Fatal(err)
			}
			s = r // the owner replaces its store
		},
		func() { s.Apply(txn(put("key00", "again"))) },
	}
	for i, step := range steps {
		step()
		if v.Len() != wantLen || v.Revision() != wantRev {
			t.Errorf("after step %d: view len %d revision %d, want %d %d", i, v.Len(), v.Revision(), wantLen, wantRev)
		}
		if got := writeStreamOf(t, v); !bytes.Equal(got, want) {
			t.Errorf("after step %d: the view's stream changed", i)
		}
	}
	// And the store did not see the view: it is where the steps left it.
	if got := all(s); len(got) != 1 || string(got[0].Key) != "key00" || string(got[0].Value) != "again" {
		t.Errorf("store holds %s", fmtKVs(got))
	}
}

func writeStreamOf(t testing.TB, v *View) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := WriteSnapshot(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestViewConcurrentWithWrites encodes a view on one goroutine while another
// goes on writing to the store, rewriting the nodes the view shares (run it
// with -race). The stream must be the state at the time of View().
func TestViewConcurrentWithWrites(t *testing.T) {
	const keys = 5000
	build := func() *Store {
		s := New()
		for i := range keys {
			s.Apply(txn(put(fmt.Sprintf("key%05d", i), fmt.Sprintf("value %d", i))))
		}
		return s
	}
	s, twin := build(), build()
	want := writeStream(t, twin)
	v := s.View()

	started := make(chan struct{})
	encoded := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	writes := 0
	go func() { // the owner of s
		defer wg.Done()
		for i := 0; ; i++ {
			k := fmt.Sprintf("key%05d", (i*7919)%keys)
			switch i % 4 {
			case 0, 1:
				s.Apply(txn(put(k, fmt.Sprintf("rewritten %d", i))))
			case 2:
				s.Apply(txn(del(k), put(k+"/new", "inserted")))
			case 3:
				_ = s.View() // views taken meanwhile do not disturb the first
			}
			writes++
			if i == 0 {
				close(started)
			}
			select {
			case <-encoded:
				if i >= 2*keys { // enough to have rewritten most of the tree
					return
				}
			default:
			}
		}
	}()
	var parts [][]byte
	go func() { // a reader of the view
		defer wg.Done()
		defer close(encoded)
		<-started
		e := NewSnapshotEncoder(v)
		for {
			part, done, err := e.Next(nil, 256)
			if err != nil {
				t.Error(err)
				return
			}
			parts = append(parts, part)
			if done {
				return
			}
		}
	}()
	wg.Wait()

	if got := bytes.Join(parts, nil); !bytes.Equal(got, want) {
		t.Fatalf("the stream of the view (%d bytes) is not the state at View() (%d bytes)", len(got), len(want))
	}
	decoded, err := ReadSnapshot(bytes.NewReader(bytes.Join(parts, nil)))
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "decoded view", twin, decoded)
	if s.Revision() <= v.Revision() || bytes.Equal(writeStream(t, s), want) {
		t.Errorf("the store did not change during the test (%d writes)", writes)
	}
	if v.Len() != keys || v.Revision() != keys {
		t.Errorf("view len %d revision %d, want %d %d", v.Len(), v.Revision(), keys, keys)
	}
}
