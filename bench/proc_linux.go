package bench

import "syscall"

// dieWithParent makes the kernel kill a child when this process dies, so
// that an interrupted benchmark leaves no member running.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
