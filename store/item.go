package store

import (
	"bytes"
	"encoding/binary"
	"unsafe"

	"github.com/raftkv/raftkv/messages"
)

// item is one stored key: its key, revisions, version and value packed
// into one allocation that holds no pointers,
//
//	uvarint(len(rest)) rest
//	rest: uvarint(len(key)) key uvarint(create) uvarint(mod) uvarint(version) value
//
// (revisions and version as the uint64 of their int64). Against a
// *messages.KeyValue with its own key and value (three allocations, one of
// them scanned by the garbage collector), it saves about a quarter of the
// memory per key and leaves the collector one object per key that it
// never scans. An item's bytes are never modified once it is in the tree.
//
// The item is a pointer to the allocation's first byte, which says how
// long the rest is: a B-tree slot of 8 bytes rather than a slice's 24.
// Nodes are half full when keys arrive in order, and hold their full
// capacity, so at 1M keys that is 32 MB less.
type item struct{ p *byte }

// lessItem orders items by key bytes.
func lessItem(a, b item) bool { return bytes.Compare(a.key(), b.key()) < 0 }

// newItem packs kv into a fresh item.
func newItem(kv *messages.KeyValue) item {
	var hdr [5 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(kv.Key)))
	m := binary.PutUvarint(hdr[n:], uint64(kv.CreateRevision))
	m += binary.PutUvarint(hdr[n+m:], uint64(kv.ModRevision))
	m += binary.PutUvarint(hdr[n+m:], uint64(kv.Version))
	rest := n + len(kv.Key) + m + len(kv.Value)
	b := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+rest), uint64(rest))
	b = append(b, hdr[:n]...)
	b = append(b, kv.Key...)
	b = append(b, hdr[n:n+m]...)
	b = append(b, kv.Value...)
	return item{p: &b[0]}
}

// probe returns an item that only holds key, to look key up in the tree;
// it reuses buf, and must not be stored.
func probe(buf []byte, key []byte) ([]byte, item) {
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(key)))
	buf = binary.AppendUvarint(buf[:0], uint64(n+len(key)))
	buf = append(buf, hdr[:n]...)
	buf = append(buf, key...)
	return buf, item{p: &buf[0]}
}

// at is the item's i-th byte.
func (it item) at(i int) byte { return *(*byte)(unsafe.Add(unsafe.Pointer(it.p), i)) }

// slice is the item's bytes [from, to), capped at to.
func (it item) slice(from, to int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(it.p), from)), to-from)
}

// rest returns the item's bytes after their length, and where they
// start. The length is read byte by byte, never past the allocation.
func (it item) rest() (r []byte, start int) {
	var n uint64
	for i, shift := 0, 0; ; i, shift = i+1, shift+7 {
		c := it.at(i)
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return it.slice(i+1, i+1+int(n)), i + 1
		}
	}
}

// size is how many bytes the item takes, 0 for no item.
func (it item) size() int {
	if it.p == nil {
		return 0
	}
	r, start := it.rest()
	return start + len(r)
}

// key returns the item's key, a slice of its bytes that cannot grow into
// them.
func (it item) key() []byte {
	i := 0
	for it.at(i) >= 0x80 { // past the length of the rest
		i++
	}
	if n := int(it.at(i + 1)); n < 0x80 { // a key of less than 128 bytes
		return it.slice(i+2, i+2+n)
	}
	return it.longKey()
}

// longKey is key for a key whose length takes more than one byte, kept
// out of key so that key inlines into the tree's comparisons.
func (it item) longKey() []byte {
	r, _ := it.rest()
	n, k := binary.Uvarint(r)
	end := k + int(n)
	return r[k:end:end]
}

// kv returns the item as a KeyValue whose Key and Value share the item's
// bytes (capped, so that appending to them copies).
func (it item) kv() messages.KeyValue {
	r, _ := it.rest()
	n, k := binary.Uvarint(r)
	end := k + int(n)
	kv := messages.KeyValue{Key: r[k:end:end]}
	rest := r[end:]
	create, a := binary.Uvarint(rest)
	mod, b := binary.Uvarint(rest[a:])
	version, c := binary.Uvarint(rest[a+b:])
	kv.CreateRevision, kv.ModRevision, kv.Version = int64(create), int64(mod), int64(version)
	kv.Value = rest[a+b+c : len(rest) : len(rest)]
	return kv
}
