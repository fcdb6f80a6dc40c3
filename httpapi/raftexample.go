package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// raftexample serves the routes of etcd's raftexample, made safe: PUT
// answers only after the write is committed and applied, GET is
// linearizable.
//
//	PUT    /<key>   body is the value  -> 204
//	GET    /<key>                      -> 200 value, or 404
//	POST   /<id>    body is the peer address of a new member -> 204
//	DELETE /<id>                       -> 204
func (s *Server) raftexample(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if strings.HasPrefix(r.URL.Path, "/v1/") || r.URL.Path == "/v1" {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no such API route %s", r.URL.Path))
		return
	}
	switch r.Method {
	case http.MethodPut:
		s.putKey(w, r, name)
	case http.MethodGet:
		s.getKey(w, r, name)
	case http.MethodPost:
		s.addMember(w, r, name)
	case http.MethodDelete:
		s.removeMember(w, r, name)
	default:
		w.Header().Set("Allow", "GET, PUT, POST, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("method %s not allowed: use GET or PUT on /<key>, POST or DELETE on /<member id>", r.Method))
	}
}

func (s *Server) putKey(w http.ResponseWriter, r *http.Request, key string) {
	if !s.checkKey(w, key) {
		return
	}
	value, ok := readBody(w, r, store.MaxValueSize)
	if !ok {
		return
	}
	s.put(r.Context(), w, key, value)
}

// put writes value under key and answers 204 once the write is committed
// and applied.
func (s *Server) put(ctx context.Context, w http.ResponseWriter, key string, value []byte) {
	txn := messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(key), Value: value}}}
	if _, err := s.txn(ctx, txn, s.timeout); err != nil {
		s.fail(w, err, http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request, key string) {
	if !s.checkKey(w, key) {
		return
	}
	if value, ok := s.value(r.Context(), w, key); ok {
		w.Header()["Content-Type"] = octetStream
		_, _ = w.Write(value)
	}
}

// value reads the value of key, linearizably. If it returns false, it
// answered the request itself: 404 if there is no such key, or the error.
func (s *Server) value(ctx context.Context, w http.ResponseWriter, key string) ([]byte, bool) {
	reply, err := s.read(ctx, messages.Op{Type: messages.OpGet, Key: []byte(key)}, false, s.timeout)
	if err != nil {
		s.fail(w, err, http.StatusServiceUnavailable)
		return nil, false
	}
	if len(reply.Result.KVs) == 0 {
		writeError(w, http.StatusNotFound, "key_not_found", fmt.Sprintf("key %q not found", key))
		return nil, false
	}
	return reply.Result.KVs[0].Value, true
}

// octetStream is the Content-Type of a raw value, set without Header.Set's
// canonicalizing and allocation on the read path; net/http never modifies
// a header's values, and an append to this one copies it.
var octetStream = []string{"application/octet-stream"}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, idText string) {
	id, err := parseMemberID(idText)
	if err != nil {
		s.fail(w, err, http.StatusServiceUnavailable)
		return
	}
	body, ok := readBody(w, r, 1024)
	if !ok {
		return
	}
	m, err := newMember(id, string(body), "")
	if err != nil {
		s.fail(w, err, http.StatusServiceUnavailable)
		return
	}
	s.changeMembers(w, r, &messages.ClientConfChange{Change: messages.MemberChange{Type: messages.AddVoter, Member: m}})
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, idText string) {
	id, err := parseMemberID(idText)
	if err != nil {
		s.fail(w, err, http.StatusServiceUnavailable)
		return
	}
	s.changeMembers(w, r, &messages.ClientConfChange{Change: messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: id}}})
}

// changeMembers applies cc and answers 204 once it is committed and applied.
func (s *Server) changeMembers(w http.ResponseWriter, r *http.Request, cc *messages.ClientConfChange) {
	if err := s.confChange(r.Context(), cc, s.timeout); err != nil {
		s.fail(w, err, http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) checkKey(w http.ResponseWriter, key string) bool {
	switch {
	case key == "":
		writeError(w, http.StatusBadRequest, "invalid", "empty key: use /<key> (a browser gets the status page here, which is also on /ui)")
		return false
	case len(key) > store.MaxKeySize:
		writeError(w, http.StatusBadRequest, "invalid",
			fmt.Sprintf("key of %d bytes is over the limit of %d", len(key), store.MaxKeySize))
		return false
	}
	return true
}
