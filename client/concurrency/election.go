package concurrency

import (
	"context"
	"errors"
	"fmt"

	"github.com/raftkv/raftkv/client"
)

// ErrNoLeader is Leader's error when no session campaigns.
var ErrNoLeader = errors.New("raftkv election: no leader")

// Election elects one leader at a time among the sessions that campaign
// under a prefix: the one whose key was created first. Others wait their
// turn, in order, and anyone can observe who leads.
type Election struct {
	s      *Session
	prefix string
	key    string
}

// NewElection returns the election named by prefix for session s.
func NewElection(s *Session, prefix string) *Election {
	return &Election{s: s, prefix: prefix + "/"}
}

// Campaign waits until the session leads, with value as what the leader
// proclaims, or ctx ends (the session then withdraws).
func (e *Election) Campaign(ctx context.Context, value []byte) error {
	key, rev, err := join(ctx, e.s, e.prefix, value)
	if err != nil {
		return err
	}
	e.key = key
	if err := waitTurn(ctx, e.s.c, e.prefix, rev); err != nil {
		_ = e.Resign(context.WithoutCancel(ctx))
		return err
	}
	return nil
}

// Resign gives up the lead (or the candidacy): the next candidate leads.
func (e *Election) Resign(ctx context.Context) error {
	if e.key == "" {
		return nil
	}
	if err := remove(ctx, e.s.c, e.key); err != nil {
		return fmt.Errorf("resign %s: %w", e.key, err)
	}
	e.key = ""
	return nil
}

// Leader returns the current leader's key-value (its value is what it
// proclaimed), ErrNoLeader if none campaigns.
func (e *Election) Leader(ctx context.Context) (*client.KeyValue, error) {
	kv, _, err := leaderOf(ctx, e.s.c, e.prefix)
	return kv, err
}

// leaderOf returns the key under prefix created first, and the revision
// of the read.
func leaderOf(ctx context.Context, c *client.Client, prefix string) (*client.KeyValue, int64, error) {
	var (
		leader *client.KeyValue
		at     int64
		opts   []client.OpOption
	)
	for {
		page, err := c.RangePrefix(ctx, prefix, append(opts, client.WithLimit(1000))...)
		if retriable(ctx, err) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("leader of %s: %w", prefix, err)
		}
		if at == 0 {
			at = page.Revision
		}
		for i := range page.KVs {
			if kv := &page.KVs[i]; leader == nil || kv.CreateRevision < leader.CreateRevision {
				leader = kv
			}
		}
		if !page.More {
			if leader == nil {
				return nil, at, ErrNoLeader
			}
			return leader, at, nil
		}
		opts = []client.OpOption{client.WithNext(page.Next), client.WithRevision(at)}
	}
}

// Observe delivers the leader each time it changes (first the current
// one, if any), until ctx ends.
func (e *Election) Observe(ctx context.Context) <-chan client.KeyValue {
	out := make(chan client.KeyValue)
	go func() {
		defer close(out)
		var last *client.KeyValue
		for ctx.Err() == nil {
			leader, at, err := leaderOf(ctx, e.s.c, e.prefix)
			if err != nil && !errors.Is(err, ErrNoLeader) {
				return
			}
			if leader != nil && (last == nil || leader.CreateRevision != last.CreateRevision || string(leader.Value) != string(last.Value)) {
				select {
				case out <- *leader:
				case <-ctx.Done():
					return
				}
				last = leader
			}
			// Any change under the prefix may change the leader.
			if !changeAfter(ctx, e.s.c, e.prefix, at+1) {
				return
			}
		}
	}()
	return out
}

// changeAfter waits for a change under prefix from revision rev on; false
// if ctx ended or the watch failed for good.
func changeAfter(ctx context.Context, c *client.Client, prefix string, rev int64) bool {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for r := range c.Watch(wctx, prefix, client.WithPrefix(), client.WithRevision(rev)) {
		if r.Err != nil {
			return errors.Is(r.Err, client.ErrCompacted) // look again
		}
		if len(r.Events) > 0 {
			return true
		}
	}
	return false
}
