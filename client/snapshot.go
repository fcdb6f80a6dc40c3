package client

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
)

// maxErrorAnswer bounds the error answer of a backup request that the
// client reads.
const maxErrorAnswer = 1 << 20

// Snapshot asks a member for a backup of the store (GET /v1/snapshot) and
// returns its stream, which the caller reads to its end and closes: the
// bytes of a backup file (package backup's format, which backup.Read
// verifies; save them to a file for backup.Restore). The member takes the
// backup after a linearizable read round, so it holds every write
// acknowledged before the call.
//
// The call goes to another member, as a read does, when one cannot serve
// it (unreachable, 503, 504), until the stream starts; a stream that breaks
// off later is an error of the reader (never a clean io.EOF on a partial
// backup, which backup.Read would refuse anyway). ctx bounds the whole
// download, the stream included: give it a deadline long enough for the
// store's size, or none; the member waits for its read round at most the
// time ctx leaves (see the package doc), at most a minute.
//
// Option: WithSerializable takes the backup from the member's own state
// at once, without a round of the cluster: possibly stale, but available
// without a quorum (the backup to restore from when the quorum is lost for
// good). Other options are ignored.
func (c *Client) Snapshot(ctx context.Context, opts ...OpOption) (io.ReadCloser, error) {
	q := configure(opts).readQuery()
	n := len(c.endpoints)
	c.mu.Lock()
	start := c.preferred
	c.mu.Unlock()
	req := &request{idempotent: true}
	var lastErr error
	for i := range n {
		ep := (start + i) % n
		body, err := c.openSnapshot(ctx, c.endpoints[ep], q)
		if err == nil {
			c.mu.Lock()
			c.preferred = ep
			c.mu.Unlock()
			return body, nil
		}
		if !retryable(err, req) || ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("%w: %w", ErrUnavailable, lastErr)
}

// openSnapshot sends GET /v1/snapshot?q to endpoint and returns the body
// of a 200 answer, or the error.
func (c *Client) openSnapshot(ctx context.Context, endpoint string, q url.Values) (io.ReadCloser, error) {
	q = maps.Clone(q)
	if d := serverTimeout(ctx); d > 0 {
		q.Set("timeout", d.String())
	}
	u := endpoint + "/v1/snapshot"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("raftkv client: %w", err)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		if isDialError(err) {
			return nil, &notSent{fmt.Errorf("raftkv client: %s: %w", endpoint, err)}
		}
		return nil, fmt.Errorf("raftkv client: %s: %w", endpoint, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
	if err != nil {
		return nil, fmt.Errorf("raftkv client: %s: read answer: %w", endpoint, err)
	}
	return nil, decodeError(endpoint, resp, data)
}
