package linearizability

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// on marks in as served by member m (epoch 0).
func on(m uint64, in Input) Input { in.Member = m; return in }

// sget is a serializable get of k on member m.
func sget(m uint64, k string) Input {
	return Input{Kind: Get, Key: k, Serializable: true, Member: m}
}

// at is a read's output seen at store revision rev.
func at(out Output, rev int64) Output { out.Revision = rev; return out }

func TestCheckSerializable(t *testing.T) {
	tests := []struct {
		name    string
		history []porcupine.Operation
		want    []string // a word of each violation's reason, in order
	}{
		{"a stale read of the past is fine", []porcupine.Operation{
			op(0, 0, 10, on(1, put("x", "a")), wrote(1)),
			op(0, 20, 30, on(1, put("x", "b")), wrote(2)),
			op(1, 40, 50, sget(3, "x"), at(read("a", 1), 1)),
		}, nil},
		{"absent before the first write", []porcupine.Operation{
			op(0, 0, 10, on(1, put("x", "a")), wrote(1)),
			op(1, 20, 30, sget(3, "x"), at(absent, 0)),
			op(1, 40, 50, sget(3, "x"), at(absent, 0)),
		}, nil},
		{"a value no write wrote", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, sget(3, "x"), at(read("z", 1), 1)),
		}, []string{"no write wrote"}},
		{"a value read before its write was called", []porcupine.Operation{
			op(1, 0, 10, sget(3, "x"), at(read("a", 1), 1)),
			op(0, 20, 30, put("x", "a"), wrote(1)),
		}, []string{"before the write of it was called"}},
		{"a value at another revision than its write's", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, sget(3, "x"), at(read("a", 2), 2)),
		}, []string{"answered with revision 1"}},
		{"a value of unknown outcome seen at two revisions", []porcupine.Operation{
			op(0, 0, -1, put("x", "a"), Output{}),
			op(1, 20, 30, sget(3, "x"), at(read("a", 2), 2)),
			op(1, 40, 50, sget(2, "x"), at(read("a", 3), 3)),
		}, []string{"another read showed it at 2"}},
		{"a write of unknown outcome that a read shows", []porcupine.Operation{
			op(0, 0, -1, put("x", "a"), Output{}),
			op(1, 20, 30, sget(3, "x"), at(read("a", 2), 2)),
			op(1, 40, 50, sget(3, "x"), at(read("a", 2), 5)),
		}, nil},
		{"a member's reads go back", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "b"), wrote(2)),
			op(1, 40, 50, sget(3, "x"), at(read("b", 2), 2)),
			op(1, 60, 70, sget(3, "x"), at(read("a", 1), 1)),
		}, []string{"after it had reached revision 2"}},
		{"two members at different revisions", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "b"), wrote(2)),
			op(1, 40, 50, sget(3, "x"), at(read("b", 2), 2)),
			op(1, 60, 70, sget(2, "x"), at(read("a", 1), 1)),
		}, nil},
		{"overlapping reads of one member may come in any order", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "b"), wrote(2)),
			op(1, 40, 70, sget(3, "x"), at(read("b", 2), 2)),
			op(2, 50, 60, sget(3, "x"), at(read("a", 1), 1)),
		}, nil},
		{"a restarted member may start over in a new epoch", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "b"), wrote(2)),
			op(1, 40, 50, sget(3, "x"), at(read("b", 2), 2)),
			op(1, 60, 70, Input{Kind: Get, Key: "x", Serializable: true, Member: 3, Epoch: 1}, at(read("a", 1), 1)),
		}, nil},
		{"the member that acknowledged a write reads it", []porcupine.Operation{
			op(0, 0, 10, on(1, put("x", "a")), wrote(1)),
			op(0, 20, 30, on(3, put("x", "b")), wrote(2)),
			op(1, 40, 50, sget(3, "x"), at(read("a", 1), 1)),
		}, []string{"after it had reached revision 2"}},
		{"a read inconsistent with its own revision", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "b"), wrote(2)),
			op(1, 40, 50, sget(3, "x"), at(read("a", 1), 2)),
		}, []string{"but the write x=\"b\" at revision 2 is known"}},
		{"a mod revision after the store revision", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(3)),
			op(1, 40, 50, sget(3, "x"), at(read("a", 3), 2)),
		}, []string{"after the store revision 2"}},
		{"absent although put and never deleted", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, sget(3, "x"), at(absent, 4)),
		}, []string{"no delete after it"}},
		{"absent after a delete", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, del("x"), Output{Found: true, Revision: 2}),
			op(1, 40, 50, sget(3, "x"), at(absent, 4)),
		}, nil},
		{"absent after a delete of unknown outcome", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, -1, del("x"), Output{}),
			op(1, 40, 50, sget(3, "x"), at(absent, 4)),
		}, nil},
		{"a value read past its known delete", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, del("x"), Output{Found: true, Revision: 2}),
			op(1, 40, 50, sget(3, "x"), at(read("a", 1), 3)),
		}, []string{"the delete of x at revision 2 is known"}},
		{"a serializable range sees half a txn", []porcupine.Operation{
			op(0, 0, 10, txn(conds(Cond{"x", 0}), Write{Key: "x", Value: "x1"}, Write{Key: "y", Value: "y1"}), Output{Succeeded: true, Revision: 1}),
			op(1, 20, 30, Input{Kind: Range, Keys: []string{"x", "y"}, Serializable: true, Member: 2}, at(kvs(kv("x", "x1", 1)), 1)),
		}, []string{"absent at store revision 1"}},
		{"a failed txn and a failed cas read too", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 20, 30, txn(conds(Cond{"x", 7}), Write{Key: "x", Value: "b"}), Output{KVs: []KV{kv("x", "q", 1)}, Revision: 1}),
			op(1, 40, 50, cas("x", 7, "c"), Output{Found: true, Value: "a", ModRevision: 1, Revision: 1}),
		}, []string{"no write wrote"}},
		{"values written twice tell nothing", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(0, 20, 30, put("x", "a"), wrote(2)),
			op(1, 40, 50, sget(3, "x"), at(read("a", 1), 1)),
		}, nil},
		{"two writes of one key at one revision", []porcupine.Operation{
			op(0, 0, 10, put("x", "a"), wrote(1)),
			op(1, 0, 10, put("x", "b"), wrote(1)),
		}, []string{"as another write of it does"}},
	}
	for i, tt := range tests {
		got := CheckSerializable(tt.history)
		if len(got) != len(tt.want) {
			t.Errorf("%d %s: %d violations %v, want %d", i, tt.name, len(got), got, len(tt.want))
			continue
		}
		for j, v := range got {
			if !strings.Contains(v.Reason, tt.want[j]) {
				t.Errorf("%d %s: violation %d is %q, want one saying %q", i, tt.name, j, v, tt.want[j])
			}
		}
	}
}
