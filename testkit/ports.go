package testkit

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
)

// Ports hands out free TCP ports of 127.0.0.1 from a band [lo, hi), for
// servers a test starts on a port it must know in advance (a raft peer
// address is part of the cluster's configuration, so it cannot be ":0").
// It is safe for concurrent use.
//
// Why a band of ports below the ephemeral range: a port is free when Next
// checks it and taken by its server a little later. The kernel picks the
// local ports of outgoing connections from its ephemeral range (32768 and
// up on Linux), so below it nothing else takes the port in between. And
// since `go test ./...` runs the test binaries of several packages at once,
// each package that allocates ports takes a band of its own, so that two
// binaries never hand out the same port. The bands in use:
//
//	10000-12000  testkit (its own tests)
//	12000-16000  httpapi
//	16000-20000  client
//	20000-32000  e2e
//
// Within its band, an allocator starts at an offset drawn from the process
// id, so that two runs of the same package at once (two shells, a stress
// loop) start far apart too.
type Ports struct {
	lo, hi int

	mu   sync.Mutex
	next int
}

// NewPorts returns an allocator of the ports [lo, hi). It panics unless
// 0 < lo < hi <= 65536.
func NewPorts(lo, hi int) *Ports {
	if lo <= 0 || hi <= lo || hi > 65536 {
		panic(fmt.Sprintf("testkit: NewPorts(%d, %d): want 0 < lo < hi <= 65536", lo, hi))
	}
	return &Ports{lo: lo, hi: hi, next: lo + os.Getpid()%50*((hi-lo)/50)}
}

// Next returns a port of the band that nobody listens on, trying each port
// of the band at most once; it fails when none is free.
func (p *Ports) Next() (int, error) {
	for range p.hi - p.lo {
		port := p.take()
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("testkit: no free port in %d..%d", p.lo, p.hi)
}

// MustNext is Next for a test: it fails tb when no port is free.
func (p *Ports) MustNext(tb testing.TB) int {
	tb.Helper()
	port, err := p.Next()
	if err != nil {
		tb.Fatal(err)
	}
	return port
}

// take returns the next port of the band, wrapping around at its end.
func (p *Ports) take() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	port := p.next
	p.next++
	if p.next >= p.hi {
		p.next = p.lo
	}
	return port
}
