package membership_test

import (
	"errors"
	"io"
	"log"
	"maps"
	"slices"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/confchange"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("proto.Marshal(%v): %v", m, err)
	}
	return data
}

func confEntry(typ raftpb.EntryType, index uint64, data []byte) *raftpb.Entry {
	return &raftpb.Entry{Type: typ.Enum(), Term: new(uint64(2)), Index: new(index), Data: data}
}

func ccContext(t testing.TB, c messages.ConfChangeContext) []byte {
	t.Helper()
	data, err := messages.EncodeConfChangeContext(c)
	if err != nil {
		t.Fatalf("EncodeConfChangeContext: %v", err)
	}
	return data
}

func single(typ raftpb.ConfChangeType, id uint64) *raftpb.ConfChangeSingle {
	return &raftpb.ConfChangeSingle{Type: typ.Enum(), NodeId: new(id)}
}

// TestConfChangeRoundTrip proposes every change type with ConfChange and
// reads it back from the committed entry with DecodeEntry.
func TestConfChangeRoundTrip(t *testing.T) {
	req := messages.RequestID{Node: 3, Seq: 1<<63 + 1}
	tests := []struct {
		name     string
		ch       messages.MemberChange
		raftType raftpb.ConfChangeType
	}{
		{"add voter", change(messages.AddVoter, 5, "10.0.0.5:2380", "http://10.0.0.5:2379"), raftpb.ConfChangeAddNode},
		{"add learner", change(messages.AddLearner, 6, "[::1]:2380", ""), raftpb.ConfChangeAddLearnerNode},
		{"promote", change(messages.Promote, 6, "", ""), raftpb.ConfChangeAddNode},
		{"remove", change(messages.Remove, 2, "", ""), raftpb.ConfChangeRemoveNode},
		{"update", change(messages.Update, 1, "", "https://node1.example:443"), raftpb.ConfChangeUpdateNode},
		{"largest id", change(messages.AddVoter, membership.MaxID, "h:1", ""), raftpb.ConfChangeAddNode},
	}
	for i, tt := range tests {
		cc, err := membership.ConfChange(req, tt.ch)
		if err != nil {
			t.Errorf("%d (%s): ConfChange: %v", i, tt.name, err)
			continue
		}
		if n := len(cc.GetChanges()); n != 1 || cc.GetTransition() != raftpb.ConfChangeTransitionAuto {
			t.Errorf("%d (%s): ConfChange has %d changes, transition %s; want 1, auto", i, tt.name, n, cc.GetTransition())
			continue
		}
		if s := cc.GetChanges()[0]; s.GetType() != tt.raftType || s.GetNodeId() != tt.ch.Member.ID {
			t.Errorf("%d (%s): raft change %s of %d, want %s of %d", i, tt.name, s.GetType(), s.GetNodeId(), tt.raftType, tt.ch.Member.ID)
		}
		e := confEntry(raftpb.EntryConfChangeV2, 17, marshal(t, cc))
		got, err := membership.DecodeEntry(e)
		if err != nil {
			t.Errorf("%d (%s): DecodeEntry: %v", i, tt.name, err)
			continue
		}
		if got.Index != 17 || got.Request != req || got.Change != tt.ch || got.ClusterID != 0 {
			t.Errorf("%d (%s): DecodeEntry = index %d request %+v change %+v cluster %d; want 17 %+v %+v 0",
				i, tt.name, got.Index, got.Request, got.Change, got.ClusterID, req, tt.ch)
		}
		if got.Raft == nil || !proto.Equal(got.Raft.AsV2(), cc) {
			t.Errorf("%d (%s): Raft = %v, want %v", i, tt.name, got.Raft, cc)
		}
	}
}

// TestDecodeBootstrapEntries reads the entries raft.RawNode.Bootstrap
// writes (EntryConfChange, a V1 ConfChange whose Context raftkv sets) and
// applies them to a fresh Book.
func TestDecodeBootstrapEntries(t *testing.T) {
	members := []messages.Member{
		{ID: 1, PeerAddress: "10.0.0.1:2380"},
		{ID: 2, PeerAddress: "10.0.0.2:2380"},
		{ID: 3, PeerAddress: "10.0.0.3:2380"},
	}
	clusterID := membership.ClusterIDOf(members)
	var peers []raft.Peer
	for _, m := range members {
		peers = append(peers, raft.Peer{ID: m.ID, Context: ccContext(t, messages.ConfChangeContext{
			Change: messages.MemberChange{Type: messages.AddVoter, Member: m}, ClusterID: clusterID,
		})})
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID: 1, ElectionTick: 10, HeartbeatTick: 1, Storage: raft.NewMemoryStorage(),
		MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 16,
		Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)},
	})
	if err != nil {
		t.Fatalf("NewRawNode: %v", err)
	}
	if err := rn.Bootstrap(peers); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	ents := rn.Ready().CommittedEntries
	if len(ents) != len(members) {
		t.Fatalf("Bootstrap committed %d entries, want %d", len(ents), len(members))
	}
	b := membership.New()
	for i, e := range ents {
		if e.GetType() != raftpb.EntryConfChange {
			t.Fatalf("%d: entry of type %s, want EntryConfChange", i, e.GetType())
		}
		got, err := membership.DecodeEntry(e)
		if err != nil {
			t.Fatalf("%d: DecodeEntry: %v", i, err)
		}
		want := messages.MemberChange{Type: messages.AddVoter, Member: members[i]}
		if got.Index != uint64(i+1) || got.Change != want || got.ClusterID != clusterID || got.Request != (messages.RequestID{}) {
			t.Errorf("%d: DecodeEntry = %+v, want index %d change %+v cluster %d", i, got, i+1, want, clusterID)
		}
		if _, ok := got.Raft.AsV1(); !ok {
			t.Errorf("%d: Raft is not the V1 change the entry holds", i)
		}
		if err := b.Apply(got.Change, got.ClusterID); err != nil {
			t.Fatalf("%d: Apply: %v", i, err)
		}
	}
	want := messages.MembershipState{ClusterID: clusterID, Members: members}
	if got := b.State(); !sameState(got, want) {
		t.Errorf("State() = %+v, want %+v", got, want)
	}
}

// TestDecodeEntry covers the entries DecodeEntry reads without a proposal
// of raftkv's, and those it must refuse.
func TestDecodeEntry(t *testing.T) {
	addVoter5 := messages.ConfChangeContext{ID: messages.RequestID{Node: 1, Seq: 2}, Change: change(messages.AddVoter, 5, "h:5", "")}
	v1 := func(typ raftpb.ConfChangeType, id uint64, ctx []byte) *raftpb.Entry {
		return confEntry(raftpb.EntryConfChange, 9, marshal(t, &raftpb.ConfChange{Type: typ.Enum(), NodeId: new(id), Context: ctx}))
	}
	v2 := func(cc *raftpb.ConfChangeV2) *raftpb.Entry {
		return confEntry(raftpb.EntryConfChangeV2, 9, marshal(t, cc))
	}
	ctxV2 := func(c messages.ConfChangeContext, changes ...*raftpb.ConfChangeSingle) *raftpb.Entry {
		return v2(&raftpb.ConfChangeV2{Changes: changes, Context: ccContext(t, c)})
	}
	badVersion, err := messages.Encode(&messages.ConfChangeContext{Version: messages.FormatVersion + 1, Change: change(messages.AddVoter, 5, "h:5", "")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		e       *raftpb.Entry
		want    messages.MemberChange // when no error
		wantErr error                 // when an error must wrap it
		fails   bool
	}{
		// without a context
		{name: "V1 AddNode, no context", e: v1(raftpb.ConfChangeAddNode, 4, nil), want: change(messages.AddVoter, 4, "", "")},
		{name: "V1 RemoveNode, no context", e: v1(raftpb.ConfChangeRemoveNode, 4, nil), want: change(messages.Remove, 4, "", "")},
		{name: "V2 AddNode, no context", e: v2(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 4)}}), want: change(messages.AddVoter, 4, "", "")},
		{name: "V2 RemoveNode, no context", e: v2(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeRemoveNode, 4)}}), want: change(messages.Remove, 4, "", "")},
		{name: "V1 UpdateNode, no context", e: v1(raftpb.ConfChangeUpdateNode, 4, nil), fails: true},
		{name: "V2 UpdateNode, no context", e: v2(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeUpdateNode, 4)}}), fails: true},
		{name: "V1 AddNode, empty context", e: v1(raftpb.ConfChangeAddNode, 4, []byte{}), want: change(messages.AddVoter, 4, "", "")},

		// with a context that agrees
		{name: "V1 AddNode with context", e: v1(raftpb.ConfChangeAddNode, 5, ccContext(t, addVoter5)), want: addVoter5.Change},
		{name: "V1 AddLearnerNode with context", e: v1(raftpb.ConfChangeAddLearnerNode, 5, ccContext(t, messages.ConfChangeContext{Change: change(messages.AddLearner, 5, "h:5", "")})),
			want: change(messages.AddLearner, 5, "h:5", "")},

		// a context that does not agree with raft's change
		{name: "V2: context names another node", e: ctxV2(addVoter5, single(raftpb.ConfChangeAddNode, 6)), fails: true},
		{name: "V2: context says add voter, raft removes", e: ctxV2(addVoter5, single(raftpb.ConfChangeRemoveNode, 5)), fails: true},
		{name: "V2: context says add voter, raft adds a learner", e: ctxV2(addVoter5, single(raftpb.ConfChangeAddLearnerNode, 5)), fails: true},
		{name: "V2: context says add learner, raft adds a voter", e: ctxV2(messages.ConfChangeContext{Change: change(messages.AddLearner, 5, "h:5", "")}, single(raftpb.ConfChangeAddNode, 5)), fails: true},
		{name: "V2: context says promote, raft adds a learner", e: ctxV2(messages.ConfChangeContext{Change: change(messages.Promote, 5, "", "")}, single(raftpb.ConfChangeAddLearnerNode, 5)), fails: true},
		{name: "V2: context says update, raft adds", e: ctxV2(messages.ConfChangeContext{Change: change(messages.Update, 5, "", "http://h:1")}, single(raftpb.ConfChangeAddNode, 5)), fails: true},
		{name: "V2: context says remove, raft updates", e: ctxV2(messages.ConfChangeContext{Change: change(messages.Remove, 5, "", "")}, single(raftpb.ConfChangeUpdateNode, 5)), fails: true},
		{name: "V2: raft's change has no node id", e: ctxV2(addVoter5, &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddNode.Enum()}), fails: true},
		{name: "V1: context names another node", e: v1(raftpb.ConfChangeAddNode, 6, ccContext(t, addVoter5)), fails: true},
		{name: "V1: context says add voter, raft removes", e: v1(raftpb.ConfChangeRemoveNode, 5, ccContext(t, addVoter5)), fails: true},

		// not one simple change
		{name: "V2: two changes", e: ctxV2(addVoter5, single(raftpb.ConfChangeAddNode, 5), single(raftpb.ConfChangeAddNode, 6)), fails: true},
		{name: "V2: two changes of the same node", e: ctxV2(addVoter5, single(raftpb.ConfChangeAddNode, 5), single(raftpb.ConfChangeAddNode, 5)), fails: true},
		{name: "V2: two changes, no context", e: v2(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 5), single(raftpb.ConfChangeRemoveNode, 2)}}), fails: true},
		{name: "V2: joint, explicit", e: v2(&raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionJointExplicit.Enum(),
			Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 5)}, Context: ccContext(t, addVoter5)}), fails: true},
		{name: "V2: joint, implicit", e: v2(&raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionJointImplicit.Enum(),
			Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 5)}, Context: ccContext(t, addVoter5)}), fails: true},
		{name: "V2: leaving a joint config (no changes)", e: confEntry(raftpb.EntryConfChangeV2, 9, nil), fails: true},
		{name: "V2: no changes, a context", e: v2(&raftpb.ConfChangeV2{Context: ccContext(t, addVoter5)}), fails: true},

		// garbage
		{name: "V2: data is not protobuf", e: confEntry(raftpb.EntryConfChangeV2, 9, []byte{0xff, 0xff, 0xff, 0xff}), fails: true},
		{name: "V1: data is not protobuf", e: confEntry(raftpb.EntryConfChange, 9, []byte("\x0a\xff")), fails: true},
		{name: "V2: context is not msgpack", e: v2(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 5)}, Context: []byte{0xc1}}), fails: true},
		{name: "V2: context is truncated", e: v2(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 5)}, Context: ccContext(t, addVoter5)[:10]}), fails: true},
		{name: "V2: context of another version", e: v2(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 5)}, Context: badVersion}), wantErr: messages.ErrVersion},
		{name: "V1: context of another version", e: v1(raftpb.ConfChangeAddNode, 5, badVersion), wantErr: messages.ErrVersion},
		{name: "a normal entry", e: confEntry(raftpb.EntryNormal, 9, marshal(t, &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(5))})), fails: true},
		{name: "an entry of an unknown type", e: confEntry(raftpb.EntryType(7), 9, nil), fails: true},
		{name: "nil entry", e: nil, fails: true},
	}
	for i, tt := range tests {
		got, err := membership.DecodeEntry(tt.e)
		switch {
		case tt.wantErr != nil:
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%d (%s): DecodeEntry error %v, want %v", i, tt.name, err, tt.wantErr)
			}
		case tt.fails:
			if err == nil {
				t.Errorf("%d (%s): DecodeEntry = %+v, want an error", i, tt.name, got)
			}
		default:
			if err != nil {
				t.Errorf("%d (%s): DecodeEntry: %v", i, tt.name, err)
				continue
			}
			if got.Change != tt.want || got.Index != 9 {
				t.Errorf("%d (%s): DecodeEntry = change %+v index %d, want %+v 9", i, tt.name, got.Change, got.Index, tt.want)
			}
		}
	}
}

// TestDecodeEntryWithoutContextIsRefused checks what becomes of an entry
// without a context: it reads as a change without an address, which a Book
// takes only if it needs none.
func TestDecodeEntryWithoutContextIsRefused(t *testing.T) {
	tests := []struct {
		name    string
		cc      *raftpb.ConfChange
		wantErr error
	}{
		{"add without an address", &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(5))}, messages.ErrInvalidMember},
		{"remove a member", &raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: new(uint64(2))}, nil},
		{"add node 0", &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(0))}, messages.ErrInvalidMember},
	}
	for i, tt := range tests {
		got, err := membership.DecodeEntry(confEntry(raftpb.EntryConfChange, 3, marshal(t, tt.cc)))
		if err != nil {
			t.Errorf("%d (%s): DecodeEntry: %v", i, tt.name, err)
			continue
		}
		b := bookOf(t, fixtureState())
		before := b.State()
		err = b.Apply(got.Change, got.ClusterID)
		if p := errProblem(err, tt.wantErr); p != "" {
			t.Errorf("%d (%s): Apply: %s", i, tt.name, p)
		}
		if err != nil && !sameState(b.State(), before) {
			t.Errorf("%d (%s): refused change changed the Book", i, tt.name)
		}
	}
}

// TestNoOpLeavesRaftConfig applies NoOp through raft's own confchange
// package: the config stays as it was.
func TestNoOpLeavesRaftConfig(t *testing.T) {
	tests := []struct {
		name string
		cs   *raftpb.ConfState
	}{
		{"voters 1,2,3", &raftpb.ConfState{Voters: []uint64{1, 2, 3}}},
		{"voters 1,2,3, learner 4", &raftpb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}},
		{"voter 1", &raftpb.ConfState{Voters: []uint64{1}}},
	}
	noop := membership.NoOp()
	if len(noop.GetChanges()) != 1 || noop.GetChanges()[0].GetNodeId() != 0 || len(noop.GetContext()) != 0 {
		t.Fatalf("NoOp() = %v, want one change of node 0 and no context", noop)
	}
	for i, tt := range tests {
		chg := confchange.Changer{Tracker: tracker.MakeProgressTracker(16, 0), LastIndex: 10}
		cfg, trk, err := confchange.Restore(chg, tt.cs)
		if err != nil {
			t.Fatalf("%d (%s): Restore: %v", i, tt.name, err)
		}
		chg.Tracker.Config, chg.Tracker.Progress = cfg, trk
		before := chg.Tracker.ConfState()

		cfg2, trk2, err := chg.Simple(membership.NoOp().Changes...)
		if err != nil {
			t.Errorf("%d (%s): Simple(NoOp): %v", i, tt.name, err)
			continue
		}
		chg.Tracker.Config, chg.Tracker.Progress = cfg2, trk2
		after := chg.Tracker.ConfState()
		if !proto.Equal(before, after) {
			t.Errorf("%d (%s): NoOp changed the config from %v to %v", i, tt.name, before, after)
		}
		if !slices.Equal(slices.Sorted(maps.Keys(trk2)), slices.Sorted(maps.Keys(trk))) {
			t.Errorf("%d (%s): NoOp changed the tracked nodes", i, tt.name)
		}
		// Raft reads it as a simple change, not a joint one.
		if _, joint := membership.NoOp().EnterJoint(); joint {
			t.Errorf("%d (%s): NoOp would enter a joint config", i, tt.name)
		}
	}
}
