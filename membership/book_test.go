package membership_test

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// sentinels are the errors a membership change can be refused with; a
// refusal must wrap the one the test expects and no other.
var sentinels = []error{
	messages.ErrMemberExists,
	messages.ErrMemberNotFound,
	messages.ErrAddressInUse,
	messages.ErrMemberRemoved,
	messages.ErrUnsafeChange,
	messages.ErrLearnerNotReady,
	messages.ErrNotLearner,
	messages.ErrInvalidMember,
}

// errProblem says what is wrong with err when want was expected (nil: no
// error), or "" when nothing is.
func errProblem(err, want error) string {
	if want == nil {
		if err != nil {
			return fmt.Sprintf("error %q, want none", err)
		}
		return ""
	}
	if !errors.Is(err, want) {
		return fmt.Sprintf("error %v, want %q", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			return fmt.Sprintf("error %q is %q and also %q", err, want, s)
		}
	}
	return ""
}

// sameState compares two States, taking a nil and an empty list as equal.
func sameState(a, b messages.MembershipState) bool {
	return a.ClusterID == b.ClusterID && slices.Equal(a.Members, b.Members) && slices.Equal(a.Removed, b.Removed) &&
		slices.Equal(a.Requests, b.Requests)
}

// fixtureState is the Book most tests start from: voters 1 and 2, learner
// 4, member 3 removed, cluster 42. Every call returns fresh slices.
func fixtureState() messages.MembershipState {
	return messages.MembershipState{
		ClusterID: 42,
		Members: []messages.Member{
			{ID: 1, PeerAddress: "10.0.0.1:2380", ClientAddress: "http://10.0.0.1:2379"},
			{ID: 2, PeerAddress: "10.0.0.2:2380", ClientAddress: "http://10.0.0.2:2379"},
			{ID: 4, PeerAddress: "10.0.0.4:2380", Learner: true},
		},
		Removed: []messages.RemovedMember{{ID: 3, PeerAddress: "10.0.0.3:2380"}},
	}
}

// oneVoterState has a single voter, 1, and a learner, 4.
func oneVoterState() messages.MembershipState {
	return messages.MembershipState{
		ClusterID: 42,
		Members: []messages.Member{
			{ID: 1, PeerAddress: "10.0.0.1:2380", ClientAddress: "http://10.0.0.1:2379"},
			{ID: 4, PeerAddress: "10.0.0.4:2380", Learner: true},
		},
	}
}

// edit returns st changed by f.
func edit(st messages.MembershipState, f func(st *messages.MembershipState)) messages.MembershipState {
	f(&st)
	return st
}

func bookOf(t *testing.T, st messages.MembershipState) *membership.Book {
	t.Helper()
	b, err := membership.FromState(st)
	if err != nil {
		t.Fatalf("FromState(%+v): %v", st, err)
	}
	return b
}

func change(typ messages.MemberChangeType, id uint64, peer, client string) messages.MemberChange {
	return messages.MemberChange{Type: typ, Member: messages.Member{ID: id, PeerAddress: peer, ClientAddress: client}}
}

// TestFixtureFromApply checks that Apply alone builds the fixture: the
// changes a log would carry, in order.
func TestFixtureFromApply(t *testing.T) {
	steps := []struct {
		ch        messages.MemberChange
		clusterID uint64
	}{
		{change(messages.AddVoter, 1, "10.0.0.1:2380", "http://10.0.0.1:2379"), 42},
		{change(messages.AddVoter, 2, "10.0.0.2:2380", ""), 42},
		{change(messages.AddVoter, 3, "10.0.0.3:2380", ""), 42},
		{change(messages.AddLearner, 4, "10.0.0.4:2380", ""), 0},
		{change(messages.Remove, 3, "", ""), 0},
		{change(messages.Update, 2, "", "http://10.0.0.2:2379"), 0},
	}
	b := membership.New()
	for i, s := range steps {
		if err := b.Apply(s.ch, s.clusterID); err != nil {
			t.Fatalf("%d (%s %d): %v", i, s.ch.Type, s.ch.Member.ID, err)
		}
	}
	if got, want := b.State(), fixtureState(); !sameState(got, want) {
		t.Fatalf("State() = %+v, want %+v", got, want)
	}
	if b.Len() != 3 || b.Voters() != 2 || b.ClusterID() != 42 {
		t.Errorf("Len %d Voters %d ClusterID %d, want 3 2 42", b.Len(), b.Voters(), b.ClusterID())
	}
	if addr, ok := b.Removed(3); !ok || addr != "10.0.0.3:2380" {
		t.Errorf("Removed(3) = %q %v, want 10.0.0.3:2380 true", addr, ok)
	}
	if _, ok := b.Removed(4); ok {
		t.Errorf("Removed(4) = true for a member")
	}
	if m, ok := b.Member(4); !ok || !m.Learner || m.PeerAddress != "10.0.0.4:2380" {
		t.Errorf("Member(4) = %+v %v, want learner at 10.0.0.4:2380", m, ok)
	}
	if _, ok := b.Member(3); ok {
		t.Errorf("Member(3) found a removed member")
	}
}

// TestCheckApply runs every change type against a Book with voters,
// learners and a removed member. A refused change leaves the Book exactly
// as it was; Check never changes the Book and agrees with Apply.
func TestCheckApply(t *testing.T) {
	const maxUint64 = 18446744073709551615
	tests := []struct {
		name    string
		start   messages.MembershipState // fixtureState() when empty
		ch      messages.MemberChange
		wantErr error
		want    messages.MembershipState // for an accepted change
	}{
		// AddVoter and AddLearner
		{
			name: "add a voter",
			ch:   change(messages.AddVoter, 5, "10.0.0.5:2380", "https://10.0.0.5:2379"),
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = append(st.Members, messages.Member{ID: 5, PeerAddress: "10.0.0.5:2380", ClientAddress: "https://10.0.0.5:2379"})
			}),
		},
		{
			name: "add a learner, client address unknown",
			ch:   change(messages.AddLearner, 5, "node5.example:2380", ""),
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = append(st.Members, messages.Member{ID: 5, PeerAddress: "node5.example:2380", Learner: true})
			}),
		},
		{
			name: "add a voter whose Member says learner: the change type decides",
			ch:   messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 5, PeerAddress: "10.0.0.5:2380", Learner: true}},
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = append(st.Members, messages.Member{ID: 5, PeerAddress: "10.0.0.5:2380"})
			}),
		},
		{
			name: "add a learner with an IPv6 peer address",
			ch:   change(messages.AddLearner, 5, "[::1]:2380", "http://[::1]:2379"),
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = append(st.Members, messages.Member{ID: 5, PeerAddress: "[::1]:2380", ClientAddress: "http://[::1]:2379", Learner: true})
			}),
		},
		{
			name: "add the largest id",
			ch:   change(messages.AddVoter, membership.MaxID, "10.0.0.5:2380", ""),
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = append(st.Members, messages.Member{ID: membership.MaxID, PeerAddress: "10.0.0.5:2380"})
			}),
		},
		{name: "add voter: id of a voter", ch: change(messages.AddVoter, 1, "10.0.0.5:2380", ""), wantErr: messages.ErrMemberExists},
		{name: "add voter: id of a learner", ch: change(messages.AddVoter, 4, "10.0.0.5:2380", ""), wantErr: messages.ErrMemberExists},
		{name: "add learner: id of a voter", ch: change(messages.AddLearner, 2, "10.0.0.5:2380", ""), wantErr: messages.ErrMemberExists},
		{name: "add learner: id of a learner, same address", ch: change(messages.AddLearner, 4, "10.0.0.4:2380", ""), wantErr: messages.ErrMemberExists},
		{name: "add voter: removed id", ch: change(messages.AddVoter, 3, "10.0.0.5:2380", ""), wantErr: messages.ErrMemberRemoved},
		{name: "add learner: removed id at its old address", ch: change(messages.AddLearner, 3, "10.0.0.3:2380", ""), wantErr: messages.ErrMemberRemoved},
		{name: "add voter: id 0", ch: change(messages.AddVoter, 0, "10.0.0.5:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add learner: id 0", ch: change(messages.AddLearner, 0, "10.0.0.5:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: id MaxID+1", ch: change(messages.AddVoter, membership.MaxID+1, "10.0.0.5:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: id 2^64-1", ch: change(messages.AddVoter, maxUint64, "10.0.0.5:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add learner: id 2^64-1", ch: change(messages.AddLearner, maxUint64, "10.0.0.5:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: a voter's peer address", ch: change(messages.AddVoter, 5, "10.0.0.2:2380", ""), wantErr: messages.ErrAddressInUse},
		{name: "add learner: a learner's peer address", ch: change(messages.AddLearner, 5, "10.0.0.4:2380", ""), wantErr: messages.ErrAddressInUse},
		{name: "add voter: no peer address", ch: change(messages.AddVoter, 5, "", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: peer address without port", ch: change(messages.AddVoter, 5, "10.0.0.5", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: peer address port 0", ch: change(messages.AddVoter, 5, "10.0.0.5:0", ""), wantErr: messages.ErrInvalidMember},
		{name: "add learner: peer address port 65536", ch: change(messages.AddLearner, 5, "10.0.0.5:65536", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: peer address without host", ch: change(messages.AddVoter, 5, ":2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: peer address with a path", ch: change(messages.AddVoter, 5, "http://10.0.0.5:2380/raft", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: bare IPv6 peer address", ch: change(messages.AddVoter, 5, "::1:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: client address of another scheme", ch: change(messages.AddVoter, 5, "10.0.0.5:2380", "ftp://10.0.0.5:2379"), wantErr: messages.ErrInvalidMember},
		{name: "add voter: client address with a path", ch: change(messages.AddVoter, 5, "10.0.0.5:2380", "http://10.0.0.5:2379/v2"), wantErr: messages.ErrInvalidMember},
		{name: "add learner: client address without port", ch: change(messages.AddLearner, 5, "10.0.0.5:2380", "http://10.0.0.5"), wantErr: messages.ErrInvalidMember},
		{name: "add learner: client address with a query", ch: change(messages.AddLearner, 5, "10.0.0.5:2380", "http://10.0.0.5:2379?a=b"), wantErr: messages.ErrInvalidMember},
		{name: "add voter: id checked before existence", ch: change(messages.AddVoter, 0, "10.0.0.1:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "add voter: existence checked before the address", ch: change(messages.AddVoter, 1, "10.0.0.2:2380", ""), wantErr: messages.ErrMemberExists},

		// Promote
		{
			name: "promote a learner",
			ch:   change(messages.Promote, 4, "", ""),
			want: edit(fixtureState(), func(st *messages.MembershipState) { st.Members[2].Learner = false }),
		},
		{
			name: "promote a learner: addresses in the change are ignored",
			ch:   change(messages.Promote, 4, "10.0.0.9:2380", "http://10.0.0.9:2379"),
			want: edit(fixtureState(), func(st *messages.MembershipState) { st.Members[2].Learner = false }),
		},
		{name: "promote a voter", ch: change(messages.Promote, 1, "", ""), wantErr: messages.ErrNotLearner},
		{name: "promote a missing member", ch: change(messages.Promote, 9, "", ""), wantErr: messages.ErrMemberNotFound},
		{name: "promote a removed member", ch: change(messages.Promote, 3, "", ""), wantErr: messages.ErrMemberNotFound},
		{name: "promote id 0", ch: change(messages.Promote, 0, "", ""), wantErr: messages.ErrInvalidMember},
		{name: "promote id 2^64-1", ch: change(messages.Promote, maxUint64, "", ""), wantErr: messages.ErrInvalidMember},

		// Remove
		{
			name: "remove a voter",
			ch:   change(messages.Remove, 2, "", ""),
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = slices.Delete(st.Members, 1, 2)
				st.Removed = []messages.RemovedMember{{ID: 2, PeerAddress: "10.0.0.2:2380"}, {ID: 3, PeerAddress: "10.0.0.3:2380"}}
			}),
		},
		{
			name: "remove a learner",
			ch:   change(messages.Remove, 4, "", ""),
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = st.Members[:2]
				st.Removed = append(st.Removed, messages.RemovedMember{ID: 4, PeerAddress: "10.0.0.4:2380"})
			}),
		},
		{
			name: "remove: the recorded address is the member's, not the change's",
			ch:   change(messages.Remove, 1, "10.0.0.9:2380", ""),
			want: edit(fixtureState(), func(st *messages.MembershipState) {
				st.Members = st.Members[1:]
				st.Removed = []messages.RemovedMember{{ID: 1, PeerAddress: "10.0.0.1:2380"}, {ID: 3, PeerAddress: "10.0.0.3:2380"}}
			}),
		},
		{name: "remove a missing member", ch: change(messages.Remove, 9, "", ""), wantErr: messages.ErrMemberNotFound},
		{name: "remove a removed member", ch: change(messages.Remove, 3, "", ""), wantErr: messages.ErrMemberNotFound},
		{name: "remove id 0", ch: change(messages.Remove, 0, "", ""), wantErr: messages.ErrInvalidMember},
		{name: "remove id MaxID+1", ch: change(messages.Remove, membership.MaxID+1, "", ""), wantErr: messages.ErrInvalidMember},
		{name: "remove the last voter", start: oneVoterState(), ch: change(messages.Remove, 1, "", ""), wantErr: messages.ErrUnsafeChange},
		{
			name:  "remove a learner when one voter is left",
			start: oneVoterState(),
			ch:    change(messages.Remove, 4, "", ""),
			want: edit(oneVoterState(), func(st *messages.MembershipState) {
				st.Members = st.Members[:1]
				st.Removed = []messages.RemovedMember{{ID: 4, PeerAddress: "10.0.0.4:2380"}}
			}),
		},
		{
			name:  "remove the only member, a voter",
			start: messages.MembershipState{Members: []messages.Member{{ID: 7, PeerAddress: "h:1"}}},
			ch:    change(messages.Remove, 7, "", ""), wantErr: messages.ErrUnsafeChange,
		},

		// Update
		{
			name: "update the client address",
			ch:   change(messages.Update, 2, "", "https://node2.example:443"),
			want: edit(fixtureState(), func(st *messages.MembershipState) { st.Members[1].ClientAddress = "https://node2.example:443" }),
		},
		{
			name: "update the client address of a learner, naming its own peer address",
			ch:   change(messages.Update, 4, "10.0.0.4:2380", "http://10.0.0.4:2379"),
			want: edit(fixtureState(), func(st *messages.MembershipState) { st.Members[2].ClientAddress = "http://10.0.0.4:2379" }),
		},
		{
			name: "update a learner does not promote it",
			ch:   messages.MemberChange{Type: messages.Update, Member: messages.Member{ID: 4, ClientAddress: "http://10.0.0.4:2379", Learner: false}},
			want: edit(fixtureState(), func(st *messages.MembershipState) { st.Members[2].ClientAddress = "http://10.0.0.4:2379" }),
		},
		{name: "update the peer address", ch: change(messages.Update, 1, "10.0.0.9:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "update the peer address and the client address", ch: change(messages.Update, 1, "10.0.0.9:2380", "http://10.0.0.9:2379"), wantErr: messages.ErrInvalidMember},
		{name: "update the peer address to another member's", ch: change(messages.Update, 1, "10.0.0.2:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "update to a malformed client address", ch: change(messages.Update, 1, "", "10.0.0.1"), wantErr: messages.ErrInvalidMember},
		{name: "update to a client address with a path", ch: change(messages.Update, 1, "", "http://10.0.0.1:2379/x"), wantErr: messages.ErrInvalidMember},
		{name: "update a missing member", ch: change(messages.Update, 9, "", "http://10.0.0.9:2379"), wantErr: messages.ErrMemberNotFound},
		{name: "update a removed member", ch: change(messages.Update, 3, "", "http://10.0.0.3:2379"), wantErr: messages.ErrMemberNotFound},
		{name: "update id 0", ch: change(messages.Update, 0, "", "http://10.0.0.3:2379"), wantErr: messages.ErrInvalidMember},

		// Unknown change types
		{name: "change type 0", ch: change(0, 5, "10.0.0.5:2380", ""), wantErr: messages.ErrInvalidMember},
		{name: "change type 6", ch: change(6, 1, "", ""), wantErr: messages.ErrInvalidMember},
		{name: "change type 255", ch: change(255, 1, "", ""), wantErr: messages.ErrInvalidMember},
	}
	for i, tt := range tests {
		start := tt.start
		if start.Members == nil {
			start = fixtureState()
		}
		b := bookOf(t, start)
		before := b.State()
		checkErr := b.Check(tt.ch)
		if p := errProblem(checkErr, tt.wantErr); p != "" {
			t.Errorf("%d (%s): Check: %s", i, tt.name, p)
		}
		if got := b.State(); !sameState(got, before) {
			t.Errorf("%d (%s): Check changed the Book: %+v, was %+v", i, tt.name, got, before)
		}
		applyErr := b.Apply(tt.ch, 99)
		if p := errProblem(applyErr, tt.wantErr); p != "" {
			t.Errorf("%d (%s): Apply: %s", i, tt.name, p)
		}
		if (checkErr == nil) != (applyErr == nil) {
			t.Errorf("%d (%s): Check says %v, Apply %v", i, tt.name, checkErr, applyErr)
		}
		got := b.State()
		if tt.wantErr != nil {
			if !sameState(got, before) {
				t.Errorf("%d (%s): refused change changed the Book: %+v, was %+v", i, tt.name, got, before)
			}
			continue
		}
		if !sameState(got, tt.want) {
			t.Errorf("%d (%s): State() = %+v, want %+v", i, tt.name, got, tt.want)
		}
	}
}

// TestApplyClusterID checks that the first accepted change that carries a
// cluster id sets it, and that nothing replaces it later.
func TestApplyClusterID(t *testing.T) {
	type step struct {
		ch        messages.MemberChange
		clusterID uint64
		refused   bool
		want      uint64 // ClusterID() after the step
	}
	tests := []struct {
		name  string
		start *messages.MembershipState // New() when nil
		steps []step
	}{
		{
			name: "adopted from the first change that carries one",
			steps: []step{
				{ch: change(messages.AddVoter, 1, "h:1", ""), clusterID: 0, want: 0},
				{ch: change(messages.AddVoter, 2, "h:2", ""), clusterID: 7, want: 7},
				{ch: change(messages.AddVoter, 3, "h:3", ""), clusterID: 8, want: 7},
				{ch: change(messages.Remove, 3, "", ""), clusterID: 9, want: 7},
			},
		},
		{
			name: "a refused change does not set it",
			steps: []step{
				{ch: change(messages.AddVoter, 0, "h:1", ""), clusterID: 5, refused: true, want: 0},
				{ch: change(messages.Remove, 1, "", ""), clusterID: 5, refused: true, want: 0},
				{ch: change(messages.AddVoter, 1, "h:1", ""), clusterID: 6, want: 6},
				{ch: change(messages.AddVoter, 1, "h:1", ""), clusterID: 6, refused: true, want: 6},
			},
		},
		{
			name:  "a Book from a State keeps the State's",
			start: new(fixtureState()),
			steps: []step{
				{ch: change(messages.AddVoter, 5, "h:5", ""), clusterID: 43, want: 42},
			},
		},
		{
			name:  "a Book from a State without one adopts one",
			start: &messages.MembershipState{Members: []messages.Member{{ID: 1, PeerAddress: "h:1"}}},
			steps: []step{
				{ch: change(messages.AddVoter, 1, "h:1", ""), clusterID: 3, refused: true, want: 0},
				{ch: change(messages.AddVoter, 2, "h:2", ""), clusterID: 3, want: 3},
			},
		},
	}
	for i, tt := range tests {
		b := membership.New()
		if tt.start != nil {
			b = bookOf(t, *tt.start)
		}
		for k, s := range tt.steps {
			err := b.Apply(s.ch, s.clusterID)
			if (err != nil) != s.refused {
				t.Errorf("%d (%s) step %d: Apply: %v, want refused=%v", i, tt.name, k, err, s.refused)
			}
			if got := b.ClusterID(); got != s.want {
				t.Errorf("%d (%s) step %d: ClusterID() = %d, want %d", i, tt.name, k, got, s.want)
			}
			if got := b.State().ClusterID; got != s.want {
				t.Errorf("%d (%s) step %d: State().ClusterID = %d, want %d", i, tt.name, k, got, s.want)
			}
		}
	}
}

// history is a log of changes, some of which the Book refuses.
var history = []struct {
	ch        messages.MemberChange
	clusterID uint64
}{
	{change(messages.AddVoter, 1, "10.0.0.1:2380", ""), 77},
	{change(messages.AddVoter, 2, "10.0.0.2:2380", ""), 77},
	{change(messages.AddVoter, 3, "10.0.0.3:2380", ""), 77},
	{change(messages.Update, 1, "", "http://10.0.0.1:2379"), 0},
	{change(messages.AddLearner, 9, "10.0.0.9:2380", ""), 0},
	{change(messages.AddVoter, 8, "10.0.0.2:2380", ""), 0}, // address in use
	{change(messages.Promote, 9, "", ""), 0},
	{change(messages.Promote, 9, "", ""), 0}, // already a voter
	{change(messages.Remove, 2, "", ""), 0},
	{change(messages.AddVoter, 2, "10.0.0.22:2380", ""), 0}, // removed id
	{change(messages.AddLearner, 5, "10.0.0.2:2380", "https://10.0.0.2:2379"), 0},
	{change(messages.Update, 5, "", "https://10.0.0.5:2379"), 0},
	{change(messages.Remove, 3, "", ""), 0},
	{change(messages.AddVoter, 6, "[fd00::6]:2380", ""), 0},
	{change(messages.Remove, 42, "", ""), 0},                                   // not found
	{change(messages.Update, 6, "[fd00::7]:2380", "http://[fd00::6]:2379"), 0}, // peer address change
}

// TestDeterminism applies the same log to two fresh Books and checks they
// end equal, and that their State survives msgpack and FromState.
func TestDeterminism(t *testing.T) {
	a, b := membership.New(), membership.New()
	for i, h := range history {
		errA := a.Apply(h.ch, h.clusterID)
		errB := b.Apply(h.ch, h.clusterID)
		if fmt.Sprint(errA) != fmt.Sprint(errB) {
			t.Errorf("%d (%s %d): Books disagree: %v and %v", i, h.ch.Type, h.ch.Member.ID, errA, errB)
		}
		if sa, sb := a.State(), b.State(); !sameState(sa, sb) {
			t.Fatalf("%d (%s %d): States differ: %+v and %+v", i, h.ch.Type, h.ch.Member.ID, sa, sb)
		}
	}
	want := messages.MembershipState{
		ClusterID: 77,
		Members: []messages.Member{
			{ID: 1, PeerAddress: "10.0.0.1:2380", ClientAddress: "http://10.0.0.1:2379"},
			{ID: 5, PeerAddress: "10.0.0.2:2380", ClientAddress: "https://10.0.0.5:2379", Learner: true},
			{ID: 6, PeerAddress: "[fd00::6]:2380"},
			{ID: 9, PeerAddress: "10.0.0.9:2380"},
		},
		Removed: []messages.RemovedMember{{ID: 2, PeerAddress: "10.0.0.2:2380"}, {ID: 3, PeerAddress: "10.0.0.3:2380"}},
	}
	st := a.State()
	if !sameState(st, want) {
		t.Fatalf("State() = %+v, want %+v", st, want)
	}

	data, err := messages.Encode(&st)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	var decoded messages.MembershipState
	if err := messages.Decode(data, &decoded); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !sameState(decoded, st) {
		t.Fatalf("msgpack round trip: %+v, want %+v", decoded, st)
	}
	c, err := membership.FromState(decoded)
	if err != nil {
		t.Fatalf("FromState(decoded): %v", err)
	}
	if got := c.State(); !sameState(got, st) {
		t.Fatalf("FromState(decoded).State() = %+v, want %+v", got, st)
	}
	// The restored Book goes on like the original.
	next := change(messages.AddLearner, 10, "10.0.0.10:2380", "")
	if err1, err2 := a.Apply(next, 0), c.Apply(next, 0); err1 != nil || err2 != nil {
		t.Fatalf("Apply after restore: %v, %v", err1, err2)
	}
	if sa, sc := a.State(), c.State(); !sameState(sa, sc) {
		t.Fatalf("after restore, States differ: %+v and %+v", sa, sc)
	}
	// The encoding itself is deterministic.
	again, err := messages.Encode(new(c.State()))
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	first, _ := messages.Encode(new(a.State()))
	if string(again) != string(first) {
		t.Errorf("equal States encode differently:\n%x\n%x", first, again)
	}
}

// TestStateSharesNothing checks that changing what State() and Members()
// return does not change the Book.
func TestStateSharesNothing(t *testing.T) {
	b := bookOf(t, fixtureState())
	st := b.State()
	st.Members[0].PeerAddress = "changed:1"
	st.Members[2].Learner = false
	st.Removed[0].ID = 99
	ms := b.Members()
	ms[1].ClientAddress = "changed"
	if got := b.State(); !sameState(got, fixtureState()) {
		t.Errorf("State() = %+v after editing copies, want %+v", got, fixtureState())
	}
}

// TestFromState checks what FromState takes and refuses.
func TestFromState(t *testing.T) {
	m := func(id uint64, peer string) messages.Member { return messages.Member{ID: id, PeerAddress: peer} }
	tests := []struct {
		name string
		st   messages.MembershipState
		ok   bool
	}{
		{name: "empty", st: messages.MembershipState{}, ok: true},
		{name: "the fixture", st: fixtureState(), ok: true},
		{name: "members out of order", st: messages.MembershipState{Members: []messages.Member{m(3, "h:3"), m(1, "h:1")}}, ok: true},
		{name: "removed only", st: messages.MembershipState{Removed: []messages.RemovedMember{{ID: 1, PeerAddress: "h:1"}}}, ok: true},
		{name: "a member at a removed member's address", st: messages.MembershipState{
			Members: []messages.Member{m(2, "h:1")}, Removed: []messages.RemovedMember{{ID: 1, PeerAddress: "h:1"}}}, ok: true},
		{name: "largest id", st: messages.MembershipState{Members: []messages.Member{m(membership.MaxID, "h:1")}}, ok: true},
		{name: "request ids of changes", st: messages.MembershipState{Requests: []messages.RequestID{{Node: 1, Seq: 5}, {Node: 2, Seq: 1}}}, ok: true},
		{name: "too many request ids", st: messages.MembershipState{Requests: make([]messages.RequestID, membership.MaxRequests+1)}},

		{name: "duplicate id", st: messages.MembershipState{Members: []messages.Member{m(1, "h:1"), m(1, "h:2")}}},
		{name: "duplicate id, same record", st: messages.MembershipState{Members: []messages.Member{m(1, "h:1"), m(1, "h:1")}}},
		{name: "duplicate peer address", st: messages.MembershipState{Members: []messages.Member{m(1, "h:1"), m(2, "h:1")}}},
		{name: "member also removed", st: messages.MembershipState{
			Members: []messages.Member{m(1, "h:1")}, Removed: []messages.RemovedMember{{ID: 1, PeerAddress: "h:1"}}}},
		{name: "member also removed, at another address", st: messages.MembershipState{
			Members: []messages.Member{m(1, "h:1"), m(2, "h:2")}, Removed: []messages.RemovedMember{{ID: 2, PeerAddress: "h:9"}}}},
		{name: "id 0", st: messages.MembershipState{Members: []messages.Member{m(0, "h:1")}}},
		{name: "id MaxID+1", st: messages.MembershipState{Members: []messages.Member{m(membership.MaxID+1, "h:1")}}},
		{name: "id 2^64-1", st: messages.MembershipState{Members: []messages.Member{m(1<<64-1, "h:1")}}},
		{name: "no peer address", st: messages.MembershipState{Members: []messages.Member{m(1, "")}}},
		{name: "peer address without port", st: messages.MembershipState{Members: []messages.Member{m(1, "h")}}},
		{name: "peer address port 0", st: messages.MembershipState{Members: []messages.Member{m(1, "h:0")}}},
		{name: "peer address with a path", st: messages.MembershipState{Members: []messages.Member{m(1, "h:1/x")}}},
	}
	for i, tt := range tests {
		b, err := membership.FromState(tt.st)
		if tt.ok != (err == nil) {
			t.Errorf("%d (%s): FromState: %v, want ok=%v", i, tt.name, err, tt.ok)
			continue
		}
		if err != nil {
			if b != nil {
				t.Errorf("%d (%s): FromState returned a Book with error %v", i, tt.name, err)
			}
			continue
		}
		want := tt.st
		slices.SortFunc(want.Members, func(a, c messages.Member) int { return cmp.Compare(a.ID, c.ID) })
		if got := b.State(); !sameState(got, want) {
			t.Errorf("%d (%s): State() = %+v, want %+v", i, tt.name, got, want)
		}
	}
}

// TestRecordRequests: a Book knows the request ids of the latest
// MaxRequests committed changes, oldest forgotten first, and carries them
// in its state (so in snapshots); the zero id of the bootstrap entries is
// never recorded.
func TestRecordRequests(t *testing.T) {
	b := membership.New()
	id := func(seq uint64) messages.RequestID { return messages.RequestID{Node: 7, Seq: seq} }
	b.Record(messages.RequestID{})
	if b.Recorded(messages.RequestID{}) || len(b.State().Requests) != 0 {
		t.Fatalf("the zero id is recorded: %v", b.State().Requests)
	}
	for seq := uint64(1); seq <= membership.MaxRequests+10; seq++ {
		b.Record(id(seq))
	}
	for seq, want := range map[uint64]bool{1: false, 10: false, 11: true, membership.MaxRequests + 10: true, membership.MaxRequests + 11: false} {
		if got := b.Recorded(id(seq)); got != want {
			t.Errorf("Recorded(%d) = %v, want %v", seq, got, want)
		}
	}
	restored := bookOf(t, b.State())
	if !restored.Recorded(id(500)) || restored.Recorded(id(5)) || len(restored.State().Requests) != membership.MaxRequests {
		t.Errorf("a Book from the state does not know the same requests")
	}
}
