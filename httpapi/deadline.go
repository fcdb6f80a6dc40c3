package httpapi

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// lazyDeadlines is a listener whose connections move their deadlines later
// lazily (deadlineConn).
type lazyDeadlines struct{ net.Listener }

// Accept accepts a connection and wraps it in a deadlineConn.
func (l lazyDeadlines) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c}, nil
}

// deadlineConn is a connection whose deadlines move later lazily. fasthttp
// sets three or four deadlines on a connection for each request (the wait
// for it, its headers, its body, its answer), each a timer update in the
// runtime and a reading of the clock: 3 % of a leader's CPU under PUTs at
// 64 clients. Most move a deadline later. A deadlineConn sets the
// connection's deadline only when the new one is earlier than the one set
// (or none is); a later one is only recorded, and when the earlier one
// passes, the read or write it ended sets the recorded one and goes on,
// unless that one has passed too. An operation still times out when the
// last deadline given passes, not before.
type deadlineConn struct {
	net.Conn
	mu          sync.Mutex
	read, write lazyDeadline
}

// lazyDeadline is one direction's deadline of a deadlineConn: want is the
// last one given, armed the one the connection has (zero: none). armed is
// never after want, and zero only if want is.
type lazyDeadline struct{ want, armed time.Time }

// give records t as the deadline and reports whether the connection must
// have it now: when it is earlier than the armed one, or none is armed.
func (d *lazyDeadline) give(t time.Time) bool {
	d.want = t
	if t.IsZero() || !d.armed.IsZero() && !t.Before(d.armed) {
		return false // later: the armed one passes first, and is moved then
	}
	d.armed = t
	return true
}

// passed is called when the armed deadline ended an operation at now. It
// reports whether the deadline given is still ahead: the connection must
// then be given it, and the operation go on.
func (d *lazyDeadline) passed(now time.Time) bool {
	if !d.want.IsZero() && !now.Before(d.want) {
		return false
	}
	d.armed = d.want
	return true
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	for {
		n, err := c.Conn.Read(b)
		if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) || !c.rearm(&c.read) {
			return n, err
		}
	}
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	written := 0
	for {
		n, err := c.Conn.Write(b[written:])
		written += n
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || !c.rearm(&c.write) {
			return written, err
		}
	}
}

// SetDeadline gives both deadlines.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline gives the read deadline (see deadlineConn).
func (c *deadlineConn) SetReadDeadline(t time.Time) error { return c.give(&c.read, t) }

// SetWriteDeadline gives the write deadline (see deadlineConn).
func (c *deadlineConn) SetWriteDeadline(t time.Time) error { return c.give(&c.write, t) }

// give gives d the deadline t, and the connection too if it must have it
// now.
func (c *deadlineConn) give(d *lazyDeadline, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !d.give(t) {
		return nil
	}
	return c.set(d, t)
}

// rearm gives the connection d's deadline after the armed one passed, and
// reports whether the operation may go on.
func (c *deadlineConn) rearm(d *lazyDeadline) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return d.passed(time.Now()) && c.set(d, d.armed) == nil
}

// set sets the connection's deadline of d's direction to t.
func (c *deadlineConn) set(d *lazyDeadline, t time.Time) error {
	if d == &c.write {
		return c.Conn.SetWriteDeadline(t)
	}
	return c.Conn.SetReadDeadline(t)
}
