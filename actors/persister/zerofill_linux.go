package persister

import (
	"os"

	"golang.org/x/sys/unix"
)

// canStartWriteback says that startWriteback works here.
const canStartWriteback = true

// startWriteback has the kernel start writing the n bytes of f at off to
// the disk, without waiting for them.
func startWriteback(f *os.File, off, n int64) error {
	return unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
