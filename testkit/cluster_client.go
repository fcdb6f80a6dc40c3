package testkit

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/messages"
)

// Errors of requests to a cluster. With ErrNoAnswer the outcome of a write
// is unknown: it may still apply.
var (
	ErrMemberDown = errors.New("testkit: member is down")
	ErrNoAnswer   = errors.New("testkit: no answer")
)

// Request sends a client request (messages.ClientTxn, ClientRead,
// ClientConfChange, ClientStatus) to member id's proposer and returns the
// answer. In deterministic mode it takes steps until the answer arrives.
func (c *Cluster) Request(id uint64, msg any, timeout time.Duration) (any, error) {
	n := c.Node(id)
	if n == nil {
		return nil, fmt.Errorf("member %d: %w", id, ErrMemberDown)
	}
	if !c.cfg.deterministic {
		return n.System().Root.RequestFuture(n.Proposer(), msg, timeout).Result()
	}
	// The answer must be seen the moment the proposer sends it: a future
	// wakes its reader asynchronously, and one step more or less would
	// change the schedule. A reply process records it synchronously.
	r := &reply{}
	registry := n.System().ProcessRegistry
	pid, _ := registry.Add(r, "testkit-reply"+registry.NextId())
	defer registry.Remove(pid)
	n.System().Root.RequestWithCustomSender(n.Proposer(), msg, pid)
	for i := 0; ; i++ {
		c.settle()
		if v, ok := r.get(); ok {
			return v, nil
		}
		if i >= c.cfg.requestSteps {
			return nil, fmt.Errorf("member %d: %w after %d steps", id, ErrNoAnswer, i)
		}
		c.Step()
	}
}

// reply is an actor.Process that keeps the first message sent to it.
type reply struct {
	mu  sync.Mutex
	msg any
	got bool
}

func (r *reply) SendUserMessage(_ *actor.PID, message any) {
	_, msg, _ := actor.UnwrapEnvelope(message)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.got {
		r.msg, r.got = msg, true
	}
}

func (r *reply) SendSystemMessage(*actor.PID, any) {}
func (r *reply) Stop(*actor.PID)                   {}

func (r *reply) get() (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg, r.got
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
