package membership_test

import (
	"strconv"
	"testing"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// cluster is a membership of voters and learners at h:<id>.
func cluster(voters, learners []uint64) messages.MembershipState {
	var st messages.MembershipState
	for _, id := range voters {
		st.Members = append(st.Members, messages.Member{ID: id, PeerAddress: "h:" + strconv.FormatUint(id, 10)})
	}
	for _, id := range learners {
		st.Members = append(st.Members, messages.Member{ID: id, PeerAddress: "h:" + strconv.FormatUint(id, 10), Learner: true})
	}
	return st
}

// progress is what the leader knows: the members of active respond, those
// of down do not; all hold the log up to 100.
func progress(active []uint64, down []uint64) map[uint64]membership.Progress {
	p := map[uint64]membership.Progress{}
	for _, id := range active {
		p[id] = membership.Progress{Match: 100, Active: true}
	}
	for _, id := range down {
		p[id] = membership.Progress{Match: 100}
	}
	return p
}

func ids(n ...uint64) []uint64 { return n }

// TestCheckSafety checks etcd's --strict-reconfig-check rules, from the
// leader's view. The leader is 1 unless told.
func TestCheckSafety(t *testing.T) {
	add := change(messages.AddVoter, 9, "h:9", "")
	tests := []struct {
		name      string
		st        messages.MembershipState
		leader    uint64 // 1 when 0
		lastIndex uint64
		progress  map[uint64]membership.Progress
		ch        messages.MemberChange
		wantErr   error
	}{
		// adding a voter
		{name: "3 voters all active: add a voter", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2, 3), nil), ch: add},
		{name: "3 voters, 1 down: add a voter (4 need 3)", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2), ids(3)), ch: add, wantErr: messages.ErrUnsafeChange},
		{name: "3 voters, 1 missing from progress: add a voter", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2), nil), ch: add, wantErr: messages.ErrUnsafeChange},
		{name: "1 voter: add a second (the special case)", st: cluster(ids(1), nil), progress: progress(ids(1), nil), ch: add},
		{name: "1 voter, leader absent from progress: add a second", st: cluster(ids(1), nil), progress: nil, ch: add},
		{name: "2 voters, 1 down: add a third (3 need 2, 1 responds)", st: cluster(ids(1, 2), nil), progress: progress(ids(1), ids(2)), ch: add, wantErr: messages.ErrUnsafeChange},
		{name: "2 voters both active: add a third", st: cluster(ids(1, 2), nil), progress: progress(ids(1, 2), nil), ch: add},
		{name: "4 voters, 1 down: add a fifth (5 need 3)", st: cluster(ids(1, 2, 3, 4), nil), progress: progress(ids(1, 2, 3), ids(4)), ch: add},
		{name: "5 voters, 2 down: add a sixth (6 need 4)", st: cluster(ids(1, 2, 3, 4, 5), nil), progress: progress(ids(1, 2, 3), ids(4, 5)), ch: add, wantErr: messages.ErrUnsafeChange},
		{name: "3 voters all active, learners down: add a voter", st: cluster(ids(1, 2, 3), ids(7, 8)), progress: progress(ids(1, 2, 3), ids(7, 8)), ch: add},
		{name: "active learners do not make a quorum for an add", st: cluster(ids(1, 2, 3), ids(7, 8)), progress: progress(ids(1, 2, 7, 8), ids(3)), ch: add, wantErr: messages.ErrUnsafeChange},

		// the leader counts as active
		{name: "leader absent from progress counts: 3 voters, add", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(2, 3), nil), ch: add},
		{name: "leader marked inactive still counts: 3 voters, add", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(2, 3), ids(1)), ch: add},
		{name: "leader 2 absent from progress counts: remove the down voter", st: cluster(ids(1, 2, 3), nil), leader: 2, progress: progress(ids(1), ids(3)), ch: change(messages.Remove, 3, "", "")},

		// removing a voter
		{name: "3 voters, 1 down: remove an active voter (2 left need 2, 1 responds)", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2), ids(3)), ch: change(messages.Remove, 2, "", ""), wantErr: messages.ErrUnsafeChange},
		{name: "3 voters, 1 down: remove the leader", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2), ids(3)), ch: change(messages.Remove, 1, "", ""), wantErr: messages.ErrUnsafeChange},
		{name: "3 voters, 1 down: remove the down one", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2), ids(3)), ch: change(messages.Remove, 3, "", "")},
		{name: "3 voters, 1 missing from progress: remove it", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(2), nil), ch: change(messages.Remove, 3, "", "")},
		{name: "3 voters all active: remove the leader", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2, 3), nil), ch: change(messages.Remove, 1, "", "")},
		{name: "3 voters all active: remove another", st: cluster(ids(1, 2, 3), nil), progress: progress(ids(1, 2, 3), nil), ch: change(messages.Remove, 3, "", "")},
		{name: "2 voters, 1 down: remove the down one", st: cluster(ids(1, 2), nil), progress: progress(ids(1), ids(2)), ch: change(messages.Remove, 2, "", "")},
		{name: "2 voters both active: remove one", st: cluster(ids(1, 2), nil), progress: progress(ids(1, 2), nil), ch: change(messages.Remove, 2, "", "")},
		{name: "5 voters, 2 down: remove an active one (4 left need 3, 2 respond)", st: cluster(ids(1, 2, 3, 4, 5), nil), progress: progress(ids(1, 2, 3), ids(4, 5)), ch: change(messages.Remove, 3, "", ""), wantErr: messages.ErrUnsafeChange},
		{name: "5 voters, 2 down: remove a down one", st: cluster(ids(1, 2, 3, 4, 5), nil), progress: progress(ids(1, 2, 3), ids(4, 5)), ch: change(messages.Remove, 5, "", "")},

		// promoting a learner
		{name: "promote: match below 90%", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 100,
			progress: with(progress(ids(1, 2, 3), nil), 4, membership.Progress{Match: 89, Active: true}), ch: change(messages.Promote, 4, "", ""), wantErr: messages.ErrLearnerNotReady},
		{name: "promote: match just below 90%", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 1000,
			progress: with(progress(ids(1, 2, 3), nil), 4, membership.Progress{Match: 899, Active: true}), ch: change(messages.Promote, 4, "", ""), wantErr: messages.ErrLearnerNotReady},
		{name: "promote: match at 90%", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 100,
			progress: with(progress(ids(1, 2, 3), nil), 4, membership.Progress{Match: 90, Active: true}), ch: change(messages.Promote, 4, "", "")},
		{name: "promote: match above 90%", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 100,
			progress: with(progress(ids(1, 2, 3), nil), 4, membership.Progress{Match: 99, Active: true}), ch: change(messages.Promote, 4, "", "")},
		{name: "promote: match equals last index", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 100,
			progress: with(progress(ids(1, 2, 3), nil), 4, membership.Progress{Match: 100, Active: true}), ch: change(messages.Promote, 4, "", "")},
		{name: "promote: learner missing from progress", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 100,
			progress: progress(ids(1, 2, 3), nil), ch: change(messages.Promote, 4, "", ""), wantErr: messages.ErrLearnerNotReady},
		{name: "promote: empty log", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 0,
			progress: progress(ids(1, 2, 3), nil), ch: change(messages.Promote, 4, "", "")},
		{name: "promote: readiness is judged before the quorum", st: cluster(ids(1, 2), ids(4)), lastIndex: 100,
			progress: with(progress(ids(1), ids(2)), 4, membership.Progress{Match: 10}), ch: change(messages.Promote, 4, "", ""), wantErr: messages.ErrLearnerNotReady},
		{name: "2 voters, 1 down: promote an active learner (3 need 2)", st: cluster(ids(1, 2), ids(4)), lastIndex: 100,
			progress: progress(ids(1, 4), ids(2)), ch: change(messages.Promote, 4, "", "")},
		{name: "2 voters, 1 down: promote an inactive learner", st: cluster(ids(1, 2), ids(4)), lastIndex: 100,
			progress: progress(ids(1), ids(2, 4)), ch: change(messages.Promote, 4, "", ""), wantErr: messages.ErrUnsafeChange},
		{name: "3 voters, 1 down: promote an active learner (4 need 3)", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 100,
			progress: progress(ids(1, 2, 4), ids(3)), ch: change(messages.Promote, 4, "", "")},
		{name: "3 voters, 1 down: promote an inactive learner", st: cluster(ids(1, 2, 3), ids(4)), lastIndex: 100,
			progress: progress(ids(1, 2), ids(3, 4)), ch: change(messages.Promote, 4, "", ""), wantErr: messages.ErrUnsafeChange},
		{name: "1 voter: promote an inactive but ready learner", st: cluster(ids(1), ids(4)), lastIndex: 100,
			progress: progress(nil, ids(4)), ch: change(messages.Promote, 4, "", "")},

		// never refused
		{name: "all voters but the leader down: add a learner", st: cluster(ids(1, 2, 3), nil), progress: progress(nil, ids(2, 3)), ch: change(messages.AddLearner, 9, "h:9", "")},
		{name: "all voters but the leader down: remove a learner", st: cluster(ids(1, 2, 3), ids(4)), progress: progress(ids(4), ids(2, 3)), ch: change(messages.Remove, 4, "", "")},
		{name: "all voters but the leader down: update a voter", st: cluster(ids(1, 2, 3), nil), progress: progress(nil, ids(2, 3)), ch: change(messages.Update, 2, "", "http://h:1")},
		{name: "all voters but the leader down: update the leader", st: cluster(ids(1, 2, 3), nil), progress: progress(nil, ids(2, 3)), ch: change(messages.Update, 1, "", "http://h:1")},
		{name: "remove a missing member: Check's to refuse", st: cluster(ids(1, 2, 3), nil), progress: progress(nil, ids(2, 3)), ch: change(messages.Remove, 9, "", "")},
	}
	for i, tt := range tests {
		b := bookOf(t, tt.st)
		before := b.State()
		leader := tt.leader
		if leader == 0 {
			leader = 1
		}
		err := b.CheckSafety(tt.ch, leader, tt.lastIndex, tt.progress)
		if p := errProblem(err, tt.wantErr); p != "" {
			t.Errorf("%d (%s): %s", i, tt.name, p)
		}
		if got := b.State(); !sameState(got, before) {
			t.Errorf("%d (%s): CheckSafety changed the Book: %+v, was %+v", i, tt.name, got, before)
		}
	}
}

func with(p map[uint64]membership.Progress, id uint64, pr membership.Progress) map[uint64]membership.Progress {
	p[id] = pr
	return p
}

// TestLearnerReadinessBoundary checks, for many last indexes, that a match
// of exactly ceil(90%) of it is enough and one less is not.
func TestLearnerReadinessBoundary(t *testing.T) {
	b := bookOf(t, cluster(ids(1), ids(2)))
	promote := change(messages.Promote, 2, "", "")
	check := func(lastIndex, match uint64) error {
		return b.CheckSafety(promote, 1, lastIndex, map[uint64]membership.Progress{2: {Match: match, Active: true}})
	}
	lastIndexes := []uint64{1, 1_000_000, 1 << 32, 1_000_000_000_000, 1 << 50}
	for n := uint64(2); n <= 20_000; n++ {
		lastIndexes = append(lastIndexes, n)
	}
	failures := 0
	for _, n := range lastIndexes {
		least := (9*n + 9) / 10 // ceil(9n/10): the smallest match that is 90%
		if err := check(n, least); err != nil {
			t.Errorf("lastIndex %d: match %d (>= 90%%) refused: %v", n, least, err)
			failures++
		}
		if p := errProblem(check(n, least-1), messages.ErrLearnerNotReady); p != "" {
			t.Errorf("lastIndex %d: match %d (< 90%%): %s", n, least-1, p)
			failures++
		}
		if failures > 10 {
			t.Fatal("too many failures")
		}
	}
}
