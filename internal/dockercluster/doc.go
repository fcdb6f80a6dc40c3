// Package dockercluster runs raftkv clusters for tests, one container per
// member, on a private Docker network: members reach each other by name
// (node1..nodeN, as in deploy/docker-compose.yml), and the test reaches
// each member inside its container's network namespace, so that a member
// cut off the network still answers the test. A test kills (SIGKILL),
// pauses (SIGSTOP), restarts, disconnects and reconnects members, and
// reaches any port of a member (the HTTP API, a failpoint server) with
// Cluster.HTTPClient, for example as the transport of the Go client.
//
// It is shared by the packages that test real processes across hosts
// (e2e/hosts, robustness); it is no part of raftkv. A test package calls
// Main from its TestMain: Main builds a static raftkv (CGO_ENABLED=0, with
// the build tags the package asks for) and an image from the repository's
// Dockerfile, FROM scratch, so no registry is needed. Without a Docker
// engine, or without root (entering a network namespace needs
// CAP_SYS_ADMIN), every test of the package that calls Require, New or
// NewWithConfig is skipped, saying why.
//
// Everything a run creates (containers, volumes, networks, the image)
// carries the label Label(): a cluster removes what it created when its
// test ends, failed or not, and a reaper process, started by Main, removes
// whatever is left of the run when the test binary exits, even by a panic
// or a timeout.
package dockercluster
