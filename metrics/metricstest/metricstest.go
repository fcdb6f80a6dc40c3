// Package metricstest reads a Prometheus registry back in tests: the value
// of one series by name and labels.
package metricstest

import (
	"maps"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Find returns the value of the series of the metric name in g whose
// non-empty labels are labels (nil: a series without labels): a counter's
// or gauge's value, or a histogram's sample count. ok is false if g has no
// such series.
func Find(tb testing.TB, g prometheus.Gatherer, name string, labels prometheus.Labels) (v float64, ok bool) {
	tb.Helper()
	families, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			got := prometheus.Labels{}
			for _, l := range s.GetLabel() {
				if l.GetValue() != "" {
					got[l.GetName()] = l.GetValue()
				}
			}
			if !maps.Equal(got, labels) && (len(got) != 0 || len(labels) != 0) {
				continue
			}
			switch {
			case s.GetHistogram() != nil:
				return float64(s.GetHistogram().GetSampleCount()), true
			case s.GetCounter() != nil:
				return s.GetCounter().GetValue(), true
			}
			return s.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// Value is Find that fails the test if there is no such series.
func Value(tb testing.TB, g prometheus.Gatherer, name string, labels prometheus.Labels) float64 {
	tb.Helper()
	v, ok := Find(tb, g, name, labels)
	if !ok {
		tb.Fatalf("no series %s%v", name, labels)
	}
	return v
}
