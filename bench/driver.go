package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Client does the operations of a workload on one system; its methods are
// called by many workers at once.
type Client interface {
	// Put writes value at key and returns once the system acknowledged it.
	Put(ctx context.Context, key string, value []byte) error
	// Get reads key, which must exist: linearizable, or serializable
	// (from the member's local state) if asked.
	Get(ctx context.Context, key string, serializable bool) error
	// Close releases the client's connections.
	Close() error
}

// opTimeout bounds one operation.
const opTimeout = 10 * time.Second

// Sample is what the measured window of a workload saw.
type Sample struct {
	Ops        int           // operations started and answered within the window
	Errors     int           // operations started within the window that failed
	FirstError error         // the first of them
	Window     time.Duration // the measured window's length
	Latencies  []time.Duration
}

// Hooks are called at the edges of the measured window, to read the
// servers' resources over exactly that window.
type Hooks struct {
	Start, End func()
}

// Drive runs w against c: w.Clients workers, each with one operation in
// flight, for warmup and then for the measured window of duration. Only
// operations that start and end within the window count (and their
// latency); operations in flight at its end finish but are not counted.
// keys is the number of keys the workload picks from, uniformly.
func Drive(ctx context.Context, c Client, w Workload, keys int, warmup, duration time.Duration, hooks Hooks) (Sample, error) {
	if w.Clients <= 0 || keys <= 0 || duration <= 0 {
		return Sample{}, fmt.Errorf("drive %s: want clients, keys and duration > 0", w.Name())
	}
	start := time.Now().Add(warmup)
	end := start.Add(duration)

	type tally struct {
		lat      []time.Duration
		errs     int
		firstErr error
	}
	tallies := make([]tally, w.Clients)
	var wg sync.WaitGroup
	for i := range w.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[i]
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			value := randomValue(rng, w.ValueSize)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				err := doOp(ctx, c, w, rng, keys, value)
				t1 := time.Now()
				if t0.Before(start) {
					continue
				}
				if err != nil {
					t.errs++
					if t.firstErr == nil {
						t.firstErr = err
					}
					continue
				}
				if t1.Before(end) {
					t.lat = append(t.lat, t1.Sub(t0))
				}
			}
		}()
	}
	// The hooks run on this goroutine at the window's edges, while the
	// workers work.
	edges := make(chan struct{})
	go func() {
		defer close(edges)
		if waitUntil(ctx, start) && hooks.Start != nil {
			hooks.Start()
		}
		if waitUntil(ctx, end) && hooks.End != nil {
			hooks.End()
		}
	}()
	wg.Wait()
	<-edges
	if err := ctx.Err(); err != nil {
		return Sample{}, fmt.Errorf("drive %s: %w", w.Name(), err)
	}

	s := Sample{Window: duration}
	for _, t := range tallies {
		s.Latencies = append(s.Latencies, t.lat...)
		s.Errors += t.errs
		if s.FirstError == nil {
			s.FirstError = t.firstErr
		}
	}
	s.Ops = len(s.Latencies)
	return s, nil
}

// doOp does one operation of w on a key drawn by rng.
func doOp(ctx context.Context, c Client, w Workload, rng *rand.Rand, keys int, value []byte) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	key := Key(w.ValueSize, rng.IntN(keys))
	switch w.Kind {
	case KindPut:
		return c.Put(ctx, key, value)
	case KindGetLin:
		return c.Get(ctx, key, false)
	case KindGetSer:
		return c.Get(ctx, key, true)
	case KindMix:
		if rng.IntN(100) < w.ReadPercent {
			return c.Get(ctx, key, false)
		}
		return c.Put(ctx, key, value)
	}
	return fmt.Errorf("unknown workload kind %q", w.Kind)
}

// waitUntil waits until t or until ctx ends, and reports whether t came.
func waitUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// randomValue returns n random printable bytes.
func randomValue(rng *rand.Rand, n int) []byte {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	v := make([]byte, n)
	for i := range v {
		v[i] = letters[rng.IntN(len(letters))]
	}
	return v
}

// Preload writes every key of the key space of values of size bytes, with
// clients workers, so that reads find them. observe, when not nil, is
// called by worker w after each write that started at start and took took.
func Preload(ctx context.Context, c Client, size, keys, clients int, observe func(w int, start time.Time, took time.Duration)) error {
	next := make(chan int)
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			value := randomValue(rand.New(rand.NewPCG(uint64(i), 1)), size)
			for k := range next {
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				start := time.Now()
				err := c.Put(opCtx, Key(size, k), value)
				if observe != nil && err == nil {
					observe(i, start, time.Since(start))
				}
				cancel()
				if err != nil {
					errc <- fmt.Errorf("preload key %d: %w", k, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for k := range keys {
		select {
		case next <- k:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errc)
	return errors.Join(err, <-errc)
}
