package api

// The operations routes of a member, outside /v1/. These paths are
// reserved: the raftexample routes (/<key>) do not reach keys of these
// names, which are reached through /v1/kv/<key> like any other key
// (/v1/kv/metrics is the key "metrics").
const (
	// PathMetrics serves the member's metrics in Prometheus's text format.
	PathMetrics = "/metrics"
	// PathLivez answers 200 while the member's process serves HTTP and
	// its node runs, else 503 with the reason (as text).
	PathLivez = "/livez"
	// PathReadyz answers 200 "ok" while the member can serve requests
	// (see the Check names), else 503 with the reason (as text).
	// ?verbose lists every check; ?exclude=<check> leaves one out.
	PathReadyz = "/readyz"
	// PathHealthz is PathReadyz under the name older tools use.
	PathHealthz = "/healthz"
	// PathVersion answers VersionReply.
	PathVersion = "/version"
	// PathUI serves the status page (also served on / to a browser).
	PathUI = "/ui"
	// PathPprof is Go's profiler (net/http/pprof), served only when the
	// member was started with it enabled.
	PathPprof = "/debug/pprof/"
)

// Names of the checks of /livez and /readyz, as ?verbose lists them and
// ?exclude takes them.
const (
	// CheckNode: the member's node runs and answers (the only check of
	// /livez).
	CheckNode = "node"
	// CheckServing: the member has replayed its own log and is a member
	// of the cluster.
	CheckServing = "serving"
	// CheckLeader: the member knows a leader.
	CheckLeader = "leader"
	// CheckApplied: the member has applied its log up to its commit
	// index, give or take a few entries in flight.
	CheckApplied = "applied"
	// CheckAlarms: no alarm (NOSPACE) is raised in the cluster.
	CheckAlarms = "alarms"
)

// VersionReply is the answer of GET /version: which build of raftkv the
// member runs.
type VersionReply struct {
	// Version is the release (or the module version, or "(devel)").
	Version string `json:"version"`
	// Commit is the VCS revision it was built from ("unknown" if none).
	Commit string `json:"commit"`
	// GoVersion is the Go toolchain that built it.
	GoVersion string `json:"go_version"`
}
