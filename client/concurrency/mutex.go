package concurrency

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/raftkv/raftkv/client"
)

// Mutex is a distributed lock: at most one session holds it at a time, and
// sessions get it in the order they asked (by their keys' create
// revisions).
type Mutex struct {
	s      *Session
	prefix string
	key    string
	rev    int64
}

// NewMutex returns the mutex named by prefix for session s.
func NewMutex(s *Session, prefix string) *Mutex {
	return &Mutex{s: s, prefix: prefix + "/"}
}

// Key is the mutex's key of this session while it holds or waits for it.
func (m *Mutex) Key() string { return m.key }

// Lock waits until the session holds the mutex, or ctx ends (the session
// then gives up its place).
func (m *Mutex) Lock(ctx context.Context) error {
	key, rev, err := join(ctx, m.s, m.prefix, nil)
	if err != nil {
		return err
	}
	m.key, m.rev = key, rev
	if err := waitTurn(ctx, m.s.c, m.prefix, rev); err != nil {
		m.leave()
		return err
	}
	return nil
}

// Unlock releases the mutex.
func (m *Mutex) Unlock(ctx context.Context) error {
	if err := remove(ctx, m.s.c, m.key); err != nil {
		return fmt.Errorf("unlock %s: %w", m.key, err)
	}
	m.key, m.rev = "", 0
	return nil
}

// remove deletes key, again after an unknown outcome or an unavailable
// cluster (deleting twice is harmless), until ctx ends.
func remove(ctx context.Context, c *client.Client, key string) error {
	for {
		_, err := c.Delete(ctx, key)
		if !retriable(ctx, err) {
			return err
		}
	}
}

// retriable says whether a call that failed with err may be made again:
// its outcome is unknown or no member could take it, and ctx goes on.
func retriable(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil &&
		(errors.Is(err, client.ErrUnknownOutcome) || errors.Is(err, client.ErrUnavailable) || errors.Is(err, client.ErrTimeout))
}

func (m *Mutex) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), m.s.ttl)
	defer cancel()
	_ = remove(ctx, m.s.c, m.key)
	m.key, m.rev = "", 0
}

// join puts the session's key under prefix (once: a key already there is
// the session's place) and returns it with its create revision.
func join(ctx context.Context, s *Session, prefix string, value []byte) (string, int64, error) {
	key := prefix + strconv.FormatInt(s.id, 16)
	for {
		// Created only if absent: after an unknown outcome the key may be
		// there already, and the 412 then tells its create revision.
		put, err := s.c.Put(ctx, key, value, client.WithLease(s.id), client.IfNotExists())
		if err == nil {
			return key, put.Revision, nil
		}
		var failed *client.Error
		if errors.As(err, &failed) && errors.Is(err, client.ErrPreconditionFailed) && failed.KV != nil {
			return key, failed.KV.CreateRevision, nil
		}
		if !retriable(ctx, err) {
			return "", 0, fmt.Errorf("join %s: %w", prefix, err)
		}
	}
}

// waitTurn waits until no key under prefix was created before rev: the
// key just before it is watched until it is deleted, then the keys are
// looked at again.
func waitTurn(ctx context.Context, c *client.Client, prefix string, rev int64) error {
	for {
		before, at, err := lastBefore(ctx, c, prefix, rev)
		if err != nil {
			return err
		}
		if before == "" {
			return nil
		}
		if err := waitDelete(ctx, c, before, at+1); err != nil {
			return err
		}
	}
}

// lastBefore finds the key under prefix created last before rev ("" if
// none), in a read at one revision, which it returns.
func lastBefore(ctx context.Context, c *client.Client, prefix string, rev int64) (string, int64, error) {
	var (
		best     string
		bestRev  int64
		at       int64
		page     *client.RangeResponse
		err      error
		nextOpts []client.OpOption
	)
	for {
		page, err = c.RangePrefix(ctx, prefix, append(nextOpts, client.WithLimit(1000))...)
		if retriable(ctx, err) {
			continue
		}
		if err != nil {
			return "", 0, fmt.Errorf("waiters of %s: %w", prefix, err)
		}
		if at == 0 {
			at = page.Revision
		}
		for _, kv := range page.KVs {
			if cr := kv.CreateRevision; cr < rev && cr > bestRev {
				best, bestRev = string(kv.KeyBytes()), cr
			}
		}
		if !page.More {
			return best, at, nil
		}
		nextOpts = []client.OpOption{client.WithNext(page.Next), client.WithRevision(at)}
	}
}

// waitDelete waits until key is deleted at a revision from rev on.
func waitDelete(ctx context.Context, c *client.Client, key string, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for r := range c.Watch(wctx, key, client.WithRevision(rev)) {
		if r.Err != nil {
			if errors.Is(r.Err, client.ErrCompacted) {
				return nil // look again: the key may be gone
			}
			return r.Err
		}
		for _, ev := range r.Events {
			if ev.Type == "delete" {
				return nil
			}
		}
	}
	return ctx.Err()
}

func errorsIsLeaseNotFound(err error) bool { return errors.Is(err, client.ErrLeaseNotFound) }
