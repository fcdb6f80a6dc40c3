package testkit

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
)

// Errors of requests to a cluster. With ErrNoAnswer the outcome of a write
// is unknown: it may still apply. With ErrMemberDown the request was never
// sent.
var (
	ErrMemberDown = errors.New("testkit: member is down")
	ErrNoAnswer   = errors.New("testkit: no answer")
)

// DefaultRequestTimeout is how long a request started with Go waits for its
// answer in a real-time cluster (dilated by TimeFactor). In deterministic
// mode WithRequestSteps bounds it instead.
const DefaultRequestTimeout = 10 * time.Second

// Call is a client request in flight, started by Go: a logical client that
// has sent a request and not yet seen its answer. In deterministic mode a
// call is answered as the steps progress: at the end of the Step (or of the
// Go, Stop or Restart) during which its answer arrived, or, if none arrived,
// with ErrNoAnswer once WithRequestSteps steps have passed since it was sent
// or when its member stops. Done never takes a step, so a test can keep many
// calls in flight and step the cluster itself; Reply steps until the call
// is done. In a real-time cluster the answer arrives by itself and the call
// gives up after its timeout.
//
// A Call of a deterministic cluster belongs to the goroutine that drives the
// cluster; one of a real-time cluster may be shared.
type Call struct {
	c      *Cluster
	member uint64
	seq    int
	msg    any
	start  int       // c.steps when sent
	end    int       // c.steps when done
	expiry time.Time // real-time mode
	wait   time.Duration
	node   *node.Node
	pid    *actor.PID
	got    chan struct{} // closed when the answer arrives
	fin    chan struct{} // closed when the call is done
	quiet  bool

	mu     sync.Mutex
	answer any
	hasAns bool
	done   bool
	v      any
	err    error
}

// Go sends a client request (messages.ClientTxn, ClientRead,
// ClientConfChange, ClientStatus) to member id's proposer and returns at
// once with the call in flight; the answer is a *messages.TxnReply,
// *messages.ReadReply, *messages.ConfChangeReply or *messages.Status.
//
// In deterministic mode Go lets the member take the request in (it waits
// until the cluster is quiet again, without taking a step): a request that
// is answered at once (a serializable read, a refusal) is done when Go
// returns. A call to a member that is down is done at once with
// ErrMemberDown: it was never sent.
func (c *Cluster) Go(id uint64, msg any) *Call {
	c.t.Helper()
	return c.goCall(id, msg, Dilated(DefaultRequestTimeout), false)
}

// goCall makes a call; a quiet one leaves no line in the trace (the kit's
// own reads of a member's state).
func (c *Cluster) goCall(id uint64, msg any, timeout time.Duration, quiet bool) *Call {
	c.mu.Lock()
	c.calls++
	call := &Call{c: c, member: id, seq: c.calls, msg: msg, start: c.steps, quiet: quiet,
		wait: timeout, got: make(chan struct{}), fin: make(chan struct{})}
	c.mu.Unlock()
	n := c.Node(id)
	if n == nil {
		call.note("call #%d to member %d: %s: member is down", call.seq, id, requestText{msg})
		call.finish(nil, fmt.Errorf("member %d: %w", id, ErrMemberDown))
		return call
	}
	call.node, call.expiry = n, time.Now().Add(timeout)
	// The answer must be seen the moment the proposer sends it: a future
	// wakes its reader asynchronously, and one step more or less would
	// change the schedule. A reply process records it synchronously.
	registry := n.System().ProcessRegistry
	call.pid, _ = registry.Add(&reply{call: call}, "testkit-reply"+registry.NextId())
	c.mu.Lock()
	c.inFlight = append(c.inFlight, call)
	c.mu.Unlock()
	call.note("call #%d to member %d: %s", call.seq, id, requestText{msg})
	n.System().Root.RequestWithCustomSender(n.Proposer(), msg, call.pid)
	if c.cfg.deterministic {
		c.settle()
		c.resolve()
	}
	return call
}

func (call *Call) note(format string, args ...any) {
	if !call.quiet {
		call.c.note(format, args...)
	}
}

// Member is the member the call was sent to.
func (call *Call) Member() uint64 { return call.member }

// Request is the request the call sent.
func (call *Call) Request() any { return call.msg }

// Done tells whether the call has its outcome, without waiting and (in
// deterministic mode) without taking a step.
func (call *Call) Done() bool {
	if !call.c.cfg.deterministic {
		call.poll()
	}
	call.mu.Lock()
	defer call.mu.Unlock()
	return call.done
}

// Steps is how many steps the call took until it was done (deterministic
// mode), or has taken so far.
func (call *Call) Steps() int {
	call.mu.Lock()
	done, end := call.done, call.end
	call.mu.Unlock()
	if done {
		return end - call.start
	}
	return call.c.Steps() - call.start
}

// Reply waits for the outcome of the call and returns it: the answer, or
// ErrMemberDown (never sent) or ErrNoAnswer (no answer in time, or the
// member stopped first: the outcome of a write is unknown). In
// deterministic mode it takes steps until the call is done.
func (call *Call) Reply() (any, error) {
	c := call.c
	if c.cfg.deterministic {
		for !call.Done() {
			c.Step()
		}
	} else if !call.Done() {
		t := time.NewTimer(time.Until(call.expiry))
		select {
		case <-call.got:
		case <-call.fin:
		case <-t.C:
		}
		t.Stop()
		call.poll()
	}
	call.mu.Lock()
	defer call.mu.Unlock()
	return call.v, call.err
}

// arrived records the answer; in a real-time cluster the call is done at
// once, in deterministic mode at the end of the step.
func (call *Call) arrived(msg any) {
	call.mu.Lock()
	if call.hasAns || call.done {
		call.mu.Unlock()
		return
	}
	call.answer, call.hasAns = msg, true
	call.mu.Unlock()
	close(call.got)
}

// poll settles a real-time call whose answer arrived or whose time is up.
func (call *Call) poll() {
	call.mu.Lock()
	has, v := call.hasAns, call.answer
	call.mu.Unlock()
	switch {
	case has:
		call.finish(v, nil)
	case time.Now().After(call.expiry):
		call.finish(nil, fmt.Errorf("member %d: %w after %v", call.member, ErrNoAnswer, call.wait))
	}
}

// finish makes the call done with its outcome, once.
func (call *Call) finish(v any, err error) bool {
	call.mu.Lock()
	if call.done {
		call.mu.Unlock()
		return false
	}
	call.done, call.v, call.err, call.end = true, v, err, call.c.Steps()
	call.mu.Unlock()
	close(call.fin)
	if call.pid != nil {
		call.node.System().ProcessRegistry.Remove(call.pid)
	}
	call.c.mu.Lock()
	for i, other := range call.c.inFlight {
		if other == call {
			call.c.inFlight = append(call.c.inFlight[:i], call.c.inFlight[i+1:]...)
			break
		}
	}
	call.c.mu.Unlock()
	return true
}

// resolve ends the calls in flight that are answered, out of steps, or
// whose member stopped, in the order they were made. Deterministic mode
// calls it whenever the cluster has settled.
func (c *Cluster) resolve() {
	c.mu.Lock()
	calls := append([]*Call(nil), c.inFlight...)
	steps := c.steps
	c.mu.Unlock()
	for _, call := range calls {
		call.mu.Lock()
		has, v := call.hasAns, call.answer
		call.mu.Unlock()
		switch {
		case has:
			if call.finish(v, nil) {
				call.note("call #%d answered after %d steps: %s", call.seq, steps-call.start, describeAnswer(v))
			}
		case c.Node(call.member) != call.node:
			if call.finish(nil, fmt.Errorf("member %d: %w: it stopped first", call.member, ErrNoAnswer)) {
				call.note("call #%d: member %d stopped before it answered", call.seq, call.member)
			}
		case c.cfg.deterministic && steps-call.start >= c.cfg.requestSteps:
			if call.finish(nil, fmt.Errorf("member %d: %w after %d steps", call.member, ErrNoAnswer, steps-call.start)) {
				call.note("call #%d: no answer after %d steps", call.seq, steps-call.start)
			}
		}
	}
}

// reply is an actor.Process that hands the first message sent to it to its
// call.
type reply struct{ call *Call }

func (r *reply) SendUserMessage(_ *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	r.call.arrived(msg)
}

func (r *reply) SendSystemMessage(*actor.PID, any) {}
func (r *reply) Stop(*actor.PID)                   {}

// Request sends a client request (messages.ClientTxn, ClientRead,
// ClientConfChange, ClientStatus) to member id's proposer and returns the
// answer: Go, then Reply. In deterministic mode it takes steps until the
// answer arrives (at most WithRequestSteps), in real time it waits at most
// timeout.
func (c *Cluster) Request(id uint64, msg any, timeout time.Duration) (any, error) {
	return c.goCall(id, msg, timeout, false).Reply()
}

// requestText says what a client request asks, for the trace. It is
// formatted only when the trace is kept (deterministic mode): notes are
// dropped otherwise, and formatting every request is work wasted.
type requestText struct{ msg any }

func (r requestText) String() string {
	switch m := r.msg.(type) {
	case *messages.ClientTxn:
		return "txn " + describeTxn(m.Txn)
	case *messages.ClientRead:
		mode := "linearizable"
		if m.Serializable {
			mode = "serializable"
		}
		return fmt.Sprintf("%s read %s", mode, describeOp(m.Op))
	case *messages.ClientConfChange:
		return fmt.Sprintf("%s member %d", m.Change.Type, m.Change.Member.ID)
	case *messages.ClientStatus:
		return "status"
	}
	return fmt.Sprintf("%T", r.msg)
}

func describeTxn(t messages.Txn) string {
	var b strings.Builder
	for i, cmp := range t.Compares {
		if i > 0 {
			b.WriteString(" && ")
		}
		fmt.Fprintf(&b, "%q target %d result %d rev %d", cmp.Key, cmp.Target, cmp.Result, cmp.Revision)
	}
	if len(t.Compares) > 0 {
		b.WriteString(" ? ")
	}
	for i, op := range t.Success {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(describeOp(op))
	}
	if len(t.Failure) > 0 {
		b.WriteString(" : ")
		for i, op := range t.Failure {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(describeOp(op))
		}
	}
	return b.String()
}

func describeOp(op messages.Op) string {
	var b strings.Builder
	switch op.Type {
	case messages.OpGet:
		b.WriteString("get ")
	case messages.OpPut:
		b.WriteString("put ")
	case messages.OpDelete:
		b.WriteString("delete ")
	default:
		fmt.Fprintf(&b, "op%d ", op.Type)
	}
	fmt.Fprintf(&b, "%q", op.Key)
	if op.End != nil {
		fmt.Fprintf(&b, "..%q", op.End)
	}
	if op.Type == messages.OpPut {
		fmt.Fprintf(&b, "=%q", op.Value)
	}
	return b.String()
}

// describeAnswer says what a client was answered, for the trace.
func describeAnswer(v any) string {
	switch m := v.(type) {
	case *messages.TxnReply:
		if m.Err != nil {
			return "error: " + m.Err.Error()
		}
		return fmt.Sprintf("txn succeeded=%v revision %d%s", m.Result.Succeeded, m.Result.Revision, describeResults(m.Result.Responses))
	case *messages.ReadReply:
		if m.Err != nil {
			return "error: " + m.Err.Error()
		}
		return fmt.Sprintf("read at revision %d%s", m.Revision, describeResults([]messages.OpResult{m.Result}))
	case *messages.ConfChangeReply:
		if m.Err != nil {
			return "error: " + m.Err.Error()
		}
		return "membership change applied"
	case *messages.Status:
		return fmt.Sprintf("status leader %d term %d applied %d", m.Leader, m.Term, m.Applied)
	}
	return fmt.Sprintf("%T", v)
}

func describeResults(rs []messages.OpResult) string {
	var b strings.Builder
	for _, r := range rs {
		for _, kv := range r.KVs {
			fmt.Fprintf(&b, " %q=%q@%d", kv.Key, kv.Value, kv.ModRevision)
		}
	}
	return b.String()
}

// Txn applies txn through member id.
func (c *Cluster) Txn(id uint64, txn messages.Txn) (messages.TxnResult, error) {
	v, err := c.Request(id, &messages.ClientTxn{Txn: txn}, Dilated(10*time.Second))
	if err != nil {
		return messages.TxnResult{}, err
	}
	r, ok := v.(*messages.TxnReply)
	if !ok {
		return messages.TxnResult{}, fmt.Errorf("unexpected answer %T", v)
	}
	return r.Result, r.Err
}

// Put writes key=value through member id; a nil error means the write is
// committed and applied.
func (c *Cluster) Put(id uint64, key, value string) error {
	_, err := c.Txn(id, messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: []byte(value)}}})
	return err
}

// Get reads key through member id, linearizably unless serializable.
func (c *Cluster) Get(id uint64, key string, serializable bool) (value string, found bool, err error) {
	v, err := c.Request(id, &messages.ClientRead{Op: messages.Op{Type: messages.OpGet, Key: []byte(key)}, Serializable: serializable}, Dilated(10*time.Second))
	if err != nil {
		return "", false, err
	}
	r, ok := v.(*messages.ReadReply)
	if !ok {
		return "", false, fmt.Errorf("unexpected answer %T", v)
	}
	if r.Err != nil || len(r.Result.KVs) == 0 {
		return "", false, r.Err
	}
	return string(r.Result.KVs[0].Value), true, nil
}
