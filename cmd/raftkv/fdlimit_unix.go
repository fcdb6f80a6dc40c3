//go:build linux || darwin

package main

import "syscall"

// raiseFDLimit raises the soft limit on open file descriptors to the hard
// limit (Go does so at start on Linux already; this makes it explicit and
// tells what it is). It returns the limits as they are after, and the
// error of a raise that failed (the soft limit then stays as it was).
func raiseFDLimit() (fdLimit, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fdLimit{}, err
	}
	var raiseErr error
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if raiseErr = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); raiseErr == nil {
			rl = want
		}
	}
	return fdLimit{soft: uint64(rl.Cur), hard: uint64(rl.Max), known: true}, raiseErr
}
