package bench

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value that at least p% of the values
// do not exceed. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Latencies are the percentiles of a workload's operation latencies.
type Latencies struct {
	P50, P90, P99, Max time.Duration
}

// Summarize sorts lat in place and returns its percentiles.
func Summarize(lat []time.Duration) Latencies {
	slices.Sort(lat)
	if len(lat) == 0 {
		return Latencies{}
	}
	return Latencies{
		P50: Percentile(lat, 50),
		P90: Percentile(lat, 90),
		P99: Percentile(lat, 99),
		Max: lat[len(lat)-1],
	}
}

// Spread is a median with the least and the greatest of the values it is
// the median of.
type Spread struct {
	Median, Min, Max float64
}

// MedianSpread returns the median of xs (the mean of the two middle values
// for an even count) with its min and max; NaN values are left out, and
// no value at all gives NaNs.
func MedianSpread(xs []float64) Spread {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Spread{math.NaN(), math.NaN(), math.NaN()}
	}
	slices.Sort(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Spread{Median: med, Min: v[0], Max: v[n-1]}
}

// Ratios returns a[i]/b[i] for each pair of a round of both systems (the
// shorter slice bounds it); a pair with b[i] == 0 gives NaN.
func Ratios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	r := make([]float64, n)
	for i := range n {
		if b[i] == 0 {
			r[i] = math.NaN()
			continue
		}
		r[i] = a[i] / b[i]
	}
	return r
}

// PerOp divides a CPU time by a count of operations; zero operations give 0.
func PerOp(cpu time.Duration, ops int) time.Duration {
	if ops <= 0 {
		return 0
	}
	return cpu / time.Duration(ops)
}
