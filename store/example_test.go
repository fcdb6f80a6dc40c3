package store_test

import (
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
