package store

import "slices"

// View is a read-only point-in-time copy of a Store: its keys and revision
// as they were when (*Store).View returned it. Later changes to the Store
// do not show in the View.
//
// A View is immutable, so it may be read from any goroutine, by several at
// once, while the owner of the Store goes on applying transactions: the
// Store and its Views share the unchanged parts of the key tree, and the
// Store copies a shared node before it changes it (google/btree's
// copy-on-write Clone), so neither ever writes memory the other reads.
//
// A View keeps alive every item and tree node it shares, so a View held
// while the Store is rewritten costs up to a second copy of the state; drop
// it (stop referencing it) once done with it.
type View struct {
	tree     *btreeKV
	revision int64
	// history and oldest are the store's history: a copy of its changes
	// (the store drops old ones in place), sharing their items.
	history []change
	oldest  int64
	leases  leases
}

// View returns a point-in-time copy of s: O(1) for the keys (a
// copy-on-write clone of the tree), a copy of the history's and the
// leases' bookkeeping (not of their keys and values). Like every other method of
// Store it must be called by the goroutine that owns s; the View it returns
// may then be handed to any other goroutine (see View).
func (s *Store) View() *View {
	return &View{tree: s.tree.Clone(), revision: s.revision, history: slices.Clone(s.hist.changes), oldest: s.hist.oldest,
		leases: s.leases.clone()}
}

// Revision returns the store revision at the time the View was taken.
func (v *View) Revision() int64 { return v.revision }

// Len returns the number of keys in the View.
func (v *View) Len() int { return v.tree.Len() }
