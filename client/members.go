package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/raftkv/raftkv/api"
)

// Member is one member of the cluster: its raft id, peer and client
// addresses, role, and on the leader its progress.
type Member = api.Member

// MembersResponse is the membership as the answering member knows it:
// the members sorted by id, the leader, and the store revision.
type MembersResponse = api.MembersReply

// Status is what a member tells about itself (GET /v1/status): its id,
// name and version, its raft state (leader, term, role, commit and applied
// index), its store (revision, keys) and data size on disk, the alarms and
// the members as it sees them; and the endpoint that answered.
type Status struct {
	api.StatusReply
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

// MemberOption configures AddMember.
type MemberOption func(*api.AddMemberRequest)

// AsLearner adds the member as a learner: it receives the log but does not
// vote, so it does not change the quorum; promote it once it caught up.
func AsLearner() MemberOption { return func(r *api.AddMemberRequest) { r.Learner = true } }

// WithClientAddress records the URL of the new member's HTTP API (it
// publishes it itself when it starts with --advertise-client).
func WithClientAddress(url string) MemberOption {
	return func(r *api.AddMemberRequest) { r.ClientAddress = url }
}

// MemberChangeResponse is the answer of a membership change: the store
// revision of the change and, after an add or a promotion, the member as
// the change left it (nil after a removal).
type MemberChangeResponse = api.MemberReply

// AddMember adds member id, reachable by its peers at address
// (host:port), and returns once the change is committed and applied; then
// start the new member with --join. A refused change changed nothing and
// matches ErrMembershipConflict (and ErrMemberExists, ErrUnsafeChange...
// by its code).
func (c *Client) AddMember(ctx context.Context, id uint64, address string, opts ...MemberOption) error {
	_, err := c.AddMemberReply(ctx, id, address, opts...)
	return err
}

// AddMemberReply is AddMember that returns the member's answer.
func (c *Client) AddMemberReply(ctx context.Context, id uint64, address string, opts ...MemberOption) (*MemberChangeResponse, error) {
	req := api.AddMemberRequest{ID: id, Address: address}
	for _, o := range opts {
		o(&req)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return c.memberChange(ctx, &request{method: http.MethodPost, path: "/v1/members", header: h, body: body})
}

// PromoteMember makes learner id a voter once it has caught up with the
// leader (ErrLearnerNotReady before).
func (c *Client) PromoteMember(ctx context.Context, id uint64) error {
	_, err := c.PromoteMemberReply(ctx, id)
	return err
}

// PromoteMemberReply is PromoteMember that returns the member's answer.
func (c *Client) PromoteMemberReply(ctx context.Context, id uint64) (*MemberChangeResponse, error) {
	path := "/v1/members/" + strconv.FormatUint(id, 10) + "/promote"
	return c.memberChange(ctx, &request{method: http.MethodPost, path: path})
}

// RemoveMember removes member id; the removed member shuts down. An id not
// a member is an error matching ErrMemberNotFound.
func (c *Client) RemoveMember(ctx context.Context, id uint64) error {
	_, err := c.RemoveMemberReply(ctx, id)
	return err
}

// RemoveMemberReply is RemoveMember that returns the member's answer.
func (c *Client) RemoveMemberReply(ctx context.Context, id uint64) (*MemberChangeResponse, error) {
	path := "/v1/members/" + strconv.FormatUint(id, 10)
	return c.memberChange(ctx, &request{method: http.MethodDelete, path: path})
}

func (c *Client) memberChange(ctx context.Context, req *request) (*MemberChangeResponse, error) {
	var out MemberChangeResponse
	if err := c.call(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
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
	return &st, nil
}
