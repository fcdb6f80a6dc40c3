package testkit

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func putMsg(key, value string) *messages.ClientTxn {
	return &messages.ClientTxn{Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}}}}
}

func getMsg(key string, serializable bool) *messages.ClientRead {
	return &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte(key)}, Serializable: serializable}
}

// Calls through every member are in flight together; the steps answer
// them, each once, and Done takes no step.
func TestDeterministicConcurrentCalls(t *testing.T) {
	c := NewCluster(t, 3, WithSeed(5), Deterministic())
	c.WaitLeader()
	var calls []*Call
	for id := uint64(1); id <= 3; id++ {
		calls = append(calls, c.Go(id, putMsg(fmt.Sprint("k", id), "v")))
	}
	steps := c.Steps()
	for _, call := range calls {
		if call.Done() {
			t.Fatalf("call to member %d done before any step", call.Member())
		}
	}
	if c.Steps() != steps {
		t.Fatalf("Done took steps")
	}
	for !calls[0].Done() || !calls[1].Done() || !calls[2].Done() {
		c.Step()
	}
	for _, call := range calls {
		v, err := call.Reply()
		if r, ok := v.(*messages.TxnReply); err != nil || !ok || r.Err != nil {
			t.Fatalf("put through member %d: %v %v", call.Member(), v, err)
		}
		if call.Steps() <= 0 || call.Steps() > c.Steps()-steps {
			t.Errorf("call to member %d took %d steps of %d", call.Member(), call.Steps(), c.Steps()-steps)
		}
	}
	// A serializable read is answered while Go lets the member take it in.
	call := c.Go(2, getMsg("k2", true))
	if !call.Done() {
		t.Fatalf("serializable read not done when Go returned")
	}
	if v, err := call.Reply(); err != nil || len(v.(*messages.ReadReply).Result.KVs) != 1 {
		t.Fatalf("serializable read: %v %v", v, err)
	}
	if call.Steps() != 0 {
		t.Errorf("serializable read took %d steps", call.Steps())
	}
	// The trace says what each call asked of which member.
	trace := strings.Join(c.Trace(), "\n")
	for _, want := range []string{
		fmt.Sprintf("call #%d to member 1: txn put \"k1\"=\"v\"", calls[0].seq),
		fmt.Sprintf("call #%d to member 2: serializable read get \"k2\"", call.seq),
	} {
		if !strings.Contains(trace, want) {
			t.Errorf("the trace has no %q:\n%s", want, trace)
		}
	}
}

// A call that gets no answer gives up after WithRequestSteps steps; one to
// a member that is down is never sent; one whose member stops ends then.
func TestDeterministicCallOutcomes(t *testing.T) {
	const bound = 40
	c := NewCluster(t, 3, WithSeed(9), Deterministic(), WithRequestSteps(bound))
	leader := c.WaitLeader()
	follower := leader%3 + 1
	c.Isolate(follower)
	call := c.Go(follower, getMsg("k", false))
	for range bound - 1 {
		c.Step()
	}
	if call.Done() {
		v, err := call.Reply()
		t.Fatalf("linearizable read on an isolated member done after %d steps: %v %v", bound-1, v, err)
	}
	c.Step()
	if !call.Done() {
		t.Fatalf("call not done after %d steps", bound)
	}
	if _, err := call.Reply(); !errors.Is(err, ErrNoAnswer) || call.Steps() != bound {
		t.Fatalf("after %d steps: %v, want ErrNoAnswer", call.Steps(), err)
	}

	c.Heal()
	other := 6 - leader - follower
	c.Stop(other)
	down := c.Go(other, putMsg("k", "v"))
	if _, err := down.Reply(); !errors.Is(err, ErrMemberDown) {
		t.Fatalf("call to a member that is down: %v, want ErrMemberDown", err)
	}
	c.Start(other)

	c.Isolate(leader)
	write := c.Go(leader, putMsg("k", "lost?"))
	c.Step()
	if write.Done() {
		t.Fatalf("a write on an isolated leader done at once")
	}
	c.Stop(leader)
	if !write.Done() {
		t.Fatalf("the call of a stopped member is not done")
	}
	// The proposer answers what it held ErrStopped as it stops; either way
	// the outcome is unknown.
	v, err := write.Reply()
	if r, ok := v.(*messages.TxnReply); !errors.Is(err, ErrNoAnswer) && !(ok && errors.Is(r.Err, messages.ErrStopped)) {
		t.Fatalf("write whose member stopped: %v %v, want ErrNoAnswer or ErrStopped", v, err)
	}
}

// Go works in real time too: the answer arrives by itself.
func TestRealTimeCall(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.WaitLeader()
	calls := []*Call{c.Go(leader, putMsg("a", "1")), c.Go(leader%3+1, putMsg("b", "2"))}
	for _, call := range calls {
		v, err := call.Reply()
		if r, ok := v.(*messages.TxnReply); err != nil || !ok || r.Err != nil {
			t.Fatalf("put through member %d: %v %v", call.Member(), v, err)
		}
		if !call.Done() {
			t.Errorf("call not done after Reply")
		}
	}
	c.WaitConverged()
	st, err := c.State(leader)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.KVs) != 2 || string(st.KVs[0].Value) != "1" || string(st.KVs[1].Value) != "2" {
		t.Errorf("state of member %d: %+v", leader, st)
	}
}

// Diverged says how members differ; WaitConverged waits until they do not.
func TestDeterministicConverged(t *testing.T) {
	c := NewCluster(t, 3, WithSeed(3), Deterministic())
	leader := c.WaitLeader()
	follower := leader%3 + 1
	c.Isolate(follower)
	if err := c.Put(leader, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if d := c.Diverged(); d == "" {
		t.Fatalf("an isolated member that missed a write does not diverge")
	}
	c.Heal()
	c.WaitConverged()
	a, err := c.State(leader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.State(follower)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffStates(a, b); d != "" || len(b.KVs) != 1 || len(a.Members) != 3 {
		t.Fatalf("converged members differ: %s (%+v, %+v)", d, a, b)
	}
}

func TestDiffStates(t *testing.T) {
	kv := func(k, v string, rev int64) messages.KeyValue {
		return messages.KeyValue{Key: []byte(k), Value: []byte(v), CreateRevision: 1, ModRevision: rev, Version: 1}
	}
	base := MemberState{ID: 1, Serving: true, Commit: 9, Applied: 9, Revision: 3, Members: []string{"1", "2", "3"},
		KVs: []messages.KeyValue{kv("a", "1", 2), kv("b", "2", 3)}}
	with := func(f func(*MemberState)) MemberState {
		s := base
		s.ID = 2
		s.Members = append([]string(nil), base.Members...)
		s.KVs = append([]messages.KeyValue(nil), base.KVs...)
		f(&s)
		return s
	}
	tests := []struct {
		name string
		b    MemberState
		want string // "" or a part of the difference
	}{
		{"equal", with(func(*MemberState) {}), ""},
		{"applied", with(func(s *MemberState) { s.Applied, s.Commit = 10, 10 }), "applied 10"},
		{"revision", with(func(s *MemberState) { s.Revision = 4 }), "at 4"},
		{"membership", with(func(s *MemberState) { s.Members[2] = "3L" }), "3L"},
		{"value", with(func(s *MemberState) { s.KVs[1] = kv("b", "x", 3) }), `"b"="x"`},
		{"mod revision", with(func(s *MemberState) { s.KVs[1] = kv("b", "2", 2) }), "mod 2"},
		{"missing key", with(func(s *MemberState) { s.KVs = s.KVs[:1] }), `member 2 lacks key "b"`},
		{"extra key", with(func(s *MemberState) { s.KVs = append(s.KVs, kv("c", "3", 3)) }), `member 1 lacks key "c"`},
	}
	for _, tt := range tests {
		got := diffStates(base, tt.b)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
