package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/node"
)

// membersV1 serves GET and POST /v1/members, and DELETE /v1/members/<id>.
func (s *Server) membersV1(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1/members/"); ok && rest != "" {
		if r.Method != http.MethodDelete {
			methodNotAllowed(w, r, http.MethodDelete)
			return
		}
		s.removeMemberV1(w, r, rest)
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.listMembersV1(w, r)
	case http.MethodPost:
		s.addMemberV1(w, r)
	default:
		methodNotAllowed(w, r, http.MethodGet, http.MethodPost)
	}
}

// askStatus asks the node for its status.
func (s *Server) askStatus(ctx context.Context, timeout time.Duration) (*messages.Status, error) {
	v, err := s.ask(ctx, &messages.ClientStatus{}, timeout)
	if err != nil {
		return nil, err
	}
	st, ok := v.(*messages.Status)
	if !ok {
		return nil, fmt.Errorf("unexpected answer %T", v)
	}
	return st, nil
}

// listMembersV1 serves GET /v1/members: the membership as this node knows
// it, answered locally like /v1/status.
func (s *Server) listMembersV1(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseParams(r)
	if err != nil {
		s.failV1(w, err)
		return
	}
	st, err := s.askStatus(r.Context(), p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	reply := MembersReply{Revision: st.Revision, Leader: st.Leader, Members: []Member{}}
	for id, addr := range st.Members {
		reply.Members = append(reply.Members, Member{ID: id, Address: addr})
	}
	slices.SortFunc(reply.Members, func(a, b Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	writeV1(w, http.StatusOK, st.Revision, reply)
}

// addMemberV1 serves POST /v1/members {"id":4,"address":"host:port"}: 201
// once the change is committed and applied, 409 if the id is a member.
func (s *Server) addMemberV1(w http.ResponseWriter, r *http.Request) {
	p, err := s.parseParams(r)
	if err != nil {
		s.failV1(w, err)
		return
	}
	var req AddMemberRequest
	if !decodeJSON(w, r, 4096, &req) {
		return
	}
	if req.ID == 0 {
		s.failV1(w, badRequest("id: must be a positive integer"))
		return
	}
	addrs, err := node.ParseCluster([]string{req.Address})
	if err != nil {
		s.failV1(w, badRequest("address: %v", err))
		return
	}
	cc := &messages.ClientConfChange{Type: raftpb.ConfChangeType_ConfChangeAddNode, NodeID: req.ID, Address: addrs[0]}
	if !s.confChangeV1(w, r, cc, p.timeout) {
		return
	}
	s.memberDone(w, r, http.StatusCreated, &Member{ID: req.ID, Address: addrs[0]}, p.timeout)
}

// removeMemberV1 serves DELETE /v1/members/<id>: 200 once the change is
// committed and applied, 404 if id is not a member.
func (s *Server) removeMemberV1(w http.ResponseWriter, r *http.Request, idText string) {
	p, err := s.parseParams(r)
	if err != nil {
		s.failV1(w, err)
		return
	}
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil || id == 0 {
		s.failV1(w, badRequest("member id %q: must be a positive integer", idText))
		return
	}
	cc := &messages.ClientConfChange{Type: raftpb.ConfChangeType_ConfChangeRemoveNode, NodeID: id}
	if !s.confChangeV1(w, r, cc, p.timeout) {
		return
	}
	s.memberDone(w, r, http.StatusOK, nil, p.timeout)
}

func (s *Server) confChangeV1(w http.ResponseWriter, r *http.Request, cc *messages.ClientConfChange, timeout time.Duration) bool {
	v, err := s.ask(r.Context(), cc, timeout)
	if err == nil {
		reply, ok := v.(*messages.ConfChangeReply)
		if !ok {
			err = fmt.Errorf("unexpected answer %T", v)
		} else {
			err = reply.Err
		}
	}
	if err != nil {
		s.failV1(w, err)
		return false
	}
	return true
}

// memberDone answers a membership change that applied, with the store
// revision (a membership change does not change it).
func (s *Server) memberDone(w http.ResponseWriter, r *http.Request, status int, m *Member, timeout time.Duration) {
	reply := MemberReply{Member: m}
	if st, err := s.askStatus(r.Context(), timeout); err == nil {
		reply.Revision = st.Revision
		setRevision(w, st.Revision)
	}
	writeJSON(w, status, reply)
}
