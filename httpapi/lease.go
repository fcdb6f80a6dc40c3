package httpapi

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
)

// maxLeaseID bounds lease ids below 2^53, which a JSON number carries
// exactly in every language.
const maxLeaseID = 1<<53 - 1

// parseLeaseID reads a lease id: a number from 1 to maxLeaseID.
func parseLeaseID(text string) (int64, error) {
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil || id < 1 || id > maxLeaseID {
		return 0, badRequest("lease %q: want a lease id, a number from 1 to %d", text, int64(maxLeaseID))
	}
	return id, nil
}

// leaseRequest reads the parameters (those allowed) and the lease id of a
// request on one lease.
func (s *Server) leaseRequest(r *http.Request, idText string, allowed ...string) (v1Params, int64, error) {
	p, err := s.parseParams(r, allowed...)
	if err != nil {
		return p, 0, err
	}
	id, err := parseLeaseID(idText)
	return p, id, err
}

// leasesV1 serves /v1/leases and /v1/leases/<id>[/keepalive].
func (s *Server) leasesV1(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, api.PathLeases), "/")
	switch {
	case rest == "":
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, http.MethodPost)
			return
		}
		s.grantLease(w, r)
	case strings.HasSuffix(rest, "/keepalive"):
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r, http.MethodPost)
			return
		}
		s.leaseCommand(w, r, strings.TrimSuffix(rest, "/keepalive"), messages.LeaseKeepAlive)
	default:
		switch r.Method {
		case http.MethodGet:
			s.leaseInfo(w, r, rest)
		case http.MethodDelete:
			s.leaseCommand(w, r, rest, messages.LeaseRevoke)
		default:
			methodNotAllowed(w, r, http.MethodGet, http.MethodDelete)
		}
	}
}

// grantLease serves POST /v1/leases {"ttl":"10s"}: a new lease, under an id
// picked at random (another one if it is taken).
func (s *Server) grantLease(w http.ResponseWriter, r *http.Request) {
	var req api.LeaseGrantRequest
	p, ok := s.jsonRequest(w, r, &req)
	if !ok {
		return
	}
	ttl, err := time.ParseDuration(req.TTL)
	if err != nil || ttl < api.MinLeaseTTL || ttl > api.MaxLeaseTTL {
		s.failV1(w, badRequest("ttl %q: want a Go duration from %v to %v, such as \"10s\"", req.TTL, api.MinLeaseTTL, api.MaxLeaseTTL))
		return
	}
	secs := int64((ttl + time.Second - 1) / time.Second)
	for range 3 {
		id := 1 + rand.Int64N(maxLeaseID)
		change := messages.LeaseChange{Op: messages.LeaseGrant, ID: id, TTL: secs}
		res, err := s.command(r.Context(), &messages.ClientLease{Change: change}, p.timeout)
		if errors.Is(err, messages.ErrLeaseExists) {
			continue
		}
		if err != nil {
			s.failV1(w, err)
			return
		}
		writeV1(w, http.StatusCreated, res.Revision, api.LeaseReply{ID: id, TTL: ttlText(secs), Revision: res.Revision})
		return
	}
	s.failV1(w, fmt.Errorf("grant: three random ids were taken: %w", messages.ErrLeaseExists))
}

// leaseCommand serves a keepalive or a revoke of the lease of path id.
func (s *Server) leaseCommand(w http.ResponseWriter, r *http.Request, idText string, op messages.LeaseOp) {
	p, id, err := s.leaseRequest(r, idText)
	if err != nil {
		s.failV1(w, err)
		return
	}
	res, err := s.command(r.Context(), &messages.ClientLease{Change: messages.LeaseChange{Op: op, ID: id}}, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	rev := res.Revision
	if op == messages.LeaseRevoke {
		writeV1(w, http.StatusOK, rev, api.DeleteReply{Revision: rev})
		return
	}
	// A keepalive answers the lease's TTL, which a linearizable read of
	// the lease gives (the keepalive applied before it).
	info, err := s.read(r.Context(), messages.Op{Type: messages.OpLeaseInfo, Lease: id}, false, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	writeV1(w, http.StatusOK, rev, api.LeaseReply{ID: id, TTL: ttlText(info.Lease.TTL), Revision: rev})
}

// leaseInfo serves GET /v1/leases/<id>: the lease's TTL, time left and keys.
func (s *Server) leaseInfo(w http.ResponseWriter, r *http.Request, idText string) {
	p, id, err := s.leaseRequest(r, idText, "consistency")
	if err != nil {
		s.failV1(w, err)
		return
	}
	info, err := s.read(r.Context(), messages.Op{Type: messages.OpLeaseInfo, Lease: id}, p.serializable, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	left, err := askFor[*messages.LeaseTTL](r.Context(), s, &messages.ClientLeaseTTL{ID: id}, p.timeout)
	if err != nil {
		s.failV1(w, err)
		return
	}
	out := api.LeaseInfoReply{ID: id, TTL: ttlText(info.Lease.TTL), Revision: info.Revision, Keys: []api.LeaseKey{},
		Remaining: (time.Duration(left.Remaining) * time.Millisecond).String()}
	if !left.Found { // applied here, not yet reckoned: all of it
		out.Remaining = out.TTL
	}
	for _, k := range info.Lease.Keys {
		var lk api.LeaseKey
		lk.Key, lk.KeyBase64 = api.SplitKey(k)
		out.Keys = append(out.Keys, lk)
	}
	writeV1(w, http.StatusOK, info.Revision, out)
}

func ttlText(secs int64) string { return (time.Duration(secs) * time.Second).String() }
