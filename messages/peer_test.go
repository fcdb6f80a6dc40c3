package messages_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/raftkv/raftkv/messages"
)

// samplePeerMessages has messages of every kind, each with the fields its
// kind needs (and some it may carry), as the members send them.
func samplePeerMessages() []messages.PeerMessage {
	req := &messages.RequestID{Node: 2, Seq: 77}
	return []messages.PeerMessage{
		{Kind: messages.PeerRemoved, From: 1, To: 3},
		{Kind: messages.PeerHello, From: 1, To: 2, FromAddress: "10.0.0.1:2380", DialedAddress: "n2.example:2380", ClusterID: 0xfeed},
		// A member that does not know its cluster id yet says hello with 0.
		{Kind: messages.PeerHello, From: 4, To: 1, FromAddress: "[::1]:2380", DialedAddress: "[::1]:12380"},
		{Kind: messages.PeerHelloReply, From: 2, To: 1, Expected: 2, ClusterID: 0xfeed, FromAddress: "n2.example:2380"},
		{Kind: messages.PeerHelloReply, From: 5, To: 1, Expected: 2, Error: "member 5 of cluster 0xbeef, not 0xfeed"},
		{Kind: messages.PeerConfChange, From: 2, To: 1, FromAddress: "n2:2380", Request: req,
			Change: &messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 4, PeerAddress: "n4:2380", ClientAddress: "http://n4:2379"}}},
		{Kind: messages.PeerConfChange, From: 2, To: 1, Request: &messages.RequestID{Node: 2, Seq: 1<<64 - 1},
			Change: &messages.MemberChange{Type: messages.Promote, Member: messages.Member{ID: 4, Learner: true}}},
		// Zero values behind the pointers are still there: only a nil pointer
		// is empty.
		{Kind: messages.PeerConfChange, From: 2, To: 1, Request: &messages.RequestID{}, Change: &messages.MemberChange{}},
		{Kind: messages.PeerConfChangeRefused, From: 1, To: 2, Request: req, Code: "unsafe_change", Error: messages.ErrUnsafeChange.Error()},
		{Kind: messages.PeerConfChangeRefused, From: 1, To: 2, Request: &messages.RequestID{}},
		{Kind: messages.PeerSnapshotChunk, From: 1, To: 4, Chunk: &messages.SnapshotChunk{
			Transfer: 9, Seq: 0, Offset: 0, Data: []byte("\x81\xa7version\x02"), Message: []byte{0x08, 0x0a, 0x10, 0x01},
		}},
		{Kind: messages.PeerSnapshotChunk, From: 1, To: 4, Chunk: &messages.SnapshotChunk{
			Transfer: 9, Seq: 1, Offset: 10, Data: bytes.Repeat([]byte{0, 0xff}, 600), Last: true, Size: 1210, CRC: 0xdeadbeef,
		}},
		// The first chunk of the first transfer, without data, is not empty.
		{Kind: messages.PeerSnapshotChunk, From: 1, To: 4, Chunk: &messages.SnapshotChunk{}},
		{Kind: messages.PeerSnapshotAck, From: 4, To: 1, Ack: &messages.SnapshotAck{Transfer: 9, Seq: 1, Done: true}},
		{Kind: messages.PeerSnapshotAck, From: 4, To: 1, Ack: &messages.SnapshotAck{Transfer: 9, Seq: 0, Error: "disk full"}},
		{Kind: messages.PeerSnapshotAck, From: 4, To: 1, Ack: &messages.SnapshotAck{}},
		{Kind: messages.PeerRemoved, From: 1<<64 - 1, To: 1<<64 - 1},
	}
}

// normPeer treats nil and empty byte slices alike: the codec does not
// promise to keep that difference.
func normPeer(m messages.PeerMessage) messages.PeerMessage {
	if m.Chunk != nil {
		c := *m.Chunk
		if len(c.Data) == 0 {
			c.Data = nil
		}
		if len(c.Message) == 0 {
			c.Message = nil
		}
		m.Chunk = &c
	}
	return m
}

func samePeer(a, b messages.PeerMessage) bool {
	return reflect.DeepEqual(normPeer(a), normPeer(b))
}

func TestPeerMessageRoundTrip(t *testing.T) {
	kinds := map[messages.PeerKind]bool{}
	for i, m := range samplePeerMessages() {
		kinds[m.Kind] = true
		w, err := messages.EncodePeerMessage(m)
		if err != nil {
			t.Fatalf("%d (kind %d): encode: %v", i, m.Kind, err)
		}
		got, err := messages.DecodePeerMessage(w)
		if err != nil {
			t.Fatalf("%d (kind %d): decode: %v", i, m.Kind, err)
		}
		want := m
		want.Version = messages.FormatVersion
		if !samePeer(got, want) {
			t.Errorf("%d (kind %d): round trip\n got  %+v\n want %+v", i, m.Kind, got, want)
		}
	}
	for k := messages.PeerRemoved; k <= messages.PeerSnapshotAck; k++ {
		if !kinds[k] {
			t.Errorf("no sample of kind %d", k)
		}
	}
}

// A chunk may carry up to MaxChunkSize bytes.
func TestPeerMessageChunkOfMaxSize(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), messages.MaxChunkSize/16)
	if len(data) != messages.MaxChunkSize {
		t.Fatalf("test data of %d bytes", len(data))
	}
	w, err := messages.EncodePeerMessage(messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 1, To: 2,
		Chunk: &messages.SnapshotChunk{Transfer: 1, Seq: 3, Offset: 3 * messages.MaxChunkSize, Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := messages.DecodePeerMessage(w)
	if err != nil {
		t.Fatalf("a chunk of MaxChunkSize bytes: %v", err)
	}
	if !bytes.Equal(got.Chunk.Data, data) || got.Chunk.Seq != 3 || got.Chunk.Offset != 3*messages.MaxChunkSize {
		t.Errorf("chunk of MaxChunkSize came back as seq %d offset %d with %d bytes", got.Chunk.Seq, got.Chunk.Offset, len(got.Chunk.Data))
	}
}

func TestEncodePeerMessageStampsFormatVersion(t *testing.T) {
	for _, v := range []uint8{0, 7, messages.FormatVersion} {
		w, err := messages.EncodePeerMessage(messages.PeerMessage{Version: v, Kind: messages.PeerRemoved, From: 1, To: 2})
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Version uint8 `msgpack:"version"`
		}
		if err := messages.Decode(w.GetValue(), &raw); err != nil {
			t.Fatal(err)
		}
		if raw.Version != messages.FormatVersion {
			t.Errorf("EncodePeerMessage(Version %d) wrote version %d, want %d", v, raw.Version, messages.FormatVersion)
		}
	}
}

// DecodePeerMessage refuses what its doc says: another version, a member id
// of 0, a kind without the fields it needs, an unknown kind, a chunk over
// MaxChunkSize, and what is not a PeerMessage at all.
func TestDecodePeerMessageRejects(t *testing.T) {
	req := &messages.RequestID{Node: 2, Seq: 1}
	change := &messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: 3}}
	// at encodes m with version v, without EncodePeerMessage's stamp; raw
	// with the current version.
	at := func(v uint8, m messages.PeerMessage) *wrapperspb.BytesValue {
		m.Version = v
		b, err := messages.Encode(&m)
		if err != nil {
			t.Fatal(err)
		}
		return wrapperspb.Bytes(b)
	}
	raw := func(m messages.PeerMessage) *wrapperspb.BytesValue { return at(messages.FormatVersion, m) }
	// noVersion is a PeerRemoved without its version field.
	type noVersionMsg struct {
		Kind messages.PeerKind `msgpack:"kind"`
		From uint64            `msgpack:"from"`
		To   uint64            `msgpack:"to"`
	}
	nv, err := messages.Encode(&noVersionMsg{Kind: messages.PeerRemoved, From: 1, To: 2})
	if err != nil {
		t.Fatal(err)
	}
	over := make([]byte, messages.MaxChunkSize+1)
	tests := []struct {
		name    string
		w       *wrapperspb.BytesValue
		version bool // the error must wrap ErrVersion
		says    string
	}{
		{"version 0", at(0, messages.PeerMessage{Kind: messages.PeerRemoved, From: 1, To: 2}), true, "version"},
		{"version 2", at(messages.FormatVersion+1, messages.PeerMessage{Kind: messages.PeerRemoved, From: 1, To: 2}), true, "version"},
		{"version 255", at(255, messages.PeerMessage{Kind: messages.PeerHello, From: 1, To: 2}), true, "version"},
		{"no version field", wrapperspb.Bytes(nv), true, "version"},
		{"from 0", raw(messages.PeerMessage{Kind: messages.PeerRemoved, To: 2}), false, "0"},
		{"to 0", raw(messages.PeerMessage{Kind: messages.PeerHello, From: 1}), false, "0"},
		{"from and to 0", raw(messages.PeerMessage{Kind: messages.PeerSnapshotAck, Ack: &messages.SnapshotAck{}}), false, "0"},
		{"conf change without request", raw(messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 1, Change: change}), false, "request"},
		{"conf change without change", raw(messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 1, Request: req}), false, "change"},
		{"conf change without either", raw(messages.PeerMessage{Kind: messages.PeerConfChange, From: 2, To: 1}), false, "request"},
		{"refusal without request", raw(messages.PeerMessage{Kind: messages.PeerConfChangeRefused, From: 1, To: 2, Code: "no_leader", Error: "no leader"}), false, "request"},
		{"chunk without chunk", raw(messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 1, To: 2, Ack: &messages.SnapshotAck{}}), false, "chunk"},
		{"ack without ack", raw(messages.PeerMessage{Kind: messages.PeerSnapshotAck, From: 2, To: 1, Chunk: &messages.SnapshotChunk{}}), false, "ack"},
		{"kind 0", raw(messages.PeerMessage{From: 1, To: 2}), false, "kind"},
		{"kind 8", raw(messages.PeerMessage{Kind: messages.PeerSnapshotAck + 1, From: 1, To: 2, Ack: &messages.SnapshotAck{}}), false, "kind"},
		{"kind 255", raw(messages.PeerMessage{Kind: 255, From: 1, To: 2}), false, "kind"},
		{"chunk over MaxChunkSize", raw(messages.PeerMessage{Kind: messages.PeerSnapshotChunk, From: 1, To: 2,
			Chunk: &messages.SnapshotChunk{Transfer: 1, Data: over}}), false, "limit"},
		{"nil wrapper", nil, false, ""},
		{"empty", wrapperspb.Bytes(nil), false, ""},
		{"garbage", wrapperspb.Bytes([]byte("\xc1\xc1")), false, ""},
		{"an array", wrapperspb.Bytes([]byte{0x93, 0x01, 0x01, 0x02}), false, ""},
		{"kind out of range", wrapperspb.Bytes([]byte("\x84\xa7version\x01\xa4kind\xcd\x01\x01\xa4from\x01\xa2to\x02")), false, ""},
		{"chunk of the wrong type", wrapperspb.Bytes([]byte("\x85\xa7version\x01\xa4kind\x06\xa4from\x01\xa2to\x02\xa5chunk\x07")), false, ""},
	}
	for i, tt := range tests {
		got, err := messages.DecodePeerMessage(tt.w)
		if err == nil {
			t.Errorf("%d (%s): decoded %+v, want an error", i, tt.name, got)
			continue
		}
		if tt.version != errors.Is(err, messages.ErrVersion) {
			t.Errorf("%d (%s): error %q, want ErrVersion: %v", i, tt.name, err, tt.version)
		}
		if tt.says != "" && !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%d (%s): error %q does not say %q", i, tt.name, err, tt.says)
		}
		if !reflect.DeepEqual(got, messages.PeerMessage{}) {
			t.Errorf("%d (%s): returned %+v with its error, want the zero PeerMessage", i, tt.name, got)
		}
	}
}

// A PeerMessage is written with its msgpack tag names, and the optional
// fields are left out when empty.
func TestPeerMessageWireFormatUsesTagNames(t *testing.T) {
	full := messages.PeerMessage{
		Kind: messages.PeerSnapshotChunk, From: 1, To: 2, FromAddress: "a:1", DialedAddress: "b:2", ClusterID: 3,
		Expected: 4, Request: &messages.RequestID{Node: 1, Seq: 1},
		Change: &messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 5, PeerAddress: "c:3"}},
		Code:   "internal", Error: "e",
		Chunk: &messages.SnapshotChunk{Transfer: 1, Seq: 2, Offset: 3, Data: []byte("d"), Message: []byte("m"), Last: true, Size: 4, CRC: 5},
		Ack:   &messages.SnapshotAck{Transfer: 1, Seq: 2, Done: true, Error: "e"},
	}
	w, err := messages.EncodePeerMessage(full)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := messages.Decode(w.GetValue(), &top); err != nil {
		t.Fatal(err)
	}
	want := []string{"ack", "change", "chunk", "cluster_id", "code", "dialed_address", "error", "expected",
		"from", "from_address", "kind", "request", "to", "version"}
	if got := keys(top); !reflect.DeepEqual(got, want) {
		t.Errorf("PeerMessage is written with the keys %q, want %q", got, want)
	}
	chunk, _ := top["chunk"].(map[any]any)
	if got, want := anyKeys(chunk), []string{"crc", "data", "last", "message", "offset", "seq", "size", "transfer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SnapshotChunk is written with the keys %q, want %q", got, want)
	}
	ack, _ := top["ack"].(map[any]any)
	if got, want := anyKeys(ack), []string{"done", "error", "seq", "transfer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SnapshotAck is written with the keys %q, want %q", got, want)
	}
	req, _ := top["request"].(map[any]any)
	if got, want := anyKeys(req), []string{"node", "seq"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PeerMessage.Request is written with the keys %q, want %q", got, want)
	}
	change, _ := top["change"].(map[any]any)
	if got, want := anyKeys(change), []string{"member", "type"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PeerMessage.Change is written with the keys %q, want %q", got, want)
	}

	// The smallest messages: only what every message has.
	for _, m := range []messages.PeerMessage{
		{Kind: messages.PeerRemoved, From: 1, To: 2},
		{Kind: messages.PeerSnapshotChunk, From: 1, To: 2, Chunk: &messages.SnapshotChunk{Data: []byte{}}},
		{Kind: messages.PeerSnapshotAck, From: 2, To: 1, Ack: &messages.SnapshotAck{}},
	} {
		w, err := messages.EncodePeerMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		top = nil
		if err := messages.Decode(w.GetValue(), &top); err != nil {
			t.Fatal(err)
		}
		want := []string{"from", "kind", "to", "version"}
		switch m.Kind {
		case messages.PeerSnapshotChunk:
			want = []string{"chunk", "from", "kind", "to", "version"}
			chunk, _ := top["chunk"].(map[any]any)
			if got, want := anyKeys(chunk), []string{"data", "offset", "seq", "transfer"}; !reflect.DeepEqual(got, want) {
				t.Errorf("a chunk with no optional field is written with the keys %q, want %q", got, want)
			}
		case messages.PeerSnapshotAck:
			want = []string{"ack", "from", "kind", "to", "version"}
			ack, _ := top["ack"].(map[any]any)
			if got, want := anyKeys(ack), []string{"seq", "transfer"}; !reflect.DeepEqual(got, want) {
				t.Errorf("an ack with no optional field is written with the keys %q, want %q", got, want)
			}
		}
		if got := keys(top); !reflect.DeepEqual(got, want) {
			t.Errorf("PeerMessage of kind %d is written with the keys %q, want %q", m.Kind, got, want)
		}
	}
}

// FuzzDecodePeerMessage checks that DecodePeerMessage never panics, and that
// what it accepts is of the current version, between members with ids, and
// survives a round trip unchanged.
func FuzzDecodePeerMessage(f *testing.F) {
	for _, m := range samplePeerMessages() {
		w, err := messages.EncodePeerMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		data := w.GetValue()
		if len(data) > 1024 {
			continue
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
		f.Add(data[:len(data)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{0xc1})
	f.Add([]byte{0x80})
	f.Add([]byte("\x85\xa7version\x01\xa4kind\x06\xa4from\x01\xa2to\x02\xa5chunk\xc0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := messages.DecodePeerMessage(wrapperspb.Bytes(data))
		if err != nil {
			return
		}
		if m.Version != messages.FormatVersion {
			t.Fatalf("accepted version %d", m.Version)
		}
		if m.From == 0 || m.To == 0 {
			t.Fatalf("accepted a message from %d to %d", m.From, m.To)
		}
		if m.Kind < messages.PeerRemoved || m.Kind > messages.PeerSnapshotAck {
			t.Fatalf("accepted a message of kind %d", m.Kind)
		}
		if m.Kind == messages.PeerSnapshotChunk && (m.Chunk == nil || len(m.Chunk.Data) > messages.MaxChunkSize) {
			t.Fatalf("accepted a chunk message with chunk %+v", m.Chunk)
		}
		again, err := messages.EncodePeerMessage(m)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		back, err := messages.DecodePeerMessage(again)
		if err != nil {
			t.Fatalf("decode of a re-encoded message %+v: %v", m, err)
		}
		if !samePeer(back, m) {
			t.Fatalf("round trip changed the message\n got  %+v\n want %+v", back, m)
		}
	})
}
