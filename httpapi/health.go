package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
)

// DefaultHealthTimeout is how long /livez and /readyz wait for the node's
// status unless ?timeout= says otherwise. raftnode answers it at once from
// what it holds; a node that takes longer is stuck, and a probe's own
// timeout (Kubernetes' default is 1 s) would give up anyway.
const DefaultHealthTimeout = time.Second

// MaxApplyLag is how many entries a ready member's applied index may be
// behind its commit index. The applier applies what raft committed one
// Ready at a time, so a member that keeps up shows a lag of about the
// writes in flight in the cluster: one per HTTP request being answered,
// at most --max-connections (1024) per member, a few dozen under the
// benchmark's load of 64 clients. So load alone never makes a member that
// keeps up unready (up to nine members at the default connection cap),
// while a member that has real catching up to do (back from a partition,
// behind a slow disk) shows the entries it missed: thousands per second
// away under load. The store applies an entry in about a microsecond
// (store's BenchmarkApplyPut), so a member within the lag is some 10 ms
// from caught up: a linearizable read it takes waits no longer than that.
const MaxApplyLag = 10_000

// check is one check of a health answer: its name (an api.Check* name)
// and why it failed, "" if it passed.
type check struct {
	name   string
	reason string
}

// readiness checks whether a member whose status is st can serve
// requests now: it has replayed its log and is a member (Serving), it
// knows a leader, it has applied what it knows committed (within
// MaxApplyLag entries), and no alarm is raised. It returns every check,
// in that order, with the reason of those that failed.
func readiness(st *messages.Status) []check {
	var serving, leader, applied, alarms string
	if !st.Serving {
		serving = "not serving yet: replaying its log, or not a member of the cluster (yet)"
	}
	switch {
	case st.Leaderless:
		leader = "no leader for over an election timeout: cut off from the other members, or no quorum"
	case st.Leader == 0:
		leader = "no leader known: an election is under way"
	}
	if st.Commit > st.Applied && st.Commit-st.Applied > MaxApplyLag {
		applied = fmt.Sprintf("applied index %d is %d entries behind commit index %d (catching up; at most %d are allowed)",
			st.Applied, st.Commit-st.Applied, st.Commit, MaxApplyLag)
	}
	if len(st.Alarms) > 0 {
		ids := make([]string, len(st.Alarms))
		for i, id := range st.Alarms {
			ids[i] = fmt.Sprint(id)
		}
		who := "member " + ids[0]
		if len(ids) > 1 {
			who = "members " + strings.Join(ids, ", ")
		}
		alarms = fmt.Sprintf("%s alarm raised by %s: writes that store data are refused", api.AlarmNoSpace, who)
	}
	return []check{
		{api.CheckServing, serving},
		{api.CheckLeader, leader},
		{api.CheckApplied, applied},
		{api.CheckAlarms, alarms},
	}
}

// readyChecks are the names of the checks of /readyz, in order.
var readyChecks = []string{api.CheckNode, api.CheckServing, api.CheckLeader, api.CheckApplied, api.CheckAlarms}

// nodeCheck is the check of /livez (and the first of /readyz): the node
// answers its status. It returns the status, or nil and the reason.
func (s *Server) nodeCheck(r *http.Request, timeout time.Duration) (*messages.Status, check) {
	st, err := s.askStatus(r.Context(), timeout)
	switch {
	case err == nil:
		return st, check{name: api.CheckNode}
	case errors.Is(err, errDeadline):
		return nil, check{api.CheckNode, fmt.Sprintf("the node did not answer within %v", timeout)}
	case errors.Is(err, actor.ErrDeadLetter), errors.Is(err, messages.ErrStopped):
		return nil, check{api.CheckNode, "the node is stopped"}
	default:
		return nil, check{api.CheckNode, fmt.Sprintf("the node did not answer: %v", err)}
	}
}

// livez serves GET /livez: 200 while the node runs and answers, else 503
// with the reason.
func (s *Server) livez(w http.ResponseWriter, r *http.Request) {
	s.health(w, r, "livez", []string{api.CheckNode}, func(*messages.Status) []check { return nil })
}

// readyz serves GET /readyz and /healthz: 200 while the member can serve
// requests (readiness), else 503 with the reasons.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.health(w, r, "readyz", readyChecks, readiness)
}

// health answers a health endpoint the way Kubernetes' are answered: 200
// "ok", or 503 with the reasons of the failed checks, as text; ?verbose
// lists every check ("[+]name ok", "[-]name failed: reason"), ?exclude=
// (repeated, or comma-separated) leaves checks out, ?timeout= bounds the
// wait for the node's status. The node check comes first: if the node
// does not answer, the others cannot be made.
func (s *Server) health(w http.ResponseWriter, r *http.Request, name string, names []string, checks func(*messages.Status) []check) {
	if !allowRead(w, r) {
		return
	}
	verbose, exclude, timeout, err := healthParams(r.URL.RawQuery, names)
	if err != nil {
		s.failV1(w, err)
		return
	}
	st, node := s.nodeCheck(r, timeout)
	results := []check{node}
	if st != nil {
		results = append(results, checks(st)...)
	}
	writeHealth(w, name, results, exclude, verbose)
}

// healthParams reads the query of a health endpoint whose checks are
// names: verbose (a flag), exclude (check names, repeated or
// comma-separated) and timeout (default DefaultHealthTimeout).
func healthParams(rawQuery string, names []string) (verbose bool, exclude []string, timeout time.Duration, err error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return false, nil, 0, badRequest("query: %v", err)
	}
	timeout = DefaultHealthTimeout
	for key, vals := range q {
		switch key {
		case "verbose":
			verbose, err = v1Params{q: q}.flag("verbose")
		case "exclude":
			for _, v := range vals {
				for n := range strings.SplitSeq(v, ",") {
					if !slices.Contains(names, n) {
						return false, nil, 0, badRequest("exclude=%q: no such check (the checks are %s)", n, strings.Join(names, ", "))
					}
					exclude = append(exclude, n)
				}
			}
		case "timeout":
			timeout, err = time.ParseDuration(q.Get("timeout"))
			if err != nil || timeout <= 0 {
				err = badRequest("timeout=%q: want a positive Go duration such as 500ms or 2s", q.Get("timeout"))
			}
			timeout = min(timeout, MaxTimeout)
		default:
			err = badRequest("unknown query parameter %q (this route takes verbose, exclude and timeout)", key)
		}
		if err != nil {
			return false, nil, 0, err
		}
	}
	return verbose, exclude, timeout, nil
}

// writeHealth writes the answer of a health endpoint: 200 unless a check
// that is not excluded failed.
func writeHealth(w http.ResponseWriter, name string, results []check, exclude []string, verbose bool) {
	var failed []string
	var list strings.Builder
	for _, c := range results {
		excluded := slices.Contains(exclude, c.name)
		switch {
		case c.reason == "":
			fmt.Fprintf(&list, "[+]%s ok\n", c.name)
		case excluded:
			fmt.Fprintf(&list, "[+]%s excluded: failed: %s\n", c.name, c.reason)
		default:
			fmt.Fprintf(&list, "[-]%s failed: %s\n", c.name, c.reason)
			failed = append(failed, c.reason)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	status := http.StatusOK
	if len(failed) > 0 {
		status = http.StatusServiceUnavailable
	}
	w.WriteHeader(status)
	switch {
	case verbose && status == http.StatusOK:
		fmt.Fprintf(w, "%s%s check passed\n", list.String(), name)
	case verbose:
		fmt.Fprintf(w, "%s%s check failed\n", list.String(), name)
	case status == http.StatusOK:
		fmt.Fprintln(w, "ok")
	default:
		fmt.Fprintln(w, strings.Join(failed, "; "))
	}
}
