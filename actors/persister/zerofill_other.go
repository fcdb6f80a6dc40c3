//go:build !linux

package persister

import (
	"errors"
	"os"
)

// canStartWriteback says that startWriteback works here: only on Linux,
// where preallocated space is also what makes an fdatasync write metadata.
const canStartWriteback = false

// startWriteback is not available here.
func startWriteback(*os.File, int64, int64) error {
	return errors.ErrUnsupported
}
