package bench

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// which Linux fixes at 100 for user space whatever the kernel's HZ.
const clockTick = 10 * time.Millisecond

// ParseStatCPU returns the CPU time (user + system) of a process from the
// text of its /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may hold spaces and parentheses itself, so fields are
// counted from the last ')'.
func ParseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc stat: no ')' after the command name in %.40q", stat)
	}
	// After ')' come field 3 (state) onwards; utime and stime are fields
	// 14 and 15.
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the command name, want at least 13", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc stat: utime/stime %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// ParseStatusBytes returns the value of field (VmRSS, VmHWM...) in the
// text of a /proc/<pid>/status, in bytes (the file says kB).
func ParseStatusBytes(status, field string) (uint64, error) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse /proc status: %s is %q, want \"<n> kB\"", field, strings.TrimSpace(rest))
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc status: %s: %w", field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("parse /proc status: no %s line", field)
}

// ProcCPU reads the CPU time a running process has used so far.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu of pid %d: %w", pid, err)
	}
	return ParseStatCPU(string(b))
}

// ProcMem reads a process's resident set size now (VmRSS) and at its peak
// so far (VmHWM), in bytes.
func ProcMem(pid int) (rss, hwm uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	if rss, err = ParseStatusBytes(string(b), "VmRSS"); err != nil {
		return 0, 0, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	if hwm, err = ParseStatusBytes(string(b), "VmHWM"); err != nil {
		return 0, 0, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	return rss, hwm, nil
}
