// Package metrics holds a node's Prometheus metrics: one registry per
// node, the collectors its actors and its HTTP API update, and the handler
// that serves them on /metrics.
//
// Collectors are safe for concurrent use, so an actor updates them from
// its Receive like any other call; what an actor owns stays in the actor:
// a gauge of raft's commit index is set by raftnode when the index moves,
// never read from raftnode by a scrape.
//
// The one exception is the mailbox lengths (Mailbox, PeerMailbox): a
// scrape reads each mailbox's count of waiting messages, which protoactor
// keeps atomically for that purpose; no actor state is read.
//
// Every method works on a nil *Metrics, doing nothing, so that tests of a
// single actor need none.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is a node's registry and its collectors.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpLatency  *prometheus.HistogramVec
	// httpMu guards httpSeries, the series of each route and code seen,
	// looked up in the vectors once rather than on every request.
	httpMu     sync.RWMutex
	httpSeries map[httpKey]httpSeries

	actors    // the collectors the node's actors update (actors.go)
	mailboxes *mailboxes
}

// New returns the metrics of one node, registered on a registry of their
// own with the Go runtime's and the process's collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "raftkv", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		httpLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "raftkv", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18), // 100 µs to 13 s
		}, []string{"route"}),
	}
	m.httpSeries = map[httpKey]httpSeries{}
	m.actors = newActors()
	m.mailboxes = newMailboxes()
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpLatency, m.mailboxes)
	m.reg.MustRegister(m.actors.collectors()...)
	return m
}

// Registry is the node's registry, for tests that read a metric
// (prometheus/testutil) and for collectors of the process that embeds the
// node.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveHTTP counts one answered request of route (a route's pattern,
// such as "/v1/kv/{key}", never a raw path: the label must stay bounded)
// with its status code and duration.
func (m *Metrics) ObserveHTTP(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	s := m.httpSeriesOf(httpKey{route, code})
	s.requests.Inc()
	s.latency.Observe(d.Seconds())
}

type httpKey struct {
	route string
	code  int
}

// httpSeries are the request counter and latency histogram of one route
// and code.
type httpSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func (m *Metrics) httpSeriesOf(k httpKey) httpSeries {
	m.httpMu.RLock()
	s, ok := m.httpSeries[k]
	m.httpMu.RUnlock()
	if ok {
		return s
	}
	s = httpSeries{
		requests: m.httpRequests.WithLabelValues(k.route, strconv.Itoa(k.code)),
		latency:  m.httpLatency.WithLabelValues(k.route),
	}
	m.httpMu.Lock()
	m.httpSeries[k] = s
	m.httpMu.Unlock()
	return s
}
