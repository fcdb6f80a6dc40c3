package client

import (
	"context"
	"net/http"
)

// EndpointReady asks the member at endpoint (one of Endpoints, or any
// other), and no other, whether it is ready to serve requests (GET
// /readyz): nil if it answers 2xx, else the error (an *Error for any other
// answer, wrapped in ErrUnavailable when it could not be reached).
func (c *Client) EndpointReady(ctx context.Context, endpoint string) error {
	u, err := normalize(endpoint)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &request{method: http.MethodGet, path: "/readyz", idempotent: true, endpoint: u, noTimeout: true})
	return err
}
