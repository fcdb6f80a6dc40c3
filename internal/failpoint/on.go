//go:build failpoints

package failpoint

import gofail "go.etcd.io/gofail/runtime"

// Enabled tells whether this build evaluates failpoints (the build tag
// failpoints).
const Enabled = true

// registered are the gofail failpoints, one per name of Names, registered
// at start, so that GOFAIL_FAILPOINTS and GOFAIL_HTTP know them all before
// any is reached.
var registered = func() map[Name]*gofail.Failpoint {
	m := make(map[Name]*gofail.Failpoint, len(Names))
	for _, n := range Names {
		m[n] = gofail.NewFailpoint(string(n))
	}
	return m
}()

// Inject evaluates failpoint name with gofail: it sleeps, panics or prints
// as the failpoint's terms say, and returns at once when it is off. A name
// missing from Names panics: every failpoint must be listed there.
func Inject(name Name) {
	fp, ok := registered[name]
	if !ok {
		panic("failpoint: " + string(name) + " is not in failpoint.Names")
	}
	_, _ = fp.Acquire() // the terms act during Acquire; a returned value has no use here
}
