package main

import (
	"errors"
	"fmt"
)

// fdReserve is how many file descriptors a member keeps out of reach of
// HTTP connections: its WAL segments and their directory, snapshot and
// store files, peer connections, its listeners and standard streams. A
// member that cannot open its next WAL segment or snapshot stops.
const fdReserve = 256

// fdLimit is the process's limit on open file descriptors, as
// raiseFDLimit left it.
type fdLimit struct {
	// soft is the limit in force, hard the most it could be raised to;
	// known is false where the platform does not tell.
	soft, hard uint64
	known      bool
}

// connectionLimit checks --max-connections (requested; explicit tells
// that the flag was given) against the descriptors the process may open
// and returns the cap to use. An explicit value that would leave fewer
// than fdReserve descriptors is refused; the default is lowered to fit,
// with a warning (returned as a non-empty string to log).
func connectionLimit(requested int, explicit bool, lim fdLimit) (int, string, error) {
	if requested < 1 {
		return 0, "", fmt.Errorf("--max-connections %d: must be at least 1", requested)
	}
	if !lim.known {
		return requested, "", nil
	}
	room := 0
	if lim.soft > fdReserve {
		room = int(min(lim.soft-fdReserve, 1<<30))
	}
	if requested <= room {
		return requested, "", nil
	}
	raise := "raise the limit (ulimit -n; LimitNOFILE= in a systemd unit; --ulimit nofile= with docker)"
	if explicit {
		return 0, "", fmt.Errorf("--max-connections %d would leave fewer than %d of the %d file descriptors this process may open (RLIMIT_NOFILE) "+
			"for the WAL, snapshots and peers: give at most %d, or %s", requested, fdReserve, lim.soft, room, raise)
	}
	if room < 1 {
		return 0, "", errors.New("the file descriptor limit (RLIMIT_NOFILE) of " + fmt.Sprint(lim.soft) +
			" leaves no room for HTTP connections beside the " + fmt.Sprint(fdReserve) + " a member keeps for its files: " + raise)
	}
	return room, fmt.Sprintf("the file descriptor limit of %d leaves room for %d HTTP connections, not the default %d: %s",
		lim.soft, room, requested, raise), nil
}
