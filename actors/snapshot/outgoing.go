package snapshot

import (
	"errors"
	"fmt"
	"hash"
	"hash/crc32"

	"github.com/raftkv/raftkv/messages"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// outgoing is one snapshot on its way to a member: it cuts the stream into
// chunks, keeps at most window of them unacknowledged (so that the
// connection to the member stays open for raft's heartbeats), and notes
// when the receiver last made progress.
type outgoing struct {
	to       uint64
	addr     string
	transfer uint64
	message  []byte // the MsgSnap, for chunk 0
	stream   messages.SnapshotStream
	size     int // of a chunk
	window   int

	nextSeq  uint64 // of the next chunk to cut
	acked    uint64 // chunks acknowledged: seq 0 .. acked-1
	offset   uint64
	crc      hash.Hash32
	complete bool   // the last chunk is cut
	progress uint64 // tick of the start or of the last ack that acknowledged more
}

func newOutgoing(to uint64, addr string, transfer uint64, message []byte, stream messages.SnapshotStream, size, window int, now uint64) *outgoing {
	return &outgoing{to: to, addr: addr, transfer: transfer, message: message, stream: stream,
		size: size, window: window, crc: crc32.New(crcTable), progress: now}
}

// next cuts the chunks the window allows now.
func (o *outgoing) next() ([]messages.SnapshotChunk, error) {
	var out []messages.SnapshotChunk
	for !o.complete && o.nextSeq-o.acked < uint64(o.window) {
		data, done, err := o.stream.Next(nil, o.size)
		if err != nil {
			return out, fmt.Errorf("snapshot to member %d: read the store: %w", o.to, err)
		}
		c := messages.SnapshotChunk{Transfer: o.transfer, Seq: o.nextSeq, Offset: o.offset, Data: data}
		if o.nextSeq == 0 {
			c.Message = o.message
		}
		o.crc.Write(data)
		o.offset += uint64(len(data))
		o.nextSeq++
		if done {
			o.complete = true
			c.Last, c.Size, c.CRC = true, o.offset, o.crc.Sum32()
		}
		out = append(out, c)
	}
	return out, nil
}

// errRefused wraps the reason a receiver gave for refusing a transfer.
var errRefused = errors.New("the receiver refused the snapshot")

// ack records the receiver's acknowledgement: done when it has the whole
// snapshot, an error when it refused it.
func (o *outgoing) ack(a *messages.SnapshotAck, now uint64) (done bool, err error) {
	if a.Error != "" {
		return false, fmt.Errorf("%w: %s", errRefused, a.Error)
	}
	if a.Seq >= o.nextSeq {
		return false, fmt.Errorf("%w: it acknowledged chunk %d, only %d were sent", errRefused, a.Seq, o.nextSeq)
	}
	if a.Seq+1 > o.acked {
		o.acked = a.Seq + 1
		o.progress = now
	}
	if a.Done {
		if !o.complete || o.acked != o.nextSeq {
			return false, fmt.Errorf("%w: it reported done at chunk %d of %d", errRefused, a.Seq, o.nextSeq)
		}
		return true, nil
	}
	return false, nil
}

// backoff is how long, in ticks, to wait before the next attempt after
// failures failed attempts in a row: base doubled per failure, at most max.
func backoff(failures int, base, max uint64) uint64 {
	d := base
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
