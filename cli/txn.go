package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/client"
)

// parseTxn reads a transaction in the JSON of POST /v1/txn (api.TxnRequest)
// into the client's form, refusing what the member would refuse of its
// shape: a field the API does not know, anything after the object, an
// unknown compare target or result (in any case, as the member reads
// them), an operand in a field other than the target's, an op that is not
// exactly one of put, get, delete. Limits are left to the member.
func parseTxn(body []byte) (client.TxnRequest, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return client.TxnRequest{}, errors.New(`empty: want a transaction in the JSON of POST /v1/txn, {"compare":[...],"success":[...],"failure":[...]}`)
	}
	var req api.TxnRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return client.TxnRequest{}, fmt.Errorf("a transaction in the JSON of POST /v1/txn: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return client.TxnRequest{}, errors.New("data after the JSON object")
	}
	var out client.TxnRequest
	for i := range req.Compare {
		c, err := compareOf(&req.Compare[i])
		if err != nil {
			return client.TxnRequest{}, fmt.Errorf("compare %d: %w", i, err)
		}
		out.Compare = append(out.Compare, c)
	}
	var err error
	if out.Success, err = opsOf("success", req.Success); err != nil {
		return client.TxnRequest{}, err
	}
	if out.Failure, err = opsOf("failure", req.Failure); err != nil {
		return client.TxnRequest{}, err
	}
	return out, nil
}

// compareOf is the client's Compare of an API compare: the operand is the
// field named like the target, and no other operand field may be set (a
// version compare given a mod_revision would otherwise compare to 0).
func compareOf(c *api.TxnCompare) (client.Compare, error) {
	key, err := c.KeyBytes()
	if err != nil {
		return client.Compare{}, err
	}
	out := client.Compare{Key: string(key), Target: client.CompareTarget(strings.ToLower(c.Target)),
		Result: client.CompareResult(strings.ToLower(c.Result))}
	switch out.Result {
	case client.Equal, client.NotEqual, client.Greater, client.Less:
	default:
		return client.Compare{}, fmt.Errorf("result %q: want equal, not_equal, greater or less", c.Result)
	}
	operands := []struct {
		target client.CompareTarget
		set    bool
	}{
		{client.TargetValue, c.Value != nil}, {client.TargetModRevision, c.ModRevision != 0},
		{client.TargetCreateRevision, c.CreateRevision != 0}, {client.TargetVersion, c.Version != 0},
		{client.TargetExists, c.Exists},
	}
	switch out.Target {
	case client.TargetValue:
		out.Value = c.Value
	case client.TargetModRevision:
		out.Revision = c.ModRevision
	case client.TargetCreateRevision:
		out.Revision = c.CreateRevision
	case client.TargetVersion:
		out.Revision = c.Version
	case client.TargetExists:
		out.Exists = c.Exists
		if out.Result == client.Greater || out.Result == client.Less {
			return client.Compare{}, fmt.Errorf("target exists takes result equal or not_equal, not %q", c.Result)
		}
	default:
		return client.Compare{}, fmt.Errorf("target %q: want value, mod_revision, create_revision, version or exists", c.Target)
	}
	for _, o := range operands {
		if o.set && o.target != out.Target {
			return client.Compare{}, fmt.Errorf("target %s takes its operand in %q, not %q", out.Target, out.Target, o.target)
		}
	}
	return out, nil
}

// opsOf is the client's form of the ops of a branch.
func opsOf(branch string, ops []api.TxnOp) ([]client.Op, error) {
	var out []client.Op
	for i, op := range ops {
		o, err := opOf(op)
		if err != nil {
			return nil, fmt.Errorf("%s op %d: %w", branch, i, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func opOf(op api.TxnOp) (client.Op, error) {
	n := 0
	for _, set := range []bool{op.Put != nil, op.Get != nil, op.Delete != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return client.Op{}, errors.New(`give exactly one of "put", "get", "delete"`)
	}
	if op.Put != nil {
		key, err := op.Put.KeyBytes()
		if err != nil {
			return client.Op{}, err
		}
		var opts []client.OpOption
		if op.Put.PrevKV {
			opts = append(opts, client.WithPrevKV())
		}
		return client.OpPut(string(key), op.Put.Value, opts...), nil
	}
	r, get := op.Get, true
	if r == nil {
		r, get = op.Delete, false
	}
	key, err := r.KeyBytes()
	if err != nil {
		return client.Op{}, err
	}
	end, err := r.RangeEndBytes()
	if err != nil {
		return client.Op{}, err
	}
	var opts []client.OpOption
	if r.Prefix {
		opts = append(opts, client.WithPrefix())
	}
	if len(end) > 0 {
		opts = append(opts, client.WithRangeEnd(string(end)))
	}
	if get {
		if r.PrevKV {
			return client.Op{}, errors.New(`"prev_kv" is for put and delete, not get`)
		}
		if r.Limit != 0 {
			opts = append(opts, client.WithLimit(r.Limit))
		}
		return client.OpGet(string(key), opts...), nil
	}
	if r.Limit != 0 {
		return client.Op{}, errors.New(`"limit" is for get, not delete`)
	}
	if r.PrevKV {
		opts = append(opts, client.WithPrevKV())
	}
	return client.OpDelete(string(key), opts...), nil
}

// txnReply is the API's JSON of a transaction's outcome.
func txnReply(resp *client.TxnResponse) api.TxnReply {
	out := api.TxnReply{Revision: resp.Revision, Succeeded: resp.Succeeded, Responses: []api.TxnOpResponse{}}
	for _, r := range resp.Responses {
		switch r.Type {
		case client.OpTypePut:
			out.Responses = append(out.Responses, api.TxnOpResponse{Put: &api.TxnPutResponse{PrevKV: r.PrevKV}})
		case client.OpTypeDelete:
			out.Responses = append(out.Responses, api.TxnOpResponse{Delete: &api.TxnDeleteResponse{
				Deleted: r.Deleted, PrevKVs: r.PrevKVs, PrevKVsTruncated: r.PrevKVsTruncated}})
		default:
			kvs := r.KVs
			if kvs == nil {
				kvs = []api.KeyValue{}
			}
			out.Responses = append(out.Responses, api.TxnOpResponse{Get: &api.TxnGetResponse{KVs: kvs, More: r.More}})
		}
	}
	return out
}
