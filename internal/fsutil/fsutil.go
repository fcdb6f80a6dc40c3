// Package fsutil holds the file system steps that make a write durable and
// that more than one package of raftkv takes.
package fsutil

import (
	"fmt"
	"os"
)

// SyncDir fsyncs directory dir, so that the files created, renamed or
// removed in it survive a crash.
func SyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	serr := f.Sync()
	if cerr := f.Close(); serr == nil {
		serr = cerr
	}
	if serr != nil {
		return fmt.Errorf("sync directory %s: %w", dir, serr)
	}
	return nil
}
