package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/raftkv/raftkv/api"
)

// LeaseResponse is the answer of Grant and KeepAliveOnce: the lease's id
// and TTL (a Go duration, "10s").
type LeaseResponse = api.LeaseReply

// LeaseInfo is the answer of TimeToLive: TTL, time left (as the member
// reckons it; the leader's reckoning decides) and keys.
type LeaseInfo = api.LeaseInfoReply

// Grant creates a lease of ttl (1 s to 7 days, rounded up to seconds). Keys
// put WithLease(id) live as long as the lease: until Revoke, or until it
// expires ttl after its grant or last keepalive. Like a write, it is never
// sent twice.
func (c *Client) Grant(ctx context.Context, ttl time.Duration) (*LeaseResponse, error) {
	body, err := json.Marshal(api.LeaseGrantRequest{TTL: ttl.String()})
	if err != nil {
		return nil, err
	}
	var out LeaseResponse
	if err := c.call(ctx, &request{method: http.MethodPost, path: api.PathLeases, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func leasePath(id int64) string { return api.PathLeases + "/" + strconv.FormatInt(id, 10) }

// KeepAliveOnce renews lease id once: it lives its TTL from now. A lease
// that ended is ErrLeaseNotFound. Renewing twice does no harm, so it is
// retried like a read.
func (c *Client) KeepAliveOnce(ctx context.Context, id int64) (*LeaseResponse, error) {
	var out LeaseResponse
	if err := c.call(ctx, &request{method: http.MethodPost, path: leasePath(id) + "/keepalive", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Revoke ends lease id and deletes its keys, all at one revision.
func (c *Client) Revoke(ctx context.Context, id int64) (*DeleteResponse, error) {
	var out DeleteResponse
	if err := c.call(ctx, &request{method: http.MethodDelete, path: leasePath(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TimeToLive describes lease id: its TTL, time left and keys.
func (c *Client) TimeToLive(ctx context.Context, id int64) (*LeaseInfo, error) {
	var out LeaseInfo
	if err := c.call(ctx, &request{method: http.MethodGet, path: leasePath(id), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// KeepAlive renews lease id every third of its TTL until ctx ends or the
// lease does (a renewal answers ErrLeaseNotFound); a failed renewal is
// tried again every half second meanwhile. The channel gets each
// renewal's answer (the latest, when the reader falls behind) and closes
// when the keepalives stop: ctx ended, or the lease is gone.
func (c *Client) KeepAlive(ctx context.Context, id int64, ttl time.Duration) <-chan *LeaseResponse {
	out := make(chan *LeaseResponse, 1)
	go func() {
		defer close(out)
		wait := ttl / 3
		for {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(ctx, ttl/3)
			r, err := c.KeepAliveOnce(rctx, id)
			cancel()
			switch {
			case errors.Is(err, ErrLeaseNotFound):
				return
			case err != nil:
				wait = min(500*time.Millisecond, ttl/3)
				continue
			}
			wait = ttl / 3
			select {
			case out <- r:
			default: // the reader is behind: it needs only the latest
			}
		}
	}()
	return out
}
