package raftnode

import (
	"fmt"
	"log/slog"
	"time"
)

// raftLogger adapts etcd raft's Logger to structured slog logging. raft's
// Info chatter (elections, term changes) is kept at Info; Debug stays Debug.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) Debug(v ...any)                 { r.l.Debug(fmt.Sprint(v...)) }
func (r raftLogger) Debugf(format string, v ...any) { r.l.Debug(fmt.Sprintf(format, v...)) }
func (r raftLogger) Info(v ...any)                  { r.l.Info(fmt.Sprint(v...)) }
func (r raftLogger) Infof(format string, v ...any)  { r.l.Info(fmt.Sprintf(format, v...)) }
func (r raftLogger) Warning(v ...any)               { r.l.Warn(fmt.Sprint(v...)) }
func (r raftLogger) Warningf(format string, v ...any) {
	r.l.Warn(fmt.Sprintf(format, v...))
}
func (r raftLogger) Error(v ...any)                 { r.l.Error(fmt.Sprint(v...)) }
func (r raftLogger) Errorf(format string, v ...any) { r.l.Error(fmt.Sprintf(format, v...)) }

// Fatal and Panic panic: raft calls them on broken invariants, and the
// node's supervisor turns the panic into a clean, logged stop.
func (r raftLogger) Fatal(v ...any) { r.Panic(v...) }
func (r raftLogger) Fatalf(format string, v ...any) {
	r.Panicf(format, v...)
}
func (r raftLogger) Panic(v ...any) {
	s := fmt.Sprint(v...)
	r.l.Error(s)
	panic(s)
}
func (r raftLogger) Panicf(format string, v ...any) {
	s := fmt.Sprintf(format, v...)
	r.l.Error(s)
	panic(s)
}

// rateLimited logs a warning at most once per interval for each key, so
// that a misbehaving peer cannot flood the log.
type rateLimited struct {
	log      *slog.Logger
	interval time.Duration
	last     map[string]time.Time
}

func newRateLimited(log *slog.Logger, interval time.Duration) *rateLimited {
	return &rateLimited{log: log, interval: interval, last: map[string]time.Time{}}
}

// Warn logs msg with args unless a warning of key was logged within the
// interval.
func (r *rateLimited) Warn(key, msg string, args ...any) {
	now := time.Now()
	if t, ok := r.last[key]; ok && now.Sub(t) < r.interval {
		return
	}
	if len(r.last) > 1024 {
		clear(r.last)
	}
	r.last[key] = now
	r.log.Warn(msg, args...)
}
