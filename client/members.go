package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/raftkv/raftkv/api"
)

// Member is one member of the cluster: its raft id and peer address.
type Member = api.Member

// MembersResponse is the membership as the answering member knows it:
// the members sorted by id, the leader, and the store revision.
type MembersResponse = api.MembersReply

// Status is what a member tells about itself (GET /v1/status): the fields
// of the answer (ID, Leader, Term, Commit, Applied, Serving, Revision),
// with the member ids parsed, and the member that answered.
type Status struct {
	api.StatusReply
	// Members maps member ids to peer addresses. (StatusReply.Members has
	// them as the JSON does, keyed by decimal strings.)
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
	body, err := json.Marshal(api.AddMemberRequest{ID: id, Address: address})
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
	st := Status{Endpoint: ans.endpoint}
	if err := json.Unmarshal(ans.body, &st.StatusReply); err != nil {
		return nil, fmt.Errorf("raftkv client: %s: malformed status: %w", ans.endpoint, err)
	}
	st.Members = make(map[uint64]string, len(st.StatusReply.Members))
	for id, addr := range st.StatusReply.Members {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("raftkv client: %s: member id %q: %w", ans.endpoint, id, err)
		}
		st.Members[n] = addr
	}
	return &st, nil
}
