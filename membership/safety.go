package membership

import (
	"fmt"

	"github.com/raftkv/raftkv/messages"
)

// Progress is what the leader knows of one member: the highest log index
// it is known to hold, and whether it responded within the last election
// timeout.
type Progress struct {
	Match  uint64
	Active bool
}

// LearnerReadiness is how close to the leader's last index a learner's
// match must be for it to be promoted (etcd's rule: 90%).
const LearnerReadiness = 0.9

// CheckSafety refuses, with an error wrapping ErrUnsafeChange or
// ErrLearnerNotReady, a change that Check allows but that could leave the
// cluster unable to commit, judged from the leader's view: leader is its
// id, lastIndex its last log index, progress what it knows of each member
// (a member missing from it is taken as unreachable). The rules are etcd's:
//
//   - adding a voter, or promoting a learner, needs a quorum of the new
//     voters among the reachable ones (the new member counts only if it
//     is a learner that responds); adding a second voter to a single one
//     is allowed, as etcd allows it to restore a cluster;
//   - a learner is promoted only once its match is at least
//     LearnerReadiness of the leader's last index;
//   - removing a voter needs a quorum of the remaining voters among the
//     reachable ones.
//
// Adding or removing a learner, and updating an address, never risk the
// quorum.
func (b *Book) CheckSafety(ch messages.MemberChange, leader, lastIndex uint64, progress map[uint64]Progress) error {
	id := ch.Member.ID
	voters, active := 0, 0
	for vid, m := range b.members {
		if m.Learner {
			continue
		}
		voters++
		if vid == leader || progress[vid].Active {
			active++
		}
	}
	switch ch.Type {
	case messages.AddVoter, messages.Promote:
		if ch.Type == messages.Promote {
			match := progress[id].Match
			if float64(match) < float64(lastIndex)*LearnerReadiness {
				return fmt.Errorf("promote member %d: %w: it holds the log up to %d of the leader's %d",
					id, messages.ErrLearnerNotReady, match, lastIndex)
			}
			if progress[id].Active {
				active++
			}
		}
		if voters == 1 && active >= 1 {
			return nil
		}
		if need := quorum(voters + 1); active < need {
			return fmt.Errorf("%s member %d: %w: %d voters would need %d to commit, and only %d of the current %d respond",
				ch.Type, id, messages.ErrUnsafeChange, voters+1, need, active, voters)
		}
	case messages.Remove:
		m, ok := b.members[id]
		if !ok || m.Learner {
			return nil
		}
		if id == leader || progress[id].Active {
			active--
		}
		if need := quorum(voters - 1); active < need {
			return fmt.Errorf("remove member %d: %w: the %d voters left would need %d to commit, and only %d of them respond",
				id, messages.ErrUnsafeChange, voters-1, need, active)
		}
	}
	return nil
}

func quorum(voters int) int { return voters/2 + 1 }
