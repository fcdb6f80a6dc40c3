package membership_test

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// seedChanges are the changes whose entries seed the fuzz targets.
var seedChanges = []messages.MemberChange{
	change(messages.AddVoter, 5, "10.0.0.5:2380", "http://10.0.0.5:2379"),
	change(messages.AddLearner, 6, "[::1]:2380", ""),
	change(messages.Promote, 4, "", ""),
	change(messages.Remove, 2, "", ""),
	change(messages.Remove, 1, "", ""),
	change(messages.Update, 1, "", "https://node1.example:443"),
	change(messages.AddVoter, 3, "10.0.0.3:2380", ""),
	change(messages.AddVoter, 0, "", ""),
}

// checkDecoded asserts what must hold of any entry DecodeEntry reads: the
// change agrees with raft's, and a Book checks and applies it without
// panicking, Check agreeing with Apply, a refusal changing nothing, and the
// resulting State restorable.
func checkDecoded(t *testing.T, ent membership.Entry) {
	if ent.Raft == nil {
		t.Fatalf("DecodeEntry succeeded without raft's change: %+v", ent)
	}
	v2 := ent.Raft.AsV2()
	if len(v2.GetChanges()) != 1 || v2.GetChanges()[0].GetNodeId() != ent.Change.Member.ID {
		t.Fatalf("DecodeEntry = %+v, but raft changes %v", ent.Change, v2)
	}
	b := bookOf(t, fixtureState())
	before := b.State()
	checkErr := b.Check(ent.Change)
	_ = b.CheckSafety(ent.Change, 1, 100, progress(ids(1, 2), ids(4)))
	_ = b.CheckSafety(ent.Change, 2, 0, nil)
	applyErr := b.Apply(ent.Change, ent.ClusterID)
	if (checkErr == nil) != (applyErr == nil) {
		t.Fatalf("%+v: Check says %v, Apply %v", ent.Change, checkErr, applyErr)
	}
	after := b.State()
	if applyErr != nil {
		if !sameState(after, before) {
			t.Fatalf("%+v refused (%v) but the Book changed: %+v", ent.Change, applyErr, after)
		}
		return
	}
	c, err := membership.FromState(after)
	if err != nil {
		t.Fatalf("%+v accepted, but FromState refuses the result %+v: %v", ent.Change, after, err)
	}
	if got := c.State(); !sameState(got, after) {
		t.Fatalf("FromState(%+v).State() = %+v", after, got)
	}
}

// FuzzDecodeEntry feeds DecodeEntry arbitrary entries: it must never
// panic, and what it reads must be safe to check and apply.
func FuzzDecodeEntry(f *testing.F) {
	add := func(typ raftpb.EntryType, m proto.Message) {
		data, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(typ), data)
	}
	for i, ch := range seedChanges {
		cc, err := membership.ConfChange(messages.RequestID{Node: 1, Seq: uint64(i)}, ch)
		if err != nil {
			f.Fatal(err)
		}
		add(raftpb.EntryConfChangeV2, cc)
		add(raftpb.EntryConfChange, &raftpb.ConfChange{Type: cc.GetChanges()[0].GetType().Enum(), NodeId: new(ch.Member.ID), Context: cc.GetContext()})
	}
	bootstrap := ccContext(f, messages.ConfChangeContext{Change: change(messages.AddVoter, 5, "10.0.0.5:2380", ""), ClusterID: 1234})
	add(raftpb.EntryConfChange, &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(uint64(5)), Context: bootstrap})
	add(raftpb.EntryConfChange, &raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: new(uint64(2))})
	add(raftpb.EntryConfChangeV2, membership.NoOp())
	add(raftpb.EntryConfChangeV2, &raftpb.ConfChangeV2{Transition: raftpb.ConfChangeTransitionJointExplicit.Enum(),
		Changes: []*raftpb.ConfChangeSingle{single(raftpb.ConfChangeAddNode, 5), single(raftpb.ConfChangeRemoveNode, 2)}})
	f.Add(uint8(raftpb.EntryConfChangeV2), []byte(nil))
	f.Add(uint8(raftpb.EntryConfChange), []byte{0xff, 0x01})
	f.Add(uint8(raftpb.EntryNormal), []byte("x"))
	f.Add(uint8(9), []byte{})

	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		e := &raftpb.Entry{Type: raftpb.EntryType(typ).Enum(), Term: new(uint64(1)), Index: new(uint64(8)), Data: data}
		ent, err := membership.DecodeEntry(e)
		if err != nil {
			return
		}
		if ent.Index != 8 {
			t.Fatalf("Index %d, want 8", ent.Index)
		}
		checkDecoded(t, ent)
	})
}

// FuzzDecodeEntryContext holds the protobuf wrapper well formed and lets
// the fuzzer work on the msgpack context, which it rarely reaches through
// FuzzDecodeEntry.
func FuzzDecodeEntryContext(f *testing.F) {
	for i, ch := range seedChanges {
		cc, err := membership.ConfChange(messages.RequestID{Node: 2, Seq: uint64(i)}, ch)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(cc.GetChanges()[0].GetType()), ch.Member.ID, cc.GetContext())
	}
	f.Add(uint8(raftpb.ConfChangeAddNode), uint64(5),
		ccContext(f, messages.ConfChangeContext{Change: change(messages.AddVoter, 5, "h:5", ""), ClusterID: 1<<64 - 1}))
	f.Add(uint8(raftpb.ConfChangeUpdateNode), uint64(1), []byte{0xc1})

	f.Fuzz(func(t *testing.T, ccType uint8, nodeID uint64, ctx []byte) {
		cc := &raftpb.ConfChangeV2{
			Changes: []*raftpb.ConfChangeSingle{{Type: raftpb.ConfChangeType(ccType % 4).Enum(), NodeId: new(nodeID)}},
			Context: ctx,
		}
		data, err := proto.Marshal(cc)
		if err != nil {
			t.Fatal(err)
		}
		ent, err := membership.DecodeEntry(&raftpb.Entry{Type: raftpb.EntryConfChangeV2.Enum(), Index: new(uint64(8)), Data: data})
		if err != nil {
			return
		}
		checkDecoded(t, ent)
	})
}
