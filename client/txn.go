package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/raftkv/raftkv/api"
)

// CompareTarget is the attribute of a key a Compare tests.
type CompareTarget string

// The targets of a Compare.
const (
	TargetValue          CompareTarget = "value"
	TargetModRevision    CompareTarget = "mod_revision"
	TargetCreateRevision CompareTarget = "create_revision"
	TargetVersion        CompareTarget = "version"
	TargetExists         CompareTarget = "exists"
)

// CompareResult is the relation a Compare requires.
type CompareResult string

// The relations of a Compare (TargetExists takes Equal and NotEqual only).
const (
	Equal    CompareResult = "equal"
	NotEqual CompareResult = "not_equal"
	Greater  CompareResult = "greater"
	Less     CompareResult = "less"
)

// Compare is one condition of a transaction, checked by the state machine
// when the transaction applies. A missing key has an empty value and
// revisions and version 0. Build one with CompareValue, CompareModRevision,
// CompareCreateRevision, CompareVersion or CompareExists.
type Compare struct {
	Key    string
	Target CompareTarget
	Result CompareResult
	// Value is the operand of TargetValue, Revision that of the revision
	// and version targets, Exists that of TargetExists.
	Value    []byte
	Revision int64
	Exists   bool
}

// CompareValue tests the value of key.
func CompareValue(key string, result CompareResult, value []byte) Compare {
	return Compare{Key: key, Target: TargetValue, Result: result, Value: value}
}

// CompareModRevision tests the revision of the last write of key.
func CompareModRevision(key string, result CompareResult, rev int64) Compare {
	return Compare{Key: key, Target: TargetModRevision, Result: result, Revision: rev}
}

// CompareCreateRevision tests the revision that created key.
func CompareCreateRevision(key string, result CompareResult, rev int64) Compare {
	return Compare{Key: key, Target: TargetCreateRevision, Result: result, Revision: rev}
}

// CompareVersion tests the number of writes of key since its creation.
func CompareVersion(key string, result CompareResult, version int64) Compare {
	return Compare{Key: key, Target: TargetVersion, Result: result, Revision: version}
}

// CompareExists holds when key exists (exists true) or does not (false).
func CompareExists(key string, exists bool) Compare {
	return Compare{Key: key, Target: TargetExists, Result: Equal, Exists: exists}
}

// MarshalJSON writes the compare as POST /v1/txn takes it.
func (c Compare) MarshalJSON() ([]byte, error) {
	w := api.TxnCompare{Target: string(c.Target), Result: string(c.Result)}
	w.SetKey([]byte(c.Key))
	switch c.Target {
	case TargetValue:
		w.Value = c.Value
		if w.Value == nil {
			w.Value = []byte{}
		}
	case TargetModRevision:
		w.ModRevision = c.Revision
	case TargetCreateRevision:
		w.CreateRevision = c.Revision
	case TargetVersion:
		w.Version = c.Revision
	case TargetExists:
		w.Exists = c.Exists
	}
	return json.Marshal(w)
}

// OpType names the kind of an Op.
type OpType string

// The kinds of Op.
const (
	OpTypePut    OpType = "put"
	OpTypeGet    OpType = "get"
	OpTypeDelete OpType = "delete"
)

// Op is one operation of a transaction; build it with OpPut, OpGet or
// OpDelete.
type Op struct {
	Type  OpType
	Key   string
	Value []byte
	cfg   opConfig
}

// OpPut sets key to value; option WithPrevKV.
func OpPut(key string, value []byte, opts ...OpOption) Op {
	return Op{Type: OpTypePut, Key: key, Value: value, cfg: configure(opts)}
}

// OpGet reads key; options WithPrefix, WithRangeEnd, WithLimit.
func OpGet(key string, opts ...OpOption) Op {
	return Op{Type: OpTypeGet, Key: key, cfg: configure(opts)}
}

// OpDelete deletes key; options WithPrefix, WithRangeEnd, WithPrevKV.
func OpDelete(key string, opts ...OpOption) Op {
	return Op{Type: OpTypeDelete, Key: key, cfg: configure(opts)}
}

// MarshalJSON writes the op as POST /v1/txn takes it.
func (o Op) MarshalJSON() ([]byte, error) {
	// Keys and range ends that are not UTF-8 go in the _base64 fields.
	switch o.Type {
	case OpTypePut:
		v := o.Value
		if v == nil {
			v = []byte{}
		}
		p := &api.TxnPut{Value: v, PrevKV: o.cfg.prevKV, Lease: o.cfg.lease}
		p.SetKey([]byte(o.Key))
		return json.Marshal(api.TxnOp{Put: p})
	case OpTypeDelete:
		d := &api.TxnRange{Prefix: o.cfg.prefix, PrevKV: o.cfg.prevKV}
		d.SetKey([]byte(o.Key))
		d.SetRangeEnd([]byte(o.cfg.end))
		return json.Marshal(api.TxnOp{Delete: d})
	default:
		g := &api.TxnRange{Prefix: o.cfg.prefix, Limit: o.cfg.limit}
		g.SetKey([]byte(o.Key))
		g.SetRangeEnd([]byte(o.cfg.end))
		return json.Marshal(api.TxnOp{Get: g})
	}
}

// TxnRequest is a transaction: if every Compare holds, the Success ops
// run, otherwise the Failure ops, atomically.
type TxnRequest struct {
	Compare []Compare `json:"compare,omitempty"`
	Success []Op      `json:"success,omitempty"`
	Failure []Op      `json:"failure,omitempty"`
}

// TxnResponse is the outcome of a transaction.
type TxnResponse struct {
	// Revision is the store revision after the transaction.
	Revision  int64 `json:"revision"`
	Succeeded bool  `json:"succeeded"`
	// Responses has one entry per op of the branch that ran, in order.
	Responses []OpResponse `json:"responses"`
}

// OpResponse is the outcome of one Op.
type OpResponse struct {
	Type OpType
	// KVs are the keys a get found; More tells that the range goes on
	// past them (its limit, the server's default page if it gave none, or
	// the answer's size cut it).
	KVs  []KeyValue
	More bool
	// PrevKV is the value a put with WithPrevKV replaced.
	PrevKV *KeyValue
	// Deleted counts the keys a delete removed; PrevKVs are their values
	// with WithPrevKV (for a range delete, the first api.MaxDeletePrevKVs
	// at most; PrevKVsTruncated tells that some were left out).
	Deleted          int64
	PrevKVs          []KeyValue
	PrevKVsTruncated bool
}

// UnmarshalJSON reads an op response of POST /v1/txn.
func (r *OpResponse) UnmarshalJSON(data []byte) error {
	var w api.TxnOpResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	switch {
	case w.Put != nil:
		*r = OpResponse{Type: OpTypePut, PrevKV: w.Put.PrevKV}
	case w.Get != nil:
		*r = OpResponse{Type: OpTypeGet, KVs: w.Get.KVs, More: w.Get.More}
	case w.Delete != nil:
		*r = OpResponse{Type: OpTypeDelete, Deleted: w.Delete.Deleted, PrevKVs: w.Delete.PrevKVs, PrevKVsTruncated: w.Delete.PrevKVsTruncated}
	}
	return nil
}

// Txn applies a transaction through the raft log. One with only get ops
// may be retried on another member; one that writes is never sent twice
// (see ErrUnknownOutcome).
func (c *Client) Txn(ctx context.Context, txn TxnRequest) (*TxnResponse, error) {
	body, err := json.Marshal(txn)
	if err != nil {
		return nil, err
	}
	readOnly := true
	for _, ops := range [][]Op{txn.Success, txn.Failure} {
		for _, op := range ops {
			readOnly = readOnly && op.Type == OpTypeGet
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	var out TxnResponse
	err = c.call(ctx, &request{method: http.MethodPost, path: "/v1/txn", header: h, body: body, idempotent: readOnly}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
