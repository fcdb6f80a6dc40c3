package bench

import (
	"errors"
	"os"
	"sync"
	"time"
)

// rssEvery is how often a Monitor samples the members' resident sets.
const rssEvery = 100 * time.Millisecond

// Usage is what the server processes used over a measured window.
type Usage struct {
	ServerCPU time.Duration // utime+stime of every member, summed
	ClientCPU time.Duration // utime+stime of this process (the clients)
	PeakRSS   []uint64      // per member: the largest VmRSS sampled in the window
	HWM       []uint64      // per member: VmHWM (peak RSS since it started) at the end
}

// Monitor reads the CPU and memory of a set of processes over a window.
type Monitor struct {
	pids []int

	mu       sync.Mutex
	err      error
	cpu0     time.Duration
	self0    time.Duration
	usage    Usage
	stop     chan struct{}
	sampling sync.WaitGroup
}

// NewMonitor returns a monitor of the processes pids.
func NewMonitor(pids []int) *Monitor {
	return &Monitor{pids: pids, usage: Usage{PeakRSS: make([]uint64, len(pids)), HWM: make([]uint64, len(pids))}}
}

// Start begins the window: it reads the CPU times so far and samples the
// resident sets until End.
func (m *Monitor) Start() {
	cpu, err := m.cpu()
	self, serr := ProcCPU(os.Getpid())
	m.mu.Lock()
	m.cpu0, m.self0 = cpu, self
	m.keep(errors.Join(err, serr))
	m.stop = make(chan struct{})
	m.mu.Unlock()
	m.sample()
	m.sampling.Add(1)
	go func() {
		defer m.sampling.Done()
		t := time.NewTicker(rssEvery)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
}

// End closes the window.
func (m *Monitor) End() {
	cpu, err := m.cpu()
	self, serr := ProcCPU(os.Getpid())
	m.mu.Lock()
	stop := m.stop
	m.mu.Unlock()
	if stop != nil {
		close(stop)
		m.sampling.Wait()
	}
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage.ServerCPU = cpu - m.cpu0
	m.usage.ClientCPU = self - m.self0
	m.keep(errors.Join(err, serr))
}

// keep records err if it is the first error; m.mu is held.
func (m *Monitor) keep(err error) {
	if m.err == nil {
		m.err = err
	}
}

// Usage returns what was measured between Start and End, and the first
// error reading it (a member that died, for one).
func (m *Monitor) Usage() (Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usage, m.err
}

// cpu returns the CPU time of all the processes so far.
func (m *Monitor) cpu() (time.Duration, error) {
	var total time.Duration
	for _, pid := range m.pids {
		c, err := ProcCPU(pid)
		if err != nil {
			return 0, err
		}
		total += c
	}
	return total, nil
}

// sample records the resident sets now.
func (m *Monitor) sample() {
	for i, pid := range m.pids {
		rss, hwm, err := ProcMem(pid)
		m.mu.Lock()
		m.keep(err)
		m.usage.PeakRSS[i] = max(m.usage.PeakRSS[i], rss)
		m.usage.HWM[i] = max(m.usage.HWM[i], hwm)
		m.mu.Unlock()
	}
}
