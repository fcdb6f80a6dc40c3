package transport

import (
	"bytes"
	"testing"
	"unsafe"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// decodeCases are raft messages as members send them, and wire input that
// proto.Unmarshal reads differently or refuses; fast says whether
// decodeRaftFast takes it (false: it goes to proto.Unmarshal).
var decodeCases = []struct {
	name string
	wire []byte
	fast bool
}{
	{"an append of small entries", marshal(appendOf(1, 64, 100, 150, 0)), true},
	{"an append of small and big entries", marshal(appendOf(7, 3, 100, ownDataMin, 16<<10, ownDataMin-1)), true},
	{"an append whose entries have no data, or empty data", marshal(appendOf(7, 3, 100, -1, 0)), true},
	{"an answer that refuses", marshal(&raftpb.Message{Type: raftpb.MsgAppResp.Enum(), To: u(1), From: u(2), Term: u(3),
		Index: u(99), Reject: proto.Bool(true), RejectHint: u(42), LogTerm: u(2)}), true},
	{"a heartbeat with a read's context", marshal(&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), To: u(2), From: u(1),
		Term: u(3), Commit: u(10), Context: []byte("read-17")}), true},
	{"a heartbeat with an empty context", marshal(&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), Context: []byte{}}), true},
	{"a vote", marshal(&raftpb.Message{Type: raftpb.MsgVote.Enum(), Term: u(9), LogTerm: u(8), Index: u(77), Vote: u(0)}), true},
	{"a read index with its context as an entry", marshal(&raftpb.Message{Type: raftpb.MsgReadIndex.Enum(),
		Entries: []*raftpb.Entry{{Data: []byte("ctx")}}}), true},
	{"an empty message", nil, true},
	{"a field given twice: the last one wins", concat(marshal(&raftpb.Message{Term: u(1), Commit: u(5)}),
		marshal(&raftpb.Message{Term: u(2)})), true},
	{"an entry's data given twice", entryDataTwice(), true},
	{"a snapshot", marshal(&raftpb.Message{Type: raftpb.MsgSnap.Enum(), Snapshot: &raftpb.Snapshot{Data: []byte("s"),
		Metadata: &raftpb.SnapshotMetadata{Index: u(5), Term: u(1)}}}), false},
	{"responses", marshal(&raftpb.Message{Type: raftpb.MsgStorageAppend.Enum(), Responses: []*raftpb.Message{{Term: u(1)}}}), false},
	{"an unknown message type", protowire.AppendVarint(protowire.AppendTag(nil, fieldType, protowire.VarintType), 999), false},
	{"an unknown entry type", bytesField(fieldEntries, protowire.AppendVarint(protowire.AppendTag(nil, fieldEntryType, protowire.VarintType), 9)), false},
	{"an unknown field", protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1), false},
	{"a known field of the wrong wire type", protowire.AppendFixed64(protowire.AppendTag(nil, fieldTerm, protowire.Fixed64Type), 1), false},
	{"truncated", marshal(appendOf(1, 2, 100, 150))[:20], false},
}

func TestDecodeRaftReadsWhatProtoReads(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			want := &raftpb.Message{}
			wantErr := proto.Unmarshal(tc.wire, want)
			_, fast := decodeRaftFast(tc.wire)
			if fast != tc.fast {
				t.Errorf("decoded by the fast path: %v, want %v", fast, tc.fast)
			}
			got, err := decodeRaft(tc.wire)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, proto.Unmarshal's %v", err, wantErr)
			}
			if err == nil && !proto.Equal(got, want) {
				t.Errorf("decoded\n%v\nproto.Unmarshal decodes\n%v", got, want)
			}
		})
	}
}

// A big entry's data is an allocation of its own and small ones share
// one, each capped: what keeps a big value (the store keeps big values by
// reference) keeps no other entry, and appending to data copies it.
func TestDecodeRaftKeepsBigDataApart(t *testing.T) {
	m, ok := decodeRaftFast(marshal(appendOf(1, 10, 100, 150, 16<<10, 150, 0)))
	if !ok {
		t.Fatal("not decoded by the fast path")
	}
	small1, big, small2 := m.Entries[0].Data, m.Entries[1].Data, m.Entries[2].Data
	if cap(small1) != len(small1) || cap(small2) != len(small2) {
		t.Errorf("small data not capped: cap %d and %d for %d bytes", cap(small1), cap(small2), len(small1))
	}
	if addr(small1)+uintptr(len(small1)) != addr(small2) {
		t.Error("two small entries' data are not next to each other in one allocation")
	}
	for _, small := range [][]byte{small1, small2} {
		if p := addr(small); p >= addr(big) && p < addr(big)+uintptr(cap(big)) {
			t.Error("a small entry's data shares the big entry's allocation")
		}
	}
	if m.Entries[3].Data == nil {
		t.Error("empty data decoded as absent")
	}
}

func FuzzDecodeRaft(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add(tc.wire)
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		got, ok := decodeRaftFast(wire)
		if !ok {
			return
		}
		want := &raftpb.Message{}
		if err := proto.Unmarshal(wire, want); err != nil {
			t.Fatalf("decoded what proto.Unmarshal refuses (%v): %v", err, got)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("decoded\n%v\nproto.Unmarshal decodes\n%v", got, want)
		}
	})
}

// BenchmarkDecodeRaft decodes what a follower receives most: an append of
// 16 entries of 150 bytes.
func BenchmarkDecodeRaft(b *testing.B) {
	wire := marshal(appendOf(3, 16, 1000, 150))
	b.Run("raftkv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeRaft(wire); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := proto.Unmarshal(wire, &raftpb.Message{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// appendOf is a MsgApp in term, from index on, with an entry of each data
// size (-1: no data).
func appendOf(term uint64, n int, index uint64, sizes ...int) *raftpb.Message {
	m := &raftpb.Message{Type: raftpb.MsgApp.Enum(), To: u(2), From: u(1), Term: u(term), LogTerm: u(term),
		Index: u(index), Commit: u(index)}
	for i := range n {
		e := &raftpb.Entry{Term: u(term), Index: u(index + 1 + uint64(i)), Type: raftpb.EntryNormal.Enum()}
		if size := sizes[i%len(sizes)]; size >= 0 {
			e.Data = bytes.Repeat([]byte{byte(i)}, size)
		}
		m.Entries = append(m.Entries, e)
	}
	return m
}

// entryDataTwice is an append whose one entry gives its data twice.
func entryDataTwice() []byte {
	entry := concat(bytesField(fieldEntryData, []byte("first")), bytesField(fieldEntryData, []byte("second")))
	return bytesField(fieldEntries, entry)
}

func bytesField(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

func marshal(m *raftpb.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u(v uint64) *uint64 { return &v }

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
