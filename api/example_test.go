package api_test

import (
	"encoding/json"
	"fmt"

	"github.com/raftkv/raftkv/api"
)

// Values travel as standard base64; keys as plain strings.
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
