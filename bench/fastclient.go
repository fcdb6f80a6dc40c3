package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// The HTTP clients the workers of raftkv can use.
const (
	// ClientFastHTTP is fasthttp's HTTP/1.1 client (FastClient), which
	// does a request on its caller's goroutine with no allocation: about
	// half the CPU per operation of net/http's client, which hands each
	// request to a writer and a reader goroutine of its connection.
	ClientFastHTTP = "fasthttp"
	// ClientNetHTTP is Go's net/http client (HTTPClient).
	ClientNetHTTP = "net/http"
)

// CheckClient says whether kind names a client of raftkv's workers (empty
// for the default, ClientFastHTTP).
func CheckClient(kind string) error {
	switch kind {
	case "", ClientFastHTTP, ClientNetHTTP:
		return nil
	}
	return fmt.Errorf("raftkv client %q: want %s or %s", kind, ClientFastHTTP, ClientNetHTTP)
}

// FastClient is a Client of one raftkv member's HTTP API over HTTP/1.1
// with keep-alive, through fasthttp's client, on the routes HTTPClient
// takes.
type FastClient struct {
	base string
	hc   *fasthttp.HostClient
}

// NewFastClient returns a client of the member at base (http://host:port)
// that keeps up to conns connections open.
func NewFastClient(base string, conns int) *FastClient {
	return &FastClient{base: base, hc: &fasthttp.HostClient{
		Addr:                strings.TrimPrefix(base, "http://"),
		MaxConns:            conns,
		MaxIdleConnDuration: 30 * time.Second,
	}}
}

// Put implements Client.
func (c *FastClient) Put(ctx context.Context, key string, value []byte) error {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI(c.base + "/" + key)
	req.Header.SetMethod("PUT")
	req.SetBodyRaw(value)
	return c.do(ctx, req, fasthttp.StatusNoContent)
}

// Get implements Client.
func (c *FastClient) Get(ctx context.Context, key string, serializable bool) error {
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	u := c.base + "/" + key
	if serializable {
		u = c.base + "/v1/kv/" + key + "?raw&consistency=serializable"
	}
	req.SetRequestURI(u)
	return c.do(ctx, req, fasthttp.StatusOK)
}

func (c *FastClient) do(ctx context.Context, req *fasthttp.Request, want int) error {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(opTimeout)
	}
	if err := c.hc.DoDeadline(req, resp, deadline); err != nil {
		return fmt.Errorf("%s %s: %w", req.Header.Method(), req.URI().Path(), err)
	}
	if resp.StatusCode() != want {
		b := resp.Body()
		return fmt.Errorf("%s %s: %d: %s", req.Header.Method(), req.URI().Path(), resp.StatusCode(), b[:min(len(b), 200)])
	}
	return nil
}

// Close implements Client.
func (c *FastClient) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}
