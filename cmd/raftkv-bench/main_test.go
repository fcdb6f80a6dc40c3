package main

import (
	"io"
	"testing"
	"time"

	"github.com/raftkv/raftkv/bench"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args      []string
		rounds    int
		duration  time.Duration
		workloads int
		keys      int
		ok        bool
		wantErr   bool
	}{
		{args: nil, rounds: 3, duration: 10 * time.Second, workloads: 9, keys: 10000, ok: true},
		{args: []string{"--rounds", "5", "--duration", "5s"}, rounds: 5, duration: 5 * time.Second, workloads: 9, keys: 10000, ok: true},
		{args: []string{"--smoke"}, rounds: 1, duration: time.Second, workloads: 2, keys: 1000, ok: true},
		{args: []string{"--smoke", "--duration", "3s"}, rounds: 1, duration: 3 * time.Second, workloads: 2, keys: 1000, ok: true},
		{args: []string{"--workloads", "put-100B"}, rounds: 3, duration: 10 * time.Second, workloads: 4, keys: 10000, ok: true},
		{args: []string{"--help"}, rounds: 3, duration: 10 * time.Second, workloads: 9, keys: 10000},
		{args: []string{"--workloads", "nothing"}, wantErr: true},
		{args: []string{"--ports", "9000-8000"}, wantErr: true},
		{args: []string{"--rounds", "0"}, wantErr: true},
		{args: []string{"--raftkv-client", "curl"}, wantErr: true},
		{args: []string{"--raftkv-client", "net/http"}, rounds: 3, duration: 10 * time.Second, workloads: 9, keys: 10000, ok: true},
		{args: []string{"extra"}, wantErr: true},
		{args: []string{"--nope"}, wantErr: true},
	}
	for _, tt := range tests {
		cfg, ok, err := parseFlags(tt.args, io.Discard)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseFlags(%q): error %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if ok != tt.ok || cfg.Rounds != tt.rounds || cfg.Duration != tt.duration || len(cfg.Workloads) != tt.workloads || cfg.Keys != tt.keys {
			t.Errorf("parseFlags(%q) = rounds %d, duration %v, %d workloads, %d keys, ok %v", tt.args, cfg.Rounds, cfg.Duration, len(cfg.Workloads), cfg.Keys, ok)
		}
	}
	cfg, _, _ := parseFlags([]string{"--ports", "7000-7100"}, io.Discard)
	if cfg.PortLo != 7000 || cfg.PortHi != 7100 {
		t.Errorf("--ports 7000-7100 gave %d-%d", cfg.PortLo, cfg.PortHi)
	}
	lo, hi, _ := bench.ParsePortBand(bench.DefaultPorts)
	if cfg, _, _ = parseFlags(nil, io.Discard); cfg.PortLo != lo || cfg.PortHi != hi {
		t.Errorf("default ports %d-%d, want %s", cfg.PortLo, cfg.PortHi, bench.DefaultPorts)
	}
}
