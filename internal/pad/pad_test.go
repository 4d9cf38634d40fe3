package pad

import (
	"testing"
	"unsafe"
)

func TestSizes(t *testing.T) {
	if got := unsafe.Sizeof(Line{}); got != Size {
		t.Errorf("Line is %d bytes, want %d", got, Size)
	}
	if got := unsafe.Sizeof(Uint64{}); got != Size {
		t.Errorf("Uint64 is %d bytes, want %d", got, Size)
	}
	if got := unsafe.Sizeof(Int64{}); got != Size {
		t.Errorf("Int64 is %d bytes, want %d", got, Size)
	}
	var a [2]Uint64
	if d := uintptr(unsafe.Pointer(&a[1])) - uintptr(unsafe.Pointer(&a[0])); d < Size {
		t.Errorf("adjacent padded counters %d bytes apart, want >= %d", d, Size)
	}
}
