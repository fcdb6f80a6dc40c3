//go:build !race

package testkit

// raceEnabled tells whether the tests run under the race detector, which
// makes a simulated schedule several times slower.
const raceEnabled = false
