//go:build linux

// Package hosts tests raftkv across separate hosts: each member runs in a
// container of its own, on a private Docker network, and reaches the
// others by name (node1..nodeN), as in deploy/docker-compose.yml. Tests cut
// members off the network, kill and restart them, and talk to every member
// over HTTP from inside its own network namespace, so that a member the
// network no longer reaches still answers the test.
//
// The clusters are internal/dockercluster's: TestMain builds a static
// raftkv (CGO_ENABLED=0) and an image from the repository's Dockerfile,
// FROM scratch, so no registry is needed. Without a Docker engine every
// test is skipped. The tests must run as root on the Docker host (they
// enter containers' network namespaces). Everything a run creates is
// removed when the test binary exits, even by a panic or a timeout.
package hosts

import (
	"os"
	"testing"

	"github.com/raftkv/raftkv/internal/dockercluster"
)

func TestMain(m *testing.M) {
	os.Exit(dockercluster.Main(m, dockercluster.Options{Name: "e2e/hosts"}))
}

// hostCluster is a cluster of containers (dockercluster.Cluster) with the
// assertions of this package's tests.
type hostCluster struct {
	*dockercluster.Cluster
	t *testing.T
}

// newHostCluster creates the network for n members and starts them all,
// each with args added to its command line. It does not wait for a leader.
func newHostCluster(t *testing.T, n int, args ...string) *hostCluster {
	t.Helper()
	return &hostCluster{Cluster: dockercluster.New(t, n, args...), t: t}
}

// newHostClusterOnTmpfs is newHostCluster where the members in tmpfs keep
// their data on a tmpfs of the given size ("96m") instead of a volume: a
// small disk the test can fill. A tmpfs does not outlive its container.
func newHostClusterOnTmpfs(t *testing.T, n int, tmpfs map[uint64]string, args ...string) *hostCluster {
	t.Helper()
	return &hostCluster{Cluster: dockercluster.NewWithConfig(t, n, dockercluster.Config{Args: args, Tmpfs: tmpfs}), t: t}
}
