//go:build !amd64 && !arm64

package park

// pause is a no-op where weft has no spin-wait hint.
func pause() {}
