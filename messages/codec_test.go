package messages_test

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/messages"
)

func sampleCommands() []messages.Command {
	return []messages.Command{
		{},
		{ID: messages.RequestID{Node: 1, Seq: 1}},
		{
			ID: messages.RequestID{Node: 3, Seq: 1<<63 + 5},
			Txn: messages.Txn{Success: []messages.Op{
				{Type: messages.OpPut, Key: []byte("k"), Value: []byte("v"), PrevKV: true},
			}},
		},
		{
			ID: messages.RequestID{Node: 1<<64 - 1, Seq: 1<<64 - 1},
			Txn: messages.Txn{
				Compares: []messages.Compare{
					{Key: []byte("a"), Target: messages.TargetValue, Result: messages.Equal, Value: []byte{0, 0xff, '\n'}},
					{Key: []byte("b"), Target: messages.TargetModRevision, Result: messages.Less, Revision: -1},
					{Key: []byte("c"), Target: messages.TargetExists, Result: messages.NotEqual, Exists: true},
				},
				Success: []messages.Op{
					{Type: messages.OpGet, Key: []byte("a"), End: []byte{0}, Limit: 10},
					{Type: messages.OpDelete, Key: []byte("a"), End: []byte("z"), PrevKV: true},
				},
				Failure: []messages.Op{
					{Type: messages.OpPut, Key: []byte{0xff, 0xfe}, Value: make([]byte, 70000)},
				},
			},
		},
	}
}

func TestCommandRoundTrip(t *testing.T) {
	for i, c := range sampleCommands() {
		data, err := messages.EncodeCommand(c)
		if err != nil {
			t.Fatalf("%d: EncodeCommand: %v", i, err)
		}
		got, err := messages.DecodeCommand(data)
		if err != nil {
			t.Fatalf("%d: DecodeCommand: %v", i, err)
		}
		want := c
		want.Version = messages.FormatVersion
		if !sameCommand(got, want) {
			t.Errorf("%d: round trip\n got  %+v\n want %+v", i, got, want)
		}
	}
}

func TestEncodeCommandStampsFormatVersion(t *testing.T) {
	for _, v := range []uint8{0, 7, messages.FormatVersion} {
		data, err := messages.EncodeCommand(messages.Command{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Version uint8 `msgpack:"version"`
		}
		if err := messages.Decode(data, &raw); err != nil {
			t.Fatal(err)
		}
		if raw.Version != messages.FormatVersion {
			t.Errorf("EncodeCommand(Version %d) wrote version %d, want %d", v, raw.Version, messages.FormatVersion)
		}
	}
}

// A command of a version this build does not know is refused with
// ErrVersion, not misread.
func TestDecodeCommandRejectsUnknownVersion(t *testing.T) {
	for _, v := range []uint8{0, messages.FormatVersion + 1, 255} {
		c := sampleCommands()[2]
		c.Version = v
		data, err := messages.Encode(&c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := messages.DecodeCommand(data)
		if !errors.Is(err, messages.ErrVersion) {
			t.Errorf("version %d: DecodeCommand error %v, want ErrVersion", v, err)
		}
		if !reflect.DeepEqual(got, messages.Command{}) {
			t.Errorf("version %d: DecodeCommand returned %+v with its error, want the zero Command", v, got)
		}
	}
}

func TestDecodeCommandRejectsGarbage(t *testing.T) {
	valid, err := messages.EncodeCommand(sampleCommands()[3])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"nil value", []byte{0xc0}},
		{"never used byte", []byte{0xc1}},
		{"text", []byte("put k v")},
		{"integer", []byte{0x05}},
		{"array of garbage", []byte{0x93, 0xc1, 0xc1, 0xc1}},
		{"str32 claiming 4 GiB", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}},
		{"bin32 claiming 4 GiB", []byte{0xc6, 0xff, 0xff, 0xff, 0xff, 'a'}},
		{"map32 claiming 4G pairs", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"array32 claiming 4G items", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"last byte flipped", append(append([]byte(nil), valid[:len(valid)-1]...), ^valid[len(valid)-1])},
	}
	for i := 1; i < len(valid); i += 1 + len(valid)/40 {
		tests = append(tests, struct {
			name string
			data []byte
		}{"truncated valid command", valid[:i]})
	}
	for i, tt := range tests {
		c, err := messages.DecodeCommand(tt.data)
		if err == nil && c.Version != messages.FormatVersion {
			t.Errorf("%d (%s): DecodeCommand(%x) accepted a command of version %d", i, tt.name, tt.data, c.Version)
		}
		if err == nil && tt.name != "last byte flipped" {
			t.Errorf("%d (%s): DecodeCommand(%x) = %+v, want an error", i, tt.name, tt.data, c)
		}
	}
}

func sampleConfChangeContexts() []messages.ConfChangeContext {
	return []messages.ConfChangeContext{
		{},
		{ClusterID: 0x1234_5678_9abc_def0},
		{
			ID: messages.RequestID{Node: 2, Seq: 9},
			Change: messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{
				ID: 4, PeerAddress: "[::1]:12380", ClientAddress: "http://[::1]:12379",
			}},
		},
		{
			ID:     messages.RequestID{Node: 1, Seq: 1 << 40},
			Change: messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{ID: 5, PeerAddress: "10.0.0.5:2380", Learner: true}},
		},
		{ID: messages.RequestID{Node: 3, Seq: 2}, Change: messages.MemberChange{Type: messages.Promote, Member: messages.Member{ID: 5}}},
		{ID: messages.RequestID{Node: 3, Seq: 3}, Change: messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: 1<<64 - 1}}},
		{ID: messages.RequestID{Node: 3, Seq: 4}, Change: messages.MemberChange{Type: messages.Update, Member: messages.Member{ID: 3, ClientAddress: "http://n3:2379"}}},
		{
			// A bootstrap entry: no request, the cluster id.
			Change:    messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 1, PeerAddress: "n1:2380"}},
			ClusterID: 1<<64 - 1,
		},
		{Version: 200, ID: messages.RequestID{Node: 1<<64 - 1, Seq: 1}},
	}
}

func TestConfChangeContextRoundTrip(t *testing.T) {
	for i, c := range sampleConfChangeContexts() {
		data, err := messages.EncodeConfChangeContext(c)
		if err != nil {
			t.Fatalf("%d: encode: %v", i, err)
		}
		got, err := messages.DecodeConfChangeContext(data)
		if err != nil {
			t.Fatalf("%d: decode: %v", i, err)
		}
		want := c
		want.Version = messages.FormatVersion
		if got != want {
			t.Errorf("%d: round trip got %+v, want %+v", i, got, want)
		}
	}
}

func TestDecodeConfChangeContextRejects(t *testing.T) {
	other, err := messages.Encode(&messages.ConfChangeContext{Version: messages.FormatVersion + 1, ClusterID: 7,
		Change: messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 2, PeerAddress: "a:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	zero, err := messages.Encode(&messages.ConfChangeContext{ID: messages.RequestID{Node: 1, Seq: 1}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		version bool // the error must wrap ErrVersion
	}{
		{"empty (a conf change without context)", nil, false},
		{"garbage", []byte("\xc1\xc1"), false},
		{"unknown version", other, true},
		{"no version", zero, true},
		{"change of the wrong type", []byte("\x82\xa7version\x01\xa6change\xa3add"), false},
	}
	for i, tt := range tests {
		got, err := messages.DecodeConfChangeContext(tt.data)
		if err == nil {
			t.Errorf("%d (%s): decoded %+v, want an error", i, tt.name, got)
			continue
		}
		if tt.version != errors.Is(err, messages.ErrVersion) {
			t.Errorf("%d (%s): error %v, want ErrVersion: %v", i, tt.name, err, tt.version)
		}
		if got != (messages.ConfChangeContext{}) {
			t.Errorf("%d (%s): returned %+v with its error, want the zero value", i, tt.name, got)
		}
	}
}

// The wire types carry explicit msgpack names (see the package doc): what
// is written into raft entries must use those names, not the Go field
// names, so that renaming a field never changes the format.
func TestWireFormatUsesTagNames(t *testing.T) {
	c := sampleCommands()[3]
	data, err := messages.EncodeCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := messages.Decode(data, &top); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(top), []string{"id", "txn", "version"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Command is written with the keys %q, want %q (the msgpack tags)", got, want)
	}
	id, _ := top["id"].(map[any]any)
	if got, want := anyKeys(id), []string{"node", "seq"}; !reflect.DeepEqual(got, want) {
		t.Errorf("RequestID is written with the keys %q, want %q", got, want)
	}

	// Every field set: each is written under its tag.
	cctx, err := messages.EncodeConfChangeContext(messages.ConfChangeContext{
		ID: messages.RequestID{Node: 1, Seq: 2},
		Change: messages.MemberChange{Type: messages.AddLearner, Member: messages.Member{
			ID: 4, PeerAddress: "a:1", ClientAddress: "http://a:2", Learner: true,
		}},
		ClusterID: 9,
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := messages.Decode(cctx, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(m), []string{"change", "cluster_id", "id", "version"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ConfChangeContext is written with the keys %q, want %q", got, want)
	}
	change, _ := m["change"].(map[any]any)
	if got, want := anyKeys(change), []string{"member", "type"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MemberChange is written with the keys %q, want %q", got, want)
	}
	member, _ := change["member"].(map[any]any)
	if got, want := anyKeys(member), []string{"client_address", "id", "learner", "peer_address"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Member is written with the keys %q, want %q", got, want)
	}

	// The omitempty fields are left out when empty (a bootstrap-less change
	// of a voter without a client address).
	cctx, err = messages.EncodeConfChangeContext(messages.ConfChangeContext{
		ID:     messages.RequestID{Node: 1, Seq: 3},
		Change: messages.MemberChange{Type: messages.Remove, Member: messages.Member{ID: 4}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m = nil
	if err := messages.Decode(cctx, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(m), []string{"change", "id", "version"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ConfChangeContext without a cluster id is written with the keys %q, want %q", got, want)
	}
	change, _ = m["change"].(map[any]any)
	member, _ = change["member"].(map[any]any)
	if got, want := anyKeys(member), []string{"id", "peer_address"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Member of a removal is written with the keys %q, want %q", got, want)
	}
}

// FuzzDecodeCommand checks that DecodeCommand never panics, and that what
// it accepts is of the current version and survives a round trip.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range sampleCommands() {
		data, err := messages.EncodeCommand(c)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 1024 {
			// Large seeds make the fuzzer spend its time minimizing.
			continue
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0xc1})
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := messages.DecodeCommand(data)
		if err != nil {
			return
		}
		if c.Version != messages.FormatVersion {
			t.Fatalf("accepted version %d", c.Version)
		}
		again, err := messages.EncodeCommand(c)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", c, err)
		}
		back, err := messages.DecodeCommand(again)
		if err != nil {
			t.Fatalf("decode of a re-encoded command: %v", err)
		}
		if !sameCommand(back, c) {
			t.Fatalf("round trip changed the command\n got  %+v\n want %+v", back, c)
		}
	})
}

// FuzzDecodeConfChangeContext checks DecodeConfChangeContext the same way.
func FuzzDecodeConfChangeContext(f *testing.F) {
	for _, c := range sampleConfChangeContexts() {
		data, err := messages.EncodeConfChangeContext(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := messages.DecodeConfChangeContext(data)
		if err != nil {
			return
		}
		if c.Version != messages.FormatVersion {
			t.Fatalf("accepted version %d", c.Version)
		}
		again, err := messages.EncodeConfChangeContext(c)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", c, err)
		}
		back, err := messages.DecodeConfChangeContext(again)
		if err != nil || back != c {
			t.Fatalf("round trip: got %+v, %v; want %+v", back, err, c)
		}
	})
}

// sameCommand compares commands treating nil and empty slices alike: the
// codec does not promise to keep that difference.
func sameCommand(a, b messages.Command) bool {
	return reflect.DeepEqual(normCommand(a), normCommand(b))
}

func normCommand(c messages.Command) messages.Command {
	nb := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		return b
	}
	nops := func(ops []messages.Op) []messages.Op {
		if len(ops) == 0 {
			return nil
		}
		out := make([]messages.Op, len(ops))
		for i, op := range ops {
			op.Key, op.End, op.Value = nb(op.Key), nb(op.End), nb(op.Value)
			out[i] = op
		}
		return out
	}
	var cmps []messages.Compare
	for _, cmp := range c.Txn.Compares {
		cmp.Key, cmp.Value = nb(cmp.Key), nb(cmp.Value)
		cmps = append(cmps, cmp)
	}
	c.Txn = messages.Txn{Compares: cmps, Success: nops(c.Txn.Success), Failure: nops(c.Txn.Failure)}
	return c
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func anyKeys(m map[any]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		switch k := k.(type) {
		case string:
			out = append(out, k)
		case []byte:
			out = append(out, string(k))
		}
	}
	sort.Strings(out)
	return out
}

func TestDecodeConfChange(t *testing.T) {
	v1, _ := proto.Marshal(&raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(3)})
	v2, _ := proto.Marshal(&raftpb.ConfChangeV2{Changes: []*raftpb.ConfChangeSingle{
		{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: proto.Uint64(4)},
		{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: proto.Uint64(5)},
	}})
	tests := []struct {
		typ     raftpb.EntryType
		data    []byte
		want    []uint64 // node ids of the changes
		wantErr bool
	}{
		{raftpb.EntryConfChange, v1, []uint64{3}, false},
		{raftpb.EntryConfChangeV2, v2, []uint64{4, 5}, false},
		{raftpb.EntryConfChange, []byte{0xff, 0xff, 0xff}, nil, true},
		{raftpb.EntryNormal, v1, nil, true},
	}
	for i, tt := range tests {
		cc, err := messages.DecodeConfChange(&raftpb.Entry{Type: tt.typ.Enum(), Index: proto.Uint64(7), Data: tt.data})
		if (err != nil) != tt.wantErr {
			t.Errorf("%d: err %v, want error %v", i, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var got []uint64
		for _, ch := range cc.AsV2().GetChanges() {
			got = append(got, ch.GetNodeId())
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%d: changes for members %v, want %v", i, got, tt.want)
		}
	}
}
