package proposer

import (
	"fmt"
	"testing"
	"time"

	"github.com/raftkv/raftkv/messages"
)

func TestLessor(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	grant := func(id, ttl int64) *messages.LeaseApplied {
		return &messages.LeaseApplied{Lease: messages.LeaseInfo{ID: id, TTL: ttl}}
	}
	renew := func(id, ttl int64, renewals uint64) *messages.LeaseApplied {
		return &messages.LeaseApplied{Lease: messages.LeaseInfo{ID: id, TTL: ttl, Renewals: renewals}}
	}
	type step struct {
		at      int // ms after t0
		applied *messages.LeaseApplied
		leader  *bool
		want    string // the expiries proposed at this step, when checked
	}
	yes, no := true, false
	cases := []struct {
		name  string
		steps []step
	}{
		{"a follower never expires", []step{
			{at: 0, applied: grant(1, 1)}, {at: 5000, want: "[]"}}},
		{"the leader expires on time, once until the retry", []step{
			{at: 0, leader: &yes}, {at: 0, applied: grant(1, 2)},
			{at: 1999, want: "[]"}, {at: 2000, want: "[1/0]"}, {at: 2500, want: "[]"}, {at: 3000, want: "[1/0]"}}},
		{"a keepalive pushes the deadline, and the expiry names the renewals", []step{
			{at: 0, leader: &yes}, {at: 0, applied: grant(1, 2)},
			{at: 1500, applied: renew(1, 2, 1)}, {at: 3000, want: "[]"}, {at: 3500, want: "[1/1]"}}},
		{"a new leader extends every lease by an election timeout", []step{
			{at: 0, applied: grant(1, 2)}, {at: 1900, leader: &yes},
			{at: 2500, want: "[]"}, {at: 3000, want: "[1/0]"}}},
		{"a lease already late gets an election timeout from the new leader", []step{
			{at: 0, applied: grant(1, 1)}, {at: 5000, leader: &yes},
			{at: 5999, want: "[]"}, {at: 6000, want: "[1/0]"}}},
		{"a lease that ended is forgotten", []step{
			{at: 0, leader: &yes}, {at: 0, applied: grant(1, 1)},
			{at: 500, applied: &messages.LeaseApplied{Lease: messages.LeaseInfo{ID: 1}, Gone: true}}, {at: 5000, want: "[]"}}},
		{"a reset starts every lease's full TTL", []step{
			{at: 0, leader: &yes}, {at: 0, applied: grant(1, 1)},
			{at: 900, applied: &messages.LeaseApplied{Reset: true, All: []messages.LeaseInfo{{ID: 2, TTL: 1, Renewals: 4}}}},
			{at: 1800, want: "[]"}, {at: 1900, want: "[2/4]"}}},
		{"losing the lead stops the expiries", []step{
			{at: 0, leader: &yes}, {at: 0, applied: grant(1, 1)}, {at: 500, leader: &no}, {at: 2000, want: "[]"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLessor(time.Second)
			for i, s := range c.steps {
				switch {
				case s.applied != nil:
					l.applied(s.applied, at(s.at))
				case s.leader != nil:
					l.setLeader(*s.leader, at(s.at))
				default:
					var got []string
					for _, ch := range l.expired(at(s.at)) {
						got = append(got, fmt.Sprintf("%d/%d", ch.ID, ch.Renewals))
					}
					if fmt.Sprint(got) != s.want {
						t.Errorf("step %d at %d ms: expiries %v, want %s", i, s.at, got, s.want)
					}
				}
			}
		})
	}
	l := newLessor(time.Second)
	l.applied(grant(3, 10), t0)
	if left, ok := l.remaining(3, at(4000)); !ok || left != 6*time.Second {
		t.Errorf("remaining of lease 3 after 4 s of 10: %v, %v", left, ok)
	}
	if _, ok := l.remaining(4, t0); ok {
		t.Error("an unknown lease has time left")
	}
}
