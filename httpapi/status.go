package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/raftkv/raftkv/messages"
)

// StatusReply is the JSON answer of GET /v1/status.
type StatusReply struct {
	ID       uint64            `json:"id"`
	Leader   uint64            `json:"leader"`
	Term     uint64            `json:"term"`
	Commit   uint64            `json:"commit"`
	Applied  uint64            `json:"applied"`
	Serving  bool              `json:"serving"`
	Revision int64             `json:"revision"`
	Members  map[string]string `json:"members"`
}

// status serves GET /v1/status: this node's view of the cluster, answered
// locally (no raft round trip), so it works without a quorum.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("method %s not allowed on /v1/status: use GET", r.Method))
		return
	}
	v, err := s.ask(r.Context(), &messages.ClientStatus{}, s.timeout)
	if err != nil {
		s.fail(w, err, http.StatusGatewayTimeout)
		return
	}
	st, ok := v.(*messages.Status)
	if !ok {
		s.fail(w, fmt.Errorf("unexpected answer %T", v), http.StatusGatewayTimeout)
		return
	}
	members := make(map[string]string, len(st.Members))
	for id, addr := range st.Members {
		members[strconv.FormatUint(id, 10)] = addr
	}
	setRevision(w, st.Revision)
	writeJSON(w, http.StatusOK, StatusReply{
		ID: st.ID, Leader: st.Leader, Term: st.Term, Commit: st.Commit, Applied: st.Applied,
		Serving: st.Serving, Revision: st.Revision, Members: members,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
