package store

import (
	"bytes"
	"encoding/binary"

	"github.com/raftkv/raftkv/messages"
)

// item is one stored key: its key, revisions, version and value packed
// into one allocation that holds no pointers,
//
//	uvarint(len(key)) key uvarint(create) uvarint(mod) uvarint(version) value
//
// (revisions and version as the uint64 of their int64). Against a
// *messages.KeyValue with its own key and value (three allocations, one of
// them scanned by the garbage collector), it saves about a quarter of the
// memory per key and leaves the collector one object per key that it
// never scans. An item's bytes are never modified once it is in the tree.
type item struct{ b []byte }

// lessItem orders items by key bytes.
func lessItem(a, b item) bool { return bytes.Compare(a.key(), b.key()) < 0 }

// newItem packs kv into a fresh item.
func newItem(kv *messages.KeyValue) item {
	var hdr [4 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(kv.Key)))
	m := binary.PutUvarint(hdr[n:], uint64(kv.CreateRevision))
	m += binary.PutUvarint(hdr[n+m:], uint64(kv.ModRevision))
	m += binary.PutUvarint(hdr[n+m:], uint64(kv.Version))
	b := make([]byte, 0, n+len(kv.Key)+m+len(kv.Value))
	b = append(b, hdr[:n]...)
	b = append(b, kv.Key...)
	b = append(b, hdr[n:n+m]...)
	b = append(b, kv.Value...)
	return item{b: b}
}

// probe returns an item that only holds key, to look key up in the tree;
// it reuses buf, and must not be stored.
func probe(buf []byte, key []byte) ([]byte, item) {
	buf = binary.AppendUvarint(buf[:0], uint64(len(key)))
	buf = append(buf, key...)
	return buf, item{b: buf}
}

// key returns the item's key, a slice of its bytes that cannot grow into
// them.
func (it item) key() []byte {
	if n := int(it.b[0]); n < 0x80 { // a key of less than 128 bytes: one length byte
		return it.b[1 : 1+n : 1+n]
	}
	return it.longKey()
}

// longKey is key for a key whose length takes more than one byte, kept out
// of key so that key inlines into the tree's comparisons.
func (it item) longKey() []byte {
	n, k := binary.Uvarint(it.b)
	end := k + int(n)
	return it.b[k:end:end]
}

// kv returns the item as a KeyValue whose Key and Value share the item's
// bytes (capped, so that appending to them copies).
func (it item) kv() messages.KeyValue {
	n, k := binary.Uvarint(it.b)
	end := k + int(n)
	kv := messages.KeyValue{Key: it.b[k:end:end]}
	rest := it.b[end:]
	create, a := binary.Uvarint(rest)
	mod, b := binary.Uvarint(rest[a:])
	version, c := binary.Uvarint(rest[a+b:])
	kv.CreateRevision, kv.ModRevision, kv.Version = int64(create), int64(mod), int64(version)
	kv.Value = rest[a+b+c : len(rest) : len(rest)]
	return kv
}
