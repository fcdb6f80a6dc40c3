package httpapi

import (
	"net/http"
	"strings"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
)

var compareTargets = map[string]messages.CompareTarget{
	"value":           messages.TargetValue,
	"mod_revision":    messages.TargetModRevision,
	"create_revision": messages.TargetCreateRevision,
	"version":         messages.TargetVersion,
	"exists":          messages.TargetExists,
}

var compareResults = map[string]messages.CompareResult{
	"equal":     messages.Equal,
	"not_equal": messages.NotEqual,
	"greater":   messages.Greater,
	"less":      messages.Less,
}

// txnV1 serves POST /v1/txn.
func (s *Server) txnV1(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	p, err := s.parseParams(r)
	if err != nil {
		s.failV1(w, err)
		return
	}
	var req api.TxnRequest
	if !decodeJSON(w, r, MaxTxnBodySize, &req) {
		return
	}
	txn, err := toTxn(req)
	if err != nil {
		s.failV1(w, err)
		return
	}
	for _, ops := range [][]messages.Op{txn.Success, txn.Failure} {
		for _, op := range ops {
			if valueTooLarge(w, len(op.Value)) {
				return
			}
		}
	}
	res, err := s.txn(r.Context(), txn, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	ops := txn.Success
	if !res.Succeeded {
		ops = txn.Failure
	}
	reply := api.TxnReply{Revision: res.Revision, Succeeded: res.Succeeded, Responses: make([]api.TxnOpResponse, len(ops))}
	for i, op := range ops {
		var or messages.OpResult
		if i < len(res.Responses) {
			or = res.Responses[i]
		}
		reply.Responses[i] = toOpResponse(op.Type, or)
	}
	writeV1(w, http.StatusOK, res.Revision, reply)
}

func toOpResponse(t messages.OpType, or messages.OpResult) api.TxnOpResponse {
	switch t {
	case messages.OpPut:
		pr := &api.TxnPutResponse{}
		if len(or.KVs) > 0 {
			kv := toKeyValue(or.KVs[0])
			pr.PrevKV = &kv
		}
		return api.TxnOpResponse{Put: pr}
	case messages.OpGet:
		return api.TxnOpResponse{Get: &api.TxnGetResponse{KVs: toKeyValues(or.KVs), More: or.More}}
	default:
		dr := &api.TxnDeleteResponse{Deleted: or.Deleted}
		if len(or.KVs) > 0 {
			dr.PrevKVs = toKeyValues(or.KVs)
		}
		return api.TxnOpResponse{Delete: dr}
	}
}

// toTxn turns the JSON of a txn into the state machine's Txn; store.Validate
// checks the rest (sizes, counts, empty keys) before it is proposed.
func toTxn(req api.TxnRequest) (messages.Txn, error) {
	var txn messages.Txn
	for i, c := range req.Compare {
		cmp, err := toCompare(c)
		if err != nil {
			return txn, badRequest("compare %d: %v", i, err)
		}
		txn.Compares = append(txn.Compares, cmp)
	}
	for _, b := range []struct {
		name string
		in   []api.TxnOp
		out  *[]messages.Op
	}{{"success", req.Success, &txn.Success}, {"failure", req.Failure, &txn.Failure}} {
		for i, o := range b.in {
			op, err := toOp(o)
			if err != nil {
				return txn, badRequest("%s op %d: %v", b.name, i, err)
			}
			*b.out = append(*b.out, op)
		}
	}
	return txn, nil
}

func toCompare(c api.TxnCompare) (messages.Compare, error) {
	target, ok := compareTargets[strings.ToLower(c.Target)]
	if !ok {
		return messages.Compare{}, badRequest("target %q: want value, mod_revision, create_revision, version or exists", c.Target)
	}
	result, ok := compareResults[strings.ToLower(c.Result)]
	if !ok {
		return messages.Compare{}, badRequest("result %q: want equal, not_equal, greater or less", c.Result)
	}
	key, err := c.KeyBytes()
	if err != nil {
		return messages.Compare{}, badRequest("%v", err)
	}
	cmp := messages.Compare{Key: key, Target: target, Result: result}
	// Only the operand of the target may be set, so that a misplaced one
	// (target version with a mod_revision) is an error, not a compare to 0.
	operands := 0
	if c.Value != nil {
		operands++
	}
	for _, set := range []bool{c.ModRevision != 0, c.CreateRevision != 0, c.Version != 0, c.Exists} {
		if set {
			operands++
		}
	}
	var mine bool
	switch target {
	case messages.TargetValue:
		cmp.Value, mine = c.Value, c.Value != nil
	case messages.TargetModRevision:
		cmp.Revision, mine = c.ModRevision, c.ModRevision != 0
	case messages.TargetCreateRevision:
		cmp.Revision, mine = c.CreateRevision, c.CreateRevision != 0
	case messages.TargetVersion:
		cmp.Revision, mine = c.Version, c.Version != 0
	case messages.TargetExists:
		cmp.Exists, mine = c.Exists, c.Exists
		if result == messages.Greater || result == messages.Less {
			return messages.Compare{}, badRequest("target exists takes result equal or not_equal")
		}
	}
	if operands > 1 || (operands == 1 && !mine) {
		return messages.Compare{}, badRequest("target %s: set only the field %q", c.Target, strings.ToLower(c.Target))
	}
	return cmp, nil
}

func toOp(o api.TxnOp) (messages.Op, error) {
	n := 0
	for _, set := range []bool{o.Put != nil, o.Get != nil, o.Delete != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return messages.Op{}, badRequest(`want exactly one of "put", "get", "delete"`)
	}
	if o.Put != nil {
		key, err := o.Put.KeyBytes()
		if err != nil {
			return messages.Op{}, badRequest("put: %v", err)
		}
		return messages.Op{Type: messages.OpPut, Key: key, Value: o.Put.Value, PrevKV: o.Put.PrevKV}, nil
	}
	rg, op := o.Get, messages.Op{Type: messages.OpGet}
	if o.Delete != nil {
		rg, op = o.Delete, messages.Op{Type: messages.OpDelete}
		if rg.Limit != 0 {
			return op, badRequest("delete takes no limit")
		}
	} else if rg.PrevKV {
		return op, badRequest("get takes no prev_kv")
	}
	key, err := rg.KeyBytes()
	if err != nil {
		return op, badRequest("%v", err)
	}
	end, err := rg.RangeEndBytes()
	if err != nil {
		return op, badRequest("%v", err)
	}
	op.Key, op.Limit, op.PrevKV = key, rg.Limit, rg.PrevKV
	switch {
	case rg.Prefix && len(end) > 0:
		return op, badRequest("give prefix or range_end, not both")
	case rg.Prefix:
		op.End = prefixEnd(op.Key) // every key for an empty prefix
	case len(end) > 0:
		op.End = end
	}
	return op, nil
}
