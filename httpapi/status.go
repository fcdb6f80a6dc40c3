package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/raftkv/raftkv/api"
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
	members := make(map[string]string, len(st.Members))
	for id, addr := range st.Members {
		members[strconv.FormatUint(id, 10)] = addr
	}
	setRevision(w, st.Revision)
	writeJSON(w, http.StatusOK, api.StatusReply{
		ID: st.ID, Leader: st.Leader, Term: st.Term, Commit: st.Commit, Applied: st.Applied,
		Serving: st.Serving, Revision: st.Revision, Members: members,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
