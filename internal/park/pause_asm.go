//go:build amd64 || arm64

package park

// pause is the CPU's spin-wait hint (PAUSE on x86, YIELD on arm64): it
// slows the spinning core down and avoids the memory-order machine clear
// when the awaited store finally arrives.
func pause()
