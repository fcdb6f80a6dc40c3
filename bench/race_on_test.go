//go:build race

package bench

// raceEnabled: this test binary, and so the etcd members it runs, has the
// race detector.
const raceEnabled = true
