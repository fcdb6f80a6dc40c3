package every_test

import (
	"testing"
	"time"

	"github.com/raftkv/raftkv/internal/every"
	"github.com/raftkv/raftkv/testkit"
)

type (
	tick   struct{}
	marker struct{}
)

func TestSendsUntilStopped(t *testing.T) {
	system := testkit.NewSystem(t)
	probe := testkit.NewProbe(t, system)
	stop := every.Send(system, probe.PID(), time.Millisecond, &tick{})
	probe.ReceiveN(3)
	stop()
	stop() // a second stop is harmless
	// Ticks sent before stop returned may still be on their way; a marker
	// sent now arrives after all of them, and nothing comes after it.
	probe.Send(probe.PID(), &marker{})
	testkit.FishForMsg[*marker](probe, nil)
	probe.ExpectNoMsg(20 * time.Millisecond)
}
