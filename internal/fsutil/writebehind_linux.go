package fsutil

import (
	"os"

	"golang.org/x/sys/unix"
)

// WriteBehind starts writing bytes [off, off+n) of f to disk, without
// waiting for them, after waiting for the writing of the bytes before off
// that an earlier call started. Called on each stretch of a long file as
// it is written, it keeps what the file holds unwritten to about two
// stretches: a file written whole and synced at the end leaves the kernel
// all of it to write in that sync, and a WAL's fdatasync on the same file
// system then waits behind it (ext4 commits its journal in order). It is
// advice: errors are the final sync's to report, and where the file
// system ignores it nothing changes.
func WriteBehind(f *os.File, off, n int64) {
	fd := int(f.Fd())
	if off > 0 {
		_ = unix.SyncFileRange(fd, 0, off, unix.SYNC_FILE_RANGE_WAIT_BEFORE)
	}
	_ = unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
}
