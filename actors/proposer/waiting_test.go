package proposer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/messages"
)

// The book under test belongs to node 7; its first request id is 7/100.
const (
	testNode      = 7
	testMaxWait   = 5 * time.Second
	testReadRetry = time.Second
	testRepropose = 2 * time.Second
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// step is one call on waiting at t0+at, and what the actor must then send,
// as rendered by render.
type step struct {
	at   time.Duration
	do   func(w *waiting, now time.Time) outbox
	want []string
}

// client is the PID of the client named name; it needs no actor system.
func client(name string) *actor.PID { return actor.NewPID("test", name) }

func id(seq uint64) messages.RequestID { return messages.RequestID{Node: testNode, Seq: seq} }

func state(leader uint64, serving, leaderless bool) func(*waiting, time.Time) outbox {
	return func(w *waiting, _ time.Time) outbox {
		return w.setState(messages.RaftState{Leader: leader, Term: 1, Serving: serving, Leaderless: leaderless})
	}
}

// txn is a client's put of the key named after the client.
func txn(c string) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox {
		put := messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: []byte(c), Value: []byte("v")}}}
		return w.txn(client(c), put, now)
	}
}

// conf is a client's addition of member 4.
func conf(c string) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox {
		change := messages.MemberChange{Type: messages.AddVoter, Member: messages.Member{ID: 4, PeerAddress: "n4:1"}}
		return w.confChange(client(c), change, now)
	}
}

// read is a client's linearizable get of the key named after the client.
func read(c string) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox {
		return w.read(client(c), messages.Op{Type: messages.OpGet, Key: []byte(c)}, false, now)
	}
}

// sread is read, serializable.
func sread(c string) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox {
		return w.read(client(c), messages.Op{Type: messages.OpGet, Key: []byte(c)}, true, now)
	}
}

func dropped(seq uint64) func(*waiting, time.Time) outbox {
	return func(w *waiting, _ time.Time) outbox { return w.dropped(id(seq)) }
}

// result is the applier's report of request seq at revision rev.
func result(seq uint64, rev int64) func(*waiting, time.Time) outbox {
	return func(w *waiting, _ time.Time) outbox {
		return w.result(id(seq), messages.TxnResult{Succeeded: true, Revision: rev}, nil)
	}
}

// refused is a Result with an error: raftnode's or the applier's refusal.
func refused(seq uint64, err error) func(*waiting, time.Time) outbox {
	return func(w *waiting, _ time.Time) outbox { return w.result(id(seq), messages.TxnResult{}, err) }
}

func readState(ctx, index uint64) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox { return w.readState(ctx, index, now) }
}

func sweep(w *waiting, now time.Time) outbox { return w.sweep(now) }

func stop(w *waiting, _ time.Time) outbox { return w.stop(messages.ErrStopped) }

func disk(low bool) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox { return w.diskSpace(low, now) }
}

func alarms(members ...uint64) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox { return w.setAlarms(members, now) }
}

// del is a client's delete of the key named after the client.
func del(c string) func(*waiting, time.Time) outbox {
	return func(w *waiting, now time.Time) outbox {
		return w.txn(client(c), messages.Txn{Success: []messages.Op{{Type: messages.OpDelete, Key: []byte(c)}}}, now)
	}
}

var errNames = map[error]string{
	messages.ErrNoSpace:      "no space",
	messages.ErrNotReady:     "not ready",
	messages.ErrNoLeader:     "no leader",
	messages.ErrTimeout:      "timeout",
	messages.ErrStopped:      "stopped",
	messages.ErrMemberExists: "member exists",
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	for e, name := range errNames {
		if errors.Is(err, e) {
			return name
		}
	}
	return err.Error()
}

// render writes out as lines, in the order the actor sends them: to
// raftnode, to the applier, then the answers to clients.
func render(out outbox) []string {
	var lines []string
	for _, m := range out.raftnode {
		switch m := m.(type) {
		case *messages.Propose:
			cmd, err := messages.DecodeCommand(m.Data)
			if err != nil || cmd.ID != m.ID {
				lines = append(lines, fmt.Sprintf("raftnode: propose %d with bad data %+v (%v)", m.ID.Seq, cmd, err))
				continue
			}
			if a := cmd.Alarm; a != nil {
				lines = append(lines, fmt.Sprintf("raftnode: propose %d/%d alarm of %d active %v", m.ID.Node, m.ID.Seq, a.Member, a.Active))
				continue
			}
			lines = append(lines, fmt.Sprintf("raftnode: propose %d/%d put %s", m.ID.Node, m.ID.Seq, cmd.Txn.Success[0].Key))
		case *messages.ProposeConfChange:
			lines = append(lines, fmt.Sprintf("raftnode: conf change %d/%d %v %d", m.ID.Node, m.ID.Seq, m.Change.Type, m.Change.Member.ID))
		case *messages.ReadIndex:
			lines = append(lines, fmt.Sprintf("raftnode: read index %d", m.Ctx))
		default:
			lines = append(lines, fmt.Sprintf("raftnode: %T", m))
		}
	}
	for _, b := range out.applier {
		var reads []string
		for _, r := range b.Reads {
			reads = append(reads, r.ReplyTo.GetId()+":"+string(r.Op.Key))
		}
		lines = append(lines, fmt.Sprintf("applier: read batch @%d [%s]", b.Index, strings.Join(reads, " ")))
	}
	for _, r := range out.replies {
		var what string
		switch m := r.msg.(type) {
		case *messages.TxnReply:
			what = "txn " + errName(m.Err)
			if m.Err == nil {
				what = fmt.Sprintf("txn rev %d", m.Result.Revision)
			}
		case *messages.ConfChangeReply:
			what = "conf change " + errName(m.Err)
		case *messages.ReadReply:
			what = "read " + errName(m.Err)
		default:
			what = fmt.Sprintf("%T", m)
		}
		lines = append(lines, r.to.GetId()+": "+what)
	}
	return lines
}

// TestWaiting runs scenarios through the proposer's book, step by step,
// and checks what the actor must send after each step.
func TestWaiting(t *testing.T) {
	leader := state(1, true, false)
	noLeaderYet := state(0, true, false) // an election, or a leader just lost
	leaderless := state(0, true, true)   // no leader for longer than an election timeout
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "until the node serves, every request is refused, serializable reads too",
			steps: []step{
				{do: txn("c1"), want: []string{"c1: txn not ready"}},
				{do: conf("c2"), want: []string{"c2: conf change not ready"}},
				{do: read("c3"), want: []string{"c3: read not ready"}},
				{do: sread("c4"), want: []string{"c4: read not ready"}},
				{do: state(1, false, false)},
				{do: txn("c1"), want: []string{"c1: txn not ready"}},
				{do: read("c3"), want: []string{"c3: read not ready"}},
			},
		},
		{
			name: "not ready comes before no leader",
			steps: []step{
				{do: state(0, false, true)},
				{do: txn("c1"), want: []string{"c1: txn not ready"}},
				{do: conf("c2"), want: []string{"c2: conf change not ready"}},
				{do: read("c3"), want: []string{"c3: read not ready"}},
				{do: sread("c4"), want: []string{"c4: read not ready"}},
			},
		},
		{
			name: "writes get ids never reused and are answered by id, once",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: txn("c2"), want: []string{"raftnode: propose 7/101 put c2"}},
				{do: func(w *waiting, _ time.Time) outbox {
					return w.result(messages.RequestID{Node: 2, Seq: 100}, messages.TxnResult{}, nil)
				}},
				{do: result(101, 5), want: []string{"c2: txn rev 5"}},
				{do: result(101, 6)},
				{do: result(100, 4), want: []string{"c1: txn rev 4"}},
				{at: time.Hour, do: sweep},
			},
		},
		{
			name: "a membership change is proposed as it is; raftnode's refusal reaches the client",
			steps: []step{
				{do: leader},
				{do: conf("c1"), want: []string{"raftnode: conf change 7/100 add 4"}},
				{do: refused(100, messages.ErrMemberExists), want: []string{"c1: conf change member exists"}},
				{do: conf("c2"), want: []string{"raftnode: conf change 7/101 add 4"}},
				{do: refused(101, nil), want: []string{"c2: conf change ok"}},
			},
		},
		{
			name: "without a leader requests are parked, and proposed once, in id order, under one",
			steps: []step{
				{do: noLeaderYet},
				{do: txn("c1")},
				{do: conf("c2")},
				{do: sweep},
				{do: state(2, true, false), want: []string{"raftnode: propose 7/100 put c1", "raftnode: conf change 7/101 add 4"}},
				{do: state(2, true, false)},
				{do: sweep},
				{do: result(100, 1), want: []string{"c1: txn rev 1"}},
			},
		},
		{
			name: "dropped while a leader is known: proposed again on the next sweep",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: dropped(100)},
				{do: sweep, want: []string{"raftnode: propose 7/100 put c1"}},
				{do: sweep},
				{do: dropped(999)},
			},
		},
		{
			name: "dropped for want of a leader: proposed again once one is known",
			steps: []step{
				{do: leader},
				{do: conf("c1"), want: []string{"raftnode: conf change 7/100 add 4"}},
				{do: noLeaderYet},
				{do: dropped(100)},
				{do: sweep},
				{do: state(3, true, false), want: []string{"raftnode: conf change 7/100 add 4"}},
			},
		},
		{
			name: "leaderless: new writes, changes and linearizable reads fail at once; serializable reads are served",
			steps: []step{
				{do: leaderless},
				{do: txn("c1"), want: []string{"c1: txn no leader"}},
				{do: conf("c2"), want: []string{"c2: conf change no leader"}},
				{do: read("c3"), want: []string{"c3: read no leader"}},
				{do: sread("c4"), want: []string{"applier: read batch @0 [c4:c4]"}},
				{at: time.Hour, do: sweep},
				{do: stop},
			},
		},
		{
			name: "turning leaderless fails what raft does not hold and every read; what raft holds waits",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: txn("c2"), want: []string{"raftnode: propose 7/101 put c2"}},
				{do: dropped(101)},
				{do: read("c3"), want: []string{"raftnode: read index 1"}},
				{do: read("c4")},
				{do: noLeaderYet},
				{do: conf("c5")},
				{do: txn("c6")},
				{do: leaderless, want: []string{
					"c2: txn no leader", "c5: conf change no leader", "c6: txn no leader",
					"c3: read no leader", "c4: read no leader",
				}},
				{do: readState(1, 9)},
				{do: leaderless},
				{do: sweep},
				{do: result(100, 7), want: []string{"c1: txn rev 7"}},
				{do: result(101, 8)},
				{do: result(102, 8)},
			},
		},
		{
			name: "a write raft holds still times out while leaderless",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: leaderless},
				{at: testMaxWait - time.Millisecond, do: sweep},
				{at: testMaxWait, do: sweep, want: []string{"c1: txn timeout"}},
			},
		},
		{
			name: "dropped while leaderless: fails at once and is not proposed again",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: conf("c2"), want: []string{"raftnode: conf change 7/101 add 4"}},
				{do: leaderless},
				{do: dropped(100), want: []string{"c1: txn no leader"}},
				{do: dropped(101), want: []string{"c2: conf change no leader"}},
				{do: state(3, true, false)},
				{do: sweep},
				{do: result(100, 1)},
			},
		},
		{
			name: "a leader again: requests are taken again, read rounds keep counting",
			steps: []step{
				{do: leader},
				{do: read("c1"), want: []string{"raftnode: read index 1"}},
				{do: leaderless, want: []string{"c1: read no leader"}},
				{do: txn("c2"), want: []string{"c2: txn no leader"}},
				{do: state(2, true, false)},
				{do: txn("c3"), want: []string{"raftnode: propose 7/100 put c3"}},
				{do: read("c4"), want: []string{"raftnode: read index 2"}},
				{do: readState(1, 5)},
				{do: readState(2, 6), want: []string{"applier: read batch @6 [c4:c4]"}},
			},
		},
		{
			name: "a new leader gets again what raft holds, with the same ids; the same leader does not",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: conf("c2"), want: []string{"raftnode: conf change 7/101 add 4"}},
				{do: state(1, true, false)}, // a commit moved: same leader, same term
				{do: state(2, true, false), want: []string{"raftnode: propose 7/100 put c1", "raftnode: conf change 7/101 add 4"}},
				{do: result(100, 3), want: []string{"c1: txn rev 3"}},
				{do: result(100, 3)}, // the second copy is skipped by the applier; were it answered, it is ignored
				{do: func(w *waiting, _ time.Time) outbox {
					return w.setState(messages.RaftState{Leader: 2, Term: 7, Serving: true}) // re-elected: a new term
				}, want: []string{"raftnode: conf change 7/101 add 4"}},
			},
		},
		{
			name: "a request raft holds without a result is proposed again, with the same id, under a leader only",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: sweep}, // the first sweep after it was handed starts its clock
				{at: testRepropose - time.Millisecond, do: sweep},
				{at: testRepropose, do: sweep, want: []string{"raftnode: propose 7/100 put c1"}},
				{at: testRepropose + time.Second, do: leaderless},
				{at: testMaxWait - time.Millisecond, do: sweep}, // no leader: nobody to propose it to
				{at: testMaxWait - time.Millisecond, do: result(100, 4), want: []string{"c1: txn rev 4"}},
			},
		},
		{
			name: "counters move past those of requests from before a restart and of a restored snapshot",
			steps: []step{
				{do: leader},
				{do: result(500, 1)}, // a request of this node proposed before a restart, replayed
				{do: txn("c1"), want: []string{"raftnode: propose 7/501 put c1"}},
				{do: func(w *waiting, _ time.Time) outbox { w.seqFloor(900); return outbox{} }},
				{do: txn("c2"), want: []string{"raftnode: propose 7/901 put c2"}},
				{do: func(w *waiting, _ time.Time) outbox { w.seqFloor(10); return outbox{} }},
				{do: txn("c3"), want: []string{"raftnode: propose 7/902 put c3"}},
			},
		},
		{
			name: "a low disk has the alarm raised, once, and cleared once there is space again",
			steps: []step{
				{do: leader},
				{do: disk(false)},
				{do: disk(true), want: []string{"raftnode: propose 7/100 alarm of 7 active true"}},
				{do: sweep}, // the request waits: not proposed twice
				{do: result(100, 0)},
				{do: alarms(7)},
				{do: txn("c1"), want: []string{"c1: txn no space"}},
				{do: del("c2"), want: []string{"raftnode: propose 7/101 put c2"}}, // (the renderer names every txn a put)
				{do: sread("c3"), want: []string{"applier: read batch @0 [c3:c3]"}},
				{do: disk(false), want: []string{"raftnode: propose 7/102 alarm of 7 active false"}},
				{do: result(102, 0)},
				{do: alarms()},
				{do: txn("c4"), want: []string{"raftnode: propose 7/103 put c4"}},
			},
		},
		{
			name: "another member's alarm refuses writes here too; a lost alarm request is asked again",
			steps: []step{
				{do: leader},
				{do: alarms(3)},
				{do: txn("c1"), want: []string{"c1: txn no space"}},
				{do: disk(true), want: []string{"raftnode: propose 7/100 alarm of 7 active true"}},
				{at: testMaxWait, do: sweep, want: []string{"raftnode: propose 7/101 alarm of 7 active true"}},
			},
		},
		{
			name: "linearizable reads share rounds, one round in flight",
			steps: []step{
				{do: leader},
				{do: read("c1"), want: []string{"raftnode: read index 1"}},
				{do: read("c2")},
				{do: read("c3")},
				{do: sread("c4"), want: []string{"applier: read batch @0 [c4:c4]"}},
				{do: readState(1, 10), want: []string{"raftnode: read index 2", "applier: read batch @10 [c1:c1]"}},
				{do: readState(1, 10)},
				{do: readState(2, 12), want: []string{"applier: read batch @12 [c2:c2 c3:c3]"}},
				{do: readState(3, 12)},
				{at: time.Hour, do: sweep},
			},
		},
		{
			name: "an unanswered round is asked again after ReadRetry; the late answer is ignored",
			steps: []step{
				{do: leader},
				{do: read("c1"), want: []string{"raftnode: read index 1"}},
				{at: testReadRetry / 2, do: read("c2")},
				{at: testReadRetry - time.Millisecond, do: sweep},
				{at: testReadRetry, do: sweep, want: []string{"raftnode: read index 2"}},
				{at: testReadRetry, do: read("c3")},
				{do: readState(1, 3)},
				{do: readState(2, 4), want: []string{"raftnode: read index 3", "applier: read batch @4 [c1:c1 c2:c2]"}},
				{do: readState(3, 5), want: []string{"applier: read batch @5 [c3:c3]"}},
			},
		},
		{
			name: "requests past MaxWait time out, parked or not; late results are dropped",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: read("c2"), want: []string{"raftnode: read index 1"}},
				{at: time.Second, do: noLeaderYet},
				{at: time.Second, do: conf("c3")},
				{at: time.Second, do: read("c4")},
				{at: testMaxWait, do: sweep, want: []string{"raftnode: read index 2", "c1: txn timeout", "c2: read timeout"}},
				{do: result(100, 1)},
				{at: testMaxWait + time.Second, do: sweep, want: []string{"c3: conf change timeout", "c4: read timeout"}},
				{do: readState(2, 8)},
			},
		},
		{
			name: "stopping answers ErrStopped to everything that waits, once",
			steps: []step{
				{do: leader},
				{do: txn("c1"), want: []string{"raftnode: propose 7/100 put c1"}},
				{do: noLeaderYet},
				{do: conf("c2")},
				{do: read("c3"), want: []string{"raftnode: read index 1"}},
				{do: read("c4")},
				{do: stop, want: []string{"c1: txn stopped", "c2: conf change stopped", "c3: read stopped", "c4: read stopped"}},
				{do: stop},
				{do: readState(1, 2)},
				{do: result(100, 1)},
			},
		},
	}
	for i, tt := range tests {
		w := newWaiting(Config{ID: testNode, FirstSeq: 100, MaxWait: testMaxWait, ReadRetry: testReadRetry, ReproposeAfter: testRepropose})
		for j, s := range tt.steps {
			got := render(s.do(w, t0.Add(s.at)))
			if !slices.Equal(got, s.want) {
				t.Errorf("%d (%s): step %d: sent\n\t%q\nwant\n\t%q", i, tt.name, j, got, s.want)
			}
		}
	}
}

// TestWaitingForgets checks that nothing stays in the book once every
// request is answered, whichever way.
func TestWaitingForgets(t *testing.T) {
	tests := []struct {
		name  string
		steps []func(*waiting, time.Time) outbox
	}{
		{"answered", []func(*waiting, time.Time) outbox{
			state(1, true, false), txn("c1"), conf("c2"), read("c3"), result(100, 1), refused(101, nil), readState(1, 1),
		}},
		{"failed for want of a leader", []func(*waiting, time.Time) outbox{
			state(0, true, false), txn("c1"), conf("c2"), read("c3"), read("c4"), state(0, true, true),
		}},
		{"stopped", []func(*waiting, time.Time) outbox{
			state(1, true, false), txn("c1"), read("c2"), read("c3"), stop,
		}},
	}
	for i, tt := range tests {
		w := newWaiting(Config{ID: testNode, FirstSeq: 100, MaxWait: testMaxWait, ReadRetry: testReadRetry, ReproposeAfter: testRepropose})
		for _, do := range tt.steps {
			do(w, t0)
		}
		if len(w.pending) != 0 || len(w.queued) != 0 || w.round != nil {
			t.Errorf("%d (%s): %d pending, %d queued reads, round %+v left", i, tt.name, len(w.pending), len(w.queued), w.round)
		}
	}
}

// leaderRefused is raftnode's refusal to propose the membership change seq
// (a Result with Refused set).
func leaderRefused(seq uint64, err error) func(*waiting, time.Time) outbox {
	return func(w *waiting, _ time.Time) outbox { return w.refused(id(seq), err) }
}

// TestWaitingCounts checks what the book counts for the metrics: a request
// answered with its outcome from the log is committed (an error at apply
// included), one answered otherwise failed, one refused before it was
// taken neither; pending is what still waits.
func TestWaitingCounts(t *testing.T) {
	leader := state(1, true, false)
	expire := func(w *waiting, _ time.Time) outbox { return w.sweep(t0.Add(testMaxWait)) }
	tests := []struct {
		name                       string
		steps                      []func(*waiting, time.Time) outbox
		committed, failed, pending int
	}{
		{"refused before taken", []func(*waiting, time.Time) outbox{
			txn("c1"), state(0, true, true), txn("c2"), conf("c3"), leader, state(1, true, false), alarms(9), txn("c4"),
		}, 0, 0, 0},
		{"outcomes from the log, errors at apply too", []func(*waiting, time.Time) outbox{
			leader, txn("c1"), txn("c2"), conf("c3"), result(100, 1), refused(101, messages.ErrNoSpace),
			refused(102, messages.ErrMemberExists), result(100, 1),
		}, 3, 0, 0},
		{"pending", []func(*waiting, time.Time) outbox{
			leader, txn("c1"), txn("c2"), conf("c3"), result(101, 1),
		}, 1, 0, 2},
		{"a leader's refusal", []func(*waiting, time.Time) outbox{
			leader, conf("c1"), leaderRefused(100, messages.ErrMemberExists), leaderRefused(100, messages.ErrMemberExists),
		}, 0, 1, 0},
		{"parked when the member turns leaderless", []func(*waiting, time.Time) outbox{
			state(0, true, false), txn("c1"), conf("c2"), state(0, true, true),
		}, 0, 2, 0},
		{"dropped while leaderless", []func(*waiting, time.Time) outbox{
			leader, txn("c1"), txn("c2"), state(0, true, true), dropped(100),
		}, 0, 1, 1},
		{"expired", []func(*waiting, time.Time) outbox{leader, txn("c1"), conf("c2"), expire}, 0, 2, 0},
		{"stopped", []func(*waiting, time.Time) outbox{leader, txn("c1"), conf("c2"), stop}, 0, 2, 0},
	}
	for i, tt := range tests {
		w := newWaiting(Config{ID: testNode, FirstSeq: 100, MaxWait: testMaxWait, ReadRetry: testReadRetry, ReproposeAfter: testRepropose})
		var committed, failed int
		for _, do := range tt.steps {
			out := do(w, t0)
			committed += out.committed
			failed += out.failed
		}
		if committed != tt.committed || failed != tt.failed || w.pendingCount() != tt.pending {
			t.Errorf("%d (%s): %d committed, %d failed, %d pending; want %d, %d, %d", i, tt.name,
				committed, failed, w.pendingCount(), tt.committed, tt.failed, tt.pending)
		}
	}
}
