package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestConnectionLimit(t *testing.T) {
	known := func(soft uint64) fdLimit { return fdLimit{soft: soft, hard: soft, known: true} }
	tests := []struct {
		requested int
		explicit  bool
		lim       fdLimit
		want      int
		warn      bool
		err       string
	}{
		{1024, false, known(1 << 20), 1024, false, ""},
		{1024, true, known(1 << 20), 1024, false, ""},
		{1024, true, known(1024 + fdReserve), 1024, false, ""},
		// An explicit value that leaves no reserve is refused, saying the most it may be.
		{1024, true, known(1024), 0, false, "--max-connections 1024 would leave fewer than 256 of the 1024 file descriptors"},
		{1024, true, known(1024), 0, false, "give at most 768"},
		{5000, true, known(4096), 0, false, "give at most 3840"},
		// The default is lowered to fit, with a warning.
		{1024, false, known(1024), 1024 - fdReserve, true, ""},
		{1024, false, known(fdReserve), 0, false, "leaves no room for HTTP connections"},
		{0, true, known(1 << 20), 0, false, "must be at least 1"},
		{-3, true, fdLimit{}, 0, false, "must be at least 1"},
		// Where the limit is not known, the flag is taken as it is.
		{1 << 20, true, fdLimit{}, 1 << 20, false, ""},
	}
	for i, tt := range tests {
		got, warning, err := connectionLimit(tt.requested, tt.explicit, tt.lim)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%d: %d (explicit %v) of %+v: %v, want an error saying %q", i, tt.requested, tt.explicit, tt.lim, err, tt.err)
			}
		case err != nil || got != tt.want || (warning != "") != tt.warn:
			t.Errorf("%d: %d (explicit %v) of %+v: %d, %q, %v; want %d (warning %v)", i, tt.requested, tt.explicit, tt.lim, got, warning, err, tt.want, tt.warn)
		}
	}
}

// TestRunRefusesTooManyConnections checks that a --max-connections the
// file descriptor limit cannot hold stops raftkv before it starts a node.
func TestRunRefusesTooManyConnections(t *testing.T) {
	lim, err := raiseFDLimit()
	if !lim.known {
		t.Skipf("the file descriptor limit is not known here (%v)", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := options{id: 1, cluster: "http://127.0.0.1:1", port: 1, snapshotCount: 1, dataDir: t.TempDir(), spaceReserveMiB: 128,
		maxConnections: int(min(lim.soft, 1<<30)), maxConnectionsSet: true}
	err = run(quiet, o)
	if err == nil || !strings.Contains(err.Error(), "--max-connections") || !strings.Contains(err.Error(), "file descriptors") {
		t.Fatalf("run with --max-connections %d under a limit of %d: %v", o.maxConnections, lim.soft, err)
	}
}

func TestConfigOfDiskFlags(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := options{id: 1, cluster: "http://127.0.0.1:1", port: 1, snapshotCount: 1, spaceReserveMiB: 64, repairWAL: true}
	cfg, _, err := o.config(quiet)
	if err != nil || cfg.SpaceReserve != 64<<20 || !cfg.RepairWAL {
		t.Fatalf("config: reserve %d, repair %v, %v; want 64 MiB and repair", cfg.SpaceReserve, cfg.RepairWAL, err)
	}
	for _, mib := range []uint64{0, 1<<20 + 1} {
		o.spaceReserveMiB = mib
		if _, _, err := o.config(quiet); err == nil || !strings.Contains(err.Error(), "--space-reserve") {
			t.Errorf("--space-reserve %d: %v, want an error that names the flag", mib, err)
		}
	}
}
