package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// echo answers every message with itself, or ignores it when it is a
// string "silent".
type echo struct{}

func (echo) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case string:
		if msg != "silent" {
			ctx.Respond(msg)
		}
	case int:
		ctx.Respond(msg)
	}
}

func askServer(tb testing.TB) *Server {
	tb.Helper()
	sys := actor.NewActorSystem()
	tb.Cleanup(sys.Shutdown)
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return echo{} }))
	return New(sys.Root, pid, nil)
}

// ask returns the answer, errDeadline when none comes in time, the
// context's error when the client went away, and ErrDeadLetter when the
// proposer is gone.
func TestAsk(t *testing.T) {
	s := askServer(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		msg     any
		timeout time.Duration
		want    any
		wantErr error
	}{
		{"answer", context.Background(), "hello", time.Minute, "hello", nil},
		{"no answer in time", context.Background(), "silent", 10 * time.Millisecond, nil, errDeadline},
		{"client gone", cancelled, "silent", time.Minute, nil, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ask(tt.ctx, tt.msg, tt.timeout)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("ask(%v) = %v, %v; want %v, %v", tt.msg, got, err, tt.want, tt.wantErr)
			}
		})
	}
	t.Run("proposer gone", func(t *testing.T) {
		if err := s.root.StopFuture(s.proposer).Wait(); err != nil {
			t.Fatalf("stop the proposer: %v", err)
		}
		if _, err := s.ask(context.Background(), "hello", time.Minute); !errors.Is(err, actor.ErrDeadLetter) {
			t.Errorf("ask of a stopped proposer: %v, want ErrDeadLetter", err)
		}
	})
}

// The first answer to an open ask reaches it; a second one, an answer to
// a closed ask, and one to a number never opened are dropped. Numbers in
// use are skipped when the counter wraps, and 0 is never one.
func TestReplies(t *testing.T) {
	answer := func(r *replies, n uint32, msg any) {
		r.SendUserMessage(&actor.PID{Id: "replies", RequestId: n}, msg)
	}
	received := func(ch chan any) []any {
		var got []any
		for {
			select {
			case v := <-ch:
				got = append(got, v)
			default:
				return got
			}
		}
	}

	r := newReplies()
	a, b := r.open(), r.open()
	if a.n == b.n || a.n == 0 || b.n == 0 {
		t.Fatalf("numbers %d and %d: want two different ones, not 0", a.n, b.n)
	}
	answer(r, b.n, "to b")
	answer(r, a.n, "to a")
	answer(r, a.n, "to a, again")
	answer(r, a.n+b.n+1, "to no one")
	if got := received(a.answer); len(got) != 1 || got[0] != "to a" {
		t.Errorf("ask a got %v, want [to a]", got)
	}
	if got := received(b.answer); len(got) != 1 || got[0] != "to b" {
		t.Errorf("ask b got %v, want [to b]", got)
	}
	r.close(a)
	r.close(b)
	c := r.open()
	r.close(c)
	answer(r, c.n, "too late")
	if got := received(c.answer); len(got) != 0 {
		t.Errorf("a closed ask got %v", got)
	}
	if len(r.waiting) != 0 {
		t.Errorf("%d asks still open after all closed", len(r.waiting))
	}

	wrap := newReplies()
	wrap.last = math.MaxUint32 - 1
	held := wrap.open() // MaxUint32, still open
	wrap.last = math.MaxUint32 - 1
	if w := wrap.open(); w.n == held.n || w.n == 0 {
		t.Errorf("after the wrap: number %d, want neither %d (open) nor 0", w.n, held.n)
	}
}

// An answer that reached an ask which gave up before taking it (it raced
// the deadline) never reaches a later ask: waiters are reused, empty.
func TestRepliesReuseWaitersEmpty(t *testing.T) {
	r := newReplies()
	for i := range 100 { // sync.Pool may drop some: many rounds reuse some
		late := r.open()
		r.SendUserMessage(&actor.PID{Id: "replies", RequestId: late.n}, fmt.Sprint("answer ", i))
		r.close(late) // without taking the answer
		next := r.open()
		select {
		case v := <-next.answer:
			t.Fatalf("round %d: a new ask holds %v before it was answered", i, v)
		default:
		}
		r.close(next)
	}
}

// Closing an ask that was answered does not forget a later ask that got
// its number again (the counter wrapped meanwhile).
func TestRepliesCloseKeepsReopenedNumber(t *testing.T) {
	r := newReplies()
	first := r.open()
	r.SendUserMessage(&actor.PID{Id: "replies", RequestId: first.n}, "to first")
	r.last = first.n - 1 // as if the counter came round
	second := r.open()
	if second.n != first.n {
		t.Fatalf("second ask got number %d, want %d again", second.n, first.n)
	}
	r.close(first)
	r.SendUserMessage(&actor.PID{Id: "replies", RequestId: second.n}, "to second")
	select {
	case v := <-second.answer:
		if v != "to second" {
			t.Errorf("second ask got %v", v)
		}
	default:
		t.Errorf("closing the first ask forgot the second, which has its number")
	}
}

// An ask that timed out leaves nothing behind for the next ask: not its
// deadline, not the answer that comes after it.
func TestAskAfterTimeout(t *testing.T) {
	s := askServer(t)
	for i := range 20 {
		if _, err := s.ask(context.Background(), "silent", time.Millisecond); !errors.Is(err, errDeadline) {
			t.Fatalf("round %d: silent ask: %v, want errDeadline", i, err)
		}
		want := fmt.Sprint("hello ", i)
		if got, err := s.ask(context.Background(), want, time.Minute); err != nil || got != want {
			t.Fatalf("round %d: ask after a timeout = %v, %v; want %q", i, got, err, want)
		}
	}
}

// BenchmarkAsk is one round trip of ask to an actor that answers at once:
// the overhead every request adds to its way through the node.
func BenchmarkAsk(b *testing.B) {
	s := askServer(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.ask(ctx, 1, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
}
