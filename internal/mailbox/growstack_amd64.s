#include "textflag.h"

// func growStack()
// A frame of StackSize bytes, never touched: its prologue's stack check
// grows the goroutine's stack when it is smaller, and costs nothing else.
TEXT ·growStack(SB), 0, $12288-0
	RET
