// Package concurrency builds coordination on raftkv's leases,
// compare-and-swap and watch, as etcd's clientv3/concurrency does: a
// Session (a lease kept alive), a Mutex (fair: holders in the order they
// asked) and an Election (one leader at a time, which others observe).
//
// Every lock or candidacy is a key under a prefix, attached to the
// session's lease: if the holder dies, its lease expires and the key goes,
// which hands the lock on. Order is the keys' create revisions: a waiter
// watches only the key just before its own, so a release wakes one waiter.
package concurrency

import (
	"context"
	"fmt"
	"time"

	"github.com/raftkv/raftkv/client"
)

// DefaultTTL is the TTL of a session's lease: how long a holder that died
// keeps its locks.
const DefaultTTL = 10 * time.Second

// Session is a lease kept alive until Close, or until the keepalives fail
// for longer than its TTL (Done is then closed: locks held through it are
// lost).
type Session struct {
	c      *client.Client
	id     int64
	ttl    time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

// NewSession grants a lease of ttl (DefaultTTL if 0) and keeps it alive.
func NewSession(ctx context.Context, c *client.Client, ttl time.Duration) (*Session, error) {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	l, err := c.Grant(ctx, ttl)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	kctx, cancel := context.WithCancel(context.Background())
	s := &Session{c: c, id: l.ID, ttl: ttl, cancel: cancel, done: make(chan struct{})}
	renewals := c.KeepAlive(kctx, l.ID, ttl)
	go func() {
		defer close(s.done)
		for range renewals {
		}
	}()
	return s, nil
}

// Lease is the id of the session's lease.
func (s *Session) Lease() int64 { return s.id }

// Client is the session's client.
func (s *Session) Client() *client.Client { return s.c }

// Done is closed when the session's keepalives stopped: Close, or the
// lease is gone.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close stops the keepalives and revokes the lease: every key of the
// session (its locks) goes at once.
func (s *Session) Close(ctx context.Context) error {
	s.cancel()
	<-s.done
	if _, err := s.c.Revoke(ctx, s.id); err != nil && !errorsIsLeaseNotFound(err) {
		return fmt.Errorf("session: revoke lease %d: %w", s.id, err)
	}
	return nil
}
