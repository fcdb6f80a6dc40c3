//go:build !failpoints

package failpoint

// Enabled tells whether this build evaluates failpoints (the build tag
// failpoints).
const Enabled = false

// Inject evaluates failpoint name; in this build, without the tag
// failpoints, it does nothing.
func Inject(Name) {}
