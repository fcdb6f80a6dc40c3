package bench

import "context"

// System is a running three-member cluster the tool benchmarks.
type System interface {
	// Name is "raftkv" or "etcd".
	Name() string
	// Connect returns a client of the current leader for clients
	// concurrent workers.
	Connect(ctx context.Context, clients int) (Client, error)
	// PIDs are the members' process ids, DataDirs their data directories.
	PIDs() []int
	DataDirs() []string
	// Check returns an error if a member is no longer running.
	Check() error
	// AfterWorkload is called between workloads, outside any measured
	// window.
	AfterWorkload(ctx context.Context) error
	// Stop kills the members.
	Stop()
}
