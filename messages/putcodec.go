package messages

import (
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
// The leader encodes one per write; by hand it costs a tenth of the
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
