package testkit

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/raftkv/raftkv/messages"
)

// MemberState is what one member holds, as its status and a serializable
// range of every key tell: what tests compare to see that members
// converged.
type MemberState struct {
	ID uint64
	// Serving, Commit, Applied and Revision are the member's status.
	Serving  bool
	Commit   uint64
	Applied  uint64
	Revision int64
	// Members is the membership as the member knows it, in id order:
	// "<id>" for a voter, "<id>L" for a learner.
	Members []string
	// KVs are every key of the member's store, in key order.
	KVs []messages.KeyValue
}

// State reads member id's state: its status, then every key through a
// serializable read (the member's own state, whatever the others hold).
// In deterministic mode both describe one moment, since nothing happens
// between steps; in real time the keys may be newer than the status.
func (c *Cluster) State(id uint64) (MemberState, error) {
	st, err := c.Status(id)
	if err != nil {
		return MemberState{}, err
	}
	ms := MemberState{ID: id, Serving: st.Serving, Commit: st.Commit, Applied: st.Applied, Revision: st.Revision}
	for _, m := range st.Members {
		role := ""
		if m.Learner {
			role = "L"
		}
		ms.Members = append(ms.Members, fmt.Sprintf("%d%s", m.ID, role))
	}
	slices.Sort(ms.Members)
	if !st.Serving {
		return ms, nil
	}
	v, err := c.goCall(id, &messages.ClientRead{Serializable: true,
		Op: messages.Op{Type: messages.OpGet, Key: []byte{}, End: []byte{0}}}, Dilated(10*time.Second), true).Reply()
	if err != nil {
		return ms, fmt.Errorf("range of member %d: %w", id, err)
	}
	r, ok := v.(*messages.ReadReply)
	if !ok {
		return ms, fmt.Errorf("range of member %d: unexpected answer %T", id, v)
	}
	if r.Err != nil {
		return ms, fmt.Errorf("range of member %d: %w", id, r.Err)
	}
	if r.Revision != st.Revision {
		return ms, fmt.Errorf("member %d: the range is at revision %d, its status at %d", id, r.Revision, st.Revision)
	}
	ms.KVs = r.Result.KVs
	return ms, nil
}

// Diverged compares the states of the running members that serve and says
// how they differ: commit and applied index, revision, membership, or a
// key; "" when they all hold the same state and have applied all they
// know to be committed. The member that has applied the most is the
// reference: a member that its membership does not list (removed, and not
// told yet) is left out, and so are running members that do not serve (a
// member whose addition never committed). No serving member at all is a
// difference too.
func (c *Cluster) Diverged() string {
	d, _ := c.diverged()
	return d
}

// diverged is Diverged, and the members it left out because the
// membership no longer lists them.
func (c *Cluster) diverged() (string, []uint64) {
	var states []MemberState
	var notes []string
	for _, id := range c.Running() {
		ms, err := c.State(id)
		if err != nil {
			return err.Error(), nil
		}
		if !ms.Serving {
			notes = append(notes, fmt.Sprintf("member %d does not serve", id))
			continue
		}
		if ms.Applied != ms.Commit {
			return fmt.Sprintf("member %d applied %d of %d committed entries", id, ms.Applied, ms.Commit), nil
		}
		states = append(states, ms)
	}
	if len(states) == 0 {
		return "no running member serves; " + strings.Join(notes, "; "), nil
	}
	ref := states[0]
	for _, ms := range states[1:] {
		if ms.Applied > ref.Applied {
			ref = ms
		}
	}
	var gone []uint64
	for _, ms := range states {
		if !slices.ContainsFunc(ref.Members, func(m string) bool { return strings.TrimSuffix(m, "L") == fmt.Sprint(ms.ID) }) {
			gone = append(gone, ms.ID)
			continue
		}
		if d := diffStates(ref, ms); d != "" {
			return d, gone
		}
	}
	return "", gone
}

// StaleMembers lists the running members that serve although the membership
// of the most advanced member no longer lists them: removed while they
// could not learn it, and not told yet. Diverged leaves them out.
func (c *Cluster) StaleMembers() []uint64 {
	_, gone := c.diverged()
	return gone
}

// diffStates says how b differs from a, or "".
func diffStates(a, b MemberState) string {
	switch {
	case a.Applied != b.Applied || a.Commit != b.Commit:
		return fmt.Sprintf("member %d applied %d (commit %d), member %d applied %d (commit %d)", a.ID, a.Applied, a.Commit, b.ID, b.Applied, b.Commit)
	case a.Revision != b.Revision:
		return fmt.Sprintf("member %d is at revision %d, member %d at %d", a.ID, a.Revision, b.ID, b.Revision)
	case !slices.Equal(a.Members, b.Members):
		return fmt.Sprintf("member %d knows members %v, member %d %v", a.ID, a.Members, b.ID, b.Members)
	}
	for i := range max(len(a.KVs), len(b.KVs)) {
		switch {
		case i >= len(a.KVs):
			return fmt.Sprintf("member %d lacks key %q that member %d holds", a.ID, b.KVs[i].Key, b.ID)
		case i >= len(b.KVs):
			return fmt.Sprintf("member %d lacks key %q that member %d holds", b.ID, a.KVs[i].Key, a.ID)
		}
		ka, kb := a.KVs[i], b.KVs[i]
		if !bytes.Equal(ka.Key, kb.Key) || !bytes.Equal(ka.Value, kb.Value) || ka.ModRevision != kb.ModRevision ||
			ka.CreateRevision != kb.CreateRevision || ka.Version != kb.Version {
			return fmt.Sprintf("member %d holds %s, member %d %s", a.ID, describeKV(ka), b.ID, describeKV(kb))
		}
	}
	return ""
}

func describeKV(kv messages.KeyValue) string {
	return fmt.Sprintf("%q=%q (create %d, mod %d, version %d)", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
}

// WaitConverged waits until Diverged says nothing: every running member
// that serves has applied everything committed and holds the same state
// (applied index, revision, membership, every key). In deterministic mode
// it takes steps, at most WithMaxSteps; the failure says how the members
// still differ.
func (c *Cluster) WaitConverged(timeout ...time.Duration) {
	c.t.Helper()
	var last string
	c.await(func() string { return "running members converge: " + last }, func() bool {
		last = c.Diverged()
		return last == ""
	}, timeout...)
}

// Describe says, one line per member started so far, what it is: down,
// stopped on its own (and why), or its status (raft role, leader, term,
// commit and applied index, revision, whether it serves) and the
// membership it knows, with the leader's view of each member's progress.
// Failure messages of cluster tests print it.
func (c *Cluster) Describe() string {
	var b strings.Builder
	for _, id := range c.members() {
		if err := c.Exited(id); err != nil {
			fmt.Fprintf(&b, "member %d: stopped on its own: %v\n", id, err)
			continue
		}
		if c.Node(id) == nil {
			fmt.Fprintf(&b, "member %d: down\n", id)
			continue
		}
		st, err := c.Status(id)
		if err != nil {
			fmt.Fprintf(&b, "member %d: %v\n", id, err)
			continue
		}
		fmt.Fprintf(&b, "member %d: %s, leader %d, term %d, commit %d, applied %d, revision %d, serving %v, leaderless %v; members",
			id, st.State, st.Leader, st.Term, st.Commit, st.Applied, st.Revision, st.Serving, st.Leaderless)
		for _, m := range st.Members {
			fmt.Fprintf(&b, " %d", m.ID)
			if m.Learner {
				b.WriteString("(learner)")
			}
			if p := m.Progress; p != nil {
				fmt.Fprintf(&b, "[match %d reachable %v]", p.Match, p.Reachable)
			}
			if m.LinkError != "" {
				fmt.Fprintf(&b, "[link: %s]", m.LinkError)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
