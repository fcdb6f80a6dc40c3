package httpapi

import (
	"context"
	"errors"
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
	return &Server{root: sys.Root, proposer: pid}
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
