//go:build !linux

package bench

import "syscall"

// dieWithParent is Linux's parent-death signal elsewhere: nothing.
func dieWithParent() *syscall.SysProcAttr { return nil }
