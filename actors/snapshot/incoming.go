package snapshot

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/messages"
)

// storeFile is where an incoming snapshot's stream goes (snapfile.Writer).
type storeFile interface {
	Write(p []byte) (int, error)
	Size() uint64
	CRC() uint32
	Commit() (size uint64, crc uint32, err error)
	Abort()
}

// incoming is one snapshot arriving from a member: its chunks must come in
// order, and it counts only once the whole stream arrived with the size
// and checksum the sender announced.
type incoming struct {
	from     uint64
	fromAddr string
	transfer uint64
	message  *raftpb.Message
	meta     messages.SnapshotMeta
	file     storeFile
	next     uint64 // seq of the next chunk expected
	progress uint64 // tick of the start or of the last chunk
}

// startIncoming checks chunk 0 of a transfer to member self and returns the
// transfer, without its store file yet (see open).
func startIncoming(self uint64, from uint64, fromAddr string, c *messages.SnapshotChunk, now uint64) (*incoming, error) {
	if c.Seq != 0 || c.Offset != 0 || len(c.Message) == 0 {
		return nil, fmt.Errorf("transfer %d starts at chunk %d (offset %d) without the raft message", c.Transfer, c.Seq, c.Offset)
	}
	var m raftpb.Message
	if err := proto.Unmarshal(c.Message, &m); err != nil {
		return nil, fmt.Errorf("transfer %d: raft message: %w", c.Transfer, err)
	}
	md := m.GetSnapshot().GetMetadata()
	switch {
	case m.GetType() != raftpb.MessageType_MsgSnap:
		return nil, fmt.Errorf("transfer %d carries a %s, not a snapshot", c.Transfer, m.GetType())
	case m.GetTo() != self || m.GetFrom() != from:
		return nil, fmt.Errorf("transfer %d: snapshot from %d to %d arrived at %d from %d", c.Transfer, m.GetFrom(), m.GetTo(), self, from)
	case md.GetIndex() == 0 || md.GetConfState() == nil:
		return nil, fmt.Errorf("transfer %d: snapshot without index or membership", c.Transfer)
	}
	meta, err := messages.DecodeSnapshotMeta(m.GetSnapshot().GetData())
	if err != nil {
		return nil, fmt.Errorf("transfer %d: %w", c.Transfer, err)
	}
	return &incoming{from: from, fromAddr: fromAddr, transfer: c.Transfer, message: &m, meta: meta, progress: now}, nil
}

// open creates the transfer's store file with create.
func (in *incoming) open(create func(term, index uint64) (storeFile, error)) error {
	md := in.message.GetSnapshot().GetMetadata()
	f, err := create(md.GetTerm(), md.GetIndex())
	if err != nil {
		return err
	}
	in.file = f
	return nil
}

// add writes chunk c. It returns the raft message to step when c completes
// the snapshot; the snapshot's Data then records the store file's size and
// checksum.
func (in *incoming) add(c *messages.SnapshotChunk, now uint64) (*raftpb.Message, error) {
	if c.Seq != in.next || c.Offset != in.file.Size() {
		return nil, fmt.Errorf("transfer %d: chunk %d at offset %d arrived, chunk %d at offset %d expected",
			c.Transfer, c.Seq, c.Offset, in.next, in.file.Size())
	}
	if _, err := in.file.Write(c.Data); err != nil {
		return nil, err
	}
	in.next++
	in.progress = now
	if !c.Last {
		return nil, nil
	}
	if in.file.Size() != c.Size || in.file.CRC() != c.CRC {
		return nil, fmt.Errorf("transfer %d: %d bytes with CRC %08x arrived, the sender sent %d with CRC %08x",
			c.Transfer, in.file.Size(), in.file.CRC(), c.Size, c.CRC)
	}
	size, crc, err := in.file.Commit()
	if err != nil {
		return nil, err
	}
	in.meta.DBSize, in.meta.DBCRC = size, crc
	data, err := messages.EncodeSnapshotMeta(in.meta)
	if err != nil {
		return nil, err
	}
	in.message.Snapshot.Data = data
	return in.message, nil
}
