package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/store"
)

// FuzzTxnRequest feeds arbitrary JSON to the decoding of POST /v1/txn: it
// must never panic, and whatever it accepts must be a transaction that the
// store's validation accepts or refuses cleanly.
func FuzzTxnRequest(f *testing.F) {
	f.Add([]byte(`{"compare":[{"key":"a","target":"value","result":"equal","value":"YQ=="}],"success":[{"put":{"key":"a","value":"Yg=="}}],"failure":[{"get":{"key":"a"}}]}`))
	f.Add([]byte(`{"success":[{"delete":{"key":"a","prefix":true,"prev_kv":true}}]}`))
	f.Add([]byte(`{"compare":[{"key":"a","target":"mod_revision","result":"greater","mod_revision":-1}]}`))
	f.Add([]byte(`{"success":[{"get":{"key":"","range_end":"\u0000","limit":-5}}]}`))
	f.Add([]byte(`{"success":[{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var req api.TxnRequest
		if json.Unmarshal(data, &req) != nil {
			return
		}
		txn, err := toTxn(req)
		if err != nil {
			return
		}
		_ = store.Validate(txn)
	})
}
