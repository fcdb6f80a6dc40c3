package store_test

import (
	"bytes"
	"fmt"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

func Example() {
	s := store.New()
	put := messages.Txn{Success: []messages.Op{
		{Type: messages.OpPut, Key: []byte("color"), Value: []byte("red")},
		{Type: messages.OpPut, Key: []byte("shape"), Value: []byte("round")},
	}}
	if err := store.Validate(put); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("revision after put:", s.Apply(put).Revision)

	// Compare-and-swap: change color only if nobody changed it since revision 1.
	cas := messages.Txn{
		Compares: []messages.Compare{{Key: []byte("color"), Target: messages.TargetModRevision, Result: messages.Equal, Revision: 1}},
		Success:  []messages.Op{{Type: messages.OpPut, Key: []byte("color"), Value: []byte("blue"), PrevKV: true}},
	}
	res := s.Apply(cas)
	fmt.Printf("cas succeeded %v, previous %s, revision %d\n", res.Succeeded, res.Responses[0].KVs[0].Value, res.Revision)
	fmt.Println("second cas succeeded:", s.Apply(cas).Succeeded)

	all, rev := s.Range(messages.Op{Type: messages.OpGet, Key: nil, End: []byte{0}})
	for _, kv := range all.KVs {
		fmt.Printf("%s=%s version %d\n", kv.Key, kv.Value, kv.Version)
	}
	fmt.Println("revision:", rev)

	fmt.Println(store.Validate(messages.Txn{Success: []messages.Op{{Type: messages.OpPut}}}))
	// Output:
	// revision after put: 1
	// cas succeeded true, previous red, revision 2
	// second cas succeeded: false
	// color=blue version 2
	// shape=round version 1
	// revision: 2
	// raftkv: invalid request: success op 0: put: empty key
}

func ExampleWriteSnapshot() {
	s := store.New()
	s.Apply(messages.Txn{Success: []messages.Op{
		{Type: messages.OpPut, Key: []byte("a"), Value: []byte("1")},
		{Type: messages.OpPut, Key: []byte("b"), Value: []byte("2")},
	}})
	v := s.View() // by the owner of s; v may go to another goroutine
	s.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte("c"), Value: []byte("3")}}})

	var file bytes.Buffer
	if _, err := store.WriteSnapshot(&file, v); err != nil {
		fmt.Println(err)
		return
	}
	restored, err := store.ReadSnapshot(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("store: %d keys at revision %d\n", s.Len(), s.Revision())
	fmt.Printf("restored view: %d keys at revision %d\n", restored.Len(), restored.Revision())
	// Output:
	// store: 3 keys at revision 2
	// restored view: 2 keys at revision 1
}

func ExampleSnapshotEncoder() {
	s := store.New()
	for i := range 1000 {
		s.Apply(messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: fmt.Appendf(nil, "key%04d", i), Value: make([]byte, 100)}}})
	}
	e := store.NewSnapshotEncoder(s.View())
	var stream, chunk []byte
	chunks := 0
	for done := false; !done; chunks++ {
		var err error
		chunk, done, err = e.Next(chunk[:0], 16<<10) // about 16 KiB each
		if err != nil {
			fmt.Println(err)
			return
		}
		stream = append(stream, chunk...) // send the chunk, write it to a file...
	}
	restored, err := store.ReadSnapshot(bytes.NewReader(stream))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d chunks, %d keys\n", chunks, restored.Len())
	// Output:
	// 16 chunks, 1000 keys
}
