package bench

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Point is a median over rounds at x, with its spread.
type Point struct {
	X float64
	Spread
}

// PutSeries returns, for system ("raftkv" or "etcd"), metric i of Metrics
// against the number of clients over the PUT workloads of 100-byte
// values, by clients; rows without a value are left out.
func PutSeries(rows []Row, system string, metric int) []Point {
	var pts []Point
	for _, r := range rows {
		if r.Workload.Kind != KindPut || r.Workload.ValueSize != 100 {
			continue
		}
		s := r.Raftkv[metric]
		if system == "etcd" {
			s = r.Etcd[metric]
		}
		if !math.IsNaN(s.Median) {
			pts = append(pts, Point{X: float64(r.Workload.Clients), Spread: s})
		}
	}
	slices.SortFunc(pts, func(a, b Point) int { return cmp.Compare(a.X, b.X) })
	return pts
}

// metricIndex returns the index in Metrics of the metric named name.
func metricIndex(name string) int {
	return slices.IndexFunc(Metrics, func(m Metric) bool { return m.Name == name })
}

// systemColor is the color of a system in every plot.
func systemColor(system string) color.Color {
	if system == "raftkv" {
		return plotutil.Color(0)
	}
	return plotutil.Color(1)
}

// WritePlots writes the plots of rows into dir, each as SVG and as PNG,
// and returns their paths: throughput against clients and latency
// percentiles against clients (PUT of 100 B; only with at least one such
// workload), and p50 and p99 latency of every workload.
func WritePlots(dir string, rows []Row) ([]string, error) {
	type named struct {
		name string
		make func([]Row) (*plot.Plot, error)
		w    vg.Length
	}
	var plots []named
	if len(PutSeries(rows, "raftkv", 0)) > 0 || len(PutSeries(rows, "etcd", 0)) > 0 {
		plots = append(plots,
			named{"throughput-vs-clients", throughputPlot, 7 * vg.Inch},
			named{"latency-vs-clients", latencyPlot, 7 * vg.Inch})
	}
	plots = append(plots, named{"latency-by-workload", workloadPlot, vg.Length(max(7, 1.1*float64(len(rows)))) * vg.Inch})
	var paths []string
	for _, np := range plots {
		p, err := np.make(rows)
		if err != nil {
			return nil, err
		}
		for _, ext := range []string{".svg", ".png"} {
			path := filepath.Join(dir, np.name+ext)
			if err := p.Save(np.w, 4.5*vg.Inch, path); err != nil {
				return nil, fmt.Errorf("save plot %s: %w", path, err)
			}
			paths = append(paths, path)
		}
	}
	return paths, nil
}

// clientTicks marks the numbers of clients of the series on a log axis.
func clientTicks(series ...[]Point) plot.ConstantTicks {
	var xs []float64
	for _, s := range series {
		for _, p := range s {
			xs = append(xs, p.X)
		}
	}
	slices.Sort(xs)
	var ticks plot.ConstantTicks
	for _, x := range slices.Compact(xs) {
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', -1, 64)})
	}
	return ticks
}

// errPoints are points with error bars from the spread.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

func newErrPoints(pts []Point) errPoints {
	var e errPoints
	for _, p := range pts {
		e.XYs = append(e.XYs, plotter.XY{X: p.X, Y: p.Median})
		e.YErrors = append(e.YErrors, struct{ Low, High float64 }{p.Median - p.Min, p.Max - p.Median})
	}
	return e
}

func throughputPlot(rows []Row) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "PUT of 100 B, three members: throughput (median over rounds, bars min–max)"
	p.X.Label.Text = "concurrent clients"
	p.Y.Label.Text = "acknowledged writes/s"
	p.X.Scale = plot.LogScale{}
	p.Y.Min = 0
	p.Legend.Top, p.Legend.Left = true, true
	var all [][]Point
	for _, system := range []string{"raftkv", "etcd"} {
		pts := PutSeries(rows, system, metricIndex("ops/s"))
		if len(pts) == 0 {
			continue
		}
		all = append(all, pts)
		e := newErrPoints(pts)
		line, scatter, err := plotter.NewLinePoints(e.XYs)
		if err != nil {
			return nil, fmt.Errorf("throughput plot: %w", err)
		}
		line.Color, scatter.Color = systemColor(system), systemColor(system)
		bars, err := plotter.NewYErrorBars(e)
		if err != nil {
			return nil, fmt.Errorf("throughput plot: %w", err)
		}
		bars.Color = systemColor(system)
		p.Add(line, scatter, bars)
		p.Legend.Add(system, line, scatter)
	}
	p.X.Tick.Marker = clientTicks(all...)
	p.Add(plotter.NewGrid())
	p.Y.Max *= 1.25 // room for the legend
	return p, nil
}

func latencyPlot(rows []Row) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "PUT of 100 B, three members: latency percentiles (median over rounds)"
	p.X.Label.Text = "concurrent clients"
	p.Y.Label.Text = "latency, ms (log scale)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = ticks125{}
	p.Legend.Top, p.Legend.Left = true, true
	dashes := map[string][]vg.Length{"p50 ms": nil, "p90 ms": {vg.Points(6), vg.Points(3)}, "p99 ms": {vg.Points(2), vg.Points(2)}}
	var all [][]Point
	for _, system := range []string{"raftkv", "etcd"} {
		for _, name := range []string{"p50 ms", "p90 ms", "p99 ms"} {
			var xys plotter.XYs
			pts := PutSeries(rows, system, metricIndex(name))
			for _, pt := range pts {
				if pt.Median > 0 {
					xys = append(xys, plotter.XY{X: pt.X, Y: pt.Median})
				}
			}
			if len(xys) == 0 {
				continue
			}
			all = append(all, pts)
			line, scatter, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, fmt.Errorf("latency plot: %w", err)
			}
			line.Color, scatter.Color = systemColor(system), systemColor(system)
			line.Dashes = dashes[name]
			p.Add(line, scatter)
			p.Legend.Add(system+" "+name[:3], line, scatter)
		}
	}
	p.X.Tick.Marker = clientTicks(all...)
	p.Add(plotter.NewGrid())
	if p.Y.Min > 0 {
		p.Y.Max *= 4 // room for the legend, on the log scale
	}
	return p, nil
}

func workloadPlot(rows []Row) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "latency of each workload, p50 (solid) and p99 (light), median over rounds"
	p.Y.Label.Text = "latency, ms"
	p.Y.Min = 0
	p.Legend.Top, p.Legend.Left = true, true
	var names []string
	for _, r := range rows {
		names = append(names, r.Workload.Name())
	}
	const bars = 4
	width := vg.Points(9)
	i := 0
	for _, name := range []string{"p50 ms", "p99 ms"} {
		for _, system := range []string{"raftkv", "etcd"} {
			m := metricIndex(name)
			var vs plotter.Values
			for _, r := range rows {
				s := r.Raftkv[m]
				if system == "etcd" {
					s = r.Etcd[m]
				}
				vs = append(vs, nanToZero(s.Median))
			}
			bc, err := plotter.NewBarChart(vs, width)
			if err != nil {
				return nil, fmt.Errorf("workload plot: %w", err)
			}
			bc.Color = systemColor(system)
			if name == "p99 ms" {
				bc.Color = lighten(systemColor(system))
			}
			bc.LineStyle = draw.LineStyle{Width: 0}
			bc.Offset = vg.Length(float64(i)-float64(bars-1)/2) * width
			p.Add(bc)
			p.Legend.Add(system+" "+name[:3], bc)
			i++
		}
	}
	p.NominalX(names...)
	p.Y.Max *= 1.25 // room for the legend
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	return p, nil
}

func nanToZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// lighten mixes c halfway with white.
func lighten(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8 + 255) / 2) }
	return color.RGBA{R: mix(r), G: mix(g), B: mix(b), A: 255}
}

// ticks125 marks a log axis at 1, 2 and 5 times the powers of ten, all
// labelled (plot.LogTicks labels only the powers of ten).
type ticks125 struct{}

// Ticks implements plot.Ticker.
func (ticks125) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range Steps125(lo, hi) {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
	}
	return ticks
}

// Steps125 returns the numbers 1, 2 and 5 times a power of ten from lo to
// hi (both > 0), and also the one just below lo and just above hi, so that
// a log axis of them is labelled at both ends.
func Steps125(lo, hi float64) []float64 {
	if lo <= 0 || hi < lo {
		return nil
	}
	var out []float64
	for e := math.Floor(math.Log10(lo)); ; e++ {
		for _, m := range []float64{1, 2, 5} {
			v, _ := strconv.ParseFloat(strconv.FormatFloat(m*math.Pow(10, e), 'g', 3, 64), 64)
			switch {
			case v < lo:
				out = []float64{v} // keep only the one just below lo
			case v > hi:
				return append(out, v)
			default:
				out = append(out, v)
			}
		}
	}
}
