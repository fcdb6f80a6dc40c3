package httpapi

import (
	"testing"

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
	f.Add([]byte(`{"success":[{"delete":{"key_base64":"/w==","range_end_base64":"AA==","prev_kv":true}},{"get":{"key":"a","prefix":true,"limit":10000}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := decodeTxn(data)
		if err != nil {
			return
		}
		plan, err := toTxn(req)
		if err != nil {
			return
		}
		_ = store.Validate(plan.txn)
		if len(plan.txn.Compares) > MaxTxnOps || len(plan.txn.Success) > MaxTxnOps || len(plan.txn.Failure) > MaxTxnOps {
			t.Fatalf("plan over the bounds: %d compares, %d and %d ops", len(plan.txn.Compares), len(plan.txn.Success), len(plan.txn.Failure))
		}
		// An answer can be made from any results, even short ones.
		for _, o := range plan.success {
			o.response(nil, newBudget())
		}
	})
}
