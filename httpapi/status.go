package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/internal/version"
	"github.com/raftkv/raftkv/messages"
)

// status serves GET /v1/status: this node's view of the cluster, answered
// locally (no raft round trip), so it works without a quorum.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	st, err := s.askStatus(r.Context(), s.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	reply := api.StatusReply{
		ID: st.ID, Name: st.Name, Version: version.Get().Version,
		Leader: st.Leader, State: st.State, Term: st.Term, Commit: st.Commit, Applied: st.Applied,
		Serving: st.Serving, Leaderless: st.Leaderless, Revision: st.Revision,
		Keys: st.Keys, DataSizeBytes: st.Disk.Total(), Members: apiMembers(st),
	}
	for _, m := range st.Alarms {
		reply.Alarms = append(reply.Alarms, api.Alarm{Member: m, Alarm: api.AlarmNoSpace})
	}
	if st.ClusterID != 0 {
		reply.ClusterID = fmt.Sprintf("%016x", st.ClusterID)
	}
	writeV1(w, http.StatusOK, st.Revision, reply)
}

// apiMembers are the members of a status in the API's shape.
func apiMembers(st *messages.Status) []api.Member {
	out := make([]api.Member, 0, len(st.Members))
	for _, m := range st.Members {
		out = append(out, apiMember(m, st.Leader))
	}
	return out
}

func apiMember(m messages.MemberStatus, leader uint64) api.Member {
	a := api.Member{ID: m.ID, Address: m.PeerAddress, ClientAddress: m.ClientAddress,
		Role: api.RoleVoter, IsLeader: m.ID == leader, LinkError: m.LinkError}
	if m.Learner {
		a.Role = api.RoleLearner
	}
	if p := m.Progress; p != nil {
		a.MatchIndex, a.Reachable = &p.Match, &p.Reachable
	}
	return a
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
