package store

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"sync"
	"unsafe"

	"github.com/raftkv/raftkv/messages"
)

// item is one stored key: its key, revisions, version and value packed
// into one allocation that holds no pointers,
//
//	uvarint(len(key)) key uvarint(len(tail)) tail
//	tail: uvarint(create) uvarint(mod) uvarint(version) value
//
// (revisions and version as the uint64 of their int64). Against a
// *messages.KeyValue with its own key and value (three allocations, one of
// them scanned by the garbage collector), it saves about a quarter of the
// memory per key and leaves the collector one object per key that it
// never scans. An item's bytes are never modified once it is in the tree.
//
// The item is a pointer to the allocation's first byte: a B-tree slot of
// 8 bytes rather than a slice's 24. Nodes are half full when keys arrive
// in order, and hold their full capacity, so at 1M keys that is 32 MB
// less. The lengths in the bytes say where they end; the key comes first,
// so that comparing two keys reads one length byte.
//
// The version is stored shifted left by one; its low bit marks a shared
// item (newSharedItem), whose value is not among its bytes but kept by
// reference: the packed bytes, without the value, follow a slice of it in
// one allocation that the collector scans,
//
//	value []byte | uvarint(len(key)) key uvarint(len(tail)) tail
//
// and the item points at the packed bytes, as any other.
type item struct{ p *byte }

// sharedValueMin is the smallest value a store that shares values
// (Store.ShareValues) keeps by reference: below it, a copy in the item
// costs less than the slice and the memory the value is part of.
const sharedValueMin = 1 << 10

// valueRef is the size of the value slice before a shared item's bytes.
const valueRef = unsafe.Sizeof([]byte(nil))

// lessItem orders items by key bytes.
func lessItem(a, b item) bool { return bytes.Compare(a.key(), b.key()) < 0 }

// newItem packs kv into a fresh item, with a copy of its value.
func newItem(kv *messages.KeyValue) item { return packItem(kv, false) }

// newSharedItem packs kv into a fresh item that keeps its value by
// reference if it has sharedValueMin bytes or more: they must never
// change.
func newSharedItem(kv *messages.KeyValue) item {
	return packItem(kv, len(kv.Value) >= sharedValueMin)
}

// packItem packs kv into a fresh item, a shared one if shared.
func packItem(kv *messages.KeyValue, shared bool) item {
	value, flag := kv.Value, uint64(0)
	if shared {
		value, flag = nil, 1
	}
	var hdr [5 * binary.MaxVarintLen64]byte
	m := binary.PutUvarint(hdr[:], uint64(kv.CreateRevision))
	m += binary.PutUvarint(hdr[m:], uint64(kv.ModRevision))
	m += binary.PutUvarint(hdr[m:], uint64(kv.Version)<<1|flag)
	tail := m + len(value)
	k := binary.PutUvarint(hdr[m:], uint64(len(kv.Key)))
	t := binary.PutUvarint(hdr[m+k:], uint64(tail))
	n := k + len(kv.Key) + t + tail
	var b []byte
	if shared {
		b = sharedBytes(n, kv.Value)[:0]
	} else {
		b = make([]byte, 0, n) // exactly: a size class up would cost more than the slot saves
	}
	b = append(b, hdr[m:m+k]...)
	b = append(b, kv.Key...)
	b = append(b, hdr[m+k:m+k+t]...)
	b = append(b, hdr[:m]...)
	b = append(b, value...)
	return item{p: &b[0]}
}

// sharedTypes holds, by packed size, the type of a shared item's
// allocation: struct{ Value []byte; Packed [size]byte }.
var sharedTypes sync.Map

// sharedBytes allocates a shared item of n packed bytes (rounded up to 8)
// whose value is value, and returns its packed bytes.
func sharedBytes(n int, value []byte) []byte {
	size := (n + 7) &^ 7
	t, ok := sharedTypes.Load(size)
	if !ok {
		t, _ = sharedTypes.LoadOrStore(size, reflect.StructOf([]reflect.StructField{
			{Name: "Value", Type: reflect.TypeFor[[]byte]()},
			{Name: "Packed", Type: reflect.ArrayOf(size, reflect.TypeFor[byte]())},
		}))
	}
	base := reflect.New(t.(reflect.Type)).UnsafePointer()
	*(*[]byte)(base) = value[:len(value):len(value)]
	return unsafe.Slice((*byte)(unsafe.Add(base, valueRef)), n)
}

// sharedValue is the value of a shared item.
func (it item) sharedValue() []byte {
	return *(*[]byte)(unsafe.Add(unsafe.Pointer(it.p), -int(valueRef)))
}

// probe returns an item that only holds key (and an empty tail), to look
// key up in the tree; it reuses buf, and must not be stored.
func probe(buf []byte, key []byte) ([]byte, item) {
	buf = binary.AppendUvarint(buf[:0], uint64(len(key)))
	buf = append(buf, key...)
	buf = append(buf, 0)
	return buf, item{p: &buf[0]}
}

// at is the item's i-th byte.
func (it item) at(i int) byte { return *(*byte)(unsafe.Add(unsafe.Pointer(it.p), i)) }

// slice is the item's bytes [from, to), capped at to.
func (it item) slice(from, to int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(it.p), from)), to-from)
}

// uvarint reads the uvarint at i, byte by byte (never past the
// allocation), and returns it with the index after it.
func (it item) uvarint(i int) (v uint64, next int) {
	for shift := 0; ; i, shift = i+1, shift+7 {
		c := it.at(i)
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i + 1
		}
	}
}

// bounds returns where the item's key and tail begin and end.
func (it item) bounds() (key, keyEnd, tail, end int) {
	n, key := it.uvarint(0)
	keyEnd = key + int(n)
	t, tail := it.uvarint(keyEnd)
	return key, keyEnd, tail, tail + int(t)
}

// parts returns the item's key and tail.
func (it item) parts() (key, tail []byte) {
	k, keyEnd, t, end := it.bounds()
	return it.slice(k, keyEnd), it.slice(t, end)
}

// size is how many bytes the item takes, with the value a shared item
// keeps alive; 0 for no item.
func (it item) size() int {
	if it.p == nil {
		return 0
	}
	_, _, t, end := it.bounds()
	if sharedTail(it.slice(t, end)) {
		end += int(valueRef) + len(it.sharedValue())
	}
	return end
}

// sharedTail tells whether tail, an item's, marks it shared: the low bit
// of its version.
func sharedTail(tail []byte) bool {
	_, a := binary.Uvarint(tail)
	_, b := binary.Uvarint(tail[a:])
	version, _ := binary.Uvarint(tail[a+b:])
	return version&1 != 0
}

// key returns the item's key, a slice of its bytes that cannot grow into
// them.
func (it item) key() []byte {
	if n := int(it.at(0)); n < 0x80 { // a key of less than 128 bytes: one length byte
		return it.slice(1, 1+n)
	}
	key, _ := it.parts()
	return key
}

// kv returns the item as a KeyValue whose Key and Value share the item's
// bytes (capped, so that appending to them copies).
func (it item) kv() messages.KeyValue {
	key, tail := it.parts()
	create, a := binary.Uvarint(tail)
	mod, b := binary.Uvarint(tail[a:])
	version, c := binary.Uvarint(tail[a+b:])
	value := tail[a+b+c:]
	if version&1 != 0 {
		value = it.sharedValue()
	}
	return messages.KeyValue{Key: key, Value: value,
		CreateRevision: int64(create), ModRevision: int64(mod), Version: int64(version >> 1)}
}
