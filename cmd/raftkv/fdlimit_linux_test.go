package main

import (
	"syscall"
	"testing"
)

// TestRaiseFDLimit checks that the soft limit is raised to the hard one.
func TestRaiseFDLimit(t *testing.T) {
	lim, err := raiseFDLimit()
	if err != nil {
		t.Fatal(err)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if !lim.known || lim.soft != rl.Cur || rl.Cur != rl.Max || lim.hard != rl.Max {
		t.Errorf("after raiseFDLimit: %+v, getrlimit %+v", lim, rl)
	}
}
