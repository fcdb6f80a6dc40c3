package testkit

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

func TestNewPortsRefusesABadBand(t *testing.T) {
	tests := []struct{ lo, hi int }{{0, 10}, {-1, 10}, {10, 10}, {20, 10}, {65000, 65537}}
	for i, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%d: NewPorts(%d, %d) did not panic", i, tt.lo, tt.hi)
				}
			}()
			NewPorts(tt.lo, tt.hi)
		}()
	}
}

func TestPortsStayInTheirBandAndSkipBusyPorts(t *testing.T) {
	p := NewPorts(11100, 11110)
	if p.next < 11100 || p.next >= 11110 {
		t.Fatalf("starts at %d, outside the band", p.next)
	}
	// The port it would hand out next is taken: it goes on to the one after.
	busy := p.next
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(busy)))
	if err != nil {
		t.Skipf("port %d: %v", busy, err)
	}
	defer l.Close()
	seen := map[int]bool{}
	for i := range 9 {
		port, err := p.Next()
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if port < 11100 || port >= 11110 || port == busy || seen[port] {
			t.Fatalf("%d: port %d (busy %d, seen %v)", i, port, busy, seen)
		}
		seen[port] = true
	}
	// It wraps around at the end of the band.
	if port, err := p.Next(); err != nil || !seen[port] {
		t.Fatalf("after the whole band: %d, %v; want a port handed out before", port, err)
	}
}

func TestPortsFailWhenNoneIsFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	if port, err := NewPorts(busy, busy+1).Next(); err == nil {
		t.Fatalf("Next of a band whose only port is taken: %d", port)
	}
}

func TestPortsAreDistinctAcrossGoroutines(t *testing.T) {
	p := NewPorts(11200, 11400)
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				port := p.MustNext(t)
				mu.Lock()
				if seen[port] {
					t.Errorf("port %d handed out twice", port)
				}
				seen[port] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
