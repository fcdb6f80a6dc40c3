package httpapi

import (
	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
)

// The JSON shapes of the /v1 API are in package api; these turn the
// state machine's answers into them.

// toKeyValue turns a key of the store into its JSON shape: the key in
// "key" when it is valid UTF-8, else in "key_base64" (see api.SplitKey); a
// nil value is written as "" (an empty value), never as null.
func toKeyValue(kv messages.KeyValue) api.KeyValue {
	v := kv.Value
	if v == nil {
		v = []byte{}
	}
	out := api.KeyValue{Value: v, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision, Version: kv.Version}
	out.SetKey(kv.Key)
	return out
}

func toKeyValues(kvs []messages.KeyValue) []api.KeyValue {
	out := make([]api.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = toKeyValue(kv)
	}
	return out
}
