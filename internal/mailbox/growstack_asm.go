//go:build amd64 || arm64

package mailbox

// StackSize is the frame growStack takes: with what the goroutine uses
// already, its stack grows to 16 KiB, what raftnode's Receive needs.
const StackSize = 12 << 10

// growStack makes sure the goroutine has StackSize bytes of stack free
// (growstack.s).
func growStack()
