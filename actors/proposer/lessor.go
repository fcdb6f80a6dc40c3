package proposer

import (
	"maps"
	"slices"
	"time"

	"github.com/raftkv/raftkv/messages"
)

// expireRetry is how long the lessor waits for an expiry it proposed to
// apply before it proposes it again.
const expireRetry = time.Second

// lessor keeps the clock of every lease, as this member reckons it: a
// lease lives its TTL from the last grant or keepalive this member applied.
// Only the leader's reckoning counts: the leader proposes the expiry of a
// lease whose time ran out (LeaseExpire with the renewals it saw, which
// does nothing if a keepalive applied since). A member that becomes leader
// gives every lease an election timeout more, as etcd does, so that a
// leader change never expires a lease that was kept alive.
type lessor struct {
	leases map[int64]*leaseClock
	leader bool
	// extend is what a new leader adds to every lease: an election timeout.
	extend time.Duration
}

type leaseClock struct {
	renewals uint64
	deadline time.Time
	// proposed is when the expiry was last proposed; zero if never.
	proposed time.Time
}

func newLessor(extend time.Duration) *lessor {
	return &lessor{leases: map[int64]*leaseClock{}, extend: extend}
}

// applied takes what the applier did to leases.
func (l *lessor) applied(m *messages.LeaseApplied, now time.Time) {
	switch {
	case m.Reset:
		l.leases = map[int64]*leaseClock{}
		for _, info := range m.All {
			l.leases[info.ID] = clockOf(info, now)
		}
	case m.Gone:
		delete(l.leases, m.Lease.ID)
	default:
		l.leases[m.Lease.ID] = clockOf(m.Lease, now)
	}
}

// clockOf starts the clock of a lease granted or renewed now.
func clockOf(info messages.LeaseInfo, now time.Time) *leaseClock {
	return &leaseClock{renewals: info.Renewals, deadline: now.Add(time.Duration(info.TTL) * time.Second)}
}

// setLeader takes whether this member leads; one that just became leader
// extends every lease.
func (l *lessor) setLeader(leader bool, now time.Time) {
	if leader && !l.leader {
		for _, c := range l.leases {
			c.deadline = later(c.deadline, now).Add(l.extend)
		}
	}
	l.leader = leader
}

// expired returns the expiries to propose: on the leader, of the leases
// whose time ran out, unless proposed within expireRetry.
func (l *lessor) expired(now time.Time) []messages.LeaseChange {
	if !l.leader {
		return nil
	}
	var out []messages.LeaseChange
	for _, id := range slices.Sorted(maps.Keys(l.leases)) {
		c := l.leases[id]
		if now.Before(c.deadline) || (!c.proposed.IsZero() && now.Sub(c.proposed) < expireRetry) {
			continue
		}
		c.proposed = now
		out = append(out, messages.LeaseChange{Op: messages.LeaseExpire, ID: id, Renewals: c.renewals})
	}
	return out
}

// remaining is how long lease id has left (0 once its time ran out), and
// whether the lessor knows it.
func (l *lessor) remaining(id int64, now time.Time) (time.Duration, bool) {
	c := l.leases[id]
	if c == nil {
		return 0, false
	}
	return max(c.deadline.Sub(now), 0), true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
