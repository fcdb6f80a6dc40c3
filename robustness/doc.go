// Package robustness tests raftkv as users run it, real processes under
// faults, and checks what clients saw. It has only tests (this file is its
// documentation).
//
// Each scenario starts a cluster of three members, each in a container of
// its own on a private Docker network (internal/dockercluster), and runs
// concurrent clients through the Go client (package client): puts,
// linearizable and serializable gets, compare-and-swaps, deletes,
// two-key ranges and transactions on a few keys, and puts of unique keys.
// Some clients fail over between the members; one per member talks to
// that member only, so that what a member served after a fault (a resumed
// leader, a reconnected member) is seen. Every operation is recorded with
// package linearizability. Meanwhile the scenario injects a fault from the
// host and heals it: SIGKILL of the leader, of a follower, of every member
// at once; SIGSTOP for longer than an election timeout, then SIGCONT; a
// member cut off the network (docker network disconnect), or cut off and
// back again and again; a slow disk, and one so slow that the leader
// loses its leadership (the failpoint persisterBeforeSave of package
// failpoint, set at run time over gofail's HTTP endpoint, the image being
// built with -tags failpoints); a member that installs a
// snapshot after a restart; a membership change while the leader is
// killed. No traffic ever leaves the host's private networks.
//
// Once the fault is healed and the clients stopped, a scenario checks
// that:
//
//   - the history is linearizable (linearizability.Check, porcupine), and
//     the serializable reads are ones a member could serve, monotonic per
//     member run (linearizability.CheckSerializable);
//   - every write of a unique key that was acknowledged reads back through
//     every member (no lost write);
//   - the cluster recovered: members agree on a leader and serve.
//
// On a violation the test prints the path of porcupine's HTML view of the
// history and the seed; the seed fixes the clients' choices of operations
// and keys and the scenario's choices of victims (processes' timing is the
// machine's), so a failing scenario is run again with
//
//	go test ./robustness -run 'TestRobustness/<Scenario>$' -count=1 -args -seed=<seed>
//
// TestRobustness runs each scenario once (what CI runs, a few minutes);
// TestSoak, with -soak.duration, runs them in a loop until the duration is
// over (make soak DURATION=10m). Both end with a summary: operations,
// faults injected, histories checked, violations, lost writes.
//
// The tests need a Docker engine and root (to enter the containers'
// network namespaces, and to signal their processes); without them they
// are skipped, saying why.
package robustness
