package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/raftkv/raftkv/internal/mpack"
	"github.com/raftkv/raftkv/messages"
)

// storeOf builds a store directly from its parts, for states that would take
// many transactions to reach (large revisions). kvs must be valid and in
// ascending key order.
func storeOf(revision int64, list ...messages.KeyValue) *Store {
	s := New()
	s.revision = revision
	for i := range list {
		s.tree.ReplaceOrInsert(newItem(&list[i]))
	}
	return s
}

// writeStream returns the whole stream of s's current state.
func writeStream(t testing.TB, s *Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := WriteSnapshot(&buf, s.View())
	if err != nil {
		t.Fatalf("WriteSnapshot: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteSnapshot returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// encodeParts encodes v with Next(max) and returns the parts, checking that
// only the last one reports done and that Next after done adds nothing.
func encodeParts(t testing.TB, v *View, max int) [][]byte {
	t.Helper()
	e := NewSnapshotEncoder(v)
	var parts [][]byte
	for {
		prefix := []byte("prefix")
		out, done, err := e.Next(prefix, max)
		if err != nil {
			t.Fatalf("Next(max %d) #%d: %v", max, len(parts), err)
		}
		if !bytes.HasPrefix(out, []byte("prefix")) {
			t.Fatalf("Next(max %d) #%d did not append to buf", max, len(parts))
		}
		parts = append(parts, out[len(prefix):])
		if done {
			break
		}
		if len(parts) > 1_000_000 {
			t.Fatal("Next never reports done")
		}
	}
	for range 2 {
		out, done, err := e.Next([]byte("x"), max)
		if string(out) != "x" || !done || err != nil {
			t.Fatalf("Next after done = %q, %v, %v; want buf unchanged, done, no error", out, done, err)
		}
	}
	return parts
}

// recordSizes returns the sizes of the records of s's stream, header first.
func recordSizes(s *Store) []int {
	sizes := []int{len(appendStreamHeader(nil, s.Revision(), s.Len()))}
	s.tree.Ascend(func(it item) bool {
		kv := it.kv()
		sizes = append(sizes, len(appendKV(nil, &kv)))
		return true
	})
	// The history header goes with the record before it.
	sizes[len(sizes)-1] += len(appendHistoryHeader(nil, int64(len(s.hist.changes)), s.hist.oldest))
	for i := range s.hist.changes {
		sizes = append(sizes, len(appendChange(nil, &s.hist.changes[i])))
	}
	// So does the leases header.
	ids, keys := slices.Sorted(maps.Keys(s.leases.byID)), slices.Sorted(maps.Keys(s.leases.of))
	sizes[len(sizes)-1] += len(appendLeasesHeader(nil, len(keys), len(ids)))
	for _, id := range ids {
		sizes = append(sizes, len(appendLease(nil, id, s.leases.byID[id])))
	}
	for _, k := range keys {
		sizes = append(sizes, len(appendKeyLease(nil, k, s.leases.of[k])))
	}
	return sizes
}

// checkParts checks that every part is a run of whole records that Next was
// right to end where it did: at least one record; the part reached max only
// with its last record, or the stream ended.
func checkParts(t testing.TB, name string, sizes []int, parts [][]byte, max int) {
	t.Helper()
	r := 0
	for i, p := range parts {
		if len(p) == 0 {
			t.Fatalf("%s: part %d is empty", name, i)
		}
		sum, n := 0, 0
		for sum < len(p) && r < len(sizes) {
			if n > 0 && sum >= max {
				t.Fatalf("%s: part %d goes on after %d bytes of %d records, max %d", name, i, sum, n, max)
			}
			sum += sizes[r]
			r++
			n++
		}
		if sum != len(p) {
			t.Fatalf("%s: part %d of %d bytes does not end at a record boundary (%d)", name, i, len(p), sum)
		}
		if sum < max && r < len(sizes) {
			t.Fatalf("%s: part %d stops at %d bytes, under max %d, before the end", name, i, sum, max)
		}
	}
	if r != len(sizes) {
		t.Fatalf("%s: the parts hold %d records, want %d", name, r, len(sizes))
	}
}

// checkInvariants fails unless s satisfies every invariant Apply maintains.
func checkInvariants(t testing.TB, s *Store) {
	t.Helper()
	if s.revision < 0 {
		t.Fatalf("negative revision %d", s.revision)
	}
	var prev []byte
	i := 0
	s.tree.Ascend(func(it item) bool {
		kv := it.kv()
		switch {
		case kv.Key == nil || kv.Value == nil:
			t.Fatalf("key %d: nil key or value", i)
		case i > 0 && bytes.Compare(prev, kv.Key) >= 0:
			t.Fatalf("key %d is not after key %d", i, i-1)
		case kv.CreateRevision < 1 || kv.ModRevision < kv.CreateRevision || kv.ModRevision > s.revision:
			t.Fatalf("key %d: create %d mod %d store %d", i, kv.CreateRevision, kv.ModRevision, s.revision)
		case kv.Version < 1:
			t.Fatalf("key %d: version %d", i, kv.Version)
		case len(kv.Key) > MaxKeySize || len(kv.Value) > MaxValueSize:
			t.Fatalf("key %d: %d-byte key, %d-byte value", i, len(kv.Key), len(kv.Value))
		}
		prev = kv.Key
		i++
		return true
	})
	if i != s.Len() {
		t.Fatalf("walked %d keys, Len %d", i, s.Len())
	}
}

// boundaryStore has integers and lengths at every boundary of their msgpack
// encodings.
func boundaryStore() *Store {
	return storeOf(math.MaxInt64,
		kv("", "", 1, 1, 1),
		messages.KeyValue{Key: []byte("k127"), Value: make([]byte, 255), CreateRevision: 127, ModRevision: 128, Version: 127},
		messages.KeyValue{Key: bytes.Repeat([]byte("k"), 255), Value: make([]byte, 256), CreateRevision: 255, ModRevision: 256, Version: 128},
		messages.KeyValue{Key: bytes.Repeat([]byte("l"), 256), Value: make([]byte, 65535), CreateRevision: 32767, ModRevision: 32768, Version: 32767},
		messages.KeyValue{Key: []byte("m"), Value: make([]byte, 65536), CreateRevision: math.MaxInt32, ModRevision: math.MaxInt32 + 1, Version: 32768},
		messages.KeyValue{Key: []byte("n"), Value: []byte("v"), CreateRevision: math.MaxInt64, ModRevision: math.MaxInt64, Version: math.MaxInt64},
	)
}

func roundTripStores() []struct {
	name string
	s    *Store
} {
	type named = struct {
		name string
		s    *Store
	}
	var out []named

	out = append(out, named{"empty", New()})
	out = append(out, named{"empty at revision 5", storeOf(5)})

	one := New()
	one.Apply(txn(put("k", "v")))
	out = append(out, named{"one key", one})

	out = append(out, named{"populated", populated()})

	many := New()
	for i := range 10_000 {
		many.Apply(txn(put(fmt.Sprintf("key/%05d", i), fmt.Sprintf("value %d", i))))
	}
	for i := 0; i < 10_000; i += 7 {
		many.Apply(txn(put(fmt.Sprintf("key/%05d", i), "updated")))
	}
	many.Apply(txn(delRange("key/01000", "key/02000", false)))
	out = append(out, named{"10,000 keys", many})

	bytesStore := New()
	for b := range 256 {
		bytesStore.Apply(txn(
			put(string([]byte{byte(b)}), string([]byte{byte(b), byte(255 - b)})),
			put(string([]byte{0xff, byte(b), 0x00}), string([]byte{byte(b)})),
		))
	}
	bytesStore.Apply(txn(put("", "empty key")))
	out = append(out, named{"every byte value", bytesStore})

	empties := New()
	for i := range 100 {
		empties.Apply(txn(put(fmt.Sprintf("e%03d", i), "")))
	}
	out = append(out, named{"empty values", empties})

	largest := New()
	largest.Apply(txn(messages.Op{Type: messages.OpPut, Key: bytes.Repeat([]byte{0xff}, MaxKeySize), Value: bytes.Repeat([]byte{0xa5}, MaxValueSize)}))
	largest.Apply(txn(messages.Op{Type: messages.OpPut, Key: []byte("a"), Value: make([]byte, MaxValueSize)}))
	out = append(out, named{"largest key and value", largest})

	out = append(out, named{"integer and length boundaries", boundaryStore()})

	leased := New()
	for id := int64(1); id <= 300; id++ {
		if err := leased.Grant(id*1000, id); err != nil {
			panic(err)
		}
		op := put(fmt.Sprintf("leased/%03d", id), "v")
		op.Lease = id * 1000
		leased.Apply(txn(op))
	}
	out = append(out, named{"leases", leased})
	return out
}

func TestStreamRoundTrip(t *testing.T) {
	for i, tt := range roundTripStores() {
		name := fmt.Sprintf("#%d %s", i, tt.name)
		data := writeStream(t, tt.s)
		sizes := recordSizes(tt.s)
		for _, max := range []int{0, 1, 100, 64 << 10} {
			parts := encodeParts(t, tt.s.View(), max)
			checkParts(t, fmt.Sprintf("%s, max %d", name, max), sizes, parts, max)
			if got := bytes.Join(parts, nil); !bytes.Equal(got, data) {
				t.Errorf("%s: the parts of max %d differ from WriteSnapshot's stream", name, max)
			}
		}
		if tt.s.Len() == 0 && len(encodeParts(t, tt.s.View(), 1)) != 1 {
			t.Errorf("%s: a store without keys takes more than one part", name)
		}
		got, err := ReadSnapshot(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: ReadSnapshot: %v", name, err)
		}
		sameState(t, name, tt.s, got)
		checkInvariants(t, got)
		if again := writeStream(t, got); !bytes.Equal(again, data) {
			t.Errorf("%s: the stream of the decoded store differs", name)
		}
		// One byte at a time: the decoder streams and needs no lookahead.
		slow, err := ReadSnapshot(iotest.OneByteReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("%s: ReadSnapshot one byte at a time: %v", name, err)
		}
		sameState(t, name+" (one byte at a time)", tt.s, slow)
		// The decoded store works like the original.
		next := txn(putPrev("key/00007", "next"), del("\x00"), getRange("", "\x00", 3))
		if a, b := tt.s.Apply(next), got.Apply(next); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: after ReadSnapshot\n got %s\nwant %s", name, fmtResult(b), fmtResult(a))
		}
	}
}

// TestLargestRecord checks the bound Next documents for the size of a key
// record.
func TestLargestRecord(t *testing.T) {
	kv := &messages.KeyValue{
		Key: make([]byte, MaxKeySize), Value: make([]byte, MaxValueSize),
		CreateRevision: math.MaxInt64, ModRevision: math.MaxInt64, Version: math.MaxInt64,
	}
	if n := len(appendKV(nil, kv)); n >= MaxKeySize+MaxValueSize+100 {
		t.Errorf("the largest key record is %d bytes, %d more than its key and value", n, n-MaxKeySize-MaxValueSize)
	}
}

// TestStreamMatchesCodec checks that the stream is the records the format
// documents, as messages.Encode writes them.
func TestStreamMatchesCodec(t *testing.T) {
	for i, tt := range roundTripStores() {
		if got := writeStream(t, tt.s); !bytes.Equal(got, codecStream(t, tt.s, streamVersion)) {
			t.Errorf("#%d %s: the stream is not what messages.Encode writes for its records", i, tt.name)
		}
	}
}

// TestReadsVersion3 checks that a stream of version 3, whose key records
// are maps, reads as the same store as the current version.
func TestReadsVersion3(t *testing.T) {
	for i, tt := range roundTripStores() {
		s, err := ReadSnapshot(bytes.NewReader(codecStream(t, tt.s, namedKeysVersion)))
		if err != nil {
			t.Errorf("#%d %s: %v", i, tt.name, err)
			continue
		}
		if !bytes.Equal(writeStream(t, s), writeStream(t, tt.s)) {
			t.Errorf("#%d %s: version 3 reads as another store", i, tt.name)
		}
	}
}

// codecStream is the stream of s in version 4 or 3, record by record as
// messages.Encode writes the records' structs.
func codecStream(t *testing.T, s *Store, version uint8) []byte {
	t.Helper()
	// eventNamed is the event record of version 3.
	type eventNamed struct {
		KV   snapshotKVNamed  `msgpack:"kv"`
		Prev *snapshotKVNamed `msgpack:"prev"`
		Type uint8            `msgpack:"type"`
	}
	record := func(x *messages.KeyValue) snapshotKV {
		// A delete's value is nil; the stream has it as an empty bin.
		return snapshotKV{Key: x.Key, Value: append([]byte{}, x.Value...), CreateRevision: x.CreateRevision, ModRevision: x.ModRevision, Version: x.Version}
	}
	named := func(r snapshotKV) snapshotKVNamed {
		return snapshotKVNamed{Key: r.Key, Value: r.Value, CreateRevision: r.CreateRevision, ModRevision: r.ModRevision, Version: r.Version}
	}
	var want []byte
	want = append(want, mustEncode(t, &snapshotVersionRecord{Version: version})...)
	want = append(want, mustEncode(t, &snapshotStreamHeader{Revision: s.Revision(), Count: int64(s.Len())})...)
	for _, x := range all(s) {
		r := record(&x)
		if version == namedKeysVersion {
			want = append(want, mustEncode(t, named(r))...)
		} else {
			want = append(want, mustEncode(t, &r)...)
		}
	}
	want = append(want, mustEncode(t, &snapshotHistoryHeader{Events: int64(len(s.hist.changes)), Oldest: s.hist.oldest})...)
	for _, c := range s.hist.changes {
		e := c.event()
		ev := &snapshotEvent{KV: record(&e.KV), Type: uint8(e.Type)}
		if e.PrevKV != nil {
			p := record(e.PrevKV)
			ev.Prev = &p
		}
		if version != namedKeysVersion {
			want = append(want, mustEncode(t, ev)...)
			continue
		}
		evn := &eventNamed{KV: named(ev.KV), Type: ev.Type}
		if ev.Prev != nil {
			p := named(*ev.Prev)
			evn.Prev = &p
		}
		want = append(want, mustEncode(t, evn)...)
	}
	ids, keys := slices.Sorted(maps.Keys(s.leases.byID)), slices.Sorted(maps.Keys(s.leases.of))
	want = append(want, mustEncode(t, &snapshotLeasesHeader{Keys: int64(len(keys)), Leases: int64(len(ids))})...)
	for _, id := range ids {
		l := s.leases.byID[id]
		want = append(want, mustEncode(t, &snapshotLease{ID: id, Renewals: int64(l.renewals), TTL: l.ttl})...)
	}
	for _, k := range keys {
		want = append(want, mustEncode(t, &snapshotKeyLease{Key: []byte(k), Lease: s.leases.of[k]})...)
	}
	return want
}

func TestStreamDeterministic(t *testing.T) {
	keys := rand.New(rand.NewPCG(1, 2)).Perm(1000)
	ascending, shuffled := New(), New()
	var up, mixed messages.Txn
	for i := range keys {
		up.Success = append(up.Success, put(fmt.Sprintf("k%04d", i), "v"))
		mixed.Success = append(mixed.Success, put(fmt.Sprintf("k%04d", keys[i]), "v"))
	}
	ascending.Apply(up)
	shuffled.Apply(mixed)
	// The histories differ (in the order of the puts): drop them.
	for _, s := range []*Store{ascending, shuffled} {
		if err := s.Compact(1); err != nil {
			t.Fatal(err)
		}
	}
	a, b := writeStream(t, ascending), writeStream(t, shuffled)
	if !bytes.Equal(a, b) {
		t.Fatal("equal states built in different orders gave different streams")
	}
	decoded, err := ReadSnapshot(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(writeStream(t, decoded), a) {
		t.Fatal("a decoded store gave a different stream")
	}
}

// TestReadSnapshotOwnsItsData checks that a store read from a stream keeps
// no reference to the bytes it was read from, nor to the reader's buffer:
// the stream is longer than the buffer, which is reused as it goes.
func TestReadSnapshotOwnsItsData(t *testing.T) {
	src := populated()
	for i := range 5000 {
		src.Apply(txn(put(fmt.Sprintf("more/%04d", i), fmt.Sprintf("value %d", i))))
	}
	data := writeStream(t, src)
	if len(data) <= readBufferSize {
		t.Fatalf("a stream of %d bytes fits in the read buffer", len(data))
	}
	dst, err := ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0xAA
	}
	sameState(t, "after overwriting the stream", src, dst)
}

// version1Data returns the snapshot of s's keys and revision, with the
// given members, in the retired version 1 format: a single msgpack map
// {kvs, members, revision, version: 1} that no code of the package writes or
// reads any more. It is built here, from the format's description, for the
// tests that ReadSnapshot refuses it.
func version1Data(t testing.TB, s *Store, members map[uint64]string) []byte {
	t.Helper()
	type kv1 struct {
		Key            []byte `msgpack:"key"`
		Value          []byte `msgpack:"value"`
		CreateRevision int64  `msgpack:"create_revision"`
		ModRevision    int64  `msgpack:"mod_revision"`
		Version        int64  `msgpack:"version"`
	}
	type member1 struct {
		ID      uint64 `msgpack:"id"`
		Address string `msgpack:"address"`
	}
	d := struct {
		Version    uint8     `msgpack:"version"`
		Revision   int64     `msgpack:"revision"`
		KVs        []kv1     `msgpack:"kvs"`
		MemberList []member1 `msgpack:"members"`
	}{Version: 1, Revision: s.Revision(), KVs: make([]kv1, 0, s.Len()), MemberList: make([]member1, 0, len(members))}
	for _, x := range all(s) {
		d.KVs = append(d.KVs, kv1{x.Key, x.Value, x.CreateRevision, x.ModRevision, x.Version})
	}
	for _, id := range slices.Sorted(maps.Keys(members)) {
		d.MemberList = append(d.MemberList, member1{id, members[id]})
	}
	return mustEncode(t, &d)
}

// smallVersion1Data is version 1 data of one key and one member.
func smallVersion1Data(t testing.TB) []byte {
	return version1Data(t, storeOf(2, kv("a", "v", 1, 2, 2)), map[uint64]string{1: "h:1"})
}

// smallStream is a stream with a little of everything, for the tests that
// break it at every byte.
func smallStream(t testing.TB) []byte {
	s := storeOf(300,
		kv("", "", 1, 1, 1),
		kv("a", "x", 2, 200, 3),
		kv("b\xff", "yz", 150, 300, 129),
	)
	return writeStream(t, s)
}

func TestReadSnapshotTruncated(t *testing.T) {
	for _, data := range [][]byte{smallStream(t), writeStream(t, New())} {
		for i := range len(data) {
			s, err := ReadSnapshot(bytes.NewReader(data[:i]))
			if err == nil {
				t.Fatalf("cut at %d of %d: decoded a store of %d keys", i, len(data), s.Len())
			}
			if !errors.Is(err, errCorrupt) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("cut at %d of %d: %v, want an error wrapping errCorrupt and io.ErrUnexpectedEOF", i, len(data), err)
			}
			if s != nil {
				t.Errorf("cut at %d of %d: a store came with the error", i, len(data))
			}
		}
	}
}

func TestReadSnapshotFlippedBytes(t *testing.T) {
	data := smallStream(t)
	for i := range len(data) {
		for _, mask := range []byte{0x01, 0x02, 0x10, 0x80, 0xff} {
			bad := bytes.Clone(data)
			bad[i] ^= mask
			s, err := ReadSnapshot(bytes.NewReader(bad))
			if err != nil {
				if !errors.Is(err, errCorrupt) && !errors.Is(err, messages.ErrVersion) {
					t.Errorf("byte %d ^ %#x: %v wraps neither errCorrupt nor ErrVersion", i, mask, err)
				}
				continue
			}
			checkInvariants(t, s)
			if again := writeStream(t, s); !bytes.Equal(again, bad) {
				t.Errorf("byte %d ^ %#x: accepted, but re-encodes to other bytes", i, mask)
			}
		}
	}
}

func TestReadSnapshotErrors(t *testing.T) {
	hdr := func(version uint8, rev, count int64) []byte {
		return append(mustEncode(t, &snapshotVersionRecord{Version: version}), mustEncode(t, &snapshotStreamHeader{Revision: rev, Count: count})...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// rec is a key record of version 2 (a map), arec one of version 4 (an
	// array).
	rec := func(key string, create, mod, version int64) []byte {
		return mustEncode(t, &snapshotKVNamed{Key: []byte(key), Value: []byte("v"), CreateRevision: create, ModRevision: mod, Version: version})
	}
	arec := func(key string, create, mod, version int64) []byte {
		return mustEncode(t, &snapshotKV{Key: []byte(key), Value: []byte("v"), CreateRevision: create, ModRevision: mod, Version: version})
	}
	// noMore is an empty history and no leases, the end of a version 4
	// stream.
	noMore := func(oldest int64) []byte {
		return cat(mustEncode(t, &snapshotHistoryHeader{Oldest: oldest}), mustEncode(t, &snapshotLeasesHeader{}))
	}
	// patch replaces the single occurrence of old in data.
	patch := func(data []byte, old, new string) []byte {
		if bytes.Count(data, []byte(old)) != 1 {
			t.Fatalf("patch: %q occurs %d times", old, bytes.Count(data, []byte(old)))
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	good := cat(hdr(2, 3, 1), rec("a", 1, 3, 2))
	good4 := cat(hdr(4, 3, 1), arec("a", 1, 3, 2), noMore(3))
	for _, b := range [][]byte{good, good4} {
		if _, err := ReadSnapshot(bytes.NewReader(b)); err != nil {
			t.Fatalf("a base stream: %v", err)
		}
	}
	v1 := smallVersion1Data(t)

	type want int
	const (
		corrupt   want = iota // wraps errCorrupt
		truncated             // wraps errCorrupt and io.ErrUnexpectedEOF
		version               // wraps messages.ErrVersion
	)
	tests := []struct {
		name string
		data []byte
		want want
	}{
		{"nil", nil, truncated},
		{"empty", []byte{}, truncated},
		{"garbage", []byte("this is not msgpack at all"), corrupt},
		{"msgpack nil", []byte{0xc0}, corrupt},
		{"msgpack array", mustEncode(t, []int{1, 2, 3}), corrupt},
		{"msgpack string", mustEncode(t, "hello"), corrupt},
		{"no version first", mustEncode(t, map[string]int{"revision": 1}), corrupt},
		{"truncated version record", hdr(2, 3, 1)[:5], truncated},
		{"truncated header", hdr(2, 3, 1)[:14], truncated},
		{"no header", mustEncode(t, &snapshotVersionRecord{Version: 2}), truncated},

		{"trailing byte", cat(good, []byte{0}), corrupt},
		{"trailing stream", cat(good, good), corrupt},
		{"trailing data after no keys", cat(hdr(2, 0, 0), []byte("x")), corrupt},
		{"fewer keys than counted", cat(hdr(2, 3, 2), rec("a", 1, 3, 2)), truncated},
		{"more keys than counted", cat(hdr(2, 3, 1), rec("a", 1, 3, 2), rec("b", 1, 1, 1)), corrupt},

		{"version 1 snapshot", v1, version},
		{"version 1 header", hdr(1, 3, 1), version},
		{"version 0", hdr(0, 3, 1), version},
		{"version 5", cat(hdr(5, 3, 1), arec("a", 1, 3, 2), noMore(3)), version},
		{"version 255", hdr(255, 0, 0), version},
		{"version 5 in a uint8", patch(hdr(5, 0, 0), "version\x05", "version\xcc\x05"), version},
		{"version 5 in a larger header", cat([]byte{mpack.Map16, 0, 20}, []byte(nameVersion), []byte{5}), version},
		{"version 5 with more fields", cat(mustEncode(t, &struct {
			Version uint8  `msgpack:"version"`
			Zebra   string `msgpack:"zebra"`
		}{5, "z"}), []byte("whatever follows")), version},
		{"version 2 in a uint8", patch(good, "\x81\xa7version\x02", "\x81\xa7version\xcc\x02"), corrupt},
		{"version 2 in a map16", patch(good, "\x81\xa7version", "\xde\x00\x01\xa7version"), corrupt},
		{"version 2 with a second field", patch(good, "\x81\xa7version", "\x82\xa7version"), corrupt},
		{"version 2 and header in one map", cat([]byte("\x83"+nameVersion+"\x02"+nameCount+"\x01"+nameRevision+"\x03"), rec("a", 1, 3, 2)), corrupt},
		{"header fields out of order", cat(mustEncode(t, &snapshotVersionRecord{Version: 2}), []byte("\x82"+nameRevision+"\x03"+nameCount+"\x01"), rec("a", 1, 3, 2)), corrupt},
		{"header with a third field", patch(good, "\x82\xa5count", "\x83\xa5count"), corrupt},

		{"negative revision", hdr(2, -1, 0), corrupt},
		{"negative count", hdr(2, 1, -1), corrupt},
		{"revision above int64", patch(hdr(2, 0, 0), "revision\x00", "revision\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), corrupt},
		{"revision in a longer int", patch(good, "\xa8revision\x03", "\xa8revision\xd3\x00\x00\x00\x00\x00\x00\x00\x03"), corrupt},
		{"count in a uint8", patch(good, "count\x01", "count\xcc\x01"), corrupt},
		{"revision as a str", patch(good, "\xa8revision\x03", "\xa8revision\xa5three"), corrupt},

		{"keys out of order", cat(hdr(2, 3, 2), rec("b", 1, 1, 1), rec("a", 2, 2, 1)), corrupt},
		{"duplicate key", cat(hdr(2, 3, 2), rec("a", 1, 1, 1), rec("a", 2, 2, 1)), corrupt},
		{"empty key after another", cat(hdr(2, 3, 2), rec("a", 1, 1, 1), rec("", 2, 2, 1)), corrupt},
		{"create revision 0", cat(hdr(2, 3, 1), rec("a", 0, 1, 1)), corrupt},
		{"negative create revision", cat(hdr(2, 3, 1), rec("a", -1, 1, 1)), corrupt},
		{"mod before create", cat(hdr(2, 3, 1), rec("a", 2, 1, 1)), corrupt},
		{"mod after store revision", cat(hdr(2, 3, 1), rec("a", 1, 4, 1)), corrupt},
		{"version 0 key", cat(hdr(2, 3, 1), rec("a", 1, 1, 0)), corrupt},
		{"negative key version", cat(hdr(2, 3, 1), rec("a", 1, 1, -5)), corrupt},

		{"key record not a map", cat(hdr(2, 3, 1), []byte{0x95}), corrupt},
		{"version 4 key record as a map", cat(hdr(4, 3, 1), rec("a", 1, 3, 2), noMore(3)), corrupt},
		{"version 3 key record as an array", cat(hdr(3, 3, 1), arec("a", 1, 3, 2), noMore(3)), corrupt},
		{"key array with a sixth field", patch(good4, "\x95\x01\xc4\x01a", "\x96\x01\xc4\x01a"), corrupt},
		{"key array fields out of order", cat(hdr(4, 3, 1), []byte("\x95\xc4\x01a\x01\x03\xc4\x01v\x02"), noMore(3)), corrupt},
		{"key array: create revision in a uint8", patch(good4, "\x95\x01\xc4", "\x95\xcc\x01\xc4"), corrupt},
		{"key array: key as a str", patch(good4, "\x95\x01\xc4\x01a", "\x95\x01\xa1a"), corrupt},
		{"key array: value cut short", patch(good4, "\xc4\x01v\x02", "\xc4\x20v\x02"), corrupt},
		{"key array: mod after store revision", cat(hdr(4, 3, 1), arec("a", 1, 4, 1), noMore(3)), corrupt},
		{"key record with a sixth field", patch(good, "\x85\xafcreate", "\x86\xafcreate"), corrupt},
		{"key record fields out of order", cat(hdr(2, 3, 1), []byte("\x85"+nameKey+"\xc4\x01a"+nameCreate+"\x01"+nameMod+"\x03"+nameValue+"\xc4\x00"+nameVersion+"\x02")), corrupt},
		{"misnamed field", patch(good, "\xa5value", "\xa5vxlue"), corrupt},
		{"key as a str", patch(good, "key\xc4\x01a", "key\xa1a"), corrupt},
		{"key as nil", patch(good, "key\xc4\x01a", "key\xc0"), corrupt},
		{"value as nil", patch(good, "value\xc4\x01v", "value\xc0"), corrupt},
		{"value in a bin16", patch(good, "value\xc4\x01v", "value\xc5\x00\x01v"), corrupt},
		{"create revision in a uint8", patch(good, "create_revision\x01", "create_revision\xcc\x01"), corrupt},
		{"mod revision in an int8", patch(good, "mod_revision\x03", "mod_revision\xd0\x03"), corrupt},
		{"key version as a float", patch(good, "value\xc4\x01v\xa7version\x02", "value\xc4\x01v\xa7version\xca\x40\x00\x00\x00"), corrupt},
		{"key over MaxKeySize", cat(hdr(2, 3, 1), mustEncode(t, &snapshotKVNamed{Key: make([]byte, MaxKeySize+1), Value: []byte{}, CreateRevision: 1, ModRevision: 1, Version: 1})), corrupt},
		{"value over MaxValueSize", cat(hdr(2, 3, 1), mustEncode(t, &snapshotKVNamed{Key: []byte("a"), Value: make([]byte, MaxValueSize+1), CreateRevision: 1, ModRevision: 1, Version: 1})), corrupt},
		{"value of 4 GiB", patch(good, "value\xc4\x01v", "value\xc6\xff\xff\xff\xff"), corrupt},
		{"value cut short", patch(good, "value\xc4\x01v", "value\xc4\x20v"), truncated},
	}
	for i, tt := range tests {
		s, err := ReadSnapshot(bytes.NewReader(tt.data))
		if err == nil {
			t.Errorf("#%d %s: decoded a store of %d keys", i, tt.name, s.Len())
			continue
		}
		if s != nil {
			// Nothing half-done: an error comes without a store.
			t.Errorf("#%d %s: a store of %d keys came with the error %v", i, tt.name, s.Len(), err)
		}
		var ok bool
		switch tt.want {
		case corrupt:
			ok = errors.Is(err, errCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, messages.ErrVersion)
		case truncated:
			ok = errors.Is(err, errCorrupt) && errors.Is(err, io.ErrUnexpectedEOF)
		case version:
			ok = errors.Is(err, messages.ErrVersion) && !errors.Is(err, errCorrupt)
		}
		if !ok {
			t.Errorf("#%d %s: wrong kind of error (want kind %d): %v", i, tt.name, tt.want, err)
		}
	}
}

// TestReadSnapshotRefusesVersion1 checks that ReadSnapshot refuses data of
// the retired version 1 format as a version it does not know, not as
// corrupt data, whatever the data holds.
func TestReadSnapshotRefusesVersion1(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty store", version1Data(t, New(), nil)},
		{"one key and a member", smallVersion1Data(t)},
		{"populated store with members", version1Data(t, populated(), map[uint64]string{3: "127.0.0.1:7003", 1: "127.0.0.1:7001"})},
		{"integer and length boundaries", version1Data(t, boundaryStore(), map[uint64]string{0: "", 1<<64 - 1: "max"})},
		// A msgpack map has no order: another encoder may put "version" first.
		{"version first", []byte("\x84" + nameVersion + "\x01" + nameRevision + "\x00\xa3kvs\x90\xa7members\x90")},
	}
	for i, tt := range tests {
		for _, r := range []io.Reader{bytes.NewReader(tt.data), iotest.OneByteReader(bytes.NewReader(tt.data))} {
			s, err := ReadSnapshot(r)
			if !errors.Is(err, messages.ErrVersion) || errors.Is(err, errCorrupt) {
				t.Errorf("#%d %s: %v, want an error wrapping ErrVersion only", i, tt.name, err)
			}
			if s != nil {
				t.Errorf("#%d %s: a store came with the error", i, tt.name)
			}
		}
	}
}

// TestReadSnapshotBoundedAllocation checks that lengths and counts in the
// input do not make ReadSnapshot allocate more than a field's limit.
func TestReadSnapshotBoundedAllocation(t *testing.T) {
	hdr := append(mustEncode(t, &snapshotVersionRecord{Version: 2}), mustEncode(t, &snapshotStreamHeader{Revision: 1, Count: math.MaxInt64})...)
	start := []byte("\x85" + nameCreate + "\x01" + nameKey + "\xc4\x01a" + nameMod + "\x01" + nameValue)
	tests := [][]byte{
		hdr,
		bytes.Join([][]byte{hdr, []byte("\x85" + nameCreate + "\x01" + nameKey + "\xc6\xff\xff\xff\xff")}, nil),
		bytes.Join([][]byte{hdr, start, []byte("\xc6\x7f\xff\xff\xff")}, nil),
		bytes.Join([][]byte{hdr, start, []byte("\xc6\x00\x10\x00\x00")}, nil), // MaxValueSize, allowed, then cut
	}
	for i, data := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ReadSnapshot(bytes.NewReader(data))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("#%d: no error", i)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > MaxValueSize+1<<20 {
			t.Errorf("#%d: allocated %d bytes (%v)", i, n, err)
		}
	}
}

// endless is a reader that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestReadSnapshotStreams checks that ReadSnapshot reads as it goes: it
// stops at the first byte after the stream or at the first bad record, and
// returns the errors of its reader.
func TestReadSnapshotStreams(t *testing.T) {
	data := writeStream(t, populated())
	if _, err := ReadSnapshot(io.MultiReader(bytes.NewReader(data), endless{})); !errors.Is(err, errCorrupt) {
		t.Errorf("a stream followed by endless data: %v, want errCorrupt", err)
	}
	if _, err := ReadSnapshot(io.MultiReader(bytes.NewReader([]byte{0x93}), endless{})); !errors.Is(err, errCorrupt) {
		t.Errorf("endless garbage: %v, want errCorrupt", err)
	}
	boom := errors.New("boom")
	for _, cut := range []int{0, 1, 10, len(data) - 1, len(data)} {
		_, err := ReadSnapshot(io.MultiReader(bytes.NewReader(data[:cut]), iotest.ErrReader(boom)))
		if !errors.Is(err, boom) || errors.Is(err, errCorrupt) {
			t.Errorf("reader failing after %d bytes: %v, want the reader's error", cut, err)
		}
	}
}

// shortWriter writes half of what it is given, without an error (which
// breaks the io.Writer contract).
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

var errWrite = errors.New("write failed")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteSnapshotErrors(t *testing.T) {
	s := New()
	for i := range 2000 {
		s.Apply(txn(put(fmt.Sprintf("key%05d", i), "some value to fill parts")))
	}
	size := len(writeStream(t, s))
	for _, n := range []int{0, 10, writePartSize + 100} {
		written, err := WriteSnapshot(&failWriter{n: n}, s.View())
		if !errors.Is(err, errWrite) || written != int64(n) {
			t.Errorf("writer failing after %d of %d bytes: %d, %v", n, size, written, err)
		}
	}

	if _, err := WriteSnapshot(shortWriter{}, s.View()); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("a short write: %v, want io.ErrShortWrite", err)
	}

	// Apply does not check sizes, so a store may hold what the format cannot.
	for i, op := range []messages.Op{
		{Type: messages.OpPut, Key: make([]byte, MaxKeySize+1), Value: []byte("v")},
		{Type: messages.OpPut, Key: []byte("k"), Value: make([]byte, MaxValueSize+1)},
	} {
		big := New()
		big.Apply(txn(put("a", "v"), op, put("z", "v")))
		e := NewSnapshotEncoder(big.View())
		var err error
		for range 5 {
			var out []byte
			out, _, err = e.Next([]byte("buf"), 1)
			if err != nil {
				if string(out) != "buf" {
					t.Errorf("#%d: a failing Next returned %q, want buf", i, out)
				}
				break
			}
		}
		if err == nil {
			t.Fatalf("#%d: the encoder wrote a record over the limits", i)
		}
		if _, _, again := e.Next(nil, 1); again == nil {
			t.Errorf("#%d: Next succeeded after failing", i)
		}
		if _, err := WriteSnapshot(io.Discard, big.View()); err == nil {
			t.Errorf("#%d: WriteSnapshot wrote a record over the limits", i)
		}
	}
}

// currentVersionRecord begins every stream of the current version.
var currentVersionRecord = []byte{versionMap, 0xa7, 'v', 'e', 'r', 's', 'i', 'o', 'n', streamVersion}

func FuzzReadSnapshot(f *testing.F) {
	for _, s := range []*Store{New(), populated()} {
		data := writeStream(f, s)
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add(smallStream(f))
	f.Add(smallVersion1Data(f))
	f.Add([]byte{})
	f.Add([]byte{0x83})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSnapshot(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, errCorrupt) && !errors.Is(err, messages.ErrVersion) {
				t.Fatalf("an error that wraps neither errCorrupt nor ErrVersion: %v", err)
			}
			if s != nil {
				t.Fatalf("a store came with the error %v", err)
			}
			return
		}
		checkInvariants(t, s)
		again := writeStream(t, s)
		if bytes.HasPrefix(data, currentVersionRecord) {
			if !bytes.Equal(again, data) {
				t.Fatalf("decoded, but re-encodes to other bytes:\n%x\n%x", data, again)
			}
			return
		}
		// An older version re-encodes in the current one, to the same state.
		s2, err := ReadSnapshot(bytes.NewReader(again))
		if err != nil || !bytes.Equal(writeStream(t, s2), again) {
			t.Fatalf("an older version re-encoded does not read back the same (%v)", err)
		}
	})
}
