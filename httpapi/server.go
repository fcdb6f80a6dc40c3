package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/api"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/store"
)

// DefaultTimeout is how long a request waits for the cluster unless the
// client asks otherwise (?timeout= on /v1/ routes).
const DefaultTimeout = 5 * time.Second

// MaxTimeout bounds ?timeout=.
const MaxTimeout = api.MaxTimeout

// errDeadline is what a request gets when its deadline passes first.
var errDeadline = errors.New("raftkv: deadline exceeded")

// Server turns HTTP requests into messages to a node's proposer.
type Server struct {
	root     *actor.RootContext
	proposer *actor.PID
	timeout  time.Duration
	log      *slog.Logger
	mux      *http.ServeMux
	// reserved holds the ServeMux's patterns other than "/": paths that
	// are not keys of the raftexample routes.
	reserved []string
	// kv, watch and ui are the handlers that dispatch finds before the
	// ServeMux.
	kv, watch, ui http.Handler
	metrics       *metrics.Metrics
	// metricsHandler serves metrics on /metrics.
	metricsHandler http.Handler
	// pprof serves Go's profiler on /debug/pprof/.
	pprof bool
	// replies routes answers to the asks waiting for them, at repliesPID.
	replies    *replies
	repliesPID *actor.PID
	// streamsEnded is closed by EndStreams: the watch streams end.
	streamsEnded chan struct{}
	endOnce      sync.Once
}

// EndStreams ends every watch stream, now and from now on, with an event
// that says the member is stopping: an http.Server's Shutdown waits for
// requests to end, and a watch never does by itself. Register it with
// RegisterOnShutdown.
func (s *Server) EndStreams() {
	s.endOnce.Do(func() { close(s.streamsEnded) })
}

// Option configures a Server.
type Option func(*Server)

// WithMetrics has the Server count its requests in m (by route and status
// code, with their latency) and serve m on /metrics. Without it /metrics
// answers 404.
func WithMetrics(m *metrics.Metrics) Option {
	return func(s *Server) { s.metrics, s.metricsHandler = m, m.Handler() }
}

// WithPprof has the Server serve Go's profiler (net/http/pprof) on
// /debug/pprof/ (raftkv's --enable-pprof). Without it the path is
// reserved all the same and answers 404 saying how to turn it on.
func WithPprof() Option { return func(s *Server) { s.pprof = true } }

// New returns the HTTP API of the node whose proposer is given: the
// raftexample routes on /<key> and /<member id>, the JSON API on /v1/,
// and the operations routes, whose paths are reserved (api.PathMetrics,
// api.PathLivez, api.PathReadyz, api.PathHealthz, api.PathVersion,
// api.PathUI, api.PathPprof): the raftexample routes do not reach keys of
// those names, which /v1/kv/<name> does. A browser's GET of / gets the
// status page.
func New(root *actor.RootContext, proposer *actor.PID, logger *slog.Logger, opts ...Option) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{root: root, proposer: proposer, timeout: DefaultTimeout, log: logger, mux: http.NewServeMux(),
		streamsEnded: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	if root != nil {
		registry := root.ActorSystem().ProcessRegistry
		s.replies = newReplies()
		s.repliesPID, _ = registry.Add(s.replies, "replies"+registry.NextId())
	}
	s.mux.HandleFunc("/", s.raftexample)
	s.handle("/v1/status", s.status)
	s.handle("/v1/txn", s.txnV1)
	s.handle("/v1/members", s.membersV1)
	s.handle("/v1/members/", s.membersV1)
	s.handle(snapshotPath, s.snapshotV1)
	s.handle(api.PathCompact, s.compactV1)
	s.handle(api.PathLeases, s.leasesV1)
	s.handle(api.PathLeases+"/", s.leasesV1)
	s.handle(api.PathMetrics, s.metricsRoute)
	s.handle(api.PathLivez, s.livez)
	s.handle(api.PathReadyz, s.readyz)
	s.handle(api.PathHealthz, s.readyz)
	s.handle(api.PathVersion, s.versionRoute)
	s.handle(api.PathUI, s.uiRoute)
	s.handle(api.PathPprof, s.pprofRoute)
	s.handle(strings.TrimSuffix(api.PathPprof, "/"), s.pprofRoute)
	s.kv, s.watch, s.ui = http.HandlerFunc(s.serveKV), http.HandlerFunc(s.watchV1), http.HandlerFunc(s.uiRoute)
	return s
}

// handle serves pattern with h through the ServeMux; the path is then
// reserved: the native key routes (serveKeyNatively) leave it alone.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, h)
	s.reserved = append(s.reserved, pattern)
}

// ServeHTTP serves one request on its route (dispatch) and counts it in
// the metrics, by route and status code, with its duration. The key
// routes of /v1 bypass the ServeMux, which would clean their paths (a key
// may hold "//" or ".."). A handler that panics before answering answers
// 503 "internal" (see recoverPanics).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h, route := s.dispatch(r)
	aw := &answerWriter{ResponseWriter: w}
	defer func() { s.metrics.ObserveHTTP(route, aw.code(), time.Since(start)) }()
	recoverPanics(s.log, h, aw, r)
}

// dispatch returns the handler of r and its route as the metrics label it
// (routeLabel): the key routes of /v1/kv and /v1/watch and a browser's GET
// of /, which come before the ServeMux, or the ServeMux's handler, matched
// once.
func (s *Server) dispatch(r *http.Request) (http.Handler, string) {
	path := r.URL.Path
	switch {
	case path == V1Prefix+"kv":
		return s.kv, "/v1/kv"
	case isKVPath(path):
		return s.kv, "/v1/kv/{key}"
	case isWatchPath(path):
		return s.watch, api.PathWatch + "{key}"
	case isUIRoot(r):
		return s.ui, "/"
	case r.RequestURI == "*":
		return s.mux, "other" // which the ServeMux answers 400
	}
	h, pattern := s.mux.Handler(r)
	return h, routeLabel(r.Method, path, pattern)
}

// isUIRoot tells whether r is a browser's GET of /, which is answered the
// status page; anything else on / goes to the raftexample routes (the
// empty key).
func isUIRoot(r *http.Request) bool {
	return r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		prefersHTML(r.Header.Get("Accept"))
}

// recoverPanics serves r with h, and answers 503 "internal" if h panicked
// before it answered, and logs the panic with its stack; net/http alone
// would drop the connection, which a client cannot tell from a network
// failure. A panic after the answer started leaves the answer as it is
// (the connection then breaks it off). http.ErrAbortHandler is passed on:
// it means "abort this answer".
func recoverPanics(logger *slog.Logger, h http.Handler, w *answerWriter, r *http.Request) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		logPanic(logger, r.Method, r.URL.Path, v)
		if !w.wrote {
			answerPanic(w)
		}
	}()
	h.ServeHTTP(w, r)
}

// logPanic logs the panic v of the handler of a request, with its stack.
func logPanic(logger *slog.Logger, method, path string, v any) {
	logger.Error("http handler panicked", "method", method, "path", path, "panic", v, "stack", string(debug.Stack()))
}

// answerPanic answers a request whose handler panicked: 503 "internal".
func answerPanic(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, "internal", "internal error; nothing is known about the outcome of a write")
}

// routeLabel is the route of a request that the ServeMux serves, as the
// metrics label it: a route's pattern, never a raw path, so that the
// label takes a bounded set of values. pattern is the ServeMux's for the
// request.
func routeLabel(method, path, pattern string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p // "GET /path": the method is not part of the label
	}
	switch pattern {
	case "/":
		switch {
		case path == "/v1" || strings.HasPrefix(path, V1Prefix):
			return "other" // no such /v1/ route
		case method == http.MethodPost || method == http.MethodDelete:
			return "/{id}"
		default:
			return "/{key}"
		}
	case "/v1/members/":
		if path == "/v1/members" || path == "/v1/members/" {
			return "/v1/members"
		}
		if strings.HasSuffix(path, "/promote") {
			return "/v1/members/{id}/promote"
		}
		return "/v1/members/{id}"
	case "":
		return "other"
	}
	return pattern
}

// answerWriter records whether the answer started, and its status code.
type answerWriter struct {
	http.ResponseWriter
	wrote  bool
	status int // the first final (not 1xx) status written, 0 before
}

func (w *answerWriter) WriteHeader(status int) {
	w.wrote = true
	if w.status == 0 && status >= 200 { // not an informational 1xx
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *answerWriter) Write(b []byte) (int, error) {
	w.wrote = true
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status answered: 200 if the handler wrote nothing (net/http
// then answers 200).
func (w *answerWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// fail writes err as JSON with the status and code that fit it: 400
// "invalid" for a request refused before it reached the node (badRequest),
// else as classify maps it. deadlineStatus is the status of a deadline
// that passed: 503 on the raftexample routes, 504 on /v1/.
func (s *Server) fail(w http.ResponseWriter, err error, deadlineStatus int) {
	if errors.Is(err, errBadRequest) {
		writeError(w, http.StatusBadRequest, "invalid", strings.TrimPrefix(err.Error(), errBadRequest.Error()+": "))
		return
	}
	status, code := classify(err, deadlineStatus)
	msg := err.Error()
	if errors.Is(err, errDeadline) {
		msg = "timed out waiting for the cluster (no quorum or no leader?); a write may still apply later"
	}
	reply := api.ErrorReply{Error: msg, Code: code}
	if c := (*messages.CompactedError)(nil); errors.As(err, &c) {
		reply.CompactRevision = &c.Oldest
	}
	writeJSON(w, status, reply)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.ErrorReply{Error: msg, Code: code})
}

// statusOfCode is the HTTP status of each error code of
// messages.ErrorCode. A code that is not listed (such as "internal", an
// error the API does not expect) answers 503: the only 5xx statuses of the
// API are 503 (this member cannot serve the request now; a write may or may
// not apply, see the code), 504 (the deadline passed first) and 507 (the
// cluster's NOSPACE alarm is raised: the write was refused and did not
// apply).
var statusOfCode = map[string]int{
	"not_ready":         http.StatusServiceUnavailable,
	"no_leader":         http.StatusServiceUnavailable,
	"stopping":          http.StatusServiceUnavailable,
	"member_exists":     http.StatusConflict,
	"address_in_use":    http.StatusConflict,
	"member_removed":    http.StatusConflict,
	"unsafe_change":     http.StatusConflict,
	"learner_not_ready": http.StatusConflict,
	"not_learner":       http.StatusConflict,
	"member_not_found":  http.StatusNotFound,
	"invalid_member":    http.StatusBadRequest,
	"no_space":          http.StatusInsufficientStorage,
	"compacted":         http.StatusGone,
	"lease_not_found":   http.StatusNotFound,
	"lease_exists":      http.StatusConflict,
	"future_revision":   http.StatusBadRequest,
}

func classify(err error, deadlineStatus int) (int, string) {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, "invalid"
	case errors.Is(err, messages.ErrTimeout), errors.Is(err, errDeadline):
		return deadlineStatus, "deadline_exceeded"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 499, "client_gone"
	}
	code := messages.ErrorCode(err)
	if status, ok := statusOfCode[code]; ok {
		return status, code
	}
	return http.StatusServiceUnavailable, code
}

// askFor is ask for an answer of type T: any other answer is an error.
func askFor[T any](ctx context.Context, s *Server, msg any, timeout time.Duration) (T, error) {
	v, err := s.ask(ctx, msg, timeout)
	if err != nil {
		var zero T
		return zero, err
	}
	reply, ok := v.(T)
	if !ok {
		return reply, fmt.Errorf("unexpected answer %T", v)
	}
	return reply, nil
}

// txn applies txn through the raft log.
func (s *Server) txn(ctx context.Context, txn messages.Txn, timeout time.Duration) (messages.TxnResult, error) {
	if err := store.Validate(txn); err != nil {
		return messages.TxnResult{}, err
	}
	return s.command(ctx, &messages.ClientTxn{Txn: txn}, timeout)
}

// command applies a client command answered with a TxnReply (a txn, a
// compaction, a lease command) through the raft log.
func (s *Server) command(ctx context.Context, msg any, timeout time.Duration) (messages.TxnResult, error) {
	reply, err := askFor[*messages.TxnReply](ctx, s, msg, timeout)
	if err != nil {
		return messages.TxnResult{}, err
	}
	return reply.Result, reply.Err
}

// read reads through a ReadIndex round, or locally when serializable.
func (s *Server) read(ctx context.Context, op messages.Op, serializable bool, timeout time.Duration) (*messages.ReadReply, error) {
	reply, err := askFor[*messages.ReadReply](ctx, s, &messages.ClientRead{Op: op, Serializable: serializable}, timeout)
	if err != nil {
		return nil, err
	}
	return reply, reply.Err
}

// confChange applies a membership change through the raft log.
func (s *Server) confChange(ctx context.Context, cc *messages.ClientConfChange, timeout time.Duration) error {
	reply, err := askFor[*messages.ConfChangeReply](ctx, s, cc, timeout)
	if err != nil {
		return err
	}
	return reply.Err
}

// askStatus asks the node for its status, which it answers locally.
func (s *Server) askStatus(ctx context.Context, timeout time.Duration) (*messages.Status, error) {
	return askFor[*messages.Status](ctx, s, &messages.ClientStatus{}, timeout)
}
