package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// utime (field 14) 1500 and stime (field 15) 250 ticks of 10 ms.
	const rest = " S 1 2 3 4 5 6 7 8 9 10 1500 250 0 0 20 0 8 0 100 2000 300"
	tests := []struct {
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{"42 (raftkv)" + rest, 17500 * time.Millisecond, false},
		{"42 (etcd member) x)" + rest, 17500 * time.Millisecond, false}, // spaces and ')' in the name
		{"42 ((sd-pam))" + rest, 17500 * time.Millisecond, false},
		{"42 (x) S 1 2 3", 0, true},
		{"42 raftkv S 1 2 3 4 5 6 7 8 9 10 1500 250", 0, true},
		{"42 (x) S 1 2 3 4 5 6 7 8 9 10 15x0 250 0", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseStatCPU(tt.stat)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseStatCPU(%q) = %v, %v; want %v, error %v", tt.stat, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseStatusBytes(t *testing.T) {
	const status = "Name:\traftkv\nVmPeak:\t 2000000 kB\nVmHWM:\t  404000 kB\nVmRSS:\t  355000 kB\nThreads:\t12\n"
	tests := []struct {
		status, field string
		want          uint64
		wantErr       bool
	}{
		{status, "VmHWM", 404000 << 10, false},
		{status, "VmRSS", 355000 << 10, false},
		{status, "VmSwap", 0, true},
		{status, "Threads", 0, true}, // not in kB
		{"VmRSS:\t 12x kB\n", "VmRSS", 0, true},
		{"VmRSS:\t 0 kB", "VmRSS", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseStatusBytes(tt.status, tt.field)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseStatusBytes(%s) = %v, %v; want %v, error %v", tt.field, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestProcOfThisProcess reads this very process, which surely runs.
func TestProcOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	if _, err := ProcCPU(os.Getpid()); err != nil {
		t.Error(err)
	}
	rss, hwm, err := ProcMem(os.Getpid())
	if err != nil || rss == 0 || hwm < rss {
		t.Errorf("ProcMem = %d, %d, %v; want 0 < rss <= hwm", rss, hwm, err)
	}
}

func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/a", make([]byte, 100<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir+"/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/sub/b", make([]byte, 50<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := DiskUsage(dir)
	if err != nil || got < 150<<10 {
		t.Errorf("DiskUsage = %d, %v; want at least %d", got, err, 150<<10)
	}
	if _, err := DiskUsage(dir + "/missing"); err == nil {
		t.Error("DiskUsage of a missing dir: no error")
	}
}
