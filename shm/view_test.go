package shm

import (
	"testing"
)

func TestViewIsZeroCopy(t *testing.T) {
	a := newArena(t, 1<<16)
	b, err := a.Alloc(8 * 100)
	must(t, "Alloc", err)
	f, err := View[float64](b)
	must(t, "View[float64]", err)
	if len(f) != 100 {
		t.Fatalf("len %d", len(f))
	}
	for i := range f {
		f[i] = float64(i) / 2
	}
	s, err := b.Share()
	must(t, "Share", err)
	g, err := View[float64](s)
	must(t, "View of the share", err)
	if g[99] != 49.5 || &g[0] != &f[0] {
		t.Fatal("views of shared handles differ")
	}
	u, err := View[uint64](b)
	must(t, "View[uint64]", err)
	if u[2] != 0x3ff0000000000000 { // 1.0
		t.Fatalf("u[2] = %#x", u[2])
	}
	raw, _ := b.Bytes()
	raw[8*3+7] = 0 // f[3] = 1.5 → its top byte cleared
	if f[3] == 1.5 {
		t.Fatal("a write to the bytes is not seen through the view")
	}
}

func TestViewAllTypes(t *testing.T) {
	a := newArena(t, 1<<16)
	b, err := a.Alloc(64)
	must(t, "Alloc", err)
	check := func(name string, n int, err error, want int) {
		t.Helper()
		must(t, name, err)
		if n != want {
			t.Errorf("%s: %d elements, want %d", name, n, want)
		}
	}
	v1, err := View[int8](b)
	check("int8", len(v1), err, 64)
	v2, err := View[int16](b)
	check("int16", len(v2), err, 32)
	v3, err := View[int32](b)
	check("int32", len(v3), err, 16)
	v4, err := View[int64](b)
	check("int64", len(v4), err, 8)
	v5, err := View[uint8](b)
	check("uint8", len(v5), err, 64)
	v6, err := View[uint16](b)
	check("uint16", len(v6), err, 32)
	v7, err := View[uint32](b)
	check("uint32", len(v7), err, 16)
	v8, err := View[uint64](b)
	check("uint64", len(v8), err, 8)
	v9, err := View[float32](b)
	check("float32", len(v9), err, 16)
	v10, err := View[float64](b)
	check("float64", len(v10), err, 8)
	v11, err := View[complex64](b)
	check("complex64", len(v11), err, 8)
	v12, err := View[complex128](b)
	check("complex128", len(v12), err, 4)
	type celsius float32
	v13, err := View[celsius](b)
	check("celsius", len(v13), err, 16)

	empty, err := a.Alloc(0)
	must(t, "Alloc(0)", err)
	e, err := View[float64](empty)
	if err != nil || len(e) != 0 {
		t.Fatalf("empty view: %d, %v", len(e), err)
	}
}

func TestViewAlignmentErrors(t *testing.T) {
	a := newArena(t, 1<<16)
	l, _ := a.Data()
	odd, err := a.Buffer(l+4, 16)
	must(t, "Buffer", err)
	_, err = View[float64](odd)
	wantErr(t, "float64 view at a 4-aligned address", err, ErrAlignment)
	_, err = View[uint64](odd)
	wantErr(t, "uint64 view at a 4-aligned address", err, ErrAlignment)
	if _, err := View[float32](odd); err != nil {
		t.Fatalf("float32 view at a 4-aligned address: %v", err)
	}
	short, err := a.Buffer(l, 12)
	must(t, "Buffer", err)
	_, err = View[float64](short)
	wantErr(t, "float64 view of 12 bytes", err, ErrAlignment)
	one, err := a.Buffer(l+1, 2)
	must(t, "Buffer", err)
	_, err = View[int16](one)
	wantErr(t, "int16 view at an odd address", err, ErrAlignment)
	if _, err := View[int8](one); err != nil {
		t.Fatalf("int8 view at an odd address: %v", err)
	}
}
