package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	body, ok := readBody(w, r, MaxTxnBodySize)
	if !ok {
		return
	}
	req, err := decodeTxn(body)
	if err != nil {
		s.failV1(w, err)
		return
	}
	plan, err := toTxn(req)
	if err != nil {
		s.failV1(w, err)
		return
	}
	for _, ops := range [][]messages.Op{plan.txn.Success, plan.txn.Failure} {
		for _, op := range ops {
			if valueTooLarge(w, len(op.Value)) {
				return
			}
		}
	}
	res, err := s.txn(r.Context(), plan.txn, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	ops := plan.success
	if !res.Succeeded {
		ops = plan.failure
	}
	writeTxnReply(w, res, ops)
}

// writeTxnReply writes the answer of a txn that applied: one response per
// op of the branch that ran (ops), as api.TxnReply. The responses are
// encoded and written one at a time, so that the answer is never whole in
// memory, and share one budget of MaxRangeBytes that cuts the gets and the
// prev_kvs of range deletes.
func writeTxnReply(w http.ResponseWriter, res messages.TxnResult, ops []opPlan) {
	setRevision(w, res.Revision)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprintf(w, `{"revision":%d,"succeeded":%t,"responses":[`, res.Revision, res.Succeeded)
	b := newBudget()
	for i, op := range ops {
		if i > 0 {
			_, _ = io.WriteString(w, ",")
		}
		data, err := json.Marshal(op.response(res.Responses, b))
		if err != nil { // cannot happen: the shapes always encode
			panic(err)
		}
		_, _ = w.Write(data)
	}
	_, _ = io.WriteString(w, "]}\n")
}

// txnPlan is a txn as it is proposed, and how the results of its ops make
// the responses of the request's ops: a range delete with prev_kv becomes
// two ops (see deleteOps).
type txnPlan struct {
	txn              messages.Txn
	success, failure []opPlan
}

// opPlan is one op of a request: its type, and where its results are in
// the results of its branch (as deleteOps says for a delete).
type opPlan struct {
	typ        messages.OpType
	at, prevAt int
	ranged     bool // a get or delete of a range
}

// response is the answer of the op from the results of its branch,
// counting the keys it returns against b.
func (o opPlan) response(results []messages.OpResult, b *budget) api.TxnOpResponse {
	var res messages.OpResult
	if r := resultAt(results, o.at); r != nil {
		res = *r
	}
	switch o.typ {
	case messages.OpPut:
		pr := &api.TxnPutResponse{}
		if len(res.KVs) > 0 {
			b.add(res.KVs[:1])
			kv := toKeyValue(res.KVs[0])
			pr.PrevKV = &kv
		}
		return api.TxnOpResponse{Put: pr}
	case messages.OpGet:
		n := b.take(res.KVs)
		return api.TxnOpResponse{Get: &api.TxnGetResponse{KVs: toKeyValues(res.KVs[:n]), More: res.More || n < len(res.KVs)}}
	default:
		dr := &api.TxnDeleteResponse{Deleted: res.Deleted}
		if prev := resultAt(results, o.prevAt); prev != nil && len(prev.KVs) > 0 {
			dr.PrevKVs, dr.PrevKVsTruncated = prevKVs(*prev, o.ranged, b)
		}
		return api.TxnOpResponse{Delete: dr}
	}
}

// decodeTxn reads the JSON body of POST /v1/txn, refusing unknown fields
// and trailing data. It decodes the lists of compares and ops one entry at
// a time and stops at the first entry over MaxTxnOps, so that a body full
// of tiny ops cannot make it allocate more than MaxTxnOps entries each.
func decodeTxn(body []byte) (api.TxnRequest, error) {
	var req api.TxnRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	tok, err := dec.Token()
	switch {
	case err != nil:
		return req, badRequest("malformed JSON body: %v", err)
	case tok == nil: // null: an empty txn, as {}
		return req, endOfJSON(dec)
	case tok != json.Delim('{'):
		return req, badRequest("malformed JSON body: want an object {\"compare\", \"success\", \"failure\"}")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return req, badRequest("malformed JSON body: %v", err)
		}
		name, _ := tok.(string)
		field := strings.ToLower(name) // as encoding/json matches names
		if seen[field] {
			return req, badRequest("malformed JSON body: %q given twice", name)
		}
		seen[field] = true
		switch field {
		case "compare":
			req.Compare, err = decodeList[api.TxnCompare](dec, "compare", "compares")
		case "success":
			req.Success, err = decodeList[api.TxnOp](dec, "success", "ops")
		case "failure":
			req.Failure, err = decodeList[api.TxnOp](dec, "failure", "ops")
		default:
			err = badRequest("malformed JSON body: unknown field %q (a txn has compare, success, failure)", name)
		}
		if err != nil {
			return req, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return req, badRequest("malformed JSON body: %v", err)
	}
	return req, endOfJSON(dec)
}

// decodeList decodes the JSON list (or null) of the field name, of at
// most MaxTxnOps entries (what), one at a time.
func decodeList[T any](dec *json.Decoder, name, what string) ([]T, error) {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return nil, badRequest("malformed JSON body: %s: %v", name, err)
	case tok == nil:
		return nil, nil
	case tok != json.Delim('['):
		return nil, badRequest("malformed JSON body: %s: want a list", name)
	}
	var out []T
	for dec.More() {
		if len(out) == MaxTxnOps {
			return nil, badRequest("%s: more than %d %s; a txn has at most %d compares and %d ops in each branch", name, MaxTxnOps, what, MaxTxnOps, MaxTxnOps)
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, badRequest("malformed JSON body: %s %d: %v", name, len(out), err)
		}
		out = append(out, v)
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, badRequest("malformed JSON body: %s: %v", name, err)
	}
	return out, nil
}

// endOfJSON refuses data after the JSON value.
func endOfJSON(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("malformed JSON body: data after the JSON value")
	}
	return nil
}

// toTxn turns the JSON of a txn into the state machine's Txn and the plan
// of its answer; store.Validate checks the rest (sizes, empty keys) before
// it is proposed. Every get of a range gets a limit (DefaultRangeLimit if
// none), and the keys a branch may read are bounded (see
// api.MaxRangeLimit).
func toTxn(req api.TxnRequest) (txnPlan, error) {
	var plan txnPlan
	if n := len(req.Compare); n > MaxTxnOps {
		return plan, badRequest("%d compares, more than %d", n, MaxTxnOps)
	}
	for i, c := range req.Compare {
		cmp, err := toCompare(c)
		if err != nil {
			return plan, badRequest("compare %d: %v", i, err)
		}
		plan.txn.Compares = append(plan.txn.Compares, cmp)
	}
	for _, b := range []struct {
		name string
		in   []api.TxnOp
		ops  *[]messages.Op
		plan *[]opPlan
	}{{"success", req.Success, &plan.txn.Success, &plan.success}, {"failure", req.Failure, &plan.txn.Failure, &plan.failure}} {
		var keys int64 // the most keys the branch may read
		for i, o := range b.in {
			op, err := toOp(o)
			if err != nil {
				return plan, badRequest("%s op %d: %v", b.name, i, err)
			}
			p := opPlan{typ: op.Type, at: len(*b.ops), prevAt: -1, ranged: len(op.End) > 0}
			switch {
			case op.Type == messages.OpGet && p.ranged:
				keys += op.Limit
			case op.Type == messages.OpDelete:
				ops, deleteAt, prevAt := deleteOps(op)
				if prevAt >= 0 {
					p.prevAt = len(*b.ops) + prevAt
				}
				p.at = len(*b.ops) + deleteAt
				if op.PrevKV && p.ranged {
					keys += MaxDeletePrevKVs
				}
				*b.ops = append(*b.ops, ops...)
				*b.plan = append(*b.plan, p)
				continue
			}
			*b.ops = append(*b.ops, op)
			*b.plan = append(*b.plan, p)
		}
		if n := len(*b.ops); n > MaxTxnOps {
			return plan, badRequest("%s: %d ops, more than %d (a range delete with prev_kv counts as two)", b.name, n, MaxTxnOps)
		}
		if keys > MaxRangeLimit {
			return plan, badRequest("%s: its range gets and range deletes with prev_kv may read %d keys, more than the %d one txn branch may read "+
				"(a get without limit counts %d, a range delete with prev_kv %d): give smaller limits", b.name, keys, MaxRangeLimit, DefaultRangeLimit, MaxDeletePrevKVs)
		}
	}
	return plan, nil
}

func toCompare(c api.TxnCompare) (messages.Compare, error) {
	target, ok := compareTargets[strings.ToLower(c.Target)]
	if !ok {
		return messages.Compare{}, fmt.Errorf("target %q: want value, mod_revision, create_revision, version or exists", c.Target)
	}
	result, ok := compareResults[strings.ToLower(c.Result)]
	if !ok {
		return messages.Compare{}, fmt.Errorf("result %q: want equal, not_equal, greater or less", c.Result)
	}
	key, err := c.KeyBytes()
	if err != nil {
		return messages.Compare{}, err
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
			return messages.Compare{}, errors.New("target exists takes result equal or not_equal")
		}
	}
	if operands > 1 || (operands == 1 && !mine) {
		return messages.Compare{}, fmt.Errorf("target %s: set only the field %q", c.Target, strings.ToLower(c.Target))
	}
	return cmp, nil
}

// toOp turns one op of the JSON into the state machine's; a get of a
// range gets its limit (checkLimit).
func toOp(o api.TxnOp) (messages.Op, error) {
	n := 0
	for _, set := range []bool{o.Put != nil, o.Get != nil, o.Delete != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return messages.Op{}, errors.New(`want exactly one of "put", "get", "delete"`)
	}
	if o.Put != nil {
		key, err := o.Put.KeyBytes()
		if err != nil {
			return messages.Op{}, fmt.Errorf("put: %w", err)
		}
		return messages.Op{Type: messages.OpPut, Key: key, Value: o.Put.Value, PrevKV: o.Put.PrevKV, Lease: o.Put.Lease}, nil
	}
	rg, op := o.Get, messages.Op{Type: messages.OpGet}
	if o.Delete != nil {
		rg, op = o.Delete, messages.Op{Type: messages.OpDelete}
		if rg.Limit != 0 {
			return op, errors.New("delete takes no limit")
		}
	} else if rg.PrevKV {
		return op, errors.New("get takes no prev_kv")
	}
	key, err := rg.KeyBytes()
	if err != nil {
		return op, err
	}
	end, err := rg.RangeEndBytes()
	if err != nil {
		return op, err
	}
	op.Key, op.PrevKV = key, rg.PrevKV
	switch {
	case rg.Prefix && len(end) > 0:
		return op, errors.New("give prefix or range_end, not both")
	case rg.Prefix:
		op.End = prefixEnd(op.Key) // every key for an empty prefix
	case len(end) > 0:
		op.End = end
	}
	if op.Type == messages.OpGet {
		limit, err := checkLimit(rg.Limit)
		if err != nil {
			return op, err
		}
		if len(op.End) > 0 {
			op.Limit = limit
		}
	}
	return op, nil
}
