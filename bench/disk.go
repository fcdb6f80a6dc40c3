package bench

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
)

// DiskUsage returns the bytes of disk the files under dir take, as du(1)
// counts them: allocated blocks, so a preallocated WAL segment counts
// whole and a sparse file only for what it holds.
func DiskUsage(dir string) (uint64, error) {
	var total uint64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += uint64(st.Blocks) * 512
		} else {
			total += uint64(info.Size())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("disk usage of %s: %w", dir, err)
	}
	return total, nil
}
