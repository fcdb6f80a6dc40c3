// Package e2e holds the end-to-end tests of raftkv: they build the raftkv
// binary, start real processes on loopback ports and drive them over HTTP,
// as a user would. The package has no non-test code.
package e2e
