package membership_test

import (
	"slices"
	"testing"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

func TestParsePeerAddress(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" for an error
	}{
		{"host:port", "10.0.0.1:2380", "10.0.0.1:2380"},
		{"name:port", "node1.example:2380", "node1.example:2380"},
		{"localhost", "localhost:1", "localhost:1"},
		{"http scheme", "http://10.0.0.1:2380", "10.0.0.1:2380"},
		{"https scheme", "https://10.0.0.1:2380", "10.0.0.1:2380"},
		{"trailing slash", "10.0.0.1:2380/", "10.0.0.1:2380"},
		{"scheme and trailing slash", "http://10.0.0.1:2380/", "10.0.0.1:2380"},
		{"spaces around", "  10.0.0.1:2380\n", "10.0.0.1:2380"},
		{"IPv6", "[::1]:2380", "[::1]:2380"},
		{"IPv6 with scheme", "https://[fd00::1]:2380/", "[fd00::1]:2380"},
		{"port 65535", "h:65535", "h:65535"},
		{"port 1", "h:1", "h:1"},

		{"empty", "", ""},
		{"spaces", "   ", ""},
		{"no port", "10.0.0.1", ""},
		{"no port, with scheme", "http://10.0.0.1", ""},
		{"empty port", "10.0.0.1:", ""},
		{"no host", ":2380", ""},
		{"port 0", "10.0.0.1:0", ""},
		{"port 65536", "10.0.0.1:65536", ""},
		{"port negative", "10.0.0.1:-1", ""},
		{"port not a number", "10.0.0.1:http", ""},
		{"port huge", "10.0.0.1:99999999999999999999", ""},
		{"bare IPv6", "::1:2380", ""},
		{"IPv6 without port", "[::1]", ""},
		{"a path", "http://10.0.0.1:2380/raft", ""},
		{"two trailing slashes", "10.0.0.1:2380//", ""},
		{"a query", "10.0.0.1:2380?x=1", ""},
		{"another scheme", "tcp://10.0.0.1:2380", ""},
		{"two addresses", "10.0.0.1:2380,10.0.0.2:2380", ""},
	}
	for i, tt := range tests {
		got, err := membership.ParsePeerAddress(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%d (%s): ParsePeerAddress(%q) = %q, want an error", i, tt.name, tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%d (%s): ParsePeerAddress(%q) = %q, %v; want %q", i, tt.name, tt.in, got, err, tt.want)
			continue
		}
		// The result is its own canonical form.
		if again, err := membership.ParsePeerAddress(got); err != nil || again != got {
			t.Errorf("%d (%s): ParsePeerAddress(%q) = %q, %v; want it unchanged", i, tt.name, got, again, err)
		}
	}
}

func TestParseClientAddress(t *testing.T) {
	tests := []struct {
		name, in, want string // want "" for an error
	}{
		{"http URL", "http://10.0.0.1:2379", "http://10.0.0.1:2379"},
		{"https URL", "https://node1.example:443", "https://node1.example:443"},
		{"host:port means http", "10.0.0.1:2379", "http://10.0.0.1:2379"},
		{"trailing slash", "http://10.0.0.1:2379/", "http://10.0.0.1:2379"},
		{"host:port and trailing slash", "10.0.0.1:2379/", "http://10.0.0.1:2379"},
		{"IPv6", "http://[::1]:2379", "http://[::1]:2379"},
		{"IPv6 without scheme", "[::1]:2379", "http://[::1]:2379"},
		{"spaces around", " https://h:1 ", "https://h:1"},
		{"upper-case scheme", "HTTP://h:1", "http://h:1"},
		{"port 65535", "h:65535", "http://h:65535"},

		{"empty", "", ""},
		{"no port", "http://10.0.0.1", ""},
		{"no port, no scheme", "10.0.0.1", ""},
		{"empty port", "http://10.0.0.1:", ""},
		{"no host", "http://:2379", ""},
		{"port 0", "http://10.0.0.1:0", ""},
		{"port 65536", "http://10.0.0.1:65536", ""},
		{"port 65536, no scheme", "10.0.0.1:65536", ""},
		{"bare IPv6", "http://::1:2379", ""},
		{"another scheme", "ftp://10.0.0.1:2379", ""},
		{"unix socket", "unix:///run/raftkv.sock", ""},
		{"a path", "http://10.0.0.1:2379/v3", ""},
		{"a path, no scheme", "10.0.0.1:2379/v3", ""},
		{"a query", "http://10.0.0.1:2379?x=1", ""},
		{"a query after the slash", "http://10.0.0.1:2379/?x=1", ""},
		{"a fragment", "http://10.0.0.1:2379#top", ""},
		{"a user", "http://user:pw@10.0.0.1:2379", ""},
		{"a space in the host", "http://10.0.0 .1:2379", ""},
		{"opaque URL", "http:10.0.0.1:2379", ""},
	}
	for i, tt := range tests {
		got, err := membership.ParseClientAddress(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%d (%s): ParseClientAddress(%q) = %q, want an error", i, tt.name, tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%d (%s): ParseClientAddress(%q) = %q, %v; want %q", i, tt.name, tt.in, got, err, tt.want)
			continue
		}
		if again, err := membership.ParseClientAddress(got); err != nil || again != got {
			t.Errorf("%d (%s): ParseClientAddress(%q) = %q, %v; want it unchanged", i, tt.name, got, again, err)
		}
	}
}

func TestCheckID(t *testing.T) {
	tests := []struct {
		name string
		id   uint64
		ok   bool
	}{
		{"0", 0, false},
		{"1", 1, true},
		{"2^32", 1 << 32, true},
		{"MaxID", membership.MaxID, true},
		{"MaxID+1", membership.MaxID + 1, false},
		{"2^63", 1 << 63, false},
		{"2^64-1", 1<<64 - 1, false},
	}
	if membership.MaxID != 9007199254740991 {
		t.Errorf("MaxID = %d, want 2^53-1", uint64(membership.MaxID))
	}
	for i, tt := range tests {
		if err := membership.CheckID(tt.id); (err == nil) != tt.ok {
			t.Errorf("%d (%s): CheckID(%d) = %v, want ok=%v", i, tt.name, tt.id, err, tt.ok)
		}
	}
}

// TestClusterIDOf checks that the cluster id depends on the members' ids
// and peer addresses, not on their order or client addresses, and is never
// 0.
func TestClusterIDOf(t *testing.T) {
	base := cluster(ids(1, 2, 3), nil).Members
	id := membership.ClusterIDOf(base)
	if id == 0 {
		t.Fatal("ClusterIDOf = 0")
	}
	tests := []struct {
		name    string
		members func(ms []messages.Member) []messages.Member
		same    bool
	}{
		{"the same members", func(ms []messages.Member) []messages.Member { return ms }, true},
		{"in another order", func(ms []messages.Member) []messages.Member { return []messages.Member{ms[2], ms[0], ms[1]} }, true},
		{"with a client address", func(ms []messages.Member) []messages.Member { ms[0].ClientAddress = "http://h:9"; return ms }, true},
		{"another peer address", func(ms []messages.Member) []messages.Member { ms[2].PeerAddress = "h:33"; return ms }, false},
		{"another id", func(ms []messages.Member) []messages.Member { ms[2].ID = 4; return ms }, false},
		{"addresses swapped", func(ms []messages.Member) []messages.Member {
			ms[0].PeerAddress, ms[1].PeerAddress = ms[1].PeerAddress, ms[0].PeerAddress
			return ms
		}, false},
		{"one member less", func(ms []messages.Member) []messages.Member { return ms[:2] }, false},
		{"no members", func([]messages.Member) []messages.Member { return nil }, false},
	}
	for i, tt := range tests {
		ms := tt.members(cluster(ids(1, 2, 3), nil).Members)
		arg := slices.Clone(ms)
		got := membership.ClusterIDOf(arg)
		if got == 0 {
			t.Errorf("%d (%s): ClusterIDOf = 0", i, tt.name)
		}
		if (got == id) != tt.same {
			t.Errorf("%d (%s): ClusterIDOf = %d, base %d; want same=%v", i, tt.name, got, id, tt.same)
		}
		if !slices.Equal(arg, ms) {
			t.Errorf("%d (%s): ClusterIDOf changed its argument to %+v", i, tt.name, arg)
		}
	}
}
