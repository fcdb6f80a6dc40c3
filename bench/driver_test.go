package bench

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClient answers at once; puts fail when failPuts is set. It records
// the keys it saw.
type fakeClient struct {
	failPuts         bool
	puts, gets, sers atomic.Int64
	mu               sync.Mutex
	keys             map[string]bool
}

func (f *fakeClient) Put(_ context.Context, key string, value []byte) error {
	f.puts.Add(1)
	f.see(key)
	if f.failPuts {
		return errors.New("refused")
	}
	return nil
}

func (f *fakeClient) Get(_ context.Context, key string, serializable bool) error {
	if serializable {
		f.sers.Add(1)
	} else {
		f.gets.Add(1)
	}
	f.see(key)
	return nil
}

func (f *fakeClient) Close() error { return nil }

func (f *fakeClient) see(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	f.keys[key] = true
}

func TestDriveMeasuresTheWindowOnly(t *testing.T) {
	var starts, ends atomic.Int64
	var startAt, endAt time.Time // written by the hooks, read after Drive returns
	c := &fakeClient{}
	w := Workload{Kind: KindMix, Clients: 4, ValueSize: 10, ReadPercent: 90}
	begin := time.Now()
	s, err := Drive(context.Background(), c, w, 50, 20*time.Millisecond, 50*time.Millisecond, Hooks{
		Start: func() { starts.Add(1); startAt = time.Now() },
		End:   func() { ends.Add(1); endAt = time.Now() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if starts.Load() != 1 || ends.Load() != 1 {
		t.Fatalf("hooks called %d and %d times, want once each", starts.Load(), ends.Load())
	}
	if !begin.Before(startAt) || !startAt.Before(endAt) {
		t.Errorf("window from +%v to +%v, want it to start after Drive", startAt.Sub(begin), endAt.Sub(begin))
	}
	total := c.puts.Load() + c.gets.Load()
	if s.Ops == 0 || int64(s.Ops) > total || s.Errors != 0 || s.Window != 50*time.Millisecond || len(s.Latencies) != s.Ops {
		t.Errorf("sample: %d ops of %d done, %d errors, window %v, %d latencies", s.Ops, total, s.Errors, s.Window, len(s.Latencies))
	}
	// 90% reads: with enough operations, surely more than 5 reads per write.
	if (total >= 200 && (c.puts.Load() == 0 || c.gets.Load() < 5*c.puts.Load())) || c.sers.Load() != 0 {
		t.Errorf("mix90 did %d puts, %d linearizable and %d serializable gets", c.puts.Load(), c.gets.Load(), c.sers.Load())
	}
	for k := range c.keys {
		if !strings.HasPrefix(k, "bench-10B-") {
			t.Errorf("key %q is not of the 10-byte key space", k)
		}
	}
	if len(c.keys) > 50 {
		t.Errorf("%d keys used, want at most 50", len(c.keys))
	}
}

func TestDriveCountsErrors(t *testing.T) {
	c := &fakeClient{failPuts: true}
	s, err := Drive(context.Background(), c, Workload{Kind: KindPut, Clients: 2, ValueSize: 1}, 10, 0, 20*time.Millisecond, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Ops != 0 || s.Errors == 0 || s.FirstError == nil {
		t.Errorf("sample %d ops, %d errors, first %v; want errors only", s.Ops, s.Errors, s.FirstError)
	}
}

func TestDriveSerializable(t *testing.T) {
	c := &fakeClient{}
	if _, err := Drive(context.Background(), c, Workload{Kind: KindGetSer, Clients: 1, ValueSize: 1}, 10, 0, 10*time.Millisecond, Hooks{}); err != nil {
		t.Fatal(err)
	}
	if c.sers.Load() == 0 || c.gets.Load() != 0 || c.puts.Load() != 0 {
		t.Errorf("get-ser did %d serializable gets, %d linearizable, %d puts", c.sers.Load(), c.gets.Load(), c.puts.Load())
	}
}

func TestDriveStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Drive(ctx, &fakeClient{}, Workload{Kind: KindPut, Clients: 2, ValueSize: 1}, 10, 0, time.Hour, Hooks{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Drive with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestPreload(t *testing.T) {
	c := &fakeClient{}
	if err := Preload(context.Background(), c, 100, 300, 8, nil); err != nil {
		t.Fatal(err)
	}
	if len(c.keys) != 300 || !c.keys[Key(100, 0)] || !c.keys[Key(100, 299)] {
		t.Errorf("preload wrote %d distinct keys, want keys 0 to 299", len(c.keys))
	}
	if err := Preload(context.Background(), &fakeClient{failPuts: true}, 100, 300, 8, nil); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Preload on a failing client = %v, want its error", err)
	}
}
