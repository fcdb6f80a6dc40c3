package api_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/raftkv/raftkv/api"
)

// TestJSONShapes pins the JSON of the shapes: a change here is a change
// of the wire format that every client sees.
func TestJSONShapes(t *testing.T) {
	rev := int64(7)
	kv := api.KeyValue{Key: "k", Value: []byte("v"), CreateRevision: 2, ModRevision: 5, Version: 3}
	kvJSON := `{"key":"k","value":"dg==","create_revision":2,"mod_revision":5,"version":3}`
	tests := []struct {
		v    any
		want string
	}{
		{kv, kvJSON},
		{api.GetReply{Revision: 7, KV: kv}, `{"revision":7,"kv":` + kvJSON + `}`},
		{api.PutRequest{Value: []byte{}}, `{"value":""}`},
		{api.PutReply{Revision: 7}, `{"revision":7}`},
		{api.PutReply{Revision: 7, PrevKV: &kv}, `{"revision":7,"prev_kv":` + kvJSON + `}`},
		{api.DeleteReply{Revision: 7}, `{"revision":7,"deleted":0}`},
		{api.DeleteReply{Revision: 7, Deleted: 1, PrevKVs: []api.KeyValue{kv}}, `{"revision":7,"deleted":1,"prev_kvs":[` + kvJSON + `]}`},
		{api.RangeReply{Revision: 7, KVs: []api.KeyValue{}}, `{"revision":7,"kvs":[],"more":false}`},
		{api.RangeReply{Revision: 7, KVs: []api.KeyValue{kv}, More: true, Next: "aw"}, `{"revision":7,"kvs":[` + kvJSON + `],"more":true,"next":"aw"}`},
		{api.ErrorReply{Error: "no", Code: "invalid"}, `{"error":"no","code":"invalid"}`},
		{api.ErrorReply{Error: "no", Code: "precondition_failed", Revision: &rev, KV: &kv}, `{"error":"no","code":"precondition_failed","revision":7,"kv":` + kvJSON + `}`},
		{api.TxnRequest{}, `{}`},
		{api.TxnRequest{
			Compare: []api.TxnCompare{{Key: "k", Target: "mod_revision", Result: "equal", ModRevision: 5}},
			Success: []api.TxnOp{{Put: &api.TxnPut{Key: "k", Value: []byte{}, PrevKV: true}}},
			Failure: []api.TxnOp{{Get: &api.TxnRange{Key: "p/", Prefix: true, Limit: 2}}, {Delete: &api.TxnRange{Key: "a", RangeEnd: "c"}}},
		}, `{"compare":[{"key":"k","target":"mod_revision","result":"equal","mod_revision":5}],` +
			`"success":[{"put":{"key":"k","value":"","prev_kv":true}}],` +
			`"failure":[{"get":{"key":"p/","prefix":true,"limit":2}},{"delete":{"key":"a","range_end":"c"}}]}`},
		{api.TxnReply{Revision: 7, Succeeded: true, Responses: []api.TxnOpResponse{
			{Put: &api.TxnPutResponse{}},
			{Get: &api.TxnGetResponse{KVs: []api.KeyValue{}}},
			{Delete: &api.TxnDeleteResponse{Deleted: 1}},
		}}, `{"revision":7,"succeeded":true,"responses":[{"put":{}},{"get":{"kvs":[],"more":false}},{"delete":{"deleted":1}}]}`},
		{api.MembersReply{Revision: 7, Leader: 1, Members: []api.Member{
			{ID: 1, Address: "127.0.0.1:12379", ClientAddress: "http://127.0.0.1:12380", Role: api.RoleVoter, IsLeader: true,
				MatchIndex: new(uint64(9)), Reachable: new(true)},
			{ID: 2, Address: "127.0.0.1:22379", Role: api.RoleLearner},
		}}, `{"revision":7,"leader":1,"members":[` +
			`{"id":1,"address":"127.0.0.1:12379","client_address":"http://127.0.0.1:12380","role":"voter","is_leader":true,"match_index":9,"reachable":true},` +
			`{"id":2,"address":"127.0.0.1:22379","role":"learner"}]}`},
		{api.AddMemberRequest{ID: 4, Address: "127.0.0.1:42379"}, `{"id":4,"address":"127.0.0.1:42379"}`},
		{api.AddMemberRequest{ID: 4, Address: "n4:2379", ClientAddress: "http://n4:2380", Learner: true},
			`{"id":4,"address":"n4:2379","client_address":"http://n4:2380","learner":true}`},
		{api.MemberReply{Revision: 7}, `{"revision":7}`},
		{api.StatusReply{ID: 1, Name: "member-1", Version: "v1.2.3", Leader: 1, State: "leader", Term: 2, Commit: 9, Applied: 9,
			Serving: true, Revision: 7, Keys: 3, DataSizeBytes: 64000123,
			ClusterID: "00000000000000ab", Members: []api.Member{{ID: 1, Address: "127.0.0.1:12379", Role: api.RoleVoter}}},
			`{"id":1,"name":"member-1","version":"v1.2.3","leader":1,"state":"leader","term":2,"commit":9,"applied":9,` +
				`"serving":true,"revision":7,"keys":3,"data_size_bytes":64000123,` +
				`"cluster_id":"00000000000000ab","members":[{"id":1,"address":"127.0.0.1:12379","role":"voter"}]}`},
	}
	bin := api.KeyValue{Value: []byte{}, CreateRevision: 1, ModRevision: 1, Version: 1}
	bin.SetKey([]byte("k\xff\x00"))
	tests = append(tests, []struct {
		v    any
		want string
	}{
		{bin, `{"key_base64":"a/8A","value":"","create_revision":1,"mod_revision":1,"version":1}`},
		{api.TxnRange{KeyBase64: []byte{0xff}, RangeEndBase64: []byte{0}}, `{"key_base64":"/w==","range_end_base64":"AA=="}`},
		{api.TxnPut{KeyBase64: []byte{0xff}, Value: []byte{}}, `{"key_base64":"/w==","value":""}`},
		{api.TxnCompare{KeyBase64: []byte{0xff}, Target: "exists", Result: "equal"}, `{"key_base64":"/w==","target":"exists","result":"equal"}`},
	}...)
	for i, tt := range tests {
		got, err := json.Marshal(tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("%d: %T: %s, %v\nwant %s", i, tt.v, got, err, tt.want)
		}
	}
}

// TestKeyFields checks that the key helpers put a key in "key" exactly
// when it is valid UTF-8, give every key back as it was, and refuse a
// request that gives both fields.
func TestKeyFields(t *testing.T) {
	keys := [][]byte{[]byte("plain"), []byte("nul\x00inside"), []byte("été"), {0xff}, {'a', 0xc3}, {0xed, 0xa0, 0x80}, []byte("\uFFFD")}
	for b := range 256 {
		keys = append(keys, []byte{'k', byte(b)})
	}
	for _, key := range keys {
		var kv api.KeyValue
		kv.SetKey(key)
		data, err := json.Marshal(kv)
		if err != nil {
			t.Fatal(err)
		}
		var back api.KeyValue
		if err := json.Unmarshal(data, &back); err != nil || string(back.KeyBytes()) != string(key) {
			t.Errorf("%q: %s reads back as %q, %v", key, data, back.KeyBytes(), err)
		}
		if (kv.KeyBase64 == nil) != utf8.Valid(key) || (kv.Key != "") == (kv.KeyBase64 != nil) {
			t.Errorf("%q: key %q key_base64 %q", key, kv.Key, kv.KeyBase64)
		}
		var r api.TxnRange
		r.SetKey(key)
		r.SetRangeEnd(key)
		if data, err = json.Marshal(r); err != nil {
			t.Fatal(err)
		}
		var rBack api.TxnRange
		if err := json.Unmarshal(data, &rBack); err != nil {
			t.Fatal(err)
		}
		k, err1 := rBack.KeyBytes()
		end, err2 := rBack.RangeEndBytes()
		if string(k) != string(key) || string(end) != string(key) || err1 != nil || err2 != nil {
			t.Errorf("%q: range %s reads back as %q, %q (%v, %v)", key, data, k, end, err1, err2)
		}
	}
	both := api.TxnPut{Key: "a", KeyBase64: []byte("a")}
	if _, err := both.KeyBytes(); !errors.Is(err, api.ErrKeyFields) {
		t.Errorf("key and key_base64 together: %v, want ErrKeyFields", err)
	}
	var r api.TxnRange
	r.SetRangeEnd(nil)
	if end, err := r.RangeEndBytes(); len(end) != 0 || err != nil {
		t.Errorf("no range end: %q, %v", end, err)
	}
}
