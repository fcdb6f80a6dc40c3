package bench

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// DefaultPorts is the band of loopback ports the members listen on: below
// the kernel's ephemeral range (32768 and up), where no outgoing connection
// takes a port between the check that it is free and the member's listen,
// and apart from the bands of the repository's tests (10000-32000).
const DefaultPorts = "6000-10000"

// ParsePortBand parses "lo-hi", the ports lo to hi-1.
func ParsePortBand(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.Atoi(a)
	}
	if ok && err == nil {
		hi, err = strconv.Atoi(b)
	}
	if !ok || err != nil || lo <= 0 || hi <= lo || hi > 65536 {
		return 0, 0, fmt.Errorf("port band %q: want lo-hi with 0 < lo < hi <= 65536", s)
	}
	return lo, hi, nil
}

// portBand hands out free loopback ports of [lo, hi), starting at an
// offset drawn from the process id so that two runs at once start apart.
type portBand struct {
	lo, hi, next int
}

func newPortBand(lo, hi int) *portBand {
	return &portBand{lo: lo, hi: hi, next: lo + os.Getpid()%(hi-lo)}
}

// take returns a port of the band nobody listens on, trying each at most once.
func (b *portBand) take() (int, error) {
	for range b.hi - b.lo {
		port := b.next
		b.next++
		if b.next >= b.hi {
			b.next = b.lo
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", b.lo, b.hi)
}

// takeN returns n free ports.
func (b *portBand) takeN(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		p, err := b.take()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	return ports, nil
}
