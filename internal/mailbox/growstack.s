//go:build amd64 || arm64

#include "go_asm.h"
#include "textflag.h"

// func growStack()
// A frame of StackSize bytes, never touched: its prologue's stack check
// grows the goroutine's stack when it is smaller, and costs nothing else.
TEXT ·growStack(SB), 0, $const_StackSize-0
	RET
