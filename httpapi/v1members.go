package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// membersV1 serves GET and POST /v1/members, DELETE /v1/members/<id> and
// POST /v1/members/<id>/promote.
func (s *Server) membersV1(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1/members/"); ok && rest != "" {
		if idText, ok := strings.CutSuffix(rest, "/promote"); ok {
			if r.Method != http.MethodPost {
				methodNotAllowed(w, r, http.MethodPost)
				return
			}
			s.changeMemberV1(w, r, idText, messages.Promote)
			return
		}
		if r.Method != http.MethodDelete {
			methodNotAllowed(w, r, http.MethodDelete)
			return
		}
		s.changeMemberV1(w, r, rest, messages.Remove)
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
// it, answered locally like /v1/status; the leader adds each member's
// match index and reachability.
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
	writeV1(w, http.StatusOK, st.Revision, api.MembersReply{Revision: st.Revision, Leader: st.Leader, Members: apiMembers(st)})
}

// addMemberV1 serves POST /v1/members {"id":4,"address":"host:port"}: 201
// once the change is committed and applied.
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
	m, err := newMember(req.ID, req.Address, req.ClientAddress)
	if err != nil {
		s.failV1(w, err)
		return
	}
	change := messages.MemberChange{Type: messages.AddVoter, Member: m}
	if req.Learner {
		change.Type = messages.AddLearner
	}
	if err := s.confChange(r.Context(), &messages.ClientConfChange{Change: change}, p.timeout); err != nil {
		s.failV1(w, err)
		return
	}
	s.memberDone(w, r, http.StatusCreated, m.ID, p.timeout)
}

// changeMemberV1 serves DELETE /v1/members/<id> and POST
// /v1/members/<id>/promote: 200 once the change is committed and applied.
func (s *Server) changeMemberV1(w http.ResponseWriter, r *http.Request, idText string, typ messages.MemberChangeType) {
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
	change := messages.MemberChange{Type: typ, Member: messages.Member{ID: id}}
	if err := s.confChange(r.Context(), &messages.ClientConfChange{Change: change}, p.timeout); err != nil {
		s.failV1(w, err)
		return
	}
	if typ == messages.Remove {
		id = 0
	}
	s.memberDone(w, r, http.StatusOK, id, p.timeout)
}

// newMember checks the id and addresses of a member to add.
func newMember(id uint64, peerAddress, clientAddress string) (messages.Member, error) {
	if err := membership.CheckID(id); err != nil {
		return messages.Member{}, badRequest("id: %v", err)
	}
	addr, err := membership.ParsePeerAddress(peerAddress)
	if err != nil {
		return messages.Member{}, badRequest("address: %v", err)
	}
	m := messages.Member{ID: id, PeerAddress: addr}
	if clientAddress != "" {
		if m.ClientAddress, err = membership.ParseClientAddress(clientAddress); err != nil {
			return messages.Member{}, badRequest("client_address: %v", err)
		}
	}
	return m, nil
}

// memberDone answers a membership change that applied, with the store
// revision (a membership change does not change it) and member id as the
// change left it (none for a removal).
func (s *Server) memberDone(w http.ResponseWriter, r *http.Request, status int, id uint64, timeout time.Duration) {
	reply := api.MemberReply{}
	if st, err := s.askStatus(r.Context(), timeout); err == nil {
		reply.Revision = st.Revision
		setRevision(w, st.Revision)
		for _, m := range st.Members {
			if m.ID == id {
				a := apiMember(m, st.Leader)
				reply.Member = &a
			}
		}
	}
	writeJSON(w, status, reply)
}
