package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func TestValidate(t *testing.T) {
	long := func(n int) []byte { return bytes.Repeat([]byte("k"), n) }
	ops := func(n int) []messages.Op {
		out := make([]messages.Op, n)
		for i := range out {
			out[i] = put("k", "v")
		}
		return out
	}
	cmp := func(target messages.CompareTarget, result messages.CompareResult) messages.Compare {
		return messages.Compare{Key: []byte("k"), Target: target, Result: result}
	}
	tests := []struct {
		name    string
		txn     messages.Txn
		wantErr string // "" for valid; else a part of the message
	}{
		{"empty txn", messages.Txn{}, ""},
		{"put", txn(put("k", "v")), ""},
		{"put of an empty value", txn(put("k", "")), ""},
		{"put with prev_kv", txn(putPrev("k", "v")), ""},
		{"get", txn(get("k")), ""},
		{"get range with limit", txn(getRange("a", "b", 10)), ""},
		{"get everything", txn(getRange("", "\x00", 0)), ""},
		{"get from the start to an end", txn(getRange("", "m", 0)), ""},
		{"get of an empty range", txn(getRange("b", "a", 0)), ""},
		{"delete", txn(del("k")), ""},
		{"delete everything", txn(delRange("", "\x00", true)), ""},
		{"largest key and value", txn(messages.Op{Type: messages.OpPut, Key: long(MaxKeySize), Value: make([]byte, MaxValueSize)}), ""},
		{"largest range end", txn(messages.Op{Type: messages.OpGet, Key: []byte("a"), End: long(MaxKeySize)}), ""},
		{"most ops in both branches", messages.Txn{Success: ops(MaxTxnOps), Failure: ops(MaxTxnOps)}, ""},
		{"every valid compare", messages.Txn{Compares: []messages.Compare{
			cmp(messages.TargetValue, messages.Equal), cmp(messages.TargetValue, messages.NotEqual),
			cmp(messages.TargetValue, messages.Greater), cmp(messages.TargetValue, messages.Less),
			cmp(messages.TargetModRevision, messages.Greater), cmp(messages.TargetCreateRevision, messages.Less),
			cmp(messages.TargetVersion, messages.Equal), cmp(messages.TargetExists, messages.Equal),
			cmp(messages.TargetExists, messages.NotEqual),
		}, Success: []messages.Op{put("k", "v")}}, ""},

		{"put of an empty key", txn(put("", "v")), "success op 0: put: empty key"},
		{"get of an empty key", txn(get("")), "get: empty key"},
		{"delete of an empty key", txn(del("")), "delete: empty key"},
		{"key too long", txn(messages.Op{Type: messages.OpPut, Key: long(MaxKeySize + 1)}), "key is 4097 bytes"},
		{"get key too long", txn(messages.Op{Type: messages.OpGet, Key: long(MaxKeySize + 1)}), "key is 4097 bytes"},
		{"range end too long", txn(messages.Op{Type: messages.OpDelete, Key: []byte("a"), End: long(MaxKeySize + 1)}), "range end is 4097 bytes"},
		{"value too large", txn(messages.Op{Type: messages.OpPut, Key: []byte("k"), Value: make([]byte, MaxValueSize+1)}), "value is 1048577 bytes"},
		{"put with a range end", txn(messages.Op{Type: messages.OpPut, Key: []byte("k"), End: []byte("z")}), "range end is not allowed"},
		{"put with a limit", txn(messages.Op{Type: messages.OpPut, Key: []byte("k"), Limit: 1}), "put: a limit"},
		{"get with a value", txn(messages.Op{Type: messages.OpGet, Key: []byte("k"), Value: []byte("v")}), "get: a value"},
		{"delete with a value", txn(messages.Op{Type: messages.OpDelete, Key: []byte("k"), Value: []byte("v")}), "delete: a value"},
		{"delete with a limit", txn(messages.Op{Type: messages.OpDelete, Key: []byte("k"), Limit: 3}), "delete: a limit"},
		{"negative limit", txn(getRange("a", "b", -1)), "negative limit"},
		{"op type 0", txn(messages.Op{Key: []byte("k")}), "unknown op type 0"},
		{"unknown op type", txn(messages.Op{Type: 9, Key: []byte("k")}), "unknown op type 9"},
		{"bad op in the failure branch", messages.Txn{Success: []messages.Op{put("k", "v")}, Failure: []messages.Op{put("k", "v"), put("", "v")}}, "failure op 1: put: empty key"},
		{"too many success ops", messages.Txn{Success: ops(MaxTxnOps + 1)}, "129 success ops"},
		{"too many failure ops", messages.Txn{Failure: ops(MaxTxnOps + 1)}, "129 failure ops"},
		{"too many compares", messages.Txn{Compares: make([]messages.Compare, MaxTxnOps+1)}, "129 compares"},
		{"compare of an empty key", messages.Txn{Compares: []messages.Compare{{Target: messages.TargetValue, Result: messages.Equal}}}, "compare 0: empty key"},
		{"compare key too long", messages.Txn{Compares: []messages.Compare{{Key: long(MaxKeySize + 1), Target: messages.TargetValue, Result: messages.Equal}}}, "key is 4097 bytes"},
		{"compare value too large", messages.Txn{Compares: []messages.Compare{{Key: []byte("k"), Target: messages.TargetValue, Result: messages.Equal, Value: make([]byte, MaxValueSize+1)}}}, "value is 1048577 bytes"},
		{"compare target 0", messages.Txn{Compares: []messages.Compare{cmp(0, messages.Equal)}}, "unknown target 0"},
		{"unknown compare target", messages.Txn{Compares: []messages.Compare{cmp(6, messages.Equal)}}, "unknown target 6"},
		{"compare result 0", messages.Txn{Compares: []messages.Compare{cmp(messages.TargetVersion, 0)}}, "unknown result 0"},
		{"unknown compare result", messages.Txn{Compares: []messages.Compare{cmp(messages.TargetValue, 5)}}, "unknown result 5"},
		{"exists with greater", messages.Txn{Compares: []messages.Compare{cmp(messages.TargetExists, messages.Greater)}}, "only equal or not equal"},
		{"exists with less", messages.Txn{Compares: []messages.Compare{cmp(messages.TargetExists, messages.Less)}}, "only equal or not equal"},
	}
	for i, tt := range tests {
		err := Validate(tt.txn)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("#%d %s: Validate = %v, want nil", i, tt.name, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("#%d %s: Validate = nil, want an error with %q", i, tt.name, tt.wantErr)
		case err != nil && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("#%d %s: Validate = %v, want an error wrapping ErrInvalid with %q", i, tt.name, err, tt.wantErr)
		}
	}
}
