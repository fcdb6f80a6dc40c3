package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/client"
)

// clusterCommands are the commands on the membership and the members.
func clusterCommands() []*command {
	return []*command{
		{name: "members list", minArgs: 0, maxArgs: 0, setup: membersListCmd,
			summary: "list the members (also: raftkv members); the leader's answer has their progress"},
		{name: "members add", args: "ID ADDRESS", minArgs: 2, maxArgs: 2, setup: membersAddCmd,
			summary: "add member ID with peer address ADDRESS (host:port); then start it with --join"},
		{name: "members promote", args: "ID", minArgs: 1, maxArgs: 1, setup: membersPromoteCmd,
			summary: "make learner ID a voter (exit 1 while it has not caught up)"},
		{name: "members remove", args: "ID", minArgs: 1, maxArgs: 1, setup: membersRemoveCmd,
			summary: "remove member ID (it shuts down)"},
		{name: "status", minArgs: 0, maxArgs: 0, setup: statusCmd,
			summary: "each endpoint's view: id, name, version, raft state, leader, term, indexes, revision, keys, data size (exit 3 if one did not answer)"},
		{name: "endpoint health", minArgs: 0, maxArgs: 0, setup: healthCmd,
			summary: "whether each endpoint is ready to serve requests, one line each (exit 3 if one is not)"},
	}
}

// memberID reads a member id argument.
func memberID(arg string) (uint64, error) {
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil || id == 0 {
		return 0, usageErrorf("member id %q: want a positive integer", arg)
	}
	return id, nil
}

func membersListCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		ctx, cancel := e.ctx()
		defer cancel()
		resp, err := e.client.Members(ctx)
		if err != nil {
			return err
		}
		if e.json() {
			return e.printJSON(resp)
		}
		return e.printMembers(resp.Members)
	}
}

// printMembers writes the members as a table; the columns of the leader's
// view (match index, reachable) and link errors only when some member has
// them.
func (e *env) printMembers(members []client.Member) error {
	progress, linkErrors := false, false
	for _, m := range members {
		progress = progress || m.MatchIndex != nil || m.Reachable != nil
		linkErrors = linkErrors || m.LinkError != ""
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	head := "ID\tROLE\tLEADER\tPEER ADDRESS\tCLIENT ADDRESS"
	if progress {
		head += "\tMATCH\tREACHABLE"
	}
	if linkErrors {
		head += "\tLINK ERROR"
	}
	fmt.Fprintln(tw, head)
	for _, m := range members {
		row := fmt.Sprintf("%d\t%s\t%s\t%s\t%s", m.ID, m.Role, mark(m.IsLeader), m.Address, orDash(m.ClientAddress))
		if progress {
			match, reachable := "-", "-"
			if m.MatchIndex != nil {
				match = strconv.FormatUint(*m.MatchIndex, 10)
			}
			if m.Reachable != nil {
				reachable = yesNo(*m.Reachable)
			}
			row += "\t" + match + "\t" + reachable
		}
		if linkErrors {
			row += "\t" + orDash(m.LinkError)
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

func mark(b bool) string {
	if b {
		return "*"
	}
	return ""
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func membersAddCmd(fs *flag.FlagSet) func(*env, []string) error {
	learner := fs.Bool("learner", false, "add it as a learner: it gets the log but does not vote until promoted")
	clientAddress := fs.String("client-address", "", "the `URL` of its HTTP API (it publishes it itself when it starts)")
	return func(e *env, args []string) error {
		id, err := memberID(args[0])
		if err != nil {
			return err
		}
		var opts []client.MemberOption
		if *learner {
			opts = append(opts, client.AsLearner())
		}
		if *clientAddress != "" {
			opts = append(opts, client.WithClientAddress(*clientAddress))
		}
		ctx, cancel := e.ctx()
		defer cancel()
		resp, err := e.client.AddMemberReply(ctx, id, args[1], opts...)
		if err != nil {
			return memberError(err)
		}
		if e.json() {
			return e.printJSON(resp)
		}
		role := "voter"
		if *learner {
			role = "learner"
		}
		_, err = fmt.Fprintf(e.stdout, "added member %d as a %s at %s; start it with --join\n", id, role, args[1])
		return err
	}
}

// memberError makes a refused membership change's error read well; it
// wraps the error, so its exit code stays that of the error (1, or 2 for
// an invalid member).
func memberError(err error) error {
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode < http.StatusInternalServerError {
		return &refusedError{err: err, code: apiErr.Code, message: apiErr.Message}
	}
	return err
}

// refusedError is a membership change a member refused: it reads as the
// member's code and message, and unwraps to the client's error.
type refusedError struct {
	err           error
	code, message string
}

func (e *refusedError) Error() string { return fmt.Sprintf("refused (%s): %s", e.code, e.message) }

func (e *refusedError) Unwrap() error { return e.err }

func membersPromoteCmd(*flag.FlagSet) func(*env, []string) error {
	return memberChangeCmd((*client.Client).PromoteMemberReply, "promoted member %d to voter\n")
}

func membersRemoveCmd(*flag.FlagSet) func(*env, []string) error {
	return memberChangeCmd((*client.Client).RemoveMemberReply, "removed member %d\n")
}

// memberChangeCmd runs a membership change of the member whose id is the
// only argument, and says done (a format of the id) once it applied.
func memberChangeCmd(change func(*client.Client, context.Context, uint64) (*client.MemberChangeResponse, error), done string) func(*env, []string) error {
	return func(e *env, args []string) error {
		id, err := memberID(args[0])
		if err != nil {
			return err
		}
		ctx, cancel := e.ctx()
		defer cancel()
		resp, err := change(e.client, ctx, id)
		if err != nil {
			return memberError(err)
		}
		if e.json() {
			return e.printJSON(resp)
		}
		_, err = fmt.Fprintf(e.stdout, done, id)
		return err
	}
}

// eachEndpoint calls f for every endpoint at once, each with a context of
// its own, and returns their results in the order of the endpoints.
func eachEndpoint[T any](e *env, f func(e *env, endpoint string) T) []T {
	eps := e.client.Endpoints()
	out := make([]T, len(eps))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Go(func() { out[i] = f(e, ep) })
	}
	wg.Wait()
	return out
}

// endpointStatus is one endpoint's row of status: the API's status, or
// why there is none.
type endpointStatus struct {
	Endpoint string `json:"endpoint"`
	*api.StatusReply
	Error string `json:"error,omitempty"`
}

func statusCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		rows := eachEndpoint(e, func(e *env, ep string) endpointStatus {
			ctx, cancel := e.ctx()
			defer cancel()
			st, err := e.client.EndpointStatus(ctx, ep)
			if err != nil {
				return endpointStatus{Endpoint: ep, Error: err.Error()}
			}
			return endpointStatus{Endpoint: ep, StatusReply: &st.StatusReply}
		})
		var err error
		if e.json() {
			err = e.printJSON(rows)
		} else {
			err = e.printStatus(rows)
		}
		if err != nil {
			return err
		}
		var failed []string
		for _, r := range rows {
			if r.StatusReply == nil {
				failed = append(failed, r.Endpoint)
			}
		}
		if len(failed) > 0 {
			return &exitError{ExitUnavailable, fmt.Errorf("no status from %s", strings.Join(failed, ", "))}
		}
		return nil
	}
}

// printStatus writes the status rows as a table.
func (e *env) printStatus(rows []endpointStatus) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, cells := range statusTable(rows) {
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// statusTable is the table of status rows, header first: the columns of a
// member's name, version, keys and data size only when some member tells
// them (an older member does not); an endpoint without a status has its
// error in the second column.
func statusTable(rows []endpointStatus) [][]string {
	var names, versions, sizes bool
	for _, r := range rows {
		if st := r.StatusReply; st != nil {
			names = names || st.Name != ""
			versions = versions || st.Version != ""
			sizes = sizes || st.DataSizeBytes > 0
		}
	}
	// column is one column: its header, its cell of a status, and whether
	// it is shown.
	type column struct {
		head string
		cell func(*api.StatusReply) string
		show bool
	}
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	columns := []column{
		{"ID", func(st *api.StatusReply) string { return u(st.ID) }, true},
		{"NAME", func(st *api.StatusReply) string { return orDash(st.Name) }, names},
		{"VERSION", func(st *api.StatusReply) string { return orDash(st.Version) }, versions},
		{"STATE", func(st *api.StatusReply) string { return st.State }, true},
		{"LEADER", func(st *api.StatusReply) string {
			if st.Leader == 0 {
				return "none"
			}
			return u(st.Leader)
		}, true},
		{"TERM", func(st *api.StatusReply) string { return u(st.Term) }, true},
		{"COMMIT", func(st *api.StatusReply) string { return u(st.Commit) }, true},
		{"APPLIED", func(st *api.StatusReply) string { return u(st.Applied) }, true},
		{"REVISION", func(st *api.StatusReply) string { return strconv.FormatInt(st.Revision, 10) }, true},
		{"KEYS", func(st *api.StatusReply) string { return strconv.Itoa(st.Keys) }, sizes},
		{"DATA SIZE", func(st *api.StatusReply) string { return byteSize(st.DataSizeBytes) }, sizes},
		{"SERVING", func(st *api.StatusReply) string { return yesNo(st.Serving) }, true},
		{"ALARMS", func(st *api.StatusReply) string {
			var alarms []string
			for _, a := range st.Alarms {
				alarms = append(alarms, fmt.Sprintf("%s(member %d)", a.Alarm, a.Member))
			}
			return orDash(strings.Join(alarms, ","))
		}, true},
	}
	head := []string{"ENDPOINT"}
	for _, c := range columns {
		if c.show {
			head = append(head, c.head)
		}
	}
	table := [][]string{head}
	for _, r := range rows {
		row := []string{r.Endpoint}
		if r.StatusReply == nil {
			table = append(table, append(row, "error: "+r.Error))
			continue
		}
		for _, c := range columns {
			if c.show {
				row = append(row, c.cell(r.StatusReply))
			}
		}
		table = append(table, row)
	}
	return table
}

// byteSize is n bytes for people: "512 B", "1.5 KiB", "64.0 MiB".
func byteSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	value, unit := float64(n)/1024, 0
	for value >= 1024 && unit < 4 {
		value /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %s", value, [...]string{"KiB", "MiB", "GiB", "TiB", "PiB"}[unit])
}

// health is one endpoint's line of endpoint health.
type health struct {
	Endpoint string `json:"endpoint"`
	Healthy  bool   `json:"healthy"`
	Took     string `json:"took"`
	Error    string `json:"error,omitempty"`
}

func healthCmd(*flag.FlagSet) func(*env, []string) error {
	return func(e *env, _ []string) error {
		rows := eachEndpoint(e, checkHealth)
		var unhealthy []string
		for _, h := range rows {
			var err error
			switch {
			case e.json():
			case h.Healthy:
				_, err = fmt.Fprintf(e.stdout, "%s is healthy (took %s)\n", h.Endpoint, h.Took)
			default:
				_, err = fmt.Fprintf(e.stdout, "%s is unhealthy: %s (took %s)\n", h.Endpoint, h.Error, h.Took)
			}
			if err != nil {
				return err
			}
			if !h.Healthy {
				unhealthy = append(unhealthy, h.Endpoint)
			}
		}
		if e.json() {
			if err := e.printJSON(rows); err != nil {
				return err
			}
		}
		if len(unhealthy) > 0 {
			return &exitError{ExitUnavailable, fmt.Errorf("%d of %s unhealthy: %s", len(unhealthy), countOf(len(rows), "endpoint"), strings.Join(unhealthy, ", "))}
		}
		return nil
	}
}

// checkHealth asks the member at ep whether it is ready (GET /readyz). A
// member without that route (404) is healthy when its status says it
// serves and knows a leader.
func checkHealth(e *env, ep string) health {
	ctx, cancel := e.ctx()
	defer cancel()
	start := time.Now()
	err := e.client.EndpointReady(ctx, ep)
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		var st *client.Status
		if st, err = e.client.EndpointStatus(ctx, ep); err == nil {
			switch {
			case !st.Serving:
				err = errors.New("not serving yet (replaying its log, or not a member yet)")
			case st.Leader == 0 || st.Leaderless:
				err = errors.New("no leader")
			}
		}
	}
	h := health{Endpoint: ep, Healthy: err == nil, Took: time.Since(start).Round(time.Microsecond).String()}
	if err != nil {
		h.Error = err.Error()
	}
	return h
}
