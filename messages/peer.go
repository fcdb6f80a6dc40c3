package messages

import (
	"fmt"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// PeerKind says what a PeerMessage carries.
type PeerKind uint8

// The kinds of PeerMessage.
const (
	// PeerRemoved tells the receiver that the cluster removed it: it must
	// shut down. A removed member may never learn of its removal through
	// raft, since the leader stops replicating to it once the change is
	// applied.
	PeerRemoved PeerKind = 1
	// PeerHello asks the member at Address to say who it is; the sender's
	// link to it carries raft messages only once the answer names the member
	// it expects (DialedAddress is where the sender reached it).
	PeerHello PeerKind = 2
	// PeerHelloReply answers a PeerHello: From is the id of the member that
	// answered, Expected the id the hello asked for, Error is set when it
	// refuses the sender (another cluster).
	PeerHelloReply PeerKind = 3
	// PeerConfChange forwards a membership change (Request, Change) to the
	// leader, which proposes it or answers PeerConfChangeRefused.
	PeerConfChange PeerKind = 4
	// PeerConfChangeRefused tells the member that forwarded Request that the
	// leader refused it: Code says why (see ErrorCode), Error in words.
	PeerConfChangeRefused PeerKind = 5
	// PeerSnapshotChunk carries one chunk of a snapshot the sender streams
	// to the receiver.
	PeerSnapshotChunk PeerKind = 6
	// PeerSnapshotAck acknowledges snapshot chunks, or refuses a transfer.
	PeerSnapshotAck PeerKind = 7
)

// PeerMessage is a message of raftkv's own between members, beside raft's.
// It travels msgpack-encoded inside a protobuf BytesValue (protoactor
// remote carries only protobuf messages), to the receiver's inbox. Which of
// the optional fields are set depends on Kind; DecodePeerMessage checks it.
type PeerMessage struct {
	Version uint8    `msgpack:"version"`
	Kind    PeerKind `msgpack:"kind"`
	From    uint64   `msgpack:"from"`
	To      uint64   `msgpack:"to"`
	// FromAddress is the sender's own peer address, where an answer reaches it.
	FromAddress string `msgpack:"from_address,omitempty"`
	// DialedAddress is the address the sender used to reach the receiver.
	DialedAddress string `msgpack:"dialed_address,omitempty"`
	// ClusterID is the sender's cluster id (0 while it does not know it).
	ClusterID uint64 `msgpack:"cluster_id,omitempty"`
	// Expected, in a PeerHelloReply, is the member id the hello expected.
	Expected uint64         `msgpack:"expected,omitempty"`
	Request  *RequestID     `msgpack:"request,omitempty"`
	Change   *MemberChange  `msgpack:"change,omitempty"`
	Code     string         `msgpack:"code,omitempty"`
	Error    string         `msgpack:"error,omitempty"`
	Chunk    *SnapshotChunk `msgpack:"chunk,omitempty"`
	Ack      *SnapshotAck   `msgpack:"ack,omitempty"`
}

// SnapshotChunk is one piece of a snapshot stream (the store's snapshot
// format) sent from a leader to a member that needs it. Chunks of one
// transfer are numbered from 0 and carry consecutive byte ranges.
type SnapshotChunk struct {
	// Transfer names the transfer; the sender never reuses it.
	Transfer uint64 `msgpack:"transfer"`
	Seq      uint64 `msgpack:"seq"`
	Offset   uint64 `msgpack:"offset"`
	Data     []byte `msgpack:"data"`
	// Message, in chunk 0 only, is the raft MsgSnap to step once the whole
	// stream arrived (protobuf, its snapshot's Data an encoded SnapshotMeta
	// whose DB fields the receiver fills in).
	Message []byte `msgpack:"message,omitempty"`
	// Last marks the final chunk, which also carries the stream's Size and
	// CRC (CRC-32C, Castagnoli) to check it against.
	Last bool   `msgpack:"last,omitempty"`
	Size uint64 `msgpack:"size,omitempty"`
	CRC  uint32 `msgpack:"crc,omitempty"`
}

// SnapshotAck acknowledges every chunk of Transfer up to Seq. Done says the
// whole snapshot was received, checked, made durable and handed to raft;
// Error that the receiver gave up on the transfer.
type SnapshotAck struct {
	Transfer uint64 `msgpack:"transfer"`
	Seq      uint64 `msgpack:"seq"`
	Done     bool   `msgpack:"done,omitempty"`
	Error    string `msgpack:"error,omitempty"`
}

// MaxChunkSize bounds the data of one SnapshotChunk.
const MaxChunkSize = 4 << 20

// EncodePeerMessage stamps m with FormatVersion and wraps it for the wire.
func EncodePeerMessage(m PeerMessage) (*wrapperspb.BytesValue, error) {
	m.Version = FormatVersion
	b, err := Encode(&m)
	if err != nil {
		return nil, err
	}
	return wrapperspb.Bytes(b), nil
}

// DecodePeerMessage unwraps a message written by EncodePeerMessage and
// checks that it carries what its Kind needs.
func DecodePeerMessage(w *wrapperspb.BytesValue) (PeerMessage, error) {
	var m PeerMessage
	if err := Decode(w.GetValue(), &m); err != nil {
		return PeerMessage{}, err
	}
	if m.Version != FormatVersion {
		return PeerMessage{}, fmt.Errorf("peer message version %d: %w", m.Version, ErrVersion)
	}
	if m.From == 0 || m.To == 0 {
		return PeerMessage{}, fmt.Errorf("peer message of kind %d from %d to %d: member ids must not be 0", m.Kind, m.From, m.To)
	}
	if m.Chunk != nil && len(m.Chunk.Data) > MaxChunkSize {
		return PeerMessage{}, fmt.Errorf("snapshot chunk of %d bytes is over the limit of %d", len(m.Chunk.Data), MaxChunkSize)
	}
	var missing string
	switch m.Kind {
	case PeerRemoved, PeerHello, PeerHelloReply:
	case PeerConfChange:
		if m.Request == nil || m.Change == nil {
			missing = "request and change"
		}
	case PeerConfChangeRefused:
		if m.Request == nil {
			missing = "request"
		}
	case PeerSnapshotChunk:
		if m.Chunk == nil {
			missing = "chunk"
		}
	case PeerSnapshotAck:
		if m.Ack == nil {
			missing = "ack"
		}
	default:
		return PeerMessage{}, fmt.Errorf("peer message of unknown kind %d", m.Kind)
	}
	if missing != "" {
		return PeerMessage{}, fmt.Errorf("peer message of kind %d has no %s", m.Kind, missing)
	}
	return m, nil
}
