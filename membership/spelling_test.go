package membership_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/raftkv/raftkv/membership"
	"github.com/raftkv/raftkv/messages"
)

// TestAddressesHaveOneSpelling holds the cases of one address written in
// several ways, or not an address at all, that an earlier version let
// through: two members could share one endpoint, and records kept raw
// spellings.
func TestAddressesHaveOneSpelling(t *testing.T) {
	// addAt adds member 5 to the fixture, where member 2 is at
	// 10.0.0.2:2380, and returns the error and what the Book recorded.
	addAt := func(peer, client string) (messages.Member, error) {
		b, err := membership.FromState(fixtureState())
		if err != nil {
			return messages.Member{}, fmt.Errorf("FromState(fixture): %w", err)
		}
		err = b.Apply(change(messages.AddVoter, 5, peer, client), 0)
		m, _ := b.Member(5)
		return m, err
	}
	// sameEndpoint: a peer address that is member 2's, written otherwise,
	// must be refused as in use (or as invalid), never accepted.
	sameEndpoint := func(peer string) string {
		m, err := addAt(peer, "")
		if errors.Is(err, messages.ErrAddressInUse) || errors.Is(err, messages.ErrInvalidMember) {
			return ""
		}
		return fmt.Sprintf("book.go Check: AddVoter 5 at %q, where member 2 is at 10.0.0.2:2380: error %v, recorded %+v; want ErrAddressInUse",
			peer, err, m)
	}
	// canonicalPeer: an accepted peer address is recorded as host:port,
	// the form ParsePeerAddress returns.
	canonicalPeer := func(peer string) string {
		m, err := addAt(peer, "")
		if errors.Is(err, messages.ErrInvalidMember) {
			return ""
		}
		want, perr := membership.ParsePeerAddress(peer)
		if err != nil || perr != nil || m.PeerAddress != want {
			return fmt.Sprintf("book.go Apply: AddVoter 5 at %q: error %v, recorded PeerAddress %q; want %q (host:port)", peer, err, m.PeerAddress, want)
		}
		return ""
	}
	// canonicalClient: an accepted client address is recorded as the URL
	// ParseClientAddress returns.
	canonicalClient := func(client string) string {
		m, err := addAt("10.0.0.5:2380", client)
		if errors.Is(err, messages.ErrInvalidMember) {
			return ""
		}
		want, perr := membership.ParseClientAddress(client)
		if err != nil || perr != nil || m.ClientAddress != want {
			return fmt.Sprintf("book.go Apply: AddVoter 5 with client address %q: error %v, recorded %q; want %q (a URL)", client, err, m.ClientAddress, want)
		}
		return ""
	}
	// peerRefused: ParsePeerAddress refuses s, or returns it in a form
	// whose host is a plain name or IP and whose port has only digits.
	peerRefused := func(s string) string {
		if got, err := membership.ParsePeerAddress(s); err == nil {
			return fmt.Sprintf("address.go ParsePeerAddress(%q) = %q, want an error: not host:port", s, got)
		}
		return ""
	}
	peerCanonical := func(s, want string) string {
		got, err := membership.ParsePeerAddress(s)
		if err == nil && got != want {
			return fmt.Sprintf("address.go ParsePeerAddress(%q) = %q, want %q or an error", s, got, want)
		}
		return ""
	}
	fromStateRefuses := func(st messages.MembershipState) string {
		if b, err := membership.FromState(st); err == nil {
			return fmt.Sprintf("book.go FromState(%+v) accepted it as %+v, want an error", st, b.State())
		}
		return ""
	}
	m := func(id uint64, peer, client string) messages.Member {
		return messages.Member{ID: id, PeerAddress: peer, ClientAddress: client}
	}

	tests := []struct {
		name    string
		problem func() string // "" when the package behaves
	}{
		{"peer address with scheme is another member's", func() string { return sameEndpoint("http://10.0.0.2:2380") }},
		{"peer address with trailing slash is another member's", func() string { return sameEndpoint("10.0.0.2:2380/") }},
		{"peer address with spaces is another member's", func() string { return sameEndpoint(" 10.0.0.2:2380") }},
		{"peer address with a zero-padded port is another member's", func() string { return sameEndpoint("10.0.0.2:02380") }},
		{"peer address with a +port is another member's", func() string { return sameEndpoint("10.0.0.2:+2380") }},
		{"peer address recorded with its scheme", func() string { return canonicalPeer("https://10.0.0.5:2380/") }},
		{"client address recorded without its scheme", func() string { return canonicalClient("10.0.0.5:2379") }},
		{"client address recorded with its trailing slash", func() string { return canonicalClient("http://10.0.0.5:2379/") }},
		{"ParsePeerAddress takes a path before the port", func() string { return peerRefused("http://10.0.0.1/raft:2380") }},
		{"ParsePeerAddress takes a slash in the host", func() string { return peerRefused("10.0.0.1/x:2380") }},
		{"ParsePeerAddress takes user info", func() string { return peerRefused("user@10.0.0.1:2380") }},
		{"ParsePeerAddress takes a space in the host", func() string { return peerRefused("10.0.0 .1:2380") }},
		{"ParsePeerAddress takes a query in the host", func() string { return peerRefused("h?x=1:2380") }},
		{"ParsePeerAddress takes a fragment in the host", func() string { return peerRefused("h#x:2380") }},
		{"ParsePeerAddress keeps a +port", func() string { return peerCanonical("h:+2380", "h:2380") }},
		{"ParsePeerAddress keeps a zero-padded port", func() string { return peerCanonical("h:02380", "h:2380") }},
		{"FromState takes an invalid client address", func() string {
			return fromStateRefuses(messages.MembershipState{Members: []messages.Member{m(1, "h:1", "ftp://x")}})
		}},
		{"FromState takes a client address that is no URL", func() string {
			return fromStateRefuses(messages.MembershipState{Members: []messages.Member{m(1, "h:1", "garbage")}})
		}},
		{"FromState takes removed id 0", func() string {
			return fromStateRefuses(messages.MembershipState{Removed: []messages.RemovedMember{{ID: 0, PeerAddress: "h:1"}}})
		}},
		{"FromState takes a removed id above MaxID", func() string {
			return fromStateRefuses(messages.MembershipState{Removed: []messages.RemovedMember{{ID: membership.MaxID + 1, PeerAddress: "h:1"}}})
		}},
		{"FromState takes a removed id twice", func() string {
			return fromStateRefuses(messages.MembershipState{Removed: []messages.RemovedMember{{ID: 2, PeerAddress: "h:1"}, {ID: 2, PeerAddress: "h:2"}}})
		}},
		{"FromState takes a removed member's invalid address", func() string {
			return fromStateRefuses(messages.MembershipState{Removed: []messages.RemovedMember{{ID: 2, PeerAddress: "nonsense"}}})
		}},
		{"FromState takes two members at one peer address written two ways", func() string {
			return fromStateRefuses(messages.MembershipState{Members: []messages.Member{m(1, "h:1", ""), m(2, "http://h:1", "")}})
		}},
	}
	for i, tt := range tests {
		if p := tt.problem(); p != "" {
			t.Errorf("%d (%s): %s", i, tt.name, p)
		}
	}
}
