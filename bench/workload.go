package bench

import (
	"fmt"
	"strings"
)

// Kind is what the operations of a workload are.
type Kind string

// The kinds of workload.
const (
	KindPut    Kind = "put"     // writes only
	KindGetLin Kind = "get-lin" // linearizable reads only
	KindGetSer Kind = "get-ser" // serializable (local, possibly stale) reads only
	KindMix    Kind = "mix"     // ReadPercent linearizable reads, the rest writes
)

// Workload is one load the tool drives both systems with.
type Workload struct {
	Kind        Kind
	Clients     int // concurrent clients, each with one request in flight
	ValueSize   int // bytes of each value written (and read)
	ReadPercent int // for KindMix: the share of reads, 0 to 100
}

// Name names w in tables and the CSV: put-100B-c64, get-lin-100B-c64,
// mix90-100B-c64.
func (w Workload) Name() string {
	kind := string(w.Kind)
	if w.Kind == KindMix {
		kind = fmt.Sprintf("mix%d", w.ReadPercent)
	}
	return fmt.Sprintf("%s-%s-c%d", kind, SizeName(w.ValueSize), w.Clients)
}

// Reads reports whether w reads keys, which must then exist beforehand.
func (w Workload) Reads() bool { return w.Kind != KindPut }

// SizeName writes a byte count as 100B, 1KiB, 16KiB.
func SizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// DefaultWorkloads are the workloads of a full comparison: PUT of 100 B at
// 1, 16, 64 and 256 clients; linearizable and serializable GET at 64; a
// 90/10 read/write mix at 64; PUT of 1 KiB and 16 KiB at 64.
func DefaultWorkloads() []Workload {
	return []Workload{
		{Kind: KindPut, Clients: 1, ValueSize: 100},
		{Kind: KindPut, Clients: 16, ValueSize: 100},
		{Kind: KindPut, Clients: 64, ValueSize: 100},
		{Kind: KindPut, Clients: 256, ValueSize: 100},
		{Kind: KindGetLin, Clients: 64, ValueSize: 100},
		{Kind: KindGetSer, Clients: 64, ValueSize: 100},
		{Kind: KindMix, Clients: 64, ValueSize: 100, ReadPercent: 90},
		{Kind: KindPut, Clients: 64, ValueSize: 1 << 10},
		{Kind: KindPut, Clients: 64, ValueSize: 16 << 10},
	}
}

// SmokeWorkloads are the two workloads of --smoke: PUT and linearizable
// GET of 100 B at 16 clients.
func SmokeWorkloads() []Workload {
	return []Workload{
		{Kind: KindPut, Clients: 16, ValueSize: 100},
		{Kind: KindGetLin, Clients: 16, ValueSize: 100},
	}
}

// SelectWorkloads returns the workloads of all whose names match one of
// the comma-separated substrings of filter (all of them for "").
func SelectWorkloads(all []Workload, filter string) ([]Workload, error) {
	if filter == "" {
		return all, nil
	}
	var out []Workload
	for _, w := range all {
		for _, f := range strings.Split(filter, ",") {
			if f != "" && strings.Contains(w.Name(), f) {
				out = append(out, w)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workload matches %q", filter)
	}
	return out, nil
}

// Key returns the i-th key of the key space of values of size bytes: each
// value size has its own keys, so reads of 100-byte values never meet a
// 16 KiB one written by another workload.
func Key(size, i int) string {
	return fmt.Sprintf("bench-%s-%08d", SizeName(size), i)
}
