module github.com/weftlabs/weft

go 1.26.0

require (
	github.com/anishathalye/porcupine v1.3.1
	github.com/klauspost/cpuid/v2 v2.4.2
	github.com/loov/hrtime v1.0.3
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.50.0
)
