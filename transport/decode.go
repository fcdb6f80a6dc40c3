package transport

import (
	"bytes"
	"fmt"
	"math"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// ownDataMin is the least entry data that decodeRaft gives an allocation
// of its own. Smaller entries' data share one allocation per message,
// which lives as long as the longest-lived of them: raft drops a
// message's entries from its log together, and the store copies values
// under 1 KiB (it keeps bigger ones by reference, store.ShareValues, which
// must not keep a message's other entries alive).
const ownDataMin = 256

// decodeRaft decodes a raft message exactly as proto.Unmarshal does, in a
// handful of allocations rather than five an entry: raftpb's fields are
// proto2 optionals, so proto.Unmarshal allocates each entry, its term,
// its index, its type and its data apart, and a follower's raft log holds
// all of them until the next snapshot, for the collector to mark on every
// cycle. decodeRaft puts a message's scalars in one allocation, its
// entries with theirs in a second, the list of them in a third, and their
// data in a fourth (see ownDataMin). A message it does not handle (a snapshot, responses, a
// field or an enum value raftpb does not know, anything malformed) goes
// to proto.Unmarshal.
func decodeRaft(b []byte) (*raftpb.Message, error) {
	if m, ok := decodeRaftFast(b); ok {
		return m, nil
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode raft message: %w", err)
	}
	return m, nil
}

// The field numbers of raftpb.Message and raftpb.Entry.
const (
	fieldType       = 1
	fieldTo         = 2
	fieldFrom       = 3
	fieldTerm       = 4
	fieldLogTerm    = 5
	fieldIndex      = 6
	fieldEntries    = 7
	fieldCommit     = 8
	fieldReject     = 10
	fieldRejectHint = 11
	fieldContext    = 12
	fieldVote       = 13

	fieldEntryType  = 1
	fieldEntryTerm  = 2
	fieldEntryIndex = 3
	fieldEntryData  = 4
)

// messageBlock is a message with the values its optional fields point to.
type messageBlock struct {
	m      raftpb.Message
	typ    raftpb.MessageType
	reject bool
	// the uint64 fields, by scalarSlot
	u [8]uint64
}

// entryBlock is an entry with the values its optional fields point to.
type entryBlock struct {
	e           raftpb.Entry
	typ         raftpb.EntryType
	term, index uint64
}

// decodeRaftFast decodes b if it holds only what decodeRaft handles; ok
// is false otherwise. A first pass checks the message's fields and sizes
// its allocations, the second fills them.
func decodeRaftFast(b []byte) (m *raftpb.Message, ok bool) {
	entries, data, ok := scanMessage(b)
	if !ok {
		return nil, false
	}
	blk := &messageBlock{}
	m = &blk.m
	var ents []entryBlock
	if entries > 0 {
		ents = make([]entryBlock, entries)
		m.Entries = make([]*raftpb.Entry, 0, entries)
	}
	// The uint64 fields, in the order of their slots (scalarSlots).
	scalars := [...]**uint64{&m.To, &m.From, &m.Term, &m.LogTerm, &m.Index, &m.Commit, &m.RejectHint, &m.Vote}
	var shared []byte
	if data > 0 {
		shared = make([]byte, 0, data)
	}
	for len(b) > 0 {
		var f field
		f, b, _ = readField(b) // scanMessage accepted it
		switch f.num {
		case fieldContext:
			m.Context = bytes.Clone(f.bytes)
		case fieldEntries:
			e := &ents[len(m.Entries)]
			shared = fillEntry(e, f.bytes, shared)
			m.Entries = append(m.Entries, &e.e)
		case fieldType:
			blk.typ, m.Type = raftpb.MessageType(f.varint), &blk.typ
		case fieldReject:
			blk.reject, m.Reject = protowire.DecodeBool(f.varint), &blk.reject
		default:
			slot := scalarSlot(f.num)
			blk.u[slot] = f.varint
			*scalars[slot] = &blk.u[slot]
		}
	}
	return m, true
}

// scanMessage checks that b is a message decodeRaftFast handles, and
// returns how many entries it holds and how many bytes of their data go
// in the shared allocation.
func scanMessage(b []byte) (entries, data int, ok bool) {
	for len(b) > 0 {
		var f field
		if f, b, ok = readField(b); !ok {
			return 0, 0, false
		}
		switch {
		case f.typ == protowire.BytesType && f.num == fieldEntries:
			size, ok := scanEntry(f.bytes)
			if !ok {
				return 0, 0, false
			}
			entries++
			if size < ownDataMin {
				data += size
			}
		case f.typ == protowire.BytesType && f.num == fieldContext:
		case f.typ == protowire.VarintType && f.num == fieldType && knownEnum(raftpb.MessageType_name, f.varint):
		case f.typ == protowire.VarintType && (f.num == fieldReject || scalarSlot(f.num) >= 0):
		default:
			return 0, 0, false
		}
	}
	return entries, data, true
}

// scanEntry checks an entry's fields and returns the size of its data
// (the last data field's, as the last one wins).
func scanEntry(b []byte) (size int, ok bool) {
	for len(b) > 0 {
		var f field
		if f, b, ok = readField(b); !ok {
			return 0, false
		}
		switch {
		case f.typ == protowire.BytesType && f.num == fieldEntryData:
			size = len(f.bytes)
		case f.typ == protowire.VarintType && f.num == fieldEntryType && knownEnum(raftpb.EntryType_name, f.varint):
		case f.typ == protowire.VarintType && (f.num == fieldEntryTerm || f.num == fieldEntryIndex):
		default:
			return 0, false
		}
	}
	return size, true
}

// fillEntry decodes the entry b, which scanEntry accepted, into e, its
// data into shared if it is small, and returns what is left of shared.
func fillEntry(e *entryBlock, b, shared []byte) []byte {
	for len(b) > 0 {
		var f field
		f, b, _ = readField(b) // scanEntry accepted it
		switch v := f.bytes; f.num {
		case fieldEntryData:
			// Data present but empty is not nil, as proto2 has it.
			if len(v) >= ownDataMin || len(v) == 0 || cap(shared)-len(shared) < len(v) {
				// Big, empty, or a second data field of the entry (the
				// last one wins), which scanEntry did not count.
				e.e.Data = bytes.Clone(v)
				continue
			}
			// Capped, so that appending to it copies.
			start := len(shared)
			shared = append(shared, v...)
			e.e.Data = shared[start:len(shared):len(shared)]
		case fieldEntryType:
			e.typ, e.e.Type = raftpb.EntryType(f.varint), &e.typ
		case fieldEntryTerm:
			e.term, e.e.Term = f.varint, &e.term
		case fieldEntryIndex:
			e.index, e.e.Index = f.varint, &e.index
		}
	}
	return shared
}

// field is a field of a message: its number and wire type, and its
// value, bytes or a varint.
type field struct {
	num    protowire.Number
	typ    protowire.Type
	bytes  []byte
	varint uint64
}

// readField reads the field that starts b and returns it with the rest of
// b; ok is false if b does not start with a whole field of bytes or a
// varint.
func readField(b []byte) (f field, rest []byte, ok bool) {
	var n int
	if f.num, f.typ, n = protowire.ConsumeTag(b); n < 0 {
		return f, nil, false
	}
	b = b[n:]
	switch f.typ {
	case protowire.BytesType:
		f.bytes, n = protowire.ConsumeBytes(b)
	case protowire.VarintType:
		f.varint, n = protowire.ConsumeVarint(b)
	default:
		return f, nil, false
	}
	if n < 0 {
		return f, nil, false
	}
	return f, b[n:], true
}

// knownEnum says whether v is a value of the enum whose names are names:
// proto2 enums are closed, so proto.Unmarshal keeps any other value as an
// unknown field.
func knownEnum(names map[int32]string, v uint64) bool {
	_, ok := names[int32(v)]
	return ok && v <= math.MaxInt32
}

// scalarSlots maps the number of each uint64 field of raftpb.Message to
// one more than its slot in messageBlock.u (0: not such a field); the
// slots are in the order of the fields decodeRaftFast lists.
var scalarSlots = [...]int8{fieldTo: 1, fieldFrom: 2, fieldTerm: 3, fieldLogTerm: 4, fieldIndex: 5,
	fieldCommit: 6, fieldRejectHint: 7, fieldVote: 8}

// scalarSlot is where messageBlock keeps the uint64 field num, -1 if num
// is not one.
func scalarSlot(num protowire.Number) int {
	if num < 0 || int(num) >= len(scalarSlots) {
		return -1
	}
	return int(scalarSlots[num]) - 1
}
