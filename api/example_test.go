package api_test

import (
	"encoding/json"
	"fmt"

	"github.com/raftkv/raftkv/api"
)

// Values travel as standard base64; keys as plain strings when they are
// valid UTF-8.
func ExampleGetReply() {
	body := `{"revision":9,"kv":{"key":"greeting","value":"aGVsbG8=","create_revision":4,"mod_revision":9,"version":2}}`
	var got api.GetReply
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s = %s (written at %d, read at %d)\n", got.KV.Key, got.KV.Value, got.KV.ModRevision, got.Revision)
	// Output:
	// greeting = hello (written at 9, read at 9)
}

// A key that is not valid UTF-8 travels in base64, in "key_base64"
// instead of "key"; KeyBytes gives it back either way.
func ExampleKeyValue_KeyBytes() {
	body := `{"revision":9,"kvs":[{"key":"a","value":""},{"key_base64":"/wA=","value":""}],"more":false}`
	var page api.RangeReply
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		fmt.Println(err)
		return
	}
	for _, kv := range page.KVs {
		fmt.Printf("%q\n", kv.KeyBytes())
	}
	var kv api.KeyValue
	kv.SetKey([]byte{0xff, 0})
	out, _ := json.Marshal(kv)
	fmt.Println(string(out))
	// Output:
	// "a"
	// "\xff\x00"
	// {"key_base64":"/wA=","value":null,"create_revision":0,"mod_revision":0,"version":0}
}
