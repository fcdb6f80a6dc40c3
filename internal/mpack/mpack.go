// Package mpack writes msgpack values byte for byte as go-msgpack, the
// codec of package messages, writes them: for the code that encodes by
// hand what is hot (a snapshot's key records, a put's command), whose
// tests check that the bytes are the codec's.
package mpack

import (
	"encoding/binary"
	"math"
)

// msgpack type bytes.
const (
	Nil    = 0xc0
	True   = 0xc3
	Map16  = 0xde
	Map32  = 0xdf
	Bin8   = 0xc4
	Bin16  = 0xc5
	Bin32  = 0xc6
	Uint8  = 0xcc
	Uint16 = 0xcd
	Uint32 = 0xce
	Uint64 = 0xcf
	Int8   = 0xd0
	Int16  = 0xd1
	Int32  = 0xd2
	Int64  = 0xd3
)

// IntType returns the type byte go-msgpack writes for the signed v: the
// value itself for a fixint (-32..127), else the smallest signed type that
// holds v (so 128 is an Int16).
func IntType(v int64) byte {
	switch {
	case v >= -32 && v <= math.MaxInt8:
		return byte(v)
	case v >= math.MinInt8 && v < 0:
		return Int8
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return Int16
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return Int32
	default:
		return Int64
	}
}

// AppendInt appends the signed v as go-msgpack writes it.
func AppendInt(b []byte, v int64) []byte {
	switch t := IntType(v); t {
	case Int8:
		return append(b, t, byte(v))
	case Int16:
		return binary.BigEndian.AppendUint16(append(b, t), uint16(v))
	case Int32:
		return binary.BigEndian.AppendUint32(append(b, t), uint32(v))
	case Int64:
		return binary.BigEndian.AppendUint64(append(b, t), uint64(v))
	default:
		return append(b, t)
	}
}

// AppendUint appends the unsigned v as go-msgpack writes it: a positive
// fixint up to 127, else the smallest unsigned type that holds v.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v <= math.MaxInt8:
		return append(b, byte(v))
	case v <= math.MaxUint8:
		return append(b, Uint8, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, Uint16), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, Uint32), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, Uint64), v)
	}
}

// BinType returns the type byte of a bin of n bytes.
func BinType(n int) byte {
	switch {
	case n <= math.MaxUint8:
		return Bin8
	case n <= math.MaxUint16:
		return Bin16
	default:
		return Bin32
	}
}

// AppendBin appends p as a bin, in the shortest form that fits.
func AppendBin(b, p []byte) []byte {
	switch t := BinType(len(p)); t {
	case Bin8:
		b = append(b, t, byte(len(p)))
	case Bin16:
		b = binary.BigEndian.AppendUint16(append(b, t), uint16(len(p)))
	default:
		b = binary.BigEndian.AppendUint32(append(b, t), uint32(len(p)))
	}
	return append(b, p...)
}
