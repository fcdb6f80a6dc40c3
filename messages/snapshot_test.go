package messages_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

func sampleSnapshotMetas() []messages.SnapshotMeta {
	return []messages.SnapshotMeta{
		{},
		{DBSize: 1, DBCRC: 0xffffffff},
		{
			DBSize: 1<<64 - 1, DBCRC: 0x1234abcd,
			Membership: messages.MembershipState{
				ClusterID: 0xfeedface,
				Members: []messages.Member{
					{ID: 1, PeerAddress: "10.0.0.1:2380", ClientAddress: "http://10.0.0.1:2379"},
					{ID: 2, PeerAddress: "[::1]:2380"},
					{ID: 7, PeerAddress: "n7.example:2380", Learner: true},
				},
				Removed: []messages.RemovedMember{{ID: 3, PeerAddress: "10.0.0.3:2380"}, {ID: 4}},
			},
		},
		// A snapshot sent to a member: no DB fields yet.
		{Version: 9, Membership: messages.MembershipState{ClusterID: 1, Members: []messages.Member{{ID: 1, PeerAddress: "a:1"}}}},
	}
}

// normMeta treats nil and empty slices alike: the codec does not promise
// to keep that difference.
func normMeta(m messages.SnapshotMeta) messages.SnapshotMeta {
	if len(m.Membership.Members) == 0 {
		m.Membership.Members = nil
	}
	if len(m.Membership.Removed) == 0 {
		m.Membership.Removed = nil
	}
	return m
}

func TestSnapshotMetaRoundTrip(t *testing.T) {
	for i, m := range sampleSnapshotMetas() {
		data, err := messages.EncodeSnapshotMeta(m)
		if err != nil {
			t.Fatalf("%d: encode: %v", i, err)
		}
		got, err := messages.DecodeSnapshotMeta(data)
		if err != nil {
			t.Fatalf("%d: decode: %v", i, err)
		}
		want := m
		want.Version = messages.SnapshotFormatVersion
		if !reflect.DeepEqual(normMeta(got), normMeta(want)) {
			t.Errorf("%d: round trip\n got  %+v\n want %+v", i, got, want)
		}
	}
}

// version1Snapshot is what a raft snapshot's Data held in an earlier
// raftkv: the whole store, a msgpack map with version 1 (store.Snapshot's
// format).
type version1Snapshot struct {
	Version  uint8 `msgpack:"version"`
	Revision int64 `msgpack:"revision"`
	KVs      []struct {
		Key            []byte `msgpack:"key"`
		Value          []byte `msgpack:"value"`
		CreateRevision int64  `msgpack:"create_revision"`
		ModRevision    int64  `msgpack:"mod_revision"`
		Version        int64  `msgpack:"version"`
	} `msgpack:"kvs"`
	Members []struct {
		ID      uint64 `msgpack:"id"`
		Address string `msgpack:"address"`
	} `msgpack:"members"`
}

func TestDecodeSnapshotMetaRejects(t *testing.T) {
	v1 := version1Snapshot{Version: 1, Revision: 2}
	v1.KVs = append(v1.KVs, struct {
		Key            []byte `msgpack:"key"`
		Value          []byte `msgpack:"value"`
		CreateRevision int64  `msgpack:"create_revision"`
		ModRevision    int64  `msgpack:"mod_revision"`
		Version        int64  `msgpack:"version"`
	}{Key: []byte("a"), Value: []byte("1"), CreateRevision: 1, ModRevision: 2, Version: 2})
	v1.Members = append(v1.Members, struct {
		ID      uint64 `msgpack:"id"`
		Address string `msgpack:"address"`
	}{ID: 1, Address: "n1:2380"})
	old, err := messages.Encode(&v1)
	if err != nil {
		t.Fatal(err)
	}
	emptyOld, err := messages.Encode(&version1Snapshot{Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	at := func(v uint8) []byte {
		m := sampleSnapshotMetas()[2]
		m.Version = v
		b, err := messages.Encode(&m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		data    []byte
		version bool // the error must wrap ErrVersion
	}{
		{"version 1: an earlier raftkv's store snapshot", old, true},
		{"version 1 of an empty store", emptyOld, true},
		{"version 1 meta", at(1), true},
		{"version 0", at(0), true},
		{"version 3", at(messages.SnapshotFormatVersion + 1), true},
		{"no version field", []byte("\x81\xa7db_size\x05"), true},
		{"nil", nil, false},
		{"garbage", []byte("\xc1\xc1"), false},
		{"text (a raft snapshot of raftexample)", []byte("state"), false},
		{"membership of the wrong type", []byte("\x82\xa7version\x02\xaamembership\x05"), false},
		{"truncated", at(messages.SnapshotFormatVersion)[:20], false},
	}
	for i, tt := range tests {
		got, err := messages.DecodeSnapshotMeta(tt.data)
		if err == nil {
			t.Errorf("%d (%s): decoded %+v, want an error", i, tt.name, got)
			continue
		}
		if tt.version != errors.Is(err, messages.ErrVersion) {
			t.Errorf("%d (%s): error %q, want ErrVersion: %v", i, tt.name, err, tt.version)
		}
		if !reflect.DeepEqual(got, messages.SnapshotMeta{}) {
			t.Errorf("%d (%s): returned %+v with its error, want the zero SnapshotMeta", i, tt.name, got)
		}
	}
}

// SnapshotMeta is written with its msgpack tag names.
func TestSnapshotMetaWireFormatUsesTagNames(t *testing.T) {
	data, err := messages.EncodeSnapshotMeta(sampleSnapshotMetas()[2])
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := messages.Decode(data, &top); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(top), []string{"db_crc", "db_size", "membership", "version"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("SnapshotMeta is written with the keys %q, want %q", got, want)
	}
	ms, _ := top["membership"].(map[any]any)
	if got, want := anyKeys(ms), []string{"cluster_id", "members", "removed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MembershipState is written with the keys %q, want %q", got, want)
	}
	members, _ := ms["members"].([]any)
	if len(members) != 3 {
		t.Fatalf("members written as %v", ms["members"])
	}
	for i, want := range [][]string{
		{"client_address", "id", "peer_address"},
		{"id", "peer_address"},
		{"id", "learner", "peer_address"},
	} {
		m, _ := members[i].(map[any]any)
		if got := anyKeys(m); !reflect.DeepEqual(got, want) {
			t.Errorf("member %d is written with the keys %q, want %q", i, got, want)
		}
	}
	removed, _ := ms["removed"].([]any)
	if len(removed) != 2 {
		t.Fatalf("removed written as %v", ms["removed"])
	}
	r, _ := removed[0].(map[any]any)
	if got, want := anyKeys(r), []string{"id", "peer_address"}; !reflect.DeepEqual(got, want) {
		t.Errorf("RemovedMember is written with the keys %q, want %q", got, want)
	}

	// No removed member: the field is left out.
	data, err = messages.EncodeSnapshotMeta(messages.SnapshotMeta{})
	if err != nil {
		t.Fatal(err)
	}
	top = nil
	if err := messages.Decode(data, &top); err != nil {
		t.Fatal(err)
	}
	ms, _ = top["membership"].(map[any]any)
	if got, want := anyKeys(ms), []string{"cluster_id", "members"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MembershipState without removed members is written with the keys %q, want %q", got, want)
	}
}

// FuzzDecodeSnapshotMeta checks that DecodeSnapshotMeta never panics and
// that what it accepts is of the current version and survives a round trip.
func FuzzDecodeSnapshotMeta(f *testing.F) {
	for _, m := range sampleSnapshotMetas() {
		data, err := messages.EncodeSnapshotMeta(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)-1])
	}
	f.Add([]byte{})
	f.Add([]byte("\x81\xa7version\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := messages.DecodeSnapshotMeta(data)
		if err != nil {
			return
		}
		if m.Version != messages.SnapshotFormatVersion {
			t.Fatalf("accepted version %d", m.Version)
		}
		again, err := messages.EncodeSnapshotMeta(m)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", m, err)
		}
		back, err := messages.DecodeSnapshotMeta(again)
		if err != nil {
			t.Fatalf("decode of a re-encoded meta: %v", err)
		}
		if !reflect.DeepEqual(normMeta(back), normMeta(m)) {
			t.Fatalf("round trip changed the meta\n got  %+v\n want %+v", back, m)
		}
	})
}
