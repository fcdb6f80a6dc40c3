package store

// # Snapshot format
//
// A snapshot (SnapshotEncoder, WriteSnapshot, ReadSnapshot) is a stream, of
// format version 4, of msgpack maps and arrays and nothing after them:
//
//	the version record   snapshotVersionRecord{version: 4}
//	the header           snapshotStreamHeader{count: N, revision: R}
//	N key records        snapshotKV[create_revision, key, mod_revision, value, version]
//	the history header   snapshotHistoryHeader{events: H, oldest: X}
//	H event records      snapshotEvent{kv: <key record>, prev: <key record> or nil, type: 1 put, 2 delete}
//	the leases header    snapshotLeasesHeader{keys: K, leases: L}
//	L lease records      snapshotLease{id, renewals, ttl}
//	K key lease records  snapshotKeyLease{key, lease}
//
// R is the store revision and N the number of keys; the key records come in
// strictly ascending key order. X is the oldest revision the store can be
// read at (X <= R), and the event records are its history: every change
// after X, in revision order (each after X, at most R). A put's kv is the
// key after it (mod_revision its revision); a delete's kv has only the key
// and mod_revision (its revision), the rest 0 and an empty value; prev is
// the key before the change, nil if it did not exist. The lease records
// come in strictly ascending id order (each id and TTL at least 1), and the
// key lease records, in strictly ascending key order, attach keys of the
// store to those leases.
//
// A key record is an array of its five fields in that order, and every
// other record a map. Version 3 is version 4 with each key record a map of
// the same fields (snapshotKVNamed{create_revision, key, mod_revision,
// value, version}), their names taking a third of a snapshot of small
// values; version 2 is version 3 without the history and the leases.
// ReadSnapshot still reads both, version 2 as a store whose history starts
// at its revision. Each record is exactly what messages.Encode
// writes for its tagged struct (the codec writes the fields of a struct in
// the order of their msgpack names), so messages.Decode reads any record, and
// any msgpack tool the stream. The stream holds the keys and the revision,
// nothing else, and no checksum (the file that holds it adds one).
//
// The stream starts with the version record: a msgpack map whose first
// entry is "version". ReadSnapshot reads it before anything else and
// refuses a version other than 2, 3 and 4 with an error wrapping
// messages.ErrVersion.
// Version 1, a retired format that no code writes any more, was a single
// msgpack map whose first field (in name order) is "kvs", not "version";
// ReadSnapshot recognizes it by that field and refuses it the same way.
//
// The stream is self-delimiting: every map has a fixed number of fields in a
// fixed order, byte strings carry their length, and the headers count the
// key and event records, so a stream cut anywhere, or followed by anything,
// is refused.
//
// The encoding is canonical, so that equal states give equal bytes and a
// stream that decodes re-encodes to the same bytes: maps are fixmaps,
// arrays fixarrays and names fixstrs, as above; key and value are msgpack bin (never nil, never
// str) in the shortest of bin8, bin16 and bin32 that fits; integers take the
// form go-msgpack writes (fixint for -32..127, else the smallest of int8,
// int16, int32 and int64 that holds the value, so 128 is an int16).
// ReadSnapshot refuses any other encoding. A key is at most MaxKeySize bytes
// and a value at most MaxValueSize bytes: the encoder refuses to write, and
// ReadSnapshot to read, a longer one, so a reader never allocates more than
// that for a field, whatever the input says.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"github.com/raftkv/raftkv/internal/mpack"
	"github.com/raftkv/raftkv/messages"
)

// streamVersion is the format version of the snapshot stream (see the top
// of this file); ReadSnapshot also reads namedKeysVersion and
// noHistoryVersion, and refuses any other version with an error wrapping
// messages.ErrVersion.
const (
	streamVersion    = 4
	namedKeysVersion = 3
	noHistoryVersion = 2
)

// errCorrupt is wrapped by the errors of ReadSnapshot for a stream that is
// malformed, truncated, or breaks an invariant of the store.
var errCorrupt = errors.New("raftkv: corrupt store snapshot")

// The fixed parts of the records of the stream: map headers and
// field names (msgpack fixmap and fixstr).
const (
	versionMap   = 0x81 // fixmap of 1: version
	headerMap    = 0x82 // fixmap of 2: count, revision
	kvArray      = 0x95 // fixarray of 5: create_revision, key, mod_revision, value, version
	kvMap        = 0x85 // fixmap of 5, the key record of versions 2 and 3
	nameVersion  = "\xa7version"
	nameCount    = "\xa5count"
	nameRevision = "\xa8revision"
	nameCreate   = "\xafcreate_revision"
	nameKey      = "\xa3key"
	nameMod      = "\xacmod_revision"
	nameValue    = "\xa5value"

	historyMap = 0x82 // fixmap of 2: events, oldest
	eventMap   = 0x83 // fixmap of 3: kv, prev, type
	nameEvents = "\xa6events"
	nameOldest = "\xa6oldest"
	nameKV     = "\xa2kv"
	namePrev   = "\xa4prev"
	nameType   = "\xa4type"

	leasesMap    = 0x82 // fixmap of 2: keys, leases
	leaseMap     = 0x83 // fixmap of 3: id, renewals, ttl
	keyLeaseMap  = 0x82 // fixmap of 2: key, lease
	nameKeys     = "\xa4keys"
	nameLeases   = "\xa6leases"
	nameID       = "\xa2id"
	nameRenewals = "\xa8renewals"
	nameTTL      = "\xa3ttl"
	nameLease    = "\xa5lease"
)

// version1Start begins every snapshot of the retired version 1 format (see
// the top of this file): a map of 4 fields, the first one "kvs".
const version1Start = "\x84\xa3kvs"

// readBufferSize is the buffer of ReadSnapshot, and writePartSize the part
// size WriteSnapshot asks the encoder for.
const (
	readBufferSize = 64 << 10
	writePartSize  = 64 << 10
)

// SnapshotEncoder writes the version 4 snapshot stream of a View part by
// part (see Next). It walks the View's tree as it goes rather than copying
// it, so it holds no more than one part in memory, and may run on any
// goroutine (see View). Not safe for concurrent use.
type SnapshotEncoder struct {
	view    *View
	count   int  // keys in view
	started bool // the version record and header were emitted
	// historyStarted says that the history header was emitted.
	historyStarted bool
	emitted        int // key records emitted
	events         int // event records emitted, after the history header
	// leases is the view's leases in order, once the events are out;
	// leaseRecs and keyLeases count the lease and key lease records
	// emitted.
	leases               *leaseLists
	leaseRecs, keyLeases int
	last                 []byte // key of the last record emitted (shared with the view)
	scratch              []byte // the probe of last
	done                 bool
	err                  error
}

// NewSnapshotEncoder returns an encoder of v's snapshot stream.
func NewSnapshotEncoder(v *View) *SnapshotEncoder {
	return &SnapshotEncoder{view: v, count: v.Len()}
}

// leaseLists are a View's leases in the stream's order.
type leaseLists struct {
	ids  []int64
	keys []string
}

// Next appends the next part of the stream to buf and returns the extended
// buffer. A part is a sequence of whole records (the version record and the
// header go together, as the first one; the history header goes with the
// record before it): Next appends records until it
// appended at least one and the part (what it appended) holds max bytes or
// more, or the stream ends; so a part exceeds max by less than one record (a
// key record is less than MaxKeySize+MaxValueSize+100 bytes), and max <= 1
// gives one record per part. done is true on the call that appends the end
// of the stream (the first call, for a view without keys); after that Next
// appends nothing and reports done again. The parts, concatenated, are the
// stream.
//
// Each call costs O(log n) to find its place in the tree plus the records it
// appends. Next fails, and keeps failing, if the view holds a key longer
// than MaxKeySize or a value longer than MaxValueSize, which the format
// cannot carry; it then returns buf unextended.
func (e *SnapshotEncoder) Next(buf []byte, max int) (out []byte, done bool, err error) {
	if e.err != nil {
		return buf, false, e.err
	}
	if e.done {
		return buf, true, nil
	}
	start := len(buf)
	out = buf
	added := false
	if !e.started {
		out = appendStreamHeader(out, e.view.revision, e.count)
		e.started, added = true, true
	}
	if e.emitted < e.count && !(added && len(out)-start >= max) {
		skip := e.emitted > 0 // the walk starts at the last key emitted
		stopped := false
		walk := func(it item) bool {
			kv := it.kv()
			if skip {
				skip = false
				if bytes.Equal(kv.Key, e.last) {
					return true
				}
			}
			if added && len(out)-start >= max {
				stopped = true
				return false
			}
			if len(kv.Key) > MaxKeySize || len(kv.Value) > MaxValueSize {
				err = fmt.Errorf("snapshot: key %d (%q...) of %d bytes with a value of %d bytes: more than the limits %d and %d",
					e.emitted, kv.Key[:min(len(kv.Key), 32)], len(kv.Key), len(kv.Value), MaxKeySize, MaxValueSize)
				return false
			}
			out = appendKV(out, &kv)
			e.emitted++
			e.last = kv.Key
			added = true
			return true
		}
		if e.emitted == 0 {
			e.view.tree.Ascend(walk)
		} else {
			var from item
			e.scratch, from = probe(e.scratch, e.last)
			e.view.tree.AscendGreaterOrEqual(from, walk)
		}
		if err == nil && !stopped && e.emitted != e.count {
			// Cannot happen: a View never changes.
			err = fmt.Errorf("snapshot: the view has %d keys, the walk found %d", e.count, e.emitted)
		}
		if err != nil {
			e.err = err
			return buf, false, err
		}
	}
	if err == nil && e.emitted == e.count {
		out, added = e.history(out, start, max, added)
	}
	return out, e.done, nil
}

// history appends the records after the keys that fit the part: the
// history header (right after the last key record, or the header), the
// event records, the leases header (right after the record before it),
// the lease and key lease records; done once the last is out.
func (e *SnapshotEncoder) history(out []byte, start, max int, added bool) ([]byte, bool) {
	v := e.view
	full := func() bool { return added && len(out)-start >= max }
	if !e.historyStarted {
		// With the record before it, as if they were one.
		out = appendHistoryHeader(out, int64(len(v.history)), v.oldest)
		e.historyStarted = true
	}
	for ; e.events < len(v.history) && !full(); e.events++ {
		out, added = appendChange(out, &v.history[e.events]), true
	}
	if e.events < len(v.history) {
		return out, added
	}
	if e.leases == nil {
		e.leases = &leaseLists{ids: slices.Sorted(maps.Keys(v.leases.byID)), keys: slices.Sorted(maps.Keys(v.leases.of))}
		out = appendLeasesHeader(out, len(e.leases.keys), len(e.leases.ids))
	}
	for ; e.leaseRecs < len(e.leases.ids) && !full(); e.leaseRecs++ {
		id := e.leases.ids[e.leaseRecs]
		out, added = appendLease(out, id, v.leases.byID[id]), true
	}
	for ; e.leaseRecs == len(e.leases.ids) && e.keyLeases < len(e.leases.keys) && !full(); e.keyLeases++ {
		k := e.leases.keys[e.keyLeases]
		out, added = appendKeyLease(out, k, v.leases.of[k]), true
	}
	e.done = e.leaseRecs == len(e.leases.ids) && e.keyLeases == len(e.leases.keys)
	return out, added
}

func appendLeasesHeader(b []byte, keys, leases int) []byte {
	b = append(b, leasesMap)
	b = append(b, nameKeys...)
	b = mpack.AppendInt(b, int64(keys))
	b = append(b, nameLeases...)
	return mpack.AppendInt(b, int64(leases))
}

func appendLease(b []byte, id int64, l *lease) []byte {
	b = append(b, leaseMap)
	b = append(b, nameID...)
	b = mpack.AppendInt(b, id)
	b = append(b, nameRenewals...)
	b = mpack.AppendInt(b, int64(l.renewals))
	b = append(b, nameTTL...)
	return mpack.AppendInt(b, l.ttl)
}

func appendKeyLease(b []byte, key string, id int64) []byte {
	b = append(b, keyLeaseMap)
	b = append(b, nameKey...)
	b = mpack.AppendBin(b, []byte(key))
	b = append(b, nameLease...)
	return mpack.AppendInt(b, id)
}

// WriteSnapshot writes v's whole version 4 snapshot stream to w, part by
// part, and returns the number of bytes written. It may run on any goroutine
// (see View).
func WriteSnapshot(w io.Writer, v *View) (int64, error) {
	e := NewSnapshotEncoder(v)
	var buf []byte
	var n int64
	for {
		part, done, err := e.Next(buf[:0], writePartSize)
		if err != nil {
			return n, err
		}
		m, err := w.Write(part)
		n += int64(m)
		if err == nil && m != len(part) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return n, fmt.Errorf("write snapshot: %w", err)
		}
		if done {
			return n, nil
		}
		buf = part
	}
}

func appendStreamHeader(b []byte, revision int64, count int) []byte {
	b = append(b, versionMap)
	b = append(b, nameVersion...)
	b = mpack.AppendInt(b, streamVersion)
	b = append(b, headerMap)
	b = append(b, nameCount...)
	b = mpack.AppendInt(b, int64(count))
	b = append(b, nameRevision...)
	return mpack.AppendInt(b, revision)
}

func appendHistoryHeader(b []byte, events, oldest int64) []byte {
	b = append(b, historyMap)
	b = append(b, nameEvents...)
	b = mpack.AppendInt(b, events)
	b = append(b, nameOldest...)
	return mpack.AppendInt(b, oldest)
}

func appendEvent(b []byte, e *messages.Event) []byte {
	return appendEventRecord(b, &e.KV, e.PrevKV, e.Type)
}

// appendChange appends the event record of c, decoding its items in place.
func appendChange(b []byte, c *change) []byte {
	var kv, prev messages.KeyValue
	var p *messages.KeyValue
	if c.hasPrev() {
		prev = c.prev.kv()
		p = &prev
	}
	typ := messages.EventPut
	if c.del {
		typ, kv = messages.EventDelete, messages.KeyValue{Key: c.prev.key(), ModRevision: c.rev}
	} else {
		kv = c.kv.kv()
	}
	return appendEventRecord(b, &kv, p, typ)
}

func appendEventRecord(b []byte, kv, prev *messages.KeyValue, typ messages.EventType) []byte {
	b = append(b, eventMap)
	b = append(b, nameKV...)
	b = appendKV(b, kv)
	b = append(b, namePrev...)
	if prev == nil {
		b = append(b, mpack.Nil)
	} else {
		b = appendKV(b, prev)
	}
	b = append(b, nameType...)
	return mpack.AppendInt(b, int64(typ))
}

func appendKV(b []byte, kv *messages.KeyValue) []byte {
	b = append(b, kvArray)
	b = mpack.AppendInt(b, kv.CreateRevision)
	b = mpack.AppendBin(b, kv.Key)
	b = mpack.AppendInt(b, kv.ModRevision)
	b = mpack.AppendBin(b, kv.Value)
	return mpack.AppendInt(b, kv.Version)
}

// ReadSnapshot reads a version 4 (or 3, or 2) snapshot stream (see WriteSnapshot) from r
// and returns a new Store that holds its state. It reads through a buffer,
// as it goes, never the whole input at once. The Store owns its data: it
// keeps no reference to r or to what r returned.
//
// ReadSnapshot never panics. On error it returns no Store, never a partly
// read one: an error wrapping messages.ErrVersion for a stream of another
// version (the retired version 1 included), an error wrapping the package's
// corruption error for a stream that is malformed, not in the canonical
// encoding, truncated (the error then also wraps io.ErrUnexpectedEOF),
// followed by more data, or breaks an invariant of the store (keys not in
// strictly ascending order, revisions or version out of range, a key or
// value over the size limits), and an error of r wrapped. On error
// ReadSnapshot may have consumed any part of r.
func ReadSnapshot(r io.Reader) (*Store, error) {
	d := streamReader{br: bufio.NewReaderSize(r, readBufferSize)}
	s, err := d.read()
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return s, nil
}

// streamReader decodes a version 4, 3 or 2 stream.
type streamReader struct {
	br *bufio.Reader
	// named says that key records are maps (versions 2 and 3).
	named  bool
	off    int64 // bytes consumed
	record int64 // the record being read: -1 for the header, else a key's index
	small  [8]byte
	// keyBuf and valueBuf hold the key and value of the record being read.
	keyBuf, valueBuf []byte
}

func (d *streamReader) read() (*Store, error) {
	d.record = -1
	// The version first, whatever the rest of the stream looks like.
	if p, _ := d.br.Peek(len(version1Start)); string(p) == version1Start {
		return nil, fmt.Errorf("snapshot version 1: %w", messages.ErrVersion)
	}
	t, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch {
	case t >= 0x80 && t <= 0x8f: // fixmap
	case t == mpack.Map16:
		err = d.full(d.small[:2])
	case t == mpack.Map32:
		err = d.full(d.small[:4])
	default:
		return nil, d.corrupt("type 0x%02x, want a msgpack map", t)
	}
	if err != nil {
		return nil, err
	}
	if err := d.field(nameVersion); err != nil {
		return nil, err
	}
	version, vt, err := d.int(nameVersion)
	if err != nil {
		return nil, err
	}
	if version != streamVersion && version != namedKeysVersion && version != noHistoryVersion {
		return nil, fmt.Errorf("snapshot version %d: %w", version, messages.ErrVersion)
	}
	if t != versionMap || vt != mpack.IntType(version) {
		return nil, d.corrupt("not the canonical version %d record", version)
	}
	d.named = version < streamVersion

	if t, err = d.byte(); err != nil {
		return nil, err
	}
	if t != headerMap {
		return nil, d.corrupt("type 0x%02x, want a map of 2 fields (0x%02x)", t, headerMap)
	}
	count, err := d.canonicalInt(nameCount)
	if err != nil {
		return nil, err
	}
	revision, err := d.canonicalInt(nameRevision)
	if err != nil {
		return nil, err
	}
	if revision < 0 {
		return nil, fmt.Errorf("%w: negative revision %d", errCorrupt, revision)
	}
	if count < 0 {
		return nil, fmt.Errorf("%w: negative key count %d", errCorrupt, count)
	}

	// The keys go into the tree on a goroutine of their own while the
	// stream is decoded: a restart reads both at once, on two cores.
	tree := newTree()
	batches := make(chan []item, 4)
	built := make(chan struct{})
	go func() {
		defer close(built)
		for batch := range batches {
			for _, it := range batch {
				tree.ReplaceOrInsert(it) // at the right end of the tree
			}
		}
	}()
	err = d.items(count, revision, batches)
	<-built
	if err != nil {
		return nil, err
	}
	hist, ls := newHistory(revision, HistoryLimits{}), newLeases()
	if version != noHistoryVersion {
		if hist, err = d.history(revision); err != nil {
			return nil, err
		}
		if ls, err = d.leases(tree); err != nil {
			return nil, err
		}
	}

	switch _, err := d.br.ReadByte(); err {
	case nil:
		return nil, fmt.Errorf("%w: data after the end of the stream, at byte %d", errCorrupt, d.off)
	case io.EOF:
	default:
		return nil, err
	}
	return &Store{tree: tree, revision: revision, hist: hist, leases: ls}, nil
}

// leases reads the leases header, lease and key lease records, and checks
// them against the keys of tree.
func (d *streamReader) leases(tree *btreeKV) (leases, error) {
	d.record = -2
	ls := newLeases()
	t, err := d.byte()
	if err != nil {
		return ls, err
	}
	if t != leasesMap {
		return ls, d.corrupt("type 0x%02x, want the leases header, a map of 2 fields (0x%02x)", t, leasesMap)
	}
	nkeys, err := d.canonicalInt(nameKeys)
	if err != nil {
		return ls, err
	}
	nleases, err := d.canonicalInt(nameLeases)
	if err != nil {
		return ls, err
	}
	if nkeys < 0 || nleases < 0 {
		return ls, d.corrupt("%d leases with %d keys", nleases, nkeys)
	}
	last := int64(0)
	for range nleases {
		if t, err = d.byte(); err != nil {
			return ls, err
		}
		if t != leaseMap {
			return ls, d.corrupt("type 0x%02x, want a lease record (0x%02x)", t, leaseMap)
		}
		id, err := d.canonicalInt(nameID)
		if err != nil {
			return ls, err
		}
		renewals, err := d.canonicalInt(nameRenewals)
		if err != nil {
			return ls, err
		}
		ttl, err := d.canonicalInt(nameTTL)
		if err != nil {
			return ls, err
		}
		if id <= last || renewals < 0 || ttl < 1 {
			return ls, d.corrupt("lease %d (after %d) with %d renewals and a TTL of %d s", id, last, renewals, ttl)
		}
		last = id
		ls.byID[id] = &lease{ttl: ttl, renewals: uint64(renewals), keys: map[string]struct{}{}}
	}
	var prev []byte
	for i := range nkeys {
		if t, err = d.byte(); err != nil {
			return ls, err
		}
		if t != keyLeaseMap {
			return ls, d.corrupt("type 0x%02x, want a key lease record (0x%02x)", t, keyLeaseMap)
		}
		if d.keyBuf, err = d.bin(d.keyBuf, nameKey, MaxKeySize); err != nil {
			return ls, err
		}
		id, err := d.canonicalInt(nameLease)
		if err != nil {
			return ls, err
		}
		var probeKey item
		d.valueBuf, probeKey = probe(d.valueBuf, d.keyBuf)
		_, exists := tree.Get(probeKey)
		if (i > 0 && bytes.Compare(prev, d.keyBuf) >= 0) || ls.byID[id] == nil || !exists {
			return ls, d.corrupt("key lease %d: key %q of lease %d: out of order, not a key, or not a lease", i, d.keyBuf, id)
		}
		prev = append(prev[:0], d.keyBuf...)
		ls.attach(d.keyBuf, id)
	}
	return ls, nil
}

// history reads the history header and event records of a stream of
// revision, and checks them.
func (d *streamReader) history(revision int64) (history, error) {
	d.record = -2
	t, err := d.byte()
	if err != nil {
		return history{}, err
	}
	if t != historyMap {
		return history{}, d.corrupt("type 0x%02x, want a map of 2 fields (0x%02x)", t, historyMap)
	}
	count, err := d.canonicalInt(nameEvents)
	if err != nil {
		return history{}, err
	}
	oldest, err := d.canonicalInt(nameOldest)
	if err != nil {
		return history{}, err
	}
	if count < 0 || oldest < 0 || oldest > revision {
		return history{}, d.corrupt("history of %d events after revision %d, in a store at revision %d", count, oldest, revision)
	}
	h := newHistory(oldest, HistoryLimits{})
	last := oldest + 1
	for i := range count {
		d.record = -3 - i
		e, err := d.event()
		if err != nil {
			return history{}, err
		}
		if rev := e.Revision(); rev < last || rev > revision {
			return history{}, d.corrupt("event %d at revision %d: not in order, or not in (%d, %d]", i, rev, oldest, revision)
		}
		last = e.Revision()
		h.add(changeOf(&e))
	}
	return h, nil
}

// changeOf is the history's form of an event read from a stream.
func changeOf(e *messages.Event) change {
	c := change{rev: e.Revision(), del: e.Type == messages.EventDelete}
	if e.PrevKV != nil {
		c.prev = newItem(e.PrevKV)
	}
	if !c.del {
		c.kv = newItem(&e.KV)
	}
	return c
}

// event reads an event record and checks it.
func (d *streamReader) event() (messages.Event, error) {
	var e messages.Event
	t, err := d.byte()
	if err != nil {
		return e, err
	}
	if t != eventMap {
		return e, d.corrupt("type 0x%02x, want a map of 3 fields (0x%02x)", t, eventMap)
	}
	if err := d.field(nameKV); err != nil {
		return e, err
	}
	if e.KV, err = d.ownKV(); err != nil {
		return e, err
	}
	if err := d.field(namePrev); err != nil {
		return e, err
	}
	if p, _ := d.br.Peek(1); len(p) == 1 && p[0] == mpack.Nil {
		_, _ = d.byte()
	} else {
		prev, err := d.ownKV()
		if err != nil {
			return e, err
		}
		if prev.CreateRevision < 1 || prev.ModRevision < prev.CreateRevision || prev.ModRevision > e.KV.ModRevision || prev.Version < 1 {
			return e, d.corrupt("previous key: create revision %d, mod revision %d, version %d, of a change at %d",
				prev.CreateRevision, prev.ModRevision, prev.Version, e.KV.ModRevision)
		}
		e.PrevKV = &prev
	}
	typ, err := d.canonicalInt(nameType)
	if err != nil {
		return e, err
	}
	kv := &e.KV
	switch e.Type = messages.EventType(typ); {
	case typ == int64(messages.EventPut) && kv.CreateRevision >= 1 && kv.ModRevision >= kv.CreateRevision && kv.Version >= 1:
	case typ == int64(messages.EventDelete) && kv.CreateRevision == 0 && kv.Version == 0 && len(kv.Value) == 0 && kv.ModRevision >= 1 && e.PrevKV != nil:
		kv.Value = nil // as the store records it
	default:
		return e, d.corrupt("event of type %d with create revision %d, mod revision %d, version %d", typ, kv.CreateRevision, kv.ModRevision, kv.Version)
	}
	return e, nil
}

// ownKV reads a key record into a KeyValue that owns its bytes (one
// allocation for key and value).
func (d *streamReader) ownKV() (messages.KeyValue, error) {
	var kv messages.KeyValue
	if err := d.kv(d.record, &kv); err != nil {
		return kv, err
	}
	buf := make([]byte, len(kv.Key)+len(kv.Value))
	n := copy(buf, kv.Key)
	copy(buf[n:], kv.Value)
	kv.Key, kv.Value = buf[:n:n], buf[n:]
	return kv, nil
}

// loadBatch is how many keys ReadSnapshot hands the tree's goroutine at a
// time.
const loadBatch = 1024

// items reads the count key records of a stream of revision, checks them,
// and sends them to batches in order; it closes batches when it returns.
func (d *streamReader) items(count, revision int64, batches chan<- []item) error {
	defer close(batches)
	// count is not trusted for anything but the loop: a count larger than
	// the data runs into the end of the input.
	batch := make([]item, 0, loadBatch)
	var prev []byte
	var kv messages.KeyValue
	for i := range count {
		if err := d.kv(i, &kv); err != nil {
			return err
		}
		if i > 0 && bytes.Compare(prev, kv.Key) >= 0 {
			return fmt.Errorf("%w: key %d is not after key %d", errCorrupt, i, i-1)
		}
		if kv.CreateRevision < 1 || kv.ModRevision < kv.CreateRevision || kv.ModRevision > revision {
			return fmt.Errorf("%w: key %d: create revision %d, mod revision %d, store revision %d",
				errCorrupt, i, kv.CreateRevision, kv.ModRevision, revision)
		}
		if kv.Version < 1 {
			return fmt.Errorf("%w: key %d: version %d", errCorrupt, i, kv.Version)
		}
		it := newItem(&kv)
		prev = it.key()
		if batch = append(batch, it); len(batch) == loadBatch {
			batches <- batch
			batch = make([]item, 0, loadBatch)
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	return nil
}

// kv reads key record i into kv. Its Key and Value are the reader's
// buffers, overwritten by the next record: the store copies them (newItem).
func (d *streamReader) kv(i int64, kv *messages.KeyValue) error {
	d.record = i
	t, err := d.byte()
	if err != nil {
		return err
	}
	switch {
	case d.named && t != kvMap:
		return d.corrupt("type 0x%02x, want a map of 5 fields (0x%02x)", t, kvMap)
	case !d.named && t != kvArray:
		return d.corrupt("type 0x%02x, want an array of 5 fields (0x%02x)", t, kvArray)
	}
	if kv.CreateRevision, err = d.kvInt(nameCreate); err != nil {
		return err
	}
	if d.keyBuf, err = d.kvBin(d.keyBuf, nameKey, MaxKeySize); err != nil {
		return err
	}
	if kv.ModRevision, err = d.kvInt(nameMod); err != nil {
		return err
	}
	if d.valueBuf, err = d.kvBin(d.valueBuf, nameValue, MaxValueSize); err != nil {
		return err
	}
	if kv.Version, err = d.kvInt(nameVersion); err != nil {
		return err
	}
	kv.Key, kv.Value = d.keyBuf, d.valueBuf
	return nil
}

// kvInt reads the integer field name of a key record: after its name in
// a map, alone in an array.
func (d *streamReader) kvInt(name string) (int64, error) {
	if d.named {
		return d.canonicalInt(name)
	}
	return d.canonicalValue(name)
}

// kvBin reads the bin field name of a key record, as kvInt does.
func (d *streamReader) kvBin(buf []byte, name string, limit int) ([]byte, error) {
	if d.named {
		return d.bin(buf, name, limit)
	}
	return d.binValue(buf, name, limit)
}

// corrupt returns an error wrapping errCorrupt that tells where the stream
// went wrong.
func (d *streamReader) corrupt(format string, args ...any) error {
	where := "header"
	switch {
	case d.record >= 0:
		where = fmt.Sprintf("key %d", d.record)
	case d.record == -2:
		where = "history header"
	case d.record < -2:
		where = fmt.Sprintf("event %d", -3-d.record)
	}
	return fmt.Errorf("%w: %s, byte %d: %s", errCorrupt, where, d.off, fmt.Sprintf(format, args...))
}

// ioErr turns the end of the input into a truncation error, and returns the
// other errors of the reader as they are.
func (d *streamReader) ioErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated at byte %d: %w", errCorrupt, d.off, io.ErrUnexpectedEOF)
	}
	return err
}

func (d *streamReader) byte() (byte, error) {
	b, err := d.br.ReadByte()
	if err != nil {
		return 0, d.ioErr(err)
	}
	d.off++
	return b, nil
}

// full reads exactly len(p) bytes into p.
func (d *streamReader) full(p []byte) error {
	n, err := io.ReadFull(d.br, p)
	d.off += int64(n)
	if err != nil {
		return d.ioErr(err)
	}
	return nil
}

// field consumes the encoded field name, or fails.
func (d *streamReader) field(name string) error {
	p, err := d.br.Peek(len(name))
	if string(p) != name {
		if err != nil && name[:len(p)] == string(p) {
			d.off += int64(len(p))
			return d.ioErr(err)
		}
		return d.corrupt("want the field %q", name[1:])
	}
	_, _ = d.br.Discard(len(name)) // cannot fail: Peek returned these bytes
	d.off += int64(len(name))
	return nil
}

// int reads the value of field name, an integer in any msgpack form, and
// returns it with its type byte.
func (d *streamReader) int(name string) (int64, byte, error) {
	t, err := d.byte()
	if err != nil {
		return 0, 0, err
	}
	var n int
	switch t {
	case mpack.Uint8, mpack.Int8:
		n = 1
	case mpack.Uint16, mpack.Int16:
		n = 2
	case mpack.Uint32, mpack.Int32:
		n = 4
	case mpack.Uint64, mpack.Int64:
		n = 8
	default:
		if t <= 0x7f || t >= 0xe0 { // positive and negative fixint
			return int64(int8(t)), t, nil
		}
		return 0, 0, d.corrupt("%s: type 0x%02x, want an integer", name[1:], t)
	}
	p := d.small[:n]
	if err := d.full(p); err != nil {
		return 0, 0, err
	}
	var v int64
	switch t {
	case mpack.Uint8:
		v = int64(p[0])
	case mpack.Uint16:
		v = int64(binary.BigEndian.Uint16(p))
	case mpack.Uint32:
		v = int64(binary.BigEndian.Uint32(p))
	case mpack.Uint64:
		u := binary.BigEndian.Uint64(p)
		if u > math.MaxInt64 {
			return 0, 0, d.corrupt("%s: %d is out of range", name[1:], u)
		}
		v = int64(u)
	case mpack.Int8:
		v = int64(int8(p[0]))
	case mpack.Int16:
		v = int64(int16(binary.BigEndian.Uint16(p)))
	case mpack.Int32:
		v = int64(int32(binary.BigEndian.Uint32(p)))
	case mpack.Int64:
		v = int64(binary.BigEndian.Uint64(p))
	}
	return v, t, nil
}

// canonicalInt reads field name and its integer value, and refuses the value
// unless it has the encoding appendInt gives it.
func (d *streamReader) canonicalInt(name string) (int64, error) {
	if err := d.field(name); err != nil {
		return 0, err
	}
	return d.canonicalValue(name)
}

// canonicalValue reads the integer value of field name, in the encoding
// appendInt gives it.
func (d *streamReader) canonicalValue(name string) (int64, error) {
	v, t, err := d.int(name)
	if err != nil {
		return 0, err
	}
	if t != mpack.IntType(v) {
		return 0, d.corrupt("%s: %d encoded with type 0x%02x, not 0x%02x", name[1:], v, t, mpack.IntType(v))
	}
	return v, nil
}

// bin reads field name and its value, a msgpack bin of at most limit bytes
// in its canonical encoding, into buf (reused when large enough). It
// allocates no more than limit bytes, whatever the length says.
func (d *streamReader) bin(buf []byte, name string, limit int) ([]byte, error) {
	if err := d.field(name); err != nil {
		return nil, err
	}
	return d.binValue(buf, name, limit)
}

// binValue reads the value of field name as bin does.
func (d *streamReader) binValue(buf []byte, name string, limit int) ([]byte, error) {
	t, err := d.byte()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch t {
	case mpack.Bin8:
		err = d.full(d.small[:1])
		n = uint64(d.small[0])
	case mpack.Bin16:
		err = d.full(d.small[:2])
		n = uint64(binary.BigEndian.Uint16(d.small[:2]))
	case mpack.Bin32:
		err = d.full(d.small[:4])
		n = uint64(binary.BigEndian.Uint32(d.small[:4]))
	default:
		return nil, d.corrupt("%s: type 0x%02x, want a msgpack bin", name[1:], t)
	}
	if err != nil {
		return nil, err
	}
	if n > uint64(limit) {
		return nil, d.corrupt("%s: %d bytes, more than %d", name[1:], n, limit)
	}
	if t != mpack.BinType(int(n)) {
		return nil, d.corrupt("%s: %d bytes with type 0x%02x, not 0x%02x", name[1:], n, t, mpack.BinType(int(n)))
	}
	p := buf[:0]
	if uint64(cap(p)) < n {
		p = make([]byte, 0, n)
	}
	p = p[:n]
	if err := d.full(p); err != nil {
		return nil, err
	}
	return p, nil
}

// The records of the stream as tagged structs. The stream is written by
// appendStreamHeader and appendKV and read by streamReader, byte by byte;
// these structs spell the records out for the reader of this file and for
// the tests, which check that the stream is what messages.Encode writes for
// them (TestStreamMatchesCodec). Every field has an explicit msgpack name
// (the codec of package messages reads msgpack tags), and the store defines
// its own key record rather than encoding messages.KeyValue, so the format
// depends neither on the names of Go fields nor on how another package tags
// its types.

// snapshotVersionRecord is the first record of the stream, read before
// anything else so that a stream of an unknown version is refused before
// the rest of it is interpreted.
type snapshotVersionRecord struct {
	Version uint8 `msgpack:"version"`
}

// snapshotStreamHeader is the header, the record after the version record
// (written by appendStreamHeader).
type snapshotStreamHeader struct {
	Count    int64 `msgpack:"count"` // the number of key records that follow
	Revision int64 `msgpack:"revision"`
}

// snapshotHistoryHeader is the record after the key records (written by
// appendHistoryHeader).
type snapshotHistoryHeader struct {
	Events int64 `msgpack:"events"` // the number of event records that follow
	Oldest int64 `msgpack:"oldest"`
}

// snapshotEvent is an event record (written by appendEvent, read by
// streamReader.event).
type snapshotEvent struct {
	KV   snapshotKV  `msgpack:"kv"`
	Prev *snapshotKV `msgpack:"prev"`
	Type uint8       `msgpack:"type"`
}

// snapshotLeasesHeader, snapshotLease and snapshotKeyLease are the records
// of the leases (written by appendLeasesHeader, appendLease and
// appendKeyLease).
type snapshotLeasesHeader struct {
	Keys   int64 `msgpack:"keys"`
	Leases int64 `msgpack:"leases"`
}

type snapshotLease struct {
	ID       int64 `msgpack:"id"`
	Renewals int64 `msgpack:"renewals"`
	TTL      int64 `msgpack:"ttl"`
}

type snapshotKeyLease struct {
	Key   []byte `msgpack:"key"`
	Lease int64  `msgpack:"lease"`
}

// snapshotKV is a key record (written by appendKV, read by
// streamReader.kv): an array of its fields in this order.
type snapshotKV struct {
	//lint:ignore U1000 the codec reads its tag: encode the struct as an array
	_struct        struct{} `msgpack:",toarray"`
	CreateRevision int64    `msgpack:"create_revision"`
	Key            []byte   `msgpack:"key"`
	ModRevision    int64    `msgpack:"mod_revision"`
	Value          []byte   `msgpack:"value"`
	Version        int64    `msgpack:"version"`
}

// snapshotKVNamed is the key record of versions 2 and 3: a map of the
// same fields (the codec writes them in the order of their names).
type snapshotKVNamed struct {
	Key            []byte `msgpack:"key"`
	Value          []byte `msgpack:"value"`
	CreateRevision int64  `msgpack:"create_revision"`
	ModRevision    int64  `msgpack:"mod_revision"`
	Version        int64  `msgpack:"version"`
}
