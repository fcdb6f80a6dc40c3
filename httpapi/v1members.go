package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/raftkv/raftkv/api"
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
	reply := api.MembersReply{Revision: st.Revision, Leader: st.Leader, Members: []api.Member{}}
	for id, addr := range st.Members {
		reply.Members = append(reply.Members, api.Member{ID: id, Address: addr})
	}
	slices.SortFunc(reply.Members, func(a, b api.Member) int {
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
	var req api.AddMemberRequest
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
	if err := s.confChange(r.Context(), cc, p.timeout); err != nil {
		s.failV1(w, err)
		return
	}
	s.memberDone(w, r, http.StatusCreated, &api.Member{ID: req.ID, Address: addrs[0]}, p.timeout)
}

// removeMemberV1 serves DELETE /v1/members/<id>: 200 once the change is
// committed and applied, 404 if id is not a member.
func (s *Server) removeMemberV1(w http.ResponseWriter, r *http.Request, idText string) {
	p, err := s.parseParams(r)
	if err != nil {
		s.failV1(w, err)
		return
	}
	id, err := parseMemberID(idText)
	if err != nil {
		s.failV1(w, err)
		return
	}
	cc := &messages.ClientConfChange{Type: raftpb.ConfChangeType_ConfChangeRemoveNode, NodeID: id}
	if err := s.confChange(r.Context(), cc, p.timeout); err != nil {
		s.failV1(w, err)
		return
	}
	s.memberDone(w, r, http.StatusOK, nil, p.timeout)
}

// memberDone answers a membership change that applied, with the store
// revision (a membership change does not change it).
func (s *Server) memberDone(w http.ResponseWriter, r *http.Request, status int, m *api.Member, timeout time.Duration) {
	reply := api.MemberReply{Member: m}
	if st, err := s.askStatus(r.Context(), timeout); err == nil {
		reply.Revision = st.Revision
		setRevision(w, st.Revision)
	}
	writeJSON(w, status, reply)
}
