package linearizability

import (
	"math"
	"os"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Recorder records the operations of concurrent clients with their call and
// return times, for Check. It is safe for concurrent use.
type Recorder struct {
	clock func() int64

	mu      sync.Mutex
	ops     []porcupine.Operation
	clients int
	unknown int
}

// NewRecorder returns an empty recorder; times are measured from now on a
// monotonic clock.
func NewRecorder() *Recorder {
	start := time.Now()
	return NewRecorderWithClock(func() int64 { return int64(time.Since(start)) })
}

// NewRecorderWithClock returns an empty recorder whose call and return
// times come from clock: a logical clock, such as the step count of a
// deterministic simulation. clock must never go backwards; two events at
// the same time count as concurrent, so a clock that ticks at every
// reading orders every call and return as they happened.
func NewRecorderWithClock(clock func() int64) *Recorder { return &Recorder{clock: clock} }

func (r *Recorder) now() int64 { return r.clock() }

// Client returns a new sequential client of the history: it has one
// operation in flight at a time. A client is not safe for concurrent use;
// give each goroutine its own.
func (r *Recorder) Client() *Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.clients
	r.clients++
	return &Client{r: r, id: id}
}

// Client is one sequential client of a Recorder.
type Client struct {
	r  *Recorder
	id int
}

// Call starts an operation: call it right before sending the request, and
// end the returned Op with exactly one of Return, Unknown or Discard right
// after the answer.
func (c *Client) Call(in Input) *Op {
	return &Op{c: c, in: in, call: c.r.now()}
}

// Op is one operation in flight.
type Op struct {
	c    *Client
	in   Input
	call int64
}

// Return records the operation with its answer, returned now.
func (o *Op) Return(out Output) {
	ret := o.c.r.now()
	o.c.r.add(porcupine.Operation{ClientId: o.c.id, Input: o.in, Call: o.call, Output: out, Return: ret})
}

// Unknown records a write whose outcome is unknown: it may take effect at
// any time after its call, so it never returns (its return time is the end
// of time). The client continues under a new id, since this operation
// stays in flight forever.
func (o *Op) Unknown() {
	r := o.c.r
	r.add(porcupine.Operation{ClientId: o.c.id, Input: o.in, Call: o.call, Output: Output{Unknown: true}, Return: math.MaxInt64})
	r.mu.Lock()
	r.unknown++
	o.c.id = r.clients
	r.clients++
	r.mu.Unlock()
}

// Discard drops an operation that certainly had no effect: a read that
// failed, or a write refused before it reached the cluster.
func (o *Op) Discard() {}

func (r *Recorder) add(op porcupine.Operation) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// History returns a copy of the operations recorded so far.
func (r *Recorder) History() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]porcupine.Operation(nil), r.ops...)
}

// Stats tells how many operations were recorded, and how many of them
// have an unknown outcome.
func (r *Recorder) Stats() (ops, unknown int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ops), r.unknown
}

// Check checks history against Model, giving up after timeout (0: no
// limit) with porcupine.Unknown. Serializable reads (Input.Serializable)
// are left out: CheckSerializable checks them. The info can be drawn with
// Visualize.
func Check(history []porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo) {
	return porcupine.CheckOperationsVerbose(Model, Linearizable(history), timeout)
}

// Linearizable returns the operations of history that Model checks: all
// but the serializable reads.
func Linearizable(history []porcupine.Operation) []porcupine.Operation {
	out := make([]porcupine.Operation, 0, len(history))
	for _, op := range history {
		if !op.Input.(Input).Serializable {
			out = append(out, op)
		}
	}
	return out
}

// Visualize writes porcupine's HTML view of a checked history to path.
func Visualize(info porcupine.LinearizationInfo, path string) error {
	return porcupine.VisualizePath(Model, info, path)
}

// VisualizeTemp writes the HTML view to a new file under the system's temp
// directory whose name starts with pattern, and returns its path.
func VisualizeTemp(info porcupine.LinearizationInfo, pattern string) (string, error) {
	f, err := os.CreateTemp("", pattern+"-*.html")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := porcupine.Visualize(Model, info, f); err != nil {
		return "", err
	}
	return f.Name(), nil
}
