package api

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Keys are bytes, but JSON strings carry only valid UTF-8 (encoding/json
// turns any other byte into U+FFFD). So every JSON object that names a key
// has two fields for it: "key", the key as a string when it is valid UTF-8,
// and "key_base64", the key in standard base64 when it is not. Answers
// carry exactly one of the two; requests may use either (key_base64 for any
// key), not both. Range ends ("range_end", "range_end_base64") go the same
// way. In URLs there is no such problem: a key in the path and the
// prefix, start and end query parameters are percent-encoded bytes
// (/v1/kv/%FF%00 is the key 0xFF 0x00), and continuation tokens are
// base64 already.

// SplitKey returns the two JSON fields of key: key as a string when it is
// valid UTF-8 (and b64 nil), else text "" and b64 the key (which
// encoding/json writes in base64).
func SplitKey(key []byte) (text string, b64 []byte) {
	if utf8.Valid(key) {
		return string(key), nil
	}
	return "", append([]byte(nil), key...)
}

// ErrKeyFields is wrapped by the error of a request object that gives a
// key (or range end) both as a string and in base64.
var ErrKeyFields = errors.New("give a key either as a string or in base64, not both")

// JoinKey is the key of a request whose JSON fields name and name_base64
// hold text and b64: b64 when it is set, else text. Both set is an error
// wrapping ErrKeyFields.
func JoinKey(name, text string, b64 []byte) ([]byte, error) {
	switch {
	case b64 != nil && text != "":
		return nil, fmt.Errorf("%q and %q: %w", name, name+"_base64", ErrKeyFields)
	case b64 != nil:
		return b64, nil
	}
	return []byte(text), nil
}

// SetKey sets the key of kv: Key when it is valid UTF-8, else KeyBase64.
func (kv *KeyValue) SetKey(key []byte) { kv.Key, kv.KeyBase64 = SplitKey(key) }

// KeyBytes returns the key of kv whichever field carries it.
func (kv *KeyValue) KeyBytes() []byte {
	if kv.KeyBase64 != nil {
		return kv.KeyBase64
	}
	return []byte(kv.Key)
}

// SetKey sets the key of c: Key when it is valid UTF-8, else KeyBase64.
func (c *TxnCompare) SetKey(key []byte) { c.Key, c.KeyBase64 = SplitKey(key) }

// KeyBytes returns the key of c whichever field carries it; an error if
// both do.
func (c *TxnCompare) KeyBytes() ([]byte, error) { return JoinKey("key", c.Key, c.KeyBase64) }

// SetKey sets the key of p: Key when it is valid UTF-8, else KeyBase64.
func (p *TxnPut) SetKey(key []byte) { p.Key, p.KeyBase64 = SplitKey(key) }

// KeyBytes returns the key of p whichever field carries it; an error if
// both do.
func (p *TxnPut) KeyBytes() ([]byte, error) { return JoinKey("key", p.Key, p.KeyBase64) }

// SetKey sets the key of r: Key when it is valid UTF-8, else KeyBase64.
func (r *TxnRange) SetKey(key []byte) { r.Key, r.KeyBase64 = SplitKey(key) }

// KeyBytes returns the key of r whichever field carries it; an error if
// both do.
func (r *TxnRange) KeyBytes() ([]byte, error) { return JoinKey("key", r.Key, r.KeyBase64) }

// SetRangeEnd sets the range end of r: RangeEnd when it is valid UTF-8,
// else RangeEndBase64. An empty end sets neither.
func (r *TxnRange) SetRangeEnd(end []byte) {
	if len(end) == 0 {
		r.RangeEnd, r.RangeEndBase64 = "", nil
		return
	}
	r.RangeEnd, r.RangeEndBase64 = SplitKey(end)
}

// RangeEndBytes returns the range end of r whichever field carries it
// (empty: none); an error if both do.
func (r *TxnRange) RangeEndBytes() ([]byte, error) {
	return JoinKey("range_end", r.RangeEnd, r.RangeEndBase64)
}
