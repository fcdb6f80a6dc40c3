package httpapi

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestLazyDeadline walks one direction's deadline through the calls that
// fasthttp and a timing-out operation make, and checks when the
// connection's own deadline is set.
func TestLazyDeadline(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	type step struct {
		give   *time.Time // give it, or:
		passed *time.Time // the armed deadline ended an operation at this time
		want   bool       // give: set the connection's now; passed: go on
		armed  time.Time
	}
	give := func(tm time.Time, arm bool, armed time.Time) step { return step{give: &tm, want: arm, armed: armed} }
	passed := func(tm time.Time, goOn bool, armed time.Time) step {
		return step{passed: &tm, want: goOn, armed: armed}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the first deadline is set", []step{give(at(10), true, at(10))}},
		{"a later one is only recorded", []step{give(at(10), true, at(10)), give(at(60), false, at(10))}},
		{"an earlier one is set at once", []step{give(at(60), true, at(60)), give(at(10), true, at(10))}},
		{"none is only recorded", []step{give(at(10), true, at(10)), give(time.Time{}, false, at(10))}},
		{"the recorded one is set once the armed one passes", []step{
			give(at(10), true, at(10)), give(at(60), false, at(10)), passed(at(10), true, at(60))}},
		{"none is set once the armed one passes", []step{
			give(at(10), true, at(10)), give(time.Time{}, false, at(10)), passed(at(10), true, time.Time{})}},
		{"a timeout when the last one given has passed too", []step{
			give(at(10), true, at(10)), give(at(20), false, at(10)), passed(at(25), false, at(10))}},
		{"a timeout at the deadline given, when it was the armed one", []step{
			give(at(10), true, at(10)), passed(at(10), false, at(10))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d lazyDeadline
			for i, s := range tt.steps {
				var got bool
				if s.give != nil {
					got = d.give(*s.give)
				} else {
					got = d.passed(*s.passed)
				}
				if got != s.want || !d.armed.Equal(s.armed) {
					t.Fatalf("step %d: got %v, armed %v; want %v, armed %v", i, got, d.armed, s.want, s.armed)
				}
			}
		})
	}
}

// TestDeadlineConn checks a deadlineConn over loopback TCP: a read or
// write whose connection deadline passed goes on when a later deadline was
// given since, and times out when the deadline given is the earlier one.
func TestDeadlineConn(t *testing.T) {
	past := time.Now().Add(-time.Second)
	later := time.Now().Add(time.Minute)
	tests := []struct {
		name      string
		deadlines []time.Time
		write     bool // write to the peer instead of reading from it
		timeout   bool
	}{
		{"a read goes on when a later deadline was given", []time.Time{past, later}, false, false},
		{"a read goes on when no deadline was given since", []time.Time{past, {}}, false, false},
		{"a write goes on when a later deadline was given", []time.Time{past, later}, true, false},
		{"a read times out when the deadline given passed", []time.Time{later, past}, false, true},
		{"a write times out when the deadline given passed", []time.Time{later, past}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, peer := tcpPair(t)
			for _, d := range tt.deadlines {
				var err error
				if tt.write {
					err = c.SetWriteDeadline(d)
				} else {
					err = c.SetReadDeadline(d)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if tt.write {
				_, err = c.Write([]byte("x"))
			} else {
				if _, werr := peer.Write([]byte("x")); werr != nil {
					t.Fatal(werr)
				}
				_, err = io.ReadFull(c, make([]byte, 1))
			}
			if got := errors.Is(err, os.ErrDeadlineExceeded); got != tt.timeout {
				t.Fatalf("error %v: timed out %v, want %v", err, got, tt.timeout)
			}
			if !tt.timeout && err != nil {
				t.Fatal(err)
			}
		})
	}
}

// tcpPair is a loopback TCP connection: c, a deadlineConn, and its peer.
func tcpPair(t testing.TB) (c, peer net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	peer, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	c, err = lazyDeadlines{l}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, peer
}

// BenchmarkDeadlines gives a connection the deadlines fasthttp gives it for
// each request on a kept-alive connection: the wait for the request, its
// headers, its body, its answer.
func BenchmarkDeadlines(b *testing.B) {
	for _, lazy := range []bool{false, true} {
		name := map[bool]string{false: "net.Conn", true: "deadlineConn"}[lazy]
		b.Run(name, func(b *testing.B) {
			c, _ := tcpPair(b)
			if !lazy {
				c = c.(*deadlineConn).Conn
			}
			for b.Loop() {
				for _, err := range []error{
					c.SetReadDeadline(time.Now().Add(DefaultIdleTimeout)),
					c.SetReadDeadline(time.Now().Add(DefaultReadHeaderTimeout)),
					c.SetReadDeadline(time.Now().Add(DefaultReadTimeout)),
					c.SetWriteDeadline(time.Now().Add(DefaultWriteTimeout)),
				} {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
