package raftnode

import (
	"slices"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

func ent(index uint64) *raftpb.Entry {
	return &raftpb.Entry{Term: new(uint64(1)), Index: new(index), Type: raftpb.EntryNormal.Enum()}
}

func ents(from, to uint64) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := from; i <= to; i++ {
		out = append(out, ent(i))
	}
	return out
}

func hardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func snapshotAt(index uint64) *raftpb.Snapshot {
	return &raftpb.Snapshot{Data: []byte("state"), Metadata: &raftpb.SnapshotMetadata{
		Index: new(index), Term: new(uint64(1)), ConfState: &raftpb.ConfState{Voters: []uint64{1, 2, 3}},
	}}
}

func msgs(types ...raftpb.MessageType) []*raftpb.Message {
	var out []*raftpb.Message
	for _, t := range types {
		out = append(out, &raftpb.Message{Type: t.Enum(), From: new(uint64(1)), To: new(uint64(2))})
	}
	return out
}

// TestStagePlan checks, for one Ready each, what raftnode does at once and
// what waits for the persister's ack.
func TestStagePlan(t *testing.T) {
	tests := []struct {
		name   string
		rd     raft.Ready
		leader bool
		stable uint64

		// right away
		persist, apply bool
		sendNow        int
		withPersist    int // messages the Persist carries
		nothingToWait  bool
		// once the persister acknowledged
		sendAfterPersist  int
		applyAfterPersist bool
	}{
		{
			name: "empty Ready needs nothing",
			rd:   raft.Ready{}, nothingToWait: true,
		},
		{
			name:          "soft state and an empty hard state need nothing",
			rd:            raft.Ready{SoftState: &raft.SoftState{Lead: 1}, HardState: &raftpb.HardState{}},
			nothingToWait: true,
		},
		{
			name: "leader sends before its own fsync",
			rd: raft.Ready{
				HardState: hardState(2, 1, 4), Entries: ents(5, 6),
				Messages: msgs(raftpb.MsgApp, raftpb.MsgApp),
			},
			leader: true, stable: 4,
			persist: true, sendNow: 2,
		},
		{
			name: "follower's messages ride with the Persist, for the persister to send once durable",
			rd: raft.Ready{
				HardState: hardState(2, 0, 4), Entries: ents(5, 6),
				Messages: msgs(raftpb.MsgAppResp),
			},
			stable:  4,
			persist: true, withPersist: 1,
		},
		{
			name:    "candidate's vote requests ride with the Persist of its vote",
			rd:      raft.Ready{HardState: hardState(3, 1, 4), Messages: msgs(raftpb.MsgVote, raftpb.MsgVote)},
			stable:  4,
			persist: true, withPersist: 2,
		},
		{
			name:    "follower with nothing to persist sends at once",
			rd:      raft.Ready{Messages: msgs(raftpb.MsgHeartbeatResp)},
			sendNow: 1, nothingToWait: true,
		},
		{
			name: "follower: committed entries it is still receiving wait for persist",
			rd: raft.Ready{
				HardState: hardState(2, 0, 6), Entries: ents(5, 6), CommittedEntries: ents(4, 6),
				Messages: msgs(raftpb.MsgAppResp),
			},
			stable:  4,
			persist: true, withPersist: 1, applyAfterPersist: true,
		},
		{
			name: "single node: entries committed in the Ready that writes them wait for persist (etcd#14370)",
			rd: raft.Ready{
				HardState: hardState(2, 1, 3), Entries: ents(3, 3), CommittedEntries: ents(3, 3),
			},
			leader: true, stable: 2,
			persist: true, applyAfterPersist: true,
		},
		{
			name: "durable committed entries apply in parallel with the persist",
			rd: raft.Ready{
				HardState: hardState(2, 1, 6), Entries: ents(7, 8), CommittedEntries: ents(5, 6),
				Messages: msgs(raftpb.MsgApp),
			},
			leader: true, stable: 6,
			persist: true, apply: true, sendNow: 1,
		},
		{
			name: "follower: durable committed entries apply at once, messages still wait",
			rd: raft.Ready{
				HardState: hardState(2, 0, 6), Entries: ents(7, 7), CommittedEntries: ents(5, 6),
				Messages: msgs(raftpb.MsgAppResp),
			},
			stable:  6,
			persist: true, apply: true, withPersist: 1,
		},
		{
			name: "a leader that stepped down in this Ready: its snapshot message waits for the ack, for the applier",
			rd: raft.Ready{
				SoftState: &raft.SoftState{RaftState: raft.StateFollower}, HardState: hardState(3, 0, 6),
				Messages: msgs(raftpb.MsgSnap, raftpb.MsgHeartbeatResp),
			},
			stable:  6,
			persist: true, sendAfterPersist: 2,
		},
		{
			name:   "replay after a restart: committed entries without anything to persist",
			rd:     raft.Ready{CommittedEntries: ents(1, 3)},
			stable: 3,
			apply:  true,
		},
		{
			name: "snapshot applies only after it is persisted",
			rd: raft.Ready{
				HardState: hardState(2, 0, 10), Snapshot: snapshotAt(10),
				Messages: msgs(raftpb.MsgAppResp),
			},
			stable:  20, // even when the index looks durable
			persist: true, sendAfterPersist: 1, applyAfterPersist: true,
		},
		{
			name:          "an empty snapshot is no snapshot",
			rd:            raft.Ready{Snapshot: &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{}}},
			nothingToWait: true,
		},
	}
	for i, tt := range tests {
		s, p := newStage(uint64(i+1), tt.rd, tt.leader, tt.stable)
		if s.seq != uint64(i+1) {
			t.Errorf("%d (%s): seq %d, want %d", i, tt.name, s.seq, i+1)
		}
		if p.persist != tt.persist || p.apply != tt.apply || len(p.sendNow) != tt.sendNow ||
			len(p.withPersist) != tt.withPersist || p.nothingToWait != tt.nothingToWait {
			t.Errorf("%d (%s): plan persist=%v apply=%v sendNow=%d withPersist=%d nothingToWait=%v, want %v %v %d %d %v",
				i, tt.name, p.persist, p.apply, len(p.sendNow), len(p.withPersist), p.nothingToWait,
				tt.persist, tt.apply, tt.sendNow, tt.withPersist, tt.nothingToWait)
			continue
		}
		for _, m := range p.withPersist {
			if m.GetType() == raftpb.MsgSnap {
				t.Errorf("%d (%s): a MsgSnap rides with the Persist; it must go to the applier", i, tt.name)
			}
		}
		if got := s.done(); got != tt.nothingToWait {
			t.Errorf("%d (%s): done() = %v before any ack, want %v", i, tt.name, got, tt.nothingToWait)
		}
		if !p.persist {
			continue
		}
		send, apply := s.persisted()
		if len(send) != tt.sendAfterPersist || apply != tt.applyAfterPersist {
			t.Errorf("%d (%s): after persisted: send %d, apply %v; want %d, %v",
				i, tt.name, len(send), apply, tt.sendAfterPersist, tt.applyAfterPersist)
		}
		// Every message of the Ready leaves once, in the Ready's order.
		if got := slices.Concat(p.sendNow, p.withPersist, send); !slices.Equal(got, tt.rd.Messages) {
			t.Errorf("%d (%s): the messages that leave are not the Ready's, each once", i, tt.name)
		}
		if send, apply := s.persisted(); len(send) != 0 || apply {
			t.Errorf("%d (%s): a second persisted() hands out %d messages and apply=%v again", i, tt.name, len(send), apply)
		}
	}
}

// TestStageDoneNeedsBothAcks checks that Advance waits for the persister and
// the applier, whichever answers first.
func TestStageDoneNeedsBothAcks(t *testing.T) {
	rd := raft.Ready{HardState: hardState(2, 1, 6), Entries: ents(7, 7), CommittedEntries: ents(5, 6)}
	tests := []struct {
		name  string
		order []string
	}{
		{"persisted first", []string{"persisted", "applied"}},
		{"applied first", []string{"applied", "persisted"}},
	}
	for i, tt := range tests {
		s, p := newStage(1, rd, true, 6)
		if !p.persist || !p.apply {
			t.Fatalf("%d (%s): plan %+v, want persist and apply at once", i, tt.name, p)
		}
		for k, ack := range tt.order {
			if s.done() {
				t.Fatalf("%d (%s): done before the %s ack", i, tt.name, ack)
			}
			if ack == "persisted" {
				s.persisted()
			} else {
				s.applied()
			}
			if last := k == len(tt.order)-1; s.done() != last {
				t.Errorf("%d (%s): after %v, done() = %v, want %v", i, tt.name, tt.order[:k+1], s.done(), last)
			}
		}
	}
}

// TestStageApplyAfterPersistIsNotDoneUntilApplied checks the path where the
// Apply leaves only with the persister's ack: persisted alone is not done.
func TestStageApplyAfterPersistIsNotDoneUntilApplied(t *testing.T) {
	rd := raft.Ready{HardState: hardState(2, 0, 6), Entries: ents(5, 6), CommittedEntries: ents(5, 6)}
	s, p := newStage(7, rd, false, 4)
	if !p.persist || p.apply || p.nothingToWait {
		t.Fatalf("plan %+v, want persist only", p)
	}
	if _, apply := s.persisted(); !apply {
		t.Fatal("persisted() did not release the Apply")
	}
	if s.done() {
		t.Fatal("done before the applier acknowledged")
	}
	s.applied()
	if !s.done() {
		t.Fatal("not done after both acks")
	}
}

func TestLastIndex(t *testing.T) {
	tests := []struct {
		rd   raft.Ready
		want uint64
	}{
		{raft.Ready{}, 0},
		{raft.Ready{Entries: ents(3, 5)}, 5},
		{raft.Ready{Snapshot: snapshotAt(9)}, 9},
		{raft.Ready{Snapshot: snapshotAt(9), Entries: ents(10, 11)}, 11},
		{raft.Ready{HardState: hardState(1, 1, 1)}, 0},
	}
	for i, tt := range tests {
		if got := lastIndex(tt.rd); got != tt.want {
			t.Errorf("%d: lastIndex = %d, want %d", i, got, tt.want)
		}
	}
}
