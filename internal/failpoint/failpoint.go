// Package failpoint marks the places in raftkv where a test may inject a
// fault into a running member: a pause, a panic. A failpoint is a call of
// Inject with its name.
//
// In a normal build Inject does nothing and costs nothing (it is an empty
// function the compiler inlines away), and no failpoint library is linked
// in. Built with the tag failpoints (go build -tags failpoints), Inject
// evaluates the failpoint with etcd's gofail runtime
// (go.etcd.io/gofail/runtime), which a test drives from outside the
// process: the environment variable GOFAIL_FAILPOINTS sets failpoints at
// start ("persisterBeforeSave=sleep(100)"), and GOFAIL_HTTP=host:port
// serves an HTTP endpoint that changes them at run time:
//
//	curl -X PUT http://127.0.0.1:12381/persisterBeforeSave -d 'sleep(200)'
//	curl http://127.0.0.1:12381/persisterBeforeSave/count
//	curl -X DELETE http://127.0.0.1:12381/persisterBeforeSave
//
// The terms are gofail's: sleep(<ms or duration>), panic, print, off, a
// probability ("10%sleep(500)") or a count ("3*panic"). A term that
// returns a value (return(...)) is accepted and does nothing: Inject has
// no value to give its caller. The robustness tests build their image
// with the tag; make build, make image and the Dockerfile never do.
package failpoint

// Name is the name of a failpoint, as gofail knows it.
type Name string

// The failpoints of raftkv.
const (
	// PersisterBeforeSave is evaluated by the persister before it writes
	// and fsyncs a Ready's entries and hard state to the WAL: a sleep
	// there is a slow disk.
	PersisterBeforeSave Name = "persisterBeforeSave"
)

// Names are every failpoint of raftkv.
var Names = []Name{PersisterBeforeSave}
