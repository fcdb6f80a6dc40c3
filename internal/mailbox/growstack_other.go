//go:build !amd64 && !arm64

package mailbox

// StackSize is 0 where growStack has no assembly: stacks grow as usual.
const StackSize = 0

func growStack() {}
