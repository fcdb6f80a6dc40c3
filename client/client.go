package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raftkv/raftkv/api"
)

// Defaults of the options.
const (
	DefaultRetryRounds  = 3
	DefaultRetryBackoff = 100 * time.Millisecond
	// MaxServerTimeout is the longest ?timeout= the server takes.
	MaxServerTimeout = api.MaxTimeout
	// maxAnswerSize bounds an answer the client reads.
	maxAnswerSize = 256 << 20
	// idleConnTimeout is how long the default transport keeps an idle
	// connection: less than a member's (httpapi.DefaultIdleTimeout).
	idleConnTimeout = 30 * time.Second
)

// HeaderRevision is the header of the store revision in every answer.
const HeaderRevision = api.HeaderRevision

// Client talks to the members of one raftkv cluster. It is safe for
// concurrent use.
type Client struct {
	endpoints []string
	hc        *http.Client
	rounds    int
	backoff   time.Duration

	mu        sync.Mutex
	preferred int // index of the endpoint that answered last
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client use hc (for its transport and its
// timeout); the default is a client of its own with no overall timeout,
// since each call's context bounds it, whose transport closes connections
// idle for 30 s (members close them after a minute). A transport of your
// own should close idle connections before a minute too.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetryRounds sets how many times a request may go round the endpoints
// (default DefaultRetryRounds); within a round, each endpoint is tried once.
func WithRetryRounds(n int) Option {
	return func(c *Client) { c.rounds = max(n, 1) }
}

// WithRetryBackoff sets the pause before the second round (default
// DefaultRetryBackoff); it doubles before each further round.
func WithRetryBackoff(d time.Duration) Option { return func(c *Client) { c.backoff = d } }

// New returns a client of the members whose HTTP endpoints are given, as
// URLs ("http://127.0.0.1:12380") or host:port. The first endpoint is tried
// first; later the one that answered last.
func New(endpoints []string, opts ...Option) (*Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("raftkv client: no endpoints")
	}
	c := &Client{rounds: DefaultRetryRounds, backoff: DefaultRetryBackoff}
	for _, e := range endpoints {
		u, err := normalize(e)
		if err != nil {
			return nil, err
		}
		c.endpoints = append(c.endpoints, u)
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Close idle connections before a member does (its idle timeout
		// is a minute), so that a request never goes out on a connection
		// the member is closing: a write lost that way has an unknown
		// outcome.
		t.IdleConnTimeout = idleConnTimeout
		c.hc = &http.Client{Transport: t}
	}
	return c, nil
}

// normalize turns an endpoint into a base URL without a trailing slash.
func normalize(endpoint string) (string, error) {
	e := strings.TrimSpace(endpoint)
	if !strings.Contains(e, "://") {
		e = "http://" + e
	}
	u, err := url.Parse(e)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("raftkv client: endpoint %q: want http://host:port", endpoint)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// Endpoints returns the endpoints of the client.
func (c *Client) Endpoints() []string { return append([]string(nil), c.endpoints...) }

// Close releases the idle connections of the client.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// request is one API call.
type request struct {
	method string
	path   string // escaped
	query  url.Values
	header http.Header
	body   []byte
	// idempotent requests may be sent again after they may have reached a
	// member: reads, and writes only when they never left (dial failed) or
	// were refused before being proposed.
	idempotent bool
	// endpoint, when set, is the only endpoint the request goes to.
	endpoint string
	// noTimeout sends no ?timeout= (a route outside /v1/ that takes none).
	noTimeout bool
}

// answer is a successful answer.
type answer struct {
	endpoint string
	header   http.Header
	body     []byte
}

// do sends req, going round the endpoints as the failure allows, and
// returns the first 2xx answer, or the error.
func (c *Client) do(ctx context.Context, req *request) (*answer, error) {
	n := len(c.endpoints)
	c.mu.Lock()
	start := c.preferred
	c.mu.Unlock()
	attempts, rounds := n, c.rounds
	if req.endpoint != "" {
		attempts, rounds = 1, 1
	}
	var lastErr error
	backoff := c.backoff
	for round := range rounds {
		if round > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("%w: %w (last error: %w)", ErrUnavailable, ctx.Err(), lastErr)
			case <-t.C:
			}
			backoff *= 2
		}
		for i := range attempts {
			ep := (start + i) % n
			endpoint := c.endpoints[ep]
			if req.endpoint != "" {
				endpoint = req.endpoint
			}
			ans, err := c.send(ctx, endpoint, req)
			if err == nil {
				if req.endpoint == "" {
					c.mu.Lock()
					c.preferred = ep
					c.mu.Unlock()
				}
				return ans, nil
			}
			if !retryable(err, req) {
				return nil, err
			}
			lastErr = err
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: %w (last error: %w)", ErrUnavailable, ctx.Err(), lastErr)
			}
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrUnavailable, lastErr)
}

// notSent wraps the error of a request that never reached a member.
type notSent struct{ err error }

func (e *notSent) Error() string { return e.err.Error() }
func (e *notSent) Unwrap() error { return e.err }

// retryable tells whether err allows sending req to another endpoint.
func retryable(err error, req *request) bool {
	var ns *notSent
	if errors.As(err, &ns) {
		return true
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		if apiErr.refused() {
			return true
		}
		if !req.idempotent {
			return false
		}
		// A read may go elsewhere when this member could not serve it.
		return apiErr.StatusCode == http.StatusServiceUnavailable ||
			apiErr.StatusCode == http.StatusGatewayTimeout ||
			apiErr.StatusCode >= 500 && apiErr.StatusCode != http.StatusNotImplemented
	}
	var uo *UnknownOutcomeError
	if errors.As(err, &uo) {
		return false
	}
	return req.idempotent
}

// serverTimeout is the ?timeout= for a call: most of what is left of the
// context's deadline, so that the member answers 504 before the caller
// gives up; 0 (the server's default) without a deadline.
func serverTimeout(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	left := time.Until(dl)
	d := left - min(left/10, 250*time.Millisecond)
	return min(max(d, time.Millisecond), MaxServerTimeout)
}

// send makes one attempt on endpoint ep. A write whose answer is lost
// after it may have left gets an *UnknownOutcomeError.
func (c *Client) send(ctx context.Context, endpoint string, req *request) (*answer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := url.Values{}
	for k, v := range req.query {
		q[k] = v
	}
	if d := serverTimeout(ctx); d > 0 && !req.noTimeout {
		q.Set("timeout", d.String())
	}
	u := endpoint + req.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("raftkv client: %w", err)
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		if isDialError(err) {
			return nil, &notSent{fmt.Errorf("raftkv client: %s: %w", endpoint, err)}
		}
		if req.idempotent {
			return nil, fmt.Errorf("raftkv client: %s: %w", endpoint, err)
		}
		return nil, &UnknownOutcomeError{Endpoint: endpoint, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerSize))
	if err != nil {
		if req.idempotent {
			return nil, fmt.Errorf("raftkv client: %s: read answer: %w", endpoint, err)
		}
		return nil, &UnknownOutcomeError{Endpoint: endpoint, Err: err}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &answer{endpoint: endpoint, header: resp.Header, body: data}, nil
	}
	apiErr := decodeError(endpoint, resp, data)
	if !req.idempotent && !apiErr.refused() && mayHaveApplied(apiErr) {
		return nil, &UnknownOutcomeError{Endpoint: endpoint, Err: apiErr}
	}
	return nil, apiErr
}

// mayHaveApplied tells whether a write that got this error answer may
// still apply: the answer came before the outcome was known.
func mayHaveApplied(e *Error) bool {
	switch {
	case e.StatusCode == http.StatusGatewayTimeout, e.StatusCode == http.StatusRequestTimeout:
		return true
	case e.StatusCode == http.StatusServiceUnavailable: // stopping: the proposal may be in the log
		return true
	case e.StatusCode == http.StatusInsufficientStorage: // refused by the NOSPACE alarm, before or at apply
		return false
	case e.StatusCode >= 500:
		return true
	}
	return false
}

// isDialError tells that the connection could not be made, so the request
// never reached the member.
func isDialError(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// decodeError reads an error answer.
func decodeError(endpoint string, resp *http.Response, data []byte) *Error {
	e := &Error{Endpoint: endpoint, StatusCode: resp.StatusCode}
	var body api.ErrorReply
	if err := json.Unmarshal(data, &body); err != nil || body.Code == "" {
		e.Code = "http_" + strconv.Itoa(resp.StatusCode)
		e.Message = strings.TrimSpace(string(data))
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return e
	}
	e.Code, e.Message, e.KV = body.Code, body.Error, body.KV
	if body.Revision != nil {
		e.Revision = *body.Revision
	}
	if body.CompactRevision != nil {
		e.CompactRevision = *body.CompactRevision
	}
	return e
}

// call sends req and decodes a JSON answer into out.
func (c *Client) call(ctx context.Context, req *request, out any) error {
	ans, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(ans.body, out); err != nil {
		return fmt.Errorf("raftkv client: %s: malformed answer: %w", ans.endpoint, err)
	}
	return nil
}
