package messages

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// ErrVersion is returned when data was written in a format version this
// build does not know.
var ErrVersion = errors.New("raftkv: unknown format version")

var handle = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{}
	// The wire types name their fields with msgpack tags; go-msgpack reads
	// only codec and json tags unless told otherwise.
	h.TypeInfos = codec.NewTypeInfos([]string{"msgpack"})
	h.WriteExt = true
	h.RawToString = false
	return h
}()

// encoders and decoders are reused across calls: each holds buffers and
// state that a fresh one would allocate again. One that failed is dropped.
var (
	encoders = sync.Pool{New: func() any { return new(encoder) }}
	decoders = sync.Pool{New: func() any { return codec.NewDecoderBytes(nil, handle) }}
)

// encoder is a reusable encoder and the scratch buffer it writes into.
type encoder struct {
	enc     *codec.Encoder
	scratch []byte
}

// maxScratch bounds the scratch buffer an encoder keeps for the next call.
const maxScratch = 64 << 10

// Encode writes v as msgpack, into a slice of its own of exactly its size.
func Encode(v any) ([]byte, error) {
	e := encoders.Get().(*encoder)
	e.scratch = e.scratch[:0]
	if e.enc == nil {
		e.enc = codec.NewEncoderBytes(&e.scratch, handle)
	} else {
		e.enc.ResetBytes(&e.scratch)
	}
	if err := e.enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	out := bytes.Clone(e.scratch)
	if cap(e.scratch) > maxScratch {
		e.scratch = nil
	}
	encoders.Put(e)
	return out, nil
}

// Decode reads msgpack data into v, which must be a pointer. It returns an
// error, never panics, on malformed data.
func Decode(data []byte, v any) error {
	dec := decoders.Get().(*codec.Decoder)
	dec.ResetBytes(data)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	dec.ResetBytes(nil)
	decoders.Put(dec)
	return nil
}

// EncodeCommand stamps c with FormatVersion and encodes it for a raft entry.
func EncodeCommand(c Command) ([]byte, error) {
	c.Version = FormatVersion
	if b, ok := appendPut(nil, &c); ok { // a plain put, by hand
		return b, nil
	}
	return Encode(&c)
}

// DecodeCommand decodes a raft entry's data written by EncodeCommand.
func DecodeCommand(data []byte) (Command, error) {
	if c, ok := decodePut(data); ok { // a plain put, by hand
		return c, nil
	}
	var c Command
	if err := Decode(data, &c); err != nil {
		return Command{}, err
	}
	if c.Version != FormatVersion {
		return Command{}, fmt.Errorf("command version %d: %w", c.Version, ErrVersion)
	}
	return c, nil
}

// EncodeConfChangeContext stamps c with FormatVersion and encodes it for a
// ConfChange's Context.
func EncodeConfChangeContext(c ConfChangeContext) ([]byte, error) {
	c.Version = FormatVersion
	return Encode(&c)
}

// DecodeConfChangeContext decodes a ConfChange's Context written by
// EncodeConfChangeContext.
func DecodeConfChangeContext(data []byte) (ConfChangeContext, error) {
	var c ConfChangeContext
	if err := Decode(data, &c); err != nil {
		return ConfChangeContext{}, err
	}
	if c.Version != FormatVersion {
		return ConfChangeContext{}, fmt.Errorf("conf change context version %d: %w", c.Version, ErrVersion)
	}
	return c, nil
}

// DecodeConfChange decodes the membership change a raft entry of type
// EntryConfChange or EntryConfChangeV2 carries. raftnode and the applier
// both read every such entry, and must read it alike.
func DecodeConfChange(e *raftpb.Entry) (raftpb.ConfChangeI, error) {
	switch e.GetType() {
	case raftpb.EntryConfChange:
		var c raftpb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &c); err != nil {
			return nil, fmt.Errorf("decode conf change at %d: %w", e.GetIndex(), err)
		}
		return &c, nil
	case raftpb.EntryConfChangeV2:
		var c raftpb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &c); err != nil {
			return nil, fmt.Errorf("decode conf change at %d: %w", e.GetIndex(), err)
		}
		return &c, nil
	}
	return nil, fmt.Errorf("entry %d of type %s is not a conf change", e.GetIndex(), e.GetType())
}
