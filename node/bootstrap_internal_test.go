package node

import (
	"slices"
	"testing"

	"go.etcd.io/raft/v3"

	"github.com/raftkv/raftkv/messages"
)

// Every member of a new cluster writes the same bootstrap entries at the
// same indexes, as raft requires of entries of the same index and term:
// whatever the order a map gives the members in.
func TestBootstrapPeersInIDOrder(t *testing.T) {
	cluster := map[uint64]string{5: "e:1", 1: "a:1", 4: "d:1", 2: "b:1", 3: "c:1", 9: "f:1", 7: "g:1"}
	first, err := bootstrapPeers(cluster)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, p := range first {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []uint64{1, 2, 3, 4, 5, 7, 9}) {
		t.Fatalf("bootstrap entries for members %v, want them in id order", ids)
	}
	for range 20 {
		again, err := bootstrapPeers(cluster)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(first, again, func(a, b raft.Peer) bool { return a.ID == b.ID && string(a.Context) == string(b.Context) }) {
			t.Fatal("two members' bootstrap entries differ")
		}
	}
	if c, err := messages.DecodeConfChangeContext(first[0].Context); err != nil || c.Change.Member.PeerAddress != "a:1" {
		t.Errorf("entry 1: %+v, %v; want member 1 at a:1", c, err)
	}
}
