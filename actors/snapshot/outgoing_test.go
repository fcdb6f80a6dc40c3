package snapshot

import (
	"bytes"
	"errors"
	"hash/crc32"
	"slices"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// byteStream is a SnapshotStream of data in parts of exactly max bytes (the
// last one shorter), done with the part that ends it. It fails at call
// failAt (counting from 1) when that is set.
type byteStream struct {
	data   []byte
	off    int
	calls  int
	failAt int
}

var errStream = errors.New("the store cannot be read")

func (s *byteStream) Next(buf []byte, max int) ([]byte, bool, error) {
	s.calls++
	if s.calls == s.failAt {
		return buf, false, errStream
	}
	n := min(max, len(s.data)-s.off)
	buf = append(buf, s.data[s.off:s.off+n]...)
	s.off += n
	return buf, s.off == len(s.data), nil
}

// pattern returns n bytes that differ from chunk to chunk.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/13)
	}
	return b
}

// newTestOutgoing returns a transfer of data to member 2 in chunks of size,
// window of them unacknowledged, started at tick 10.
func newTestOutgoing(data []byte, size, window int) (*outgoing, *byteStream) {
	s := &byteStream{data: data}
	return newOutgoing(2, "n2:1", 77, []byte("the MsgSnap"), s, size, window, 10), s
}

func seqs(chunks []messages.SnapshotChunk) []uint64 {
	var out []uint64
	for _, c := range chunks {
		out = append(out, c.Seq)
	}
	return out
}

// The sender keeps at most window chunks unacknowledged: with window 2, a
// stream of 5 chunks goes out 2 at first, then one more per chunk acked.
func TestOutgoingWindow(t *testing.T) {
	o, _ := newTestOutgoing(pattern(5*100), 100, 2)
	steps := []struct {
		ack  *messages.SnapshotAck // before next(), if set
		want []uint64              // the chunks next() cuts
		done bool
	}{
		{nil, []uint64{0, 1}, false},
		{nil, nil, false}, // the window is full
		{&messages.SnapshotAck{Transfer: 77, Seq: 0}, []uint64{2}, false},
		{&messages.SnapshotAck{Transfer: 77, Seq: 0}, nil, false}, // the same ack again frees nothing
		{&messages.SnapshotAck{Transfer: 77, Seq: 1}, []uint64{3}, false},
		{&messages.SnapshotAck{Transfer: 77, Seq: 3}, []uint64{4}, false}, // acks are cumulative
		{&messages.SnapshotAck{Transfer: 77, Seq: 4}, nil, false},         // all cut: nothing more
		{&messages.SnapshotAck{Transfer: 77, Seq: 4, Done: true}, nil, true},
	}
	for i, st := range steps {
		if st.ack != nil {
			done, err := o.ack(st.ack, 11)
			if err != nil || done != st.done {
				t.Fatalf("%d: ack %+v: done %v, err %v; want %v, nil", i, *st.ack, done, err, st.done)
			}
		}
		chunks, err := o.next()
		if err != nil {
			t.Fatalf("%d: next: %v", i, err)
		}
		if got := seqs(chunks); !slices.Equal(got, st.want) {
			t.Fatalf("%d: next cut chunks %v, want %v", i, got, st.want)
		}
	}
}

// A window larger than the stream cuts it all at once.
func TestOutgoingWindowLargerThanStream(t *testing.T) {
	o, _ := newTestOutgoing(pattern(250), 100, 8)
	chunks, err := o.next()
	if err != nil || !slices.Equal(seqs(chunks), []uint64{0, 1, 2}) {
		t.Fatalf("next: chunks %v, err %v; want 0, 1, 2", seqs(chunks), err)
	}
	if more, err := o.next(); err != nil || len(more) != 0 {
		t.Fatalf("next after the last chunk: %v, %v; want nothing", seqs(more), err)
	}
}

// Chunk 0 carries the raft message; the chunks carry the stream in
// consecutive byte ranges; the last one is marked and carries the stream's
// size and CRC-32C.
func TestOutgoingChunks(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		length int
		chunks int
	}{
		{"several chunks", 100, 450, 5},
		{"a whole number of chunks", 100, 300, 3},
		{"one chunk", 1000, 10, 1},
		{"an empty stream", 100, 0, 1},
	}
	for i, tt := range tests {
		data := pattern(tt.length)
		o, _ := newTestOutgoing(data, tt.size, 100)
		chunks, err := o.next()
		if err != nil {
			t.Fatalf("%d (%s): %v", i, tt.name, err)
		}
		if len(chunks) != tt.chunks {
			t.Fatalf("%d (%s): %d chunks, want %d", i, tt.name, len(chunks), tt.chunks)
		}
		var stream []byte
		for j, c := range chunks {
			if c.Transfer != 77 || c.Seq != uint64(j) || c.Offset != uint64(len(stream)) {
				t.Errorf("%d (%s): chunk %d: transfer %d, seq %d, offset %d; want 77, %d, %d",
					i, tt.name, j, c.Transfer, c.Seq, c.Offset, j, len(stream))
			}
			if wantMsg := j == 0; (string(c.Message) == "the MsgSnap") != wantMsg || (!wantMsg && c.Message != nil) {
				t.Errorf("%d (%s): chunk %d carries message %q", i, tt.name, j, c.Message)
			}
			last := j == len(chunks)-1
			if c.Last != last {
				t.Errorf("%d (%s): chunk %d: Last %v, want %v", i, tt.name, j, c.Last, last)
			}
			if !last && (c.Size != 0 || c.CRC != 0) {
				t.Errorf("%d (%s): chunk %d before the last carries size %d, CRC %08x", i, tt.name, j, c.Size, c.CRC)
			}
			stream = append(stream, c.Data...)
		}
		if !bytes.Equal(stream, data) {
			t.Errorf("%d (%s): the chunks carry %d bytes that are not the stream of %d", i, tt.name, len(stream), len(data))
		}
		last := chunks[len(chunks)-1]
		wantCRC := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
		if last.Size != uint64(len(data)) || last.CRC != wantCRC {
			t.Errorf("%d (%s): last chunk: size %d, CRC %08x; want %d, %08x (CRC-32C)", i, tt.name, last.Size, last.CRC, len(data), wantCRC)
		}
	}
}

// The receiver's acknowledgements: it reports done only once it has every
// chunk; an error, an ack of a chunk never sent, or done too early fail the
// transfer.
func TestOutgoingAck(t *testing.T) {
	type ack = messages.SnapshotAck
	tests := []struct {
		name   string
		cut    int   // chunks cut before the acks, of a stream of 5
		acks   []ack // all but the last must be accepted
		done   bool  // the outcome of the last
		failed bool
	}{
		{"done after every chunk", 5, []ack{{Seq: 0}, {Seq: 1}, {Seq: 2}, {Seq: 3}, {Seq: 4, Done: true}}, true, false},
		{"done on a cumulative ack", 5, []ack{{Seq: 1}, {Seq: 3}, {Seq: 4, Done: true}}, true, false},
		{"done repeats the last seq", 5, []ack{{Seq: 0}, {Seq: 1}, {Seq: 2}, {Seq: 3}, {Seq: 4}, {Seq: 4, Done: true}}, true, false},
		{"an older ack after done-worthy acks", 5, []ack{{Seq: 1}, {Seq: 3}, {Seq: 4}, {Seq: 2}}, false, false},
		{"refused", 1, []ack{{Seq: 0, Error: "bad chunk"}}, false, true},
		{"refused after progress", 3, []ack{{Seq: 0}, {Seq: 1}, {Seq: 2, Error: "disk full"}}, false, true},
		{"an ack of a chunk never sent", 1, []ack{{Seq: 2}}, false, true},
		{"an ack of the next chunk to cut", 1, []ack{{Seq: 0}, {Seq: 2}}, false, true},
		{"done before the last chunk is cut", 2, []ack{{Seq: 0}, {Seq: 1, Done: true}}, false, true},
		{"done before the last chunk is acked", 5, []ack{{Seq: 0}, {Seq: 1}, {Seq: 2}, {Seq: 3, Done: true}}, false, true},
	}
	for i, tt := range tests {
		// A window of cut chunks: next() cuts that many, and no more.
		o, _ := newTestOutgoing(pattern(5*100), 100, tt.cut)
		if chunks, err := o.next(); err != nil || len(chunks) != tt.cut {
			t.Fatalf("%d (%s): %d chunks cut, err %v; want %d", i, tt.name, len(chunks), err, tt.cut)
		}
		for j, a := range tt.acks {
			a.Transfer = 77
			done, err := o.ack(&a, uint64(20+j))
			if j < len(tt.acks)-1 {
				if err != nil || done {
					t.Fatalf("%d (%s): ack %d %+v: done %v, err %v; want accepted", i, tt.name, j, a, done, err)
				}
				continue
			}
			if done != tt.done || (err != nil) != tt.failed {
				t.Errorf("%d (%s): last ack %+v: done %v, err %v; want done %v, failed %v", i, tt.name, a, done, err, tt.done, tt.failed)
			}
			if err != nil && !errors.Is(err, errRefused) {
				t.Errorf("%d (%s): error %v does not wrap errRefused", i, tt.name, err)
			}
		}
	}
}

// The tick of progress moves only when an ack acknowledges more than
// before: repeated or older acks do not keep a stalled transfer alive.
func TestOutgoingProgress(t *testing.T) {
	o, _ := newTestOutgoing(pattern(5*100), 100, 5)
	if _, err := o.next(); err != nil {
		t.Fatal(err)
	}
	if o.progress != 10 {
		t.Fatalf("progress %d at the start, want the tick of the start, 10", o.progress)
	}
	steps := []struct {
		seq  uint64
		now  uint64
		want uint64
	}{
		{0, 12, 12},
		{0, 13, 12}, // the same again
		{2, 15, 15},
		{1, 16, 15}, // older
		{2, 17, 15},
		{3, 18, 18},
	}
	for i, st := range steps {
		if _, err := o.ack(&messages.SnapshotAck{Transfer: 77, Seq: st.seq}, st.now); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if o.progress != st.want {
			t.Errorf("%d: ack of %d at tick %d: progress %d, want %d", i, st.seq, st.now, o.progress, st.want)
		}
	}
}

// A stream that cannot be read fails the transfer; the chunks cut before
// the failure are still returned, to be sent.
func TestOutgoingStreamFails(t *testing.T) {
	tests := []struct {
		failAt int
		before int
	}{
		{1, 0}, {2, 1}, {3, 2},
	}
	for i, tt := range tests {
		o, s := newTestOutgoing(pattern(5*100), 100, 4)
		s.failAt = tt.failAt
		chunks, err := o.next()
		if !errors.Is(err, errStream) {
			t.Errorf("%d: next: %v, want the stream's error", i, err)
		}
		if len(chunks) != tt.before {
			t.Errorf("%d: %d chunks cut before the failure, want %d", i, len(chunks), tt.before)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures        int
		base, max, want uint64
	}{
		{1, 10, 300, 10},
		{2, 10, 300, 20},
		{3, 10, 300, 40},
		{4, 10, 300, 80},
		{5, 10, 300, 160},
		{6, 10, 300, 300}, // 320 capped
		{7, 10, 300, 300},
		{100, 10, 300, 300}, // no overflow
		{1000, 1, 1 << 62, 1 << 62},
		{1, 3, 3, 3},
		{2, 3, 3, 3},
		{1, 50, 20, 20}, // a base over the cap
		{0, 10, 300, 10},
	}
	for i, tt := range tests {
		if got := backoff(tt.failures, tt.base, tt.max); got != tt.want {
			t.Errorf("%d: backoff(%d, %d, %d) = %d, want %d", i, tt.failures, tt.base, tt.max, got, tt.want)
		}
	}
}
