package linearizability

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// op builds an operation of client c over [call, ret]; ret < 0 means it
// never returned (unknown outcome).
func op(c int, call, ret int64, in Input, out Output) porcupine.Operation {
	if ret < 0 {
		ret = math.MaxInt64
		out = Output{Unknown: true}
	}
	return porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret}
}

func put(k, v string) Input                 { return Input{Kind: Put, Key: k, Value: v} }
func get(k string) Input                    { return Input{Kind: Get, Key: k} }
func cas(k string, e int64, v string) Input { return Input{Kind: CAS, Key: k, Expect: e, Value: v} }
func del(k string) Input                    { return Input{Kind: Delete, Key: k} }
func read(v string, rev int64) Output       { return Output{Found: true, Value: v, ModRevision: rev} }
func wrote(rev int64) Output                { return Output{Revision: rev} }

var absent = Output{}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{
		{"sequential put then get", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, get("x"), read("a", 1)),
		}, porcupine.Ok},
		{"stale read after an acknowledged put", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "b"), wrote(2)),
			op(1, 40, 50, get("x"), read("a", 1)),
		}, porcupine.Illegal},
		{"concurrent read may see either", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 50, put("x", "b"), wrote(2)),
			op(1, 30, 40, get("x"), read("a", 1)),
			op(2, 30, 40, get("x"), read("b", 2)),
		}, porcupine.Ok},
		{"reads go back in time", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 50, put("x", "b"), wrote(2)),
			op(1, 25, 30, get("x"), read("b", 2)),
			op(2, 35, 40, get("x"), read("a", 1)),
		}, porcupine.Illegal},
		{"read of the wrong revision", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, get("x"), read("a", 7)),
		}, porcupine.Illegal},
		{"revisions must grow in linearization order", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(5)),
			op(1, 20, 30, put("x", "b"), wrote(3)),
		}, porcupine.Illegal},
		{"cas succeeds on the current revision", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, cas("x", 1, "b"), Output{Succeeded: true, Revision: 2}),
			op(1, 40, 50, get("x"), read("b", 2)),
		}, porcupine.Ok},
		{"two cas on one revision cannot both succeed", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, cas("x", 1, "b"), Output{Succeeded: true, Revision: 2}),
			op(2, 20, 30, cas("x", 1, "c"), Output{Succeeded: true, Revision: 3}),
		}, porcupine.Illegal},
		{"cas fails showing the current value", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 11, 12, put("x", "b"), wrote(2)),
			op(1, 20, 30, cas("x", 1, "c"), Output{Found: true, Value: "b", ModRevision: 2}),
		}, porcupine.Ok},
		{"cas may not fail when it holds", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, cas("x", 1, "c"), Output{Found: true, Value: "a", ModRevision: 1}),
		}, porcupine.Illegal},
		{"create only if absent", []porcupine.Operation{
			op(0, 0, 10, cas("x", 0, "a"), Output{Succeeded: true, Revision: 1}),
			op(1, 20, 30, cas("x", 0, "b"), Output{Found: true, Value: "a", ModRevision: 1}),
			op(1, 40, 50, del("x"), Output{Found: true}),
			op(1, 60, 70, get("x"), absent),
		}, porcupine.Ok},
		{"unknown put that applied", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, -1, put("x", "b"), Output{}),
			op(2, 40, 50, get("x"), read("b", 2)),
			op(2, 60, 70, get("x"), read("b", 2)),
		}, porcupine.Ok},
		{"unknown put that never applied", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, -1, put("x", "b"), Output{}),
			op(2, 40, 50, get("x"), read("a", 1)),
		}, porcupine.Ok},
		{"unknown put cannot apply before its call", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(2, 20, 30, get("x"), read("b", 2)),
			op(1, 40, -1, put("x", "b"), Output{}),
		}, porcupine.Illegal},
		{"unknown cas that applied", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, -1, cas("x", 1, "b"), Output{}),
			op(2, 40, 50, get("x"), read("b", 2)),
			op(2, 60, 70, cas("x", 2, "c"), Output{Succeeded: true, Revision: 3}),
		}, porcupine.Ok},
		{"keys are independent", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("y", "b"), wrote(2)),
			op(1, 40, 50, get("x"), read("a", 1)),
			op(1, 60, 70, get("y"), read("b", 2)),
			op(1, 80, 90, get("z"), absent),
		}, porcupine.Ok},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		res, info := Check(tt.history, 10*time.Second)
		if err := Visualize(info, filepath.Join(dir, fmt.Sprintf("%d.html", i))); err != nil {
			t.Errorf("%d %s: visualize: %v", i, tt.name, err)
		}
		if res != tt.want {
			t.Errorf("%d %s: %v, want %v", i, tt.name, res, tt.want)
			if path, err := VisualizeTemp(info, "model-test"); err == nil {
				t.Logf("visualization: %s", path)
			}
		}
	}
}

func TestRecorder(t *testing.T) {
	rec := NewRecorder()
	a, b := rec.Client(), rec.Client()
	o := a.Call(put("x", "1"))
	o.Return(wrote(1))
	o = b.Call(put("x", "2"))
	o.Unknown()
	o = b.Call(get("x")) // b continues under a new client id
	o.Return(read("2", 2))
	a.Call(get("x")).Discard()

	h := rec.History()
	if n, unknown := rec.Stats(); n != 3 || unknown != 1 || len(h) != 3 {
		t.Fatalf("stats %d %d, history %d ops; want 3 ops, 1 unknown", n, unknown, len(h))
	}
	if h[1].Return != math.MaxInt64 || !h[1].Output.(Output).Unknown {
		t.Errorf("unknown op recorded as %+v", h[1])
	}
	if h[2].ClientId == h[1].ClientId || h[2].ClientId == h[0].ClientId {
		t.Errorf("client ids %d %d %d: the op after an unknown one needs a new id", h[0].ClientId, h[1].ClientId, h[2].ClientId)
	}
	if h[0].Call > h[0].Return || h[2].Call < h[0].Return {
		t.Errorf("times out of order: %+v", h)
	}
	if res, _ := Check(h, time.Second); res != porcupine.Ok {
		t.Errorf("recorded history: %v", res)
	}
}

func rng(keys ...string) Input { return Input{Kind: Range, Keys: keys} }
func kvs(kv ...KV) Output      { return Output{KVs: kv} }
func kv(k, v string, rev int64) KV {
	return KV{Key: k, Value: v, ModRevision: rev}
}
func txn(conds []Cond, writes ...Write) Input { return Input{Kind: Txn, Conds: conds, Writes: writes} }
func conds(c ...Cond) []Cond                  { return c }

func TestCheckMultiKey(t *testing.T) {
	both := txn(conds(Cond{"x", 1}, Cond{"y", 2}), Write{Key: "x", Value: "x2"}, Write{Key: "y", Value: "y2"})
	tests := []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{
		{"range sees one state", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(0, 20, 30, put("y", "y1"), wrote(2)),
			op(1, 40, 50, rng("x", "y"), kvs(kv("x", "x1", 1), kv("y", "y1", 2))),
		}, porcupine.Ok},
		{"range misses an acknowledged write", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(0, 20, 30, put("y", "y1"), wrote(2)),
			op(1, 40, 50, rng("x", "y"), kvs(kv("x", "x1", 1))),
		}, porcupine.Illegal},
		{"txn writes both keys at one revision", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(0, 20, 30, put("y", "y1"), wrote(2)),
			op(1, 40, 50, both, Output{Succeeded: true, Revision: 3}),
			op(2, 60, 70, rng("x", "y"), kvs(kv("x", "x2", 3), kv("y", "y2", 3))),
		}, porcupine.Ok},
		{"a range sees half a txn", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(0, 20, 30, put("y", "y1"), wrote(2)),
			op(1, 40, 80, both, Output{Succeeded: true, Revision: 3}),
			op(2, 50, 60, rng("x", "y"), kvs(kv("x", "x2", 3), kv("y", "y1", 2))),
		}, porcupine.Illegal},
		{"a range concurrent with a txn of unknown outcome sees all or nothing", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(0, 20, 30, put("y", "y1"), wrote(2)),
			op(1, 40, -1, both, Output{}),
			op(2, 50, 60, rng("x", "y"), kvs(kv("x", "x1", 1), kv("y", "y1", 2))),
			op(2, 70, 80, rng("x", "y"), kvs(kv("x", "x2", 3), kv("y", "y2", 3))),
		}, porcupine.Ok},
		{"a txn fails showing what broke its condition", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(0, 20, 30, put("y", "y1"), wrote(4)),
			op(1, 40, 50, both, Output{KVs: []KV{kv("x", "x1", 1), kv("y", "y1", 4)}, Revision: 4}),
		}, porcupine.Ok},
		{"a txn may not fail when its conditions hold", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(0, 20, 30, put("y", "y1"), wrote(2)),
			op(1, 40, 50, both, Output{KVs: []KV{kv("x", "x1", 1), kv("y", "y1", 2)}}),
		}, porcupine.Illegal},
		{"a txn may not succeed when a condition fails", []porcupine.Operation{
			op(0, 0, 10, put("x", "x1"), wrote(1)),
			op(1, 40, 50, both, Output{Succeeded: true, Revision: 3}),
		}, porcupine.Illegal},
		{"txn creates absent keys and deletes", []porcupine.Operation{
			op(0, 0, 10, txn(conds(Cond{"x", 0}, Cond{"y", 0}), Write{Key: "x", Value: "a"}, Write{Key: "y", Value: "b"}), Output{Succeeded: true, Revision: 1}),
			op(0, 20, 30, txn(conds(Cond{"x", 1}), Write{Key: "x", Delete: true}, Write{Key: "y", Value: "c"}), Output{Succeeded: true, Revision: 2}),
			op(1, 40, 50, rng("x", "y"), kvs(kv("y", "c", 2))),
			op(1, 60, 70, get("x"), absent),
		}, porcupine.Ok},
		{"serializable reads are left to CheckSerializable", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "b"), wrote(2)),
			op(1, 40, 50, Input{Kind: Get, Key: "x", Serializable: true}, read("a", 1)),
		}, porcupine.Ok},
	}
	for i, tt := range tests {
		res, _ := Check(tt.history, 10*time.Second)
		if res != tt.want {
			t.Errorf("%d %s: %v, want %v", i, tt.name, res, tt.want)
		}
	}
}

func TestPartition(t *testing.T) {
	history := []porcupine.Operation{
		op(0, 0, 1, put("c", "1"), wrote(1)),
		op(0, 2, 3, put("a", "1"), wrote(2)),
		op(0, 4, 5, rng("b", "d"), kvs()),
		op(0, 6, 7, get("e"), absent),
		op(0, 8, 9, txn(conds(Cond{"d", 0}), Write{Key: "c", Value: "2"}), Output{Succeeded: true, Revision: 3}),
	}
	var got [][]string
	for _, part := range partition(history) {
		var keys []string
		for _, o := range part {
			keys = append(keys, o.Input.(Input).keys()...)
		}
		got = append(got, keys)
	}
	want := [][]string{{"a"}, {"c", "b", "d", "d", "c"}, {"e"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("partitions %v, want %v", got, want)
	}
}
