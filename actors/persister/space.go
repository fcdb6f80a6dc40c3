package persister

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// FreeSpace returns the bytes free for an unprivileged writer on the
// filesystem that holds dir (statfs's available blocks).
func FreeSpace(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// spaceWatch decides, from successive readings of the free space, whether
// the disk is low: once free space falls below the reserve, it stays low
// until free space is back above the reserve and a margin of a tenth of
// it, so that a reading hovering around the reserve does not flap.
type spaceWatch struct {
	reserve uint64
	low     bool
	known   bool // a reading was taken
}

// observe takes a reading and reports whether the verdict changed (or is
// the first).
func (w *spaceWatch) observe(free uint64) (changed bool) {
	low := w.low
	switch {
	case free < w.reserve:
		low = true
	case free >= w.reserve+w.reserve/10:
		low = false
	}
	changed = !w.known || low != w.low
	w.low, w.known = low, true
	return changed
}
