package messages

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/raftkv/raftkv/internal/mpack"
)

// The fixed parts of a put command as go-msgpack writes it: maps, and
// field names as fixstrs, in the order of the names.
const (
	putHead    = "\x83\xa2id\x82\xa4node" // {id: {node: ...
	putSeq     = "\xa3seq"
	putTxn     = "\xa3txn\x81\xa7success\x91" // txn: {success: [ {...
	putKey     = "\xa3key"
	putLease   = "\xa5lease"
	putPrevKV  = "\xa7prev_kv"
	putType    = "\xa4type"
	putValue   = "\xa5value"
	putVersion = "\xa7version"
	fixmap     = 0x80
)

// appendPut appends c, with Version FormatVersion, as go-msgpack writes it,
// if c is a plain put: a Txn of one Put (with a key, maybe a value, a
// lease and PrevKV) and nothing else, the command of nearly every write.
// The leader encodes one per write; by hand it costs a fifth of the
// codec's reflection. ok is false for any other command, which the codec
// encodes.
func appendPut(b []byte, c *Command) (out []byte, ok bool) {
	t := &c.Txn
	if c.Alarm != nil || c.Compact != 0 || c.Lease != nil || len(t.Compares) != 0 || len(t.Failure) != 0 || len(t.Success) != 1 {
		return b, false
	}
	op := &t.Success[0]
	if op.Type != OpPut || len(op.Key) == 0 || len(op.End) != 0 || op.Limit != 0 || op.Revision != 0 {
		return b, false
	}
	// Names, headers and integers take at most 107 bytes.
	b = slices.Grow(b, 128+len(op.Key)+len(op.Value))
	fields := byte(2) // key, type
	for _, set := range []bool{op.Lease != 0, op.PrevKV, len(op.Value) != 0} {
		if set {
			fields++
		}
	}
	b = append(b, putHead...)
	b = mpack.AppendUint(b, c.ID.Node)
	b = append(b, putSeq...)
	b = mpack.AppendUint(b, c.ID.Seq)
	b = append(b, putTxn...)
	b = append(b, fixmap|fields)
	b = append(b, putKey...)
	b = mpack.AppendBin(b, op.Key)
	if op.Lease != 0 {
		b = append(b, putLease...)
		b = mpack.AppendInt(b, op.Lease)
	}
	if op.PrevKV {
		b = append(b, putPrevKV...)
		b = append(b, mpack.True)
	}
	b = append(b, putType...)
	b = mpack.AppendUint(b, uint64(op.Type))
	if len(op.Value) != 0 {
		b = append(b, putValue...)
		b = mpack.AppendBin(b, op.Value)
	}
	b = append(b, putVersion...)
	return mpack.AppendUint(b, FormatVersion), true
}

// decodePut decodes data if it is exactly what appendPut writes for a
// plain put, every integer in its canonical form and nothing after it; ok
// is false for anything else, which the codec decodes (to the same
// Command, where both accept: FuzzDecodePut). The key and value are
// slices of data, capped: the command holds no copy of them, and keeps
// data alive while it is kept (the applier's store keeps a big value, and
// with it the raft entry's data, instead of a second copy).
func decodePut(data []byte) (c Command, ok bool) {
	r := putReader{b: data}
	r.lit(putHead)
	c.ID.Node = r.uint()
	r.lit(putSeq)
	c.ID.Seq = r.uint()
	r.lit(putTxn)
	fields := int(r.byte()) - fixmap
	r.lit(putKey)
	key := r.bin()
	op := Op{Type: OpPut}
	seen := 2
	if r.has(putLease) {
		r.lit(putLease)
		if op.Lease = r.int(); op.Lease == 0 {
			r.bad = true
		}
		seen++
	}
	if r.has(putPrevKV) {
		r.lit(putPrevKV)
		op.PrevKV = r.byte() == mpack.True
		r.bad = r.bad || !op.PrevKV
		seen++
	}
	r.lit(putType)
	if r.uint() != uint64(OpPut) {
		r.bad = true
	}
	var value []byte
	if r.has(putValue) {
		r.lit(putValue)
		value = r.bin()
		r.bad = r.bad || len(value) == 0
		seen++
	}
	r.lit(putVersion)
	c.Version = uint8(r.uint())
	if r.bad || len(r.b) != 0 || fields != seen || len(key) == 0 || c.Version != FormatVersion {
		return Command{}, false
	}
	op.Key = key[:len(key):len(key)]
	if len(value) > 0 {
		op.Value = value[:len(value):len(value)]
	}
	c.Txn.Success = []Op{op}
	return c, true
}

// putReader reads the parts of a put command; bad records that something
// was not as appendPut writes it, after which every read returns zeros.
type putReader struct {
	b   []byte
	bad bool
}

func (r *putReader) has(lit string) bool {
	return !r.bad && len(r.b) >= len(lit) && string(r.b[:len(lit)]) == lit
}

func (r *putReader) lit(lit string) {
	if !r.has(lit) {
		r.bad = true
		return
	}
	r.b = r.b[len(lit):]
}

// take returns the next n bytes, or n zeros once something was bad.
func (r *putReader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *putReader) byte() byte { return r.take(1)[0] }

// bin reads a bin in the form mpack.AppendBin gives it.
func (r *putReader) bin() []byte {
	var n int
	t := r.byte()
	switch t {
	case mpack.Bin8:
		n = int(r.byte())
	case mpack.Bin16:
		n = int(binary.BigEndian.Uint16(r.take(2)))
	case mpack.Bin32:
		n = int(binary.BigEndian.Uint32(r.take(4)))
	default:
		r.bad = true
	}
	if r.bad || n > len(r.b) || mpack.BinType(n) != t {
		r.bad = true
		return nil
	}
	return r.take(n)
}

// uint reads an unsigned integer in the form mpack.AppendUint gives it.
func (r *putReader) uint() uint64 {
	t := r.byte()
	switch {
	case t <= math.MaxInt8:
		return uint64(t)
	case t < mpack.Uint8 || t > mpack.Uint64:
		r.bad = true
		return 0
	}
	v := r.bigEndian(t)
	var shortest [9]byte
	if mpack.AppendUint(shortest[:0], v)[0] != t {
		r.bad = true // not the shortest form
	}
	return v
}

// int reads a signed integer in the form mpack.AppendInt gives it.
func (r *putReader) int() int64 {
	t := r.byte()
	v := int64(int8(t)) // a fixint, if IntType agrees
	if t >= mpack.Int8 && t <= mpack.Int64 {
		shift := 64 - 8*widths[t&3]
		v = int64(r.bigEndian(t)<<shift) >> shift
	}
	if mpack.IntType(v) != t {
		r.bad = true
	}
	return v
}

// widths are the bytes after the type byte of the sized integers, by
// the type's two low bits (Uint8 and Int8 end in 0, ... Uint64 and Int64
// in 3).
var widths = [4]int{1, 2, 4, 8}

// bigEndian reads the value after type byte t, a sized integer.
func (r *putReader) bigEndian(t byte) uint64 {
	var v uint64
	for _, b := range r.take(widths[t&3]) {
		v = v<<8 | uint64(b)
	}
	return v
}
