package snapshot

import (
	"bytes"
	"errors"
	"hash"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/messages"
)

// memFile is a storeFile in memory that counts its commits and aborts.
type memFile struct {
	buf       bytes.Buffer
	crc       hash.Hash32
	commits   int
	aborts    int
	writeErr  error
	commitErr error
}

func newMemFile() *memFile { return &memFile{crc: crc32.New(crcTable)} }

func (f *memFile) Write(p []byte) (int, error) {
	if f.writeErr != nil {
		return 0, f.writeErr
	}
	f.crc.Write(p)
	return f.buf.Write(p)
}

func (f *memFile) Size() uint64 { return uint64(f.buf.Len()) }
func (f *memFile) CRC() uint32  { return f.crc.Sum32() }

func (f *memFile) Commit() (uint64, uint32, error) {
	f.commits++
	if f.commitErr != nil {
		return 0, 0, f.commitErr
	}
	return f.Size(), f.CRC(), nil
}

func (f *memFile) Abort() { f.aborts++ }

// startAndOpen starts an incoming transfer as the actor does: checked
// first, its file created after.
func startAndOpen(self, from uint64, addr string, c *messages.SnapshotChunk, now uint64,
	create func(term, index uint64) (storeFile, error)) (*incoming, error) {
	in, err := startIncoming(self, from, addr, c, now)
	if err != nil {
		return nil, err
	}
	if err := in.open(create); err != nil {
		return nil, err
	}
	return in, nil
}

// opener records the files startAndOpen opens.
type opener struct {
	files       []*memFile
	term, index uint64
	err         error
}

func (o *opener) open(term, index uint64) (storeFile, error) {
	if o.err != nil {
		return nil, o.err
	}
	o.term, o.index = term, index
	f := newMemFile()
	o.files = append(o.files, f)
	return f, nil
}

var testMembership = messages.MembershipState{
	ClusterID: 0xc1,
	Members:   []messages.Member{{ID: 1, PeerAddress: "n1:1"}, {ID: 2, PeerAddress: "n2:1", Learner: true}},
	Removed:   []messages.RemovedMember{{ID: 9, PeerAddress: "n9:1"}},
}

// msgSnap returns the MsgSnap member 2 sends member 1: a snapshot at index
// 40 of term 3, its Data the meta without DB fields.
func msgSnap(t *testing.T) *raftpb.Message {
	t.Helper()
	data, err := messages.EncodeSnapshotMeta(messages.SnapshotMeta{Membership: testMembership})
	if err != nil {
		t.Fatal(err)
	}
	return &raftpb.Message{
		Type: raftpb.MessageType_MsgSnap.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(3)),
		Snapshot: &raftpb.Snapshot{
			Data: data,
			Metadata: &raftpb.SnapshotMetadata{Index: new(uint64(40)), Term: new(uint64(3)),
				ConfState: &raftpb.ConfState{Voters: []uint64{1}, Learners: []uint64{2}}},
		},
	}
}

func marshal(t *testing.T, m *raftpb.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// streamChunks cuts data into chunks of size as a sender does, chunk 0
// carrying message.
func streamChunks(data []byte, size int, message []byte) []messages.SnapshotChunk {
	var out []messages.SnapshotChunk
	for off := 0; ; off += size {
		end := min(off+size, len(data))
		c := messages.SnapshotChunk{Transfer: 5, Seq: uint64(len(out)), Offset: uint64(off), Data: data[off:end]}
		if off == 0 {
			c.Message = message
		}
		if end == len(data) {
			c.Last, c.Size, c.CRC = true, uint64(len(data)), crc32.Checksum(data, crcTable)
			return append(out, c)
		}
		out = append(out, c)
	}
}

// Chunk 0 must carry a MsgSnap from the sender to this member, with an
// index, a ConfState and a meta this build reads; anything else is refused
// before a file is opened.
func TestStartIncomingValidation(t *testing.T) {
	withMsg := func(change func(m *raftpb.Message)) func(*testing.T, *messages.SnapshotChunk) {
		return func(t *testing.T, c *messages.SnapshotChunk) {
			m := msgSnap(t)
			change(m)
			c.Message = marshal(t, m)
		}
	}
	oldMeta, err := messages.Encode(&messages.SnapshotMeta{Version: 1, Membership: testMembership})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*testing.T, *messages.SnapshotChunk)
	}{
		{"not seq 0", func(_ *testing.T, c *messages.SnapshotChunk) { c.Seq = 1 }},
		{"not at offset 0", func(_ *testing.T, c *messages.SnapshotChunk) { c.Offset = 3 }},
		{"no message", func(_ *testing.T, c *messages.SnapshotChunk) { c.Message = nil }},
		{"an undecodable message", func(_ *testing.T, c *messages.SnapshotChunk) { c.Message = []byte{0xff, 0xff, 0xff} }},
		{"not a MsgSnap", withMsg(func(m *raftpb.Message) { m.Type = raftpb.MessageType_MsgApp.Enum() })},
		{"a message without a type", withMsg(func(m *raftpb.Message) { m.Type = nil })},
		{"to another member", withMsg(func(m *raftpb.Message) { m.To = new(uint64(3)) })},
		{"from another member", withMsg(func(m *raftpb.Message) { m.From = new(uint64(3)) })},
		{"no snapshot", withMsg(func(m *raftpb.Message) { m.Snapshot = nil })},
		{"no metadata", withMsg(func(m *raftpb.Message) { m.Snapshot.Metadata = nil })},
		{"index 0", withMsg(func(m *raftpb.Message) { m.Snapshot.Metadata.Index = new(uint64(0)) })},
		{"no ConfState", withMsg(func(m *raftpb.Message) { m.Snapshot.Metadata.ConfState = nil })},
		{"no meta", withMsg(func(m *raftpb.Message) { m.Snapshot.Data = nil })},
		{"an undecodable meta", withMsg(func(m *raftpb.Message) { m.Snapshot.Data = []byte("\xc1not msgpack") })},
		{"a meta of version 1", withMsg(func(m *raftpb.Message) { m.Snapshot.Data = oldMeta })},
	}
	for i, tt := range tests {
		c := streamChunks([]byte("data"), 100, marshal(t, msgSnap(t)))[0]
		tt.change(t, &c)
		var o opener
		in, err := startAndOpen(1, 2, "n2:1", &c, 7, o.open)
		if err == nil || in != nil {
			t.Errorf("%d (%s): startIncoming = %v, %v; want an error", i, tt.name, in, err)
		}
		if len(o.files) != 0 {
			t.Errorf("%d (%s): a file was opened for a refused transfer", i, tt.name)
		}
	}
	// An error of the file is the transfer's.
	c := streamChunks([]byte("data"), 100, marshal(t, msgSnap(t)))[0]
	o := opener{err: errors.New("disk full")}
	if in, err := startAndOpen(1, 2, "n2:1", &c, 7, o.open); err == nil || in != nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("startIncoming with a failing open = %v, %v; want the open error", in, err)
	}
}

// The whole stream, in order, gives the MsgSnap to step, its Data the meta
// with the file's size and CRC; the file is committed once.
func TestIncomingComplete(t *testing.T) {
	tests := []struct {
		name   string
		length int
		size   int
	}{
		{"several chunks", 1000, 128},
		{"one chunk", 10, 128},
		{"an empty stream", 0, 128},
		{"chunks of one byte", 7, 1},
	}
	for i, tt := range tests {
		data := pattern(tt.length)
		want := msgSnap(t)
		chunks := streamChunks(data, tt.size, marshal(t, want))
		var o opener
		in, err := startAndOpen(1, 2, "n2:1", &chunks[0], 7, o.open)
		if err != nil {
			t.Fatalf("%d (%s): startIncoming: %v", i, tt.name, err)
		}
		if o.term != 3 || o.index != 40 || len(o.files) != 1 {
			t.Fatalf("%d (%s): opened %d files, for term %d index %d; want one for 3, 40", i, tt.name, len(o.files), o.term, o.index)
		}
		f := o.files[0]
		var got *raftpb.Message
		for j := range chunks {
			m, err := in.add(&chunks[j], uint64(8+j))
			if err != nil {
				t.Fatalf("%d (%s): chunk %d: %v", i, tt.name, j, err)
			}
			if last := j == len(chunks)-1; (m != nil) != last {
				t.Fatalf("%d (%s): chunk %d of %d gives message %v", i, tt.name, j, len(chunks), m)
			}
			if in.progress != uint64(8+j) {
				t.Errorf("%d (%s): chunk %d: progress %d, want %d", i, tt.name, j, in.progress, 8+j)
			}
			got = m
		}
		if f.commits != 1 || f.aborts != 0 || !bytes.Equal(f.buf.Bytes(), data) {
			t.Errorf("%d (%s): file: %d commits, %d aborts, %d bytes of %d", i, tt.name, f.commits, f.aborts, f.buf.Len(), len(data))
		}
		meta, err := messages.DecodeSnapshotMeta(got.GetSnapshot().GetData())
		if err != nil {
			t.Fatalf("%d (%s): the MsgSnap's data: %v", i, tt.name, err)
		}
		wantMeta := messages.SnapshotMeta{Version: messages.SnapshotFormatVersion, DBSize: uint64(len(data)),
			DBCRC: crc32.Checksum(data, crcTable), Membership: testMembership}
		if !reflect.DeepEqual(meta, wantMeta) {
			t.Errorf("%d (%s): meta %+v, want %+v", i, tt.name, meta, wantMeta)
		}
		got.Snapshot.Data = want.Snapshot.Data // the rest is as sent
		if !proto.Equal(got, want) {
			t.Errorf("%d (%s): message %v, want %v", i, tt.name, got, want)
		}
	}
}

// Chunks must come in order, each at the offset where the stream stands,
// and the last must match what arrived: anything else is an error, and no
// message comes out of it.
func TestIncomingRefusesBrokenStreams(t *testing.T) {
	data := pattern(1000)
	tests := []struct {
		name  string
		chunk func(chunks []messages.SnapshotChunk) messages.SnapshotChunk // sent after chunks 0 and 1
	}{
		{"a chunk skipped", func(cs []messages.SnapshotChunk) messages.SnapshotChunk { return cs[3] }},
		{"a chunk again", func(cs []messages.SnapshotChunk) messages.SnapshotChunk { return cs[1] }},
		{"chunk 0 again", func(cs []messages.SnapshotChunk) messages.SnapshotChunk { return cs[0] }},
		{"the next seq at the wrong offset", func(cs []messages.SnapshotChunk) messages.SnapshotChunk {
			c := cs[2]
			c.Offset++
			return c
		}},
		{"the next offset with the wrong seq", func(cs []messages.SnapshotChunk) messages.SnapshotChunk {
			c := cs[2]
			c.Seq = 5
			return c
		}},
		{"the last one early", func(cs []messages.SnapshotChunk) messages.SnapshotChunk {
			c := cs[2]
			c.Last, c.Size, c.CRC = true, cs[len(cs)-1].Size, cs[len(cs)-1].CRC
			return c
		}},
	}
	for i, tt := range tests {
		chunks := streamChunks(data, 100, marshal(t, msgSnap(t)))
		var o opener
		in, err := startAndOpen(1, 2, "n2:1", &chunks[0], 7, o.open)
		if err != nil {
			t.Fatal(err)
		}
		for j := range 2 {
			if _, err := in.add(&chunks[j], 8); err != nil {
				t.Fatal(err)
			}
		}
		c := tt.chunk(chunks)
		if m, err := in.add(&c, 9); err == nil || m != nil {
			t.Errorf("%d (%s): add = %v, %v; want an error", i, tt.name, m, err)
		}
		if o.files[0].commits != 0 {
			t.Errorf("%d (%s): the file was committed", i, tt.name)
		}
	}
}

// A last chunk whose size or CRC does not match what arrived is refused,
// and the file is not committed.
func TestIncomingRefusesAMismatch(t *testing.T) {
	data := pattern(450)
	tests := []struct {
		name   string
		change func(chunks []messages.SnapshotChunk)
	}{
		{"wrong size", func(cs []messages.SnapshotChunk) { cs[len(cs)-1].Size++ }},
		{"size 0", func(cs []messages.SnapshotChunk) { cs[len(cs)-1].Size = 0 }},
		{"wrong CRC", func(cs []messages.SnapshotChunk) { cs[len(cs)-1].CRC ^= 1 }},
		{"a byte changed on the way", func(cs []messages.SnapshotChunk) {
			cs[2].Data = bytes.Clone(cs[2].Data)
			cs[2].Data[5] ^= 1
		}},
		{"a short last chunk", func(cs []messages.SnapshotChunk) { cs[len(cs)-1].Data = cs[len(cs)-1].Data[:10] }},
	}
	for i, tt := range tests {
		chunks := streamChunks(data, 100, marshal(t, msgSnap(t)))
		tt.change(chunks)
		var o opener
		in, err := startAndOpen(1, 2, "n2:1", &chunks[0], 7, o.open)
		if err != nil {
			t.Fatal(err)
		}
		var m *raftpb.Message
		for j := range chunks {
			if m, err = in.add(&chunks[j], 8); err != nil {
				break
			}
		}
		if err == nil || m != nil {
			t.Errorf("%d (%s): the last chunk gives %v, %v; want an error and no message", i, tt.name, m, err)
		}
		if o.files[0].commits != 0 {
			t.Errorf("%d (%s): the file was committed", i, tt.name)
		}
	}
}

// Errors of the file are the transfer's, and give no message.
func TestIncomingFileErrors(t *testing.T) {
	data := pattern(250)
	for i, fail := range []func(f *memFile){
		func(f *memFile) { f.writeErr = errors.New("write failed") },
		func(f *memFile) { f.commitErr = errors.New("sync failed") },
	} {
		chunks := streamChunks(data, 100, marshal(t, msgSnap(t)))
		var o opener
		in, err := startAndOpen(1, 2, "n2:1", &chunks[0], 7, o.open)
		if err != nil {
			t.Fatal(err)
		}
		fail(o.files[0])
		var m *raftpb.Message
		for j := range chunks {
			if m, err = in.add(&chunks[j], 8); err != nil {
				break
			}
		}
		if err == nil || m != nil || !strings.Contains(err.Error(), "failed") {
			t.Errorf("%d: add = %v, %v; want the file's error", i, m, err)
		}
	}
}
