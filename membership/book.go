package membership

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/raftkv/raftkv/messages"
)

// Book is the membership at some point of the log. The zero value is not
// usable: use New or FromState. Not safe for concurrent use.
type Book struct {
	clusterID uint64
	members   map[uint64]messages.Member
	removed   map[uint64]string // id -> the peer address it had
	// requests are the ids of the latest committed changes, oldest first,
	// at most MaxRequests.
	requests []messages.RequestID
}

// MaxRequests is how many request ids of committed changes a Book keeps:
// a copy of a change that comes later than MaxRequests other changes is
// taken as a new request.
const MaxRequests = 1024

// New returns an empty Book: no members, no cluster id.
func New() *Book {
	return &Book{members: map[uint64]messages.Member{}, removed: map[uint64]string{}}
}

// FromState returns the Book that st describes, after checking that it is
// one a Book could have written (ids valid and unique, addresses valid and
// unique, no id both a member and removed).
func FromState(st messages.MembershipState) (*Book, error) {
	b := New()
	b.clusterID = st.ClusterID
	addrs := map[string]uint64{}
	for _, m := range st.Members {
		if _, dup := b.members[m.ID]; dup {
			return nil, fmt.Errorf("membership: member %d listed twice", m.ID)
		}
		if err := checkRecord(m); err != nil {
			return nil, fmt.Errorf("membership: %w", err)
		}
		if other, dup := addrs[m.PeerAddress]; dup {
			return nil, fmt.Errorf("membership: members %d and %d share the peer address %s", other, m.ID, m.PeerAddress)
		}
		addrs[m.PeerAddress] = m.ID
		b.members[m.ID] = m
	}
	for _, r := range st.Removed {
		if err := CheckID(r.ID); err != nil {
			return nil, fmt.Errorf("membership: removed %w", err)
		}
		if _, dup := b.members[r.ID]; dup {
			return nil, fmt.Errorf("membership: member %d is both a member and removed", r.ID)
		}
		if _, dup := b.removed[r.ID]; dup {
			return nil, fmt.Errorf("membership: removed member %d listed twice", r.ID)
		}
		if a, err := ParsePeerAddress(r.PeerAddress); err != nil || a != r.PeerAddress {
			return nil, fmt.Errorf("membership: removed member %d: peer address %q is not in canonical host:port form", r.ID, r.PeerAddress)
		}
		b.removed[r.ID] = r.PeerAddress
	}
	if len(st.Requests) > MaxRequests {
		return nil, fmt.Errorf("membership: %d request ids of changes, more than the %d a Book keeps", len(st.Requests), MaxRequests)
	}
	b.requests = slices.Clone(st.Requests)
	return b, nil
}

// checkRecord checks that m is a record a Book writes: a valid id and
// addresses in their canonical form.
func checkRecord(m messages.Member) error {
	if err := CheckID(m.ID); err != nil {
		return err
	}
	if a, err := ParsePeerAddress(m.PeerAddress); err != nil || a != m.PeerAddress {
		return fmt.Errorf("member %d: peer address %q is not in canonical host:port form", m.ID, m.PeerAddress)
	}
	if m.ClientAddress != "" {
		if a, err := ParseClientAddress(m.ClientAddress); err != nil || a != m.ClientAddress {
			return fmt.Errorf("member %d: client address %q is not a canonical URL", m.ID, m.ClientAddress)
		}
	}
	return nil
}

// State returns the membership as a value that shares nothing with b:
// members and removed members in ascending id order.
func (b *Book) State() messages.MembershipState {
	st := messages.MembershipState{ClusterID: b.clusterID, Members: b.Members()}
	for id, addr := range b.removed {
		st.Removed = append(st.Removed, messages.RemovedMember{ID: id, PeerAddress: addr})
	}
	slices.SortFunc(st.Removed, func(a, c messages.RemovedMember) int { return cmp.Compare(a.ID, c.ID) })
	st.Requests = slices.Clone(b.requests)
	return st
}

// Record notes that the change of request id was committed (applied or
// refused), forgetting the oldest beyond MaxRequests. The zero id (the
// entries that bootstrap a cluster) is not recorded.
func (b *Book) Record(id messages.RequestID) {
	if id == (messages.RequestID{}) {
		return
	}
	if len(b.requests) == MaxRequests {
		b.requests = slices.Delete(b.requests, 0, 1)
	}
	b.requests = append(b.requests, id)
}

// Recorded tells whether the change of request id was committed, among
// the latest MaxRequests.
func (b *Book) Recorded(id messages.RequestID) bool {
	return id != (messages.RequestID{}) && slices.Contains(b.requests, id)
}

// ClusterID is the id of the cluster, 0 until the log tells it.
func (b *Book) ClusterID() uint64 { return b.clusterID }

// Members returns the members in ascending id order.
func (b *Book) Members() []messages.Member {
	out := make([]messages.Member, 0, len(b.members))
	for _, m := range b.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, c messages.Member) int { return cmp.Compare(a.ID, c.ID) })
	return out
}

// Member returns member id's record.
func (b *Book) Member(id uint64) (messages.Member, bool) {
	m, ok := b.members[id]
	return m, ok
}

// Len is the number of members.
func (b *Book) Len() int { return len(b.members) }

// Voters counts the members that vote.
func (b *Book) Voters() int {
	n := 0
	for _, m := range b.members {
		if !m.Learner {
			n++
		}
	}
	return n
}

// Removed returns the peer address a removed member had, and whether id
// was removed.
func (b *Book) Removed(id uint64) (string, bool) {
	addr, ok := b.removed[id]
	return addr, ok
}

// Check tells whether Apply would take ch, without changing b. Its errors
// wrap the messages sentinels (ErrMemberExists, ErrAddressInUse, ...).
func (b *Book) Check(ch messages.MemberChange) error {
	_, err := b.normalize(ch)
	return err
}

// normalize checks ch against b and returns it with its addresses in
// canonical form, the form the Book records.
func (b *Book) normalize(ch messages.MemberChange) (messages.MemberChange, error) {
	m := &ch.Member
	if err := CheckID(m.ID); err != nil {
		return ch, fmt.Errorf("%s member: %w: %w", ch.Type, messages.ErrInvalidMember, err)
	}
	if m.ClientAddress != "" {
		a, err := ParseClientAddress(m.ClientAddress)
		if err != nil {
			return ch, fmt.Errorf("%s member %d: %w: %w", ch.Type, m.ID, messages.ErrInvalidMember, err)
		}
		m.ClientAddress = a
	}
	if m.PeerAddress != "" {
		a, err := ParsePeerAddress(m.PeerAddress)
		if err != nil {
			return ch, fmt.Errorf("%s member %d: %w: %w", ch.Type, m.ID, messages.ErrInvalidMember, err)
		}
		m.PeerAddress = a
	}
	cur, exists := b.members[m.ID]
	switch ch.Type {
	case messages.AddVoter, messages.AddLearner:
		if exists {
			return ch, fmt.Errorf("add member %d: %w (at %s)", m.ID, messages.ErrMemberExists, cur.PeerAddress)
		}
		if _, gone := b.removed[m.ID]; gone {
			return ch, fmt.Errorf("add member %d: %w: ids are never reused, pick another", m.ID, messages.ErrMemberRemoved)
		}
		if m.PeerAddress == "" {
			return ch, fmt.Errorf("add member %d: %w: it needs a peer address (host:port)", m.ID, messages.ErrInvalidMember)
		}
		if other, used := b.byAddress(m.PeerAddress); used {
			return ch, fmt.Errorf("add member %d: %w: %s is member %d's", m.ID, messages.ErrAddressInUse, m.PeerAddress, other)
		}
	case messages.Promote:
		if !exists {
			return ch, fmt.Errorf("promote member %d: %w", m.ID, messages.ErrMemberNotFound)
		}
		if !cur.Learner {
			return ch, fmt.Errorf("promote member %d: %w: it already votes", m.ID, messages.ErrNotLearner)
		}
	case messages.Remove:
		if !exists {
			return ch, fmt.Errorf("remove member %d: %w", m.ID, messages.ErrMemberNotFound)
		}
		if !cur.Learner && b.Voters() == 1 {
			return ch, fmt.Errorf("remove member %d: %w: it is the last voter, and a cluster without a voter can never commit again", m.ID, messages.ErrUnsafeChange)
		}
	case messages.Update:
		if !exists {
			return ch, fmt.Errorf("update member %d: %w", m.ID, messages.ErrMemberNotFound)
		}
		if m.PeerAddress != "" && m.PeerAddress != cur.PeerAddress {
			return ch, fmt.Errorf("update member %d: %w: the peer address of a member cannot change; remove it and add a new member", m.ID, messages.ErrInvalidMember)
		}
	default:
		return ch, fmt.Errorf("%w: unknown change type %d", messages.ErrInvalidMember, ch.Type)
	}
	return ch, nil
}

func (b *Book) byAddress(addr string) (uint64, bool) {
	for id, m := range b.members {
		if m.PeerAddress == addr {
			return id, true
		}
	}
	return 0, false
}

// Apply applies a committed change: it takes effect if Check allows it,
// and otherwise changes nothing and returns Check's error. The Book records
// addresses in canonical form. A clusterID other than 0 (the entries that
// bootstrap a cluster carry it) becomes the Book's cluster id if it has
// none yet. An Update replaces the member's client address (an empty one
// clears it).
func (b *Book) Apply(ch messages.MemberChange, clusterID uint64) error {
	ch, err := b.normalize(ch)
	if err != nil {
		return err
	}
	if b.clusterID == 0 {
		b.clusterID = clusterID
	}
	m := ch.Member
	switch ch.Type {
	case messages.AddVoter, messages.AddLearner:
		b.members[m.ID] = messages.Member{ID: m.ID, PeerAddress: m.PeerAddress,
			ClientAddress: m.ClientAddress, Learner: ch.Type == messages.AddLearner}
	case messages.Promote:
		cur := b.members[m.ID]
		cur.Learner = false
		b.members[m.ID] = cur
	case messages.Remove:
		b.removed[m.ID] = b.members[m.ID].PeerAddress
		delete(b.members, m.ID)
	case messages.Update:
		cur := b.members[m.ID]
		cur.ClientAddress = m.ClientAddress
		b.members[m.ID] = cur
	}
	return nil
}

// ClusterIDOf is the cluster id of a new cluster of the given members: a
// hash of their ids and peer addresses, so that members started with the
// same --cluster agree on it, and members started with different ones
// (or of different clusters) find out when they meet.
func ClusterIDOf(members []messages.Member) uint64 {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, func(a, c messages.Member) int { return cmp.Compare(a.ID, c.ID) })
	h := fnv.New64a()
	for _, m := range sorted {
		fmt.Fprintf(h, "%d=%s\n", m.ID, m.PeerAddress)
	}
	if id := h.Sum64(); id != 0 {
		return id
	}
	return 1
}
