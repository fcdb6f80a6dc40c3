package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Member is one member of the cluster: its raft id and peer address.
type Member struct {
	ID      uint64 `json:"id"`
	Address string `json:"address"`
}

// MembersResponse is the membership as the answering member knows it.
type MembersResponse struct {
	Revision int64    `json:"revision"`
	Leader   uint64   `json:"leader"`
	Members  []Member `json:"members"`
}

// Status is what a member tells about itself (GET /v1/status).
type Status struct {
	ID       uint64 `json:"id"`
	Leader   uint64 `json:"leader"`
	Term     uint64 `json:"term"`
	Commit   uint64 `json:"commit"`
	Applied  uint64 `json:"applied"`
	Serving  bool   `json:"serving"`
	Revision int64  `json:"revision"`
	// Members maps member ids to peer addresses.
	Members map[uint64]string `json:"-"`
	// Endpoint is the member that answered.
	Endpoint string `json:"-"`
}

// Members lists the members of the cluster.
func (c *Client) Members(ctx context.Context) (*MembersResponse, error) {
	var out MembersResponse
	if err := c.call(ctx, &request{method: http.MethodGet, path: "/v1/members", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddMember adds member id, reachable by its peers at address
// (host:port), and returns once the change is committed and applied; then
// start the new member with --join. An id already a member is an error
// matching ErrMemberExists.
func (c *Client) AddMember(ctx context.Context, id uint64, address string) error {
	body, err := json.Marshal(Member{ID: id, Address: address})
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return c.call(ctx, &request{method: http.MethodPost, path: "/v1/members", header: h, body: body}, nil)
}

// RemoveMember removes member id; the removed member shuts down. An id not
// a member is an error matching ErrMemberNotFound.
func (c *Client) RemoveMember(ctx context.Context, id uint64) error {
	path := "/v1/members/" + strconv.FormatUint(id, 10)
	return c.call(ctx, &request{method: http.MethodDelete, path: path}, nil)
}

// Status returns the status of the first member that answers.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	return c.status(ctx, &request{method: http.MethodGet, path: "/v1/status", idempotent: true})
}

// EndpointStatus returns the status of the member at endpoint (one of
// Endpoints, or any other), without trying another.
func (c *Client) EndpointStatus(ctx context.Context, endpoint string) (*Status, error) {
	u, err := normalize(endpoint)
	if err != nil {
		return nil, err
	}
	return c.status(ctx, &request{method: http.MethodGet, path: "/v1/status", idempotent: true, endpoint: u})
}

func (c *Client) status(ctx context.Context, req *request) (*Status, error) {
	ans, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	var w struct {
		Status
		Members map[string]string `json:"members"`
	}
	if err := json.Unmarshal(ans.body, &w); err != nil {
		return nil, fmt.Errorf("raftkv client: %s: malformed status: %w", ans.endpoint, err)
	}
	st := w.Status
	st.Endpoint = ans.endpoint
	st.Members = make(map[uint64]string, len(w.Members))
	for id, addr := range w.Members {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("raftkv client: %s: member id %q: %w", ans.endpoint, id, err)
		}
		st.Members[n] = addr
	}
	return &st, nil
}
