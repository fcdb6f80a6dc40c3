package cli

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/client"
)

func TestParseTxn(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want client.TxnRequest
	}{
		{"empty object", `{}`, client.TxnRequest{}},
		{"null", `null`, client.TxnRequest{}},
		{"value compare and every op", `{
			"compare": [{"key":"a","target":"value","result":"equal","value":"MQ=="}],
			"success": [{"put":{"key":"a","value":"Mg==","prev_kv":true}},
			            {"get":{"key":"p/","prefix":true,"limit":5}},
			            {"delete":{"key":"d","range_end":"e","prev_kv":true}}],
			"failure": [{"get":{"key":"a"}}, {"delete":{"key":"x"}}]}`,
			client.TxnRequest{
				Compare: []client.Compare{client.CompareValue("a", client.Equal, []byte("1"))},
				Success: []client.Op{
					client.OpPut("a", []byte("2"), client.WithPrevKV()),
					client.OpGet("p/", client.WithPrefix(), client.WithLimit(5)),
					client.OpDelete("d", client.WithRangeEnd("e"), client.WithPrevKV()),
				},
				Failure: []client.Op{client.OpGet("a"), client.OpDelete("x")},
			}},
		{"revision and version compares", `{"compare": [
			{"key":"a","target":"mod_revision","result":"greater","mod_revision":3},
			{"key":"b","target":"create_revision","result":"less","create_revision":4},
			{"key":"c","target":"version","result":"not_equal","version":5}]}`,
			client.TxnRequest{Compare: []client.Compare{
				client.CompareModRevision("a", client.Greater, 3),
				client.CompareCreateRevision("b", client.Less, 4),
				client.CompareVersion("c", client.NotEqual, 5),
			}}},
		{"exists, and a version compare to 0 (no operand)", `{"compare": [
			{"key":"a","target":"exists","result":"equal","exists":true},
			{"key":"b","target":"exists","result":"equal"},
			{"key":"c","target":"version","result":"equal"}]}`,
			client.TxnRequest{Compare: []client.Compare{
				client.CompareExists("a", true),
				client.CompareExists("b", false),
				client.CompareVersion("c", client.Equal, 0),
			}}},
		// The member reads targets and results in any case; so does the CLI.
		{"targets and results in any case", `{"compare":[{"key":"a","target":"Version","result":"EQUAL","version":2}]}`,
			client.TxnRequest{Compare: []client.Compare{client.CompareVersion("a", client.Equal, 2)}}},
		{"keys in base64", `{"compare":[{"key_base64":"/wA=","target":"value","result":"equal","value":""}],
			"success":[{"put":{"key_base64":"/wA=","value":"eA=="}},{"get":{"key":"a","range_end_base64":"/w=="}}]}`,
			client.TxnRequest{
				Compare: []client.Compare{client.CompareValue("\xff\x00", client.Equal, []byte{})},
				Success: []client.Op{client.OpPut("\xff\x00", []byte("x")), client.OpGet("a", client.WithRangeEnd("\xff"))},
			}},
		{"a put without a value is the empty value", `{"success":[{"put":{"key":"a"}}]}`,
			client.TxnRequest{Success: []client.Op{client.OpPut("a", nil)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTxn([]byte(tt.in))
			if err != nil {
				t.Fatalf("parseTxn: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseTxn:\n got %#v\nwant %#v", got, tt.want)
			}
			// What goes over the wire is the same as for the request built
			// with the client.
			gotJSON, err1 := json.Marshal(got)
			wantJSON, err2 := json.Marshal(tt.want)
			if err1 != nil || err2 != nil || string(gotJSON) != string(wantJSON) {
				t.Errorf("JSON sent:\n got %s (%v)\nwant %s (%v)", gotJSON, err1, wantJSON, err2)
			}
		})
	}
}

func TestParseTxnRefuses(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{``, "empty"},
		{" \n", "empty"},
		{`{`, "unexpected EOF"},
		{`[]`, "cannot unmarshal array"},
		{`{"compare":[],"sucess":[]}`, `unknown field "sucess"`},
		{`{} {}`, "data after the JSON object"},
		{`{}x`, "data after the JSON object"},
		{`{"compare":[{"key":"a","target":"size","result":"equal"}]}`, `compare 0: target "size"`},
		{`{"compare":[{"key":"a","target":"value","result":"same"}]}`, `compare 0: result "same"`},
		{`{"compare":[{"key":"a","target":"value","result":"equal","value":"not base64!"}]}`, "illegal base64"},
		// An operand in another target's field would silently compare to 0.
		{`{"compare":[{"key":"a","target":"version","result":"equal","mod_revision":3}]}`, `target version takes its operand in "version", not "mod_revision"`},
		{`{"compare":[{"key":"a","target":"value","result":"equal","value":"","exists":true}]}`, `not "exists"`},
		{`{"compare":[{"key":"a","target":"exists","result":"greater","exists":true}]}`, "exists takes result equal or not_equal"},
		{`{"compare":[{"key":"a","key_base64":"YQ==","target":"exists","result":"equal"}]}`, "not both"},
		{`{"success":[{}]}`, `success op 0: give exactly one of "put", "get", "delete"`},
		{`{"failure":[{"get":{"key":"a"}},{"put":{"key":"a","value":""},"get":{"key":"a"}}]}`, "failure op 1: give exactly one"},
		{`{"success":[{"get":{"key":"a","prev_kv":true}}]}`, `"prev_kv" is for put and delete`},
		{`{"success":[{"delete":{"key":"a","limit":3}}]}`, `"limit" is for get`},
		{`{"success":[{"put":{"key":"a","value":"","limit":3}}]}`, `unknown field "limit"`},
	}
	for _, tt := range tests {
		_, err := parseTxn([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("parseTxn(%q): %v, want an error saying %q", tt.in, err, tt.err)
		}
	}
}

func TestTxnReplyOfResponse(t *testing.T) {
	resp := &client.TxnResponse{Revision: 7, Succeeded: false, Responses: []client.OpResponse{
		{Type: client.OpTypePut},
		{Type: client.OpTypeGet, More: true},
		{Type: client.OpTypeDelete, Deleted: 2},
	}}
	b, err := json.Marshal(txnReply(resp))
	if err != nil {
		t.Fatal(err)
	}
	// The API's shape: a get without keys has "kvs":[], not null.
	want := `{"revision":7,"succeeded":false,"responses":[{"put":{}},{"get":{"kvs":[],"more":true}},{"delete":{"deleted":2}}]}`
	if string(b) != want {
		t.Errorf("txnReply:\n got %s\nwant %s", b, want)
	}
}
