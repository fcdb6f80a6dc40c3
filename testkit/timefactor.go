package testkit

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// TimeFactorEnv names the environment variable that scales every deadline of
// the kit, like Akka's akka.test.timefactor: RAFTKV_TEST_TIMEFACTOR=3 gives a
// slow or loaded machine three times as long.
const TimeFactorEnv = "RAFTKV_TEST_TIMEFACTOR"

// DefaultTimeout is how long an assertion waits when it is given no timeout.
// Like every duration given to the kit, it is dilated by TimeFactor.
const DefaultTimeout = 3 * time.Second

// TimeFactor returns the factor read from RAFTKV_TEST_TIMEFACTOR, or 1 when
// the variable is unset or empty. It panics on a value that is not a positive
// number, so that a typo does not silently leave deadlines unscaled.
func TimeFactor() float64 {
	f, err := parseTimeFactor(os.Getenv(TimeFactorEnv))
	if err != nil {
		panic(err)
	}
	return f
}

// Dilated returns d scaled by TimeFactor.
func Dilated(d time.Duration) time.Duration {
	return scale(d, TimeFactor())
}

func parseTimeFactor(s string) (float64, error) {
	if s == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("testkit: %s=%q: want a positive number", TimeFactorEnv, s)
	}
	return f, nil
}

func scale(d time.Duration, f float64) time.Duration {
	s := float64(d) * f
	if s >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s)
}

// timeoutOf returns the dilated first element of ts, or the dilated
// DefaultTimeout when ts is empty.
func timeoutOf(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return Dilated(DefaultTimeout)
	}
	return Dilated(ts[0])
}
