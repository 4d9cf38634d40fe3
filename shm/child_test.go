package shm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The environment of a re-executed test binary: the role it plays, how
// to reach the arena (a name, or else the inherited file at fd 3), and how
// many records to handle.
const (
	childRoleEnv  = "WEFT_SHM_TEST_CHILD"
	childNameEnv  = "WEFT_SHM_TEST_NAME"
	childCountEnv = "WEFT_SHM_TEST_COUNT"
)

// Root slots the parent fills for the child.
const (
	rootDown = 0 // parent → child ring
	rootUp   = 1 // child → parent ring
	rootWord = 2 // a 32-bit word for Wait/Notify
)

// runChild plays one child role and returns when it is done.
func runChild(role string) error {
	var a *Arena
	var err error
	if name := os.Getenv(childNameEnv); name != "" {
		a, err = Open(name, Options{})
	} else {
		f := os.NewFile(3, "arena")
		a, err = OpenFile(f, Options{})
		f.Close()
	}
	if err != nil {
		return err
	}
	defer a.Close()
	count, _ := strconv.ParseUint(os.Getenv(childCountEnv), 10, 64)
	// No child outlives a broken test for long.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	switch role {
	case "echo":
		return childEcho(ctx, a, count)
	case "produce":
		return childProduce(ctx, a, count)
	case "die-mid-write":
		return childDieMidWrite(ctx, a, count)
	case "handshake":
		return childHandshake(ctx, a, count)
	default:
		return fmt.Errorf("unknown role %q", role)
	}
}

// openRingSide opens the ring in root slot root and attaches one side.
func openRing(a *Arena, root int) (*Ring, error) {
	off, err := a.Root(root)
	if err != nil {
		return nil, err
	}
	return OpenRing(a, off)
}

// childEcho reads the down ring, checks every record, and sends each one
// back up; it expects exactly count records, then the parent's close.
func childEcho(ctx context.Context, a *Arena, count uint64) error {
	down, err := openRing(a, rootDown)
	if err != nil {
		return err
	}
	up, err := openRing(a, rootUp)
	if err != nil {
		return err
	}
	c, err := down.Consumer()
	if err != nil {
		return err
	}
	p, err := up.Producer()
	if err != nil {
		return err
	}
	defer p.Close()
	var buf, want []byte
	for i := uint64(0); ; i++ {
		rec, err := c.Peek(ctx)
		if errors.Is(err, ErrClosed) {
			if i != count {
				return fmt.Errorf("echo: %d records, want %d", i, count)
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := checkRecord(rec, i, want); err != nil {
			return fmt.Errorf("echo: %w", err)
		}
		buf = append(buf[:0], rec...)
		if err := c.Advance(); err != nil {
			return err
		}
		if err := p.Push(ctx, buf); err != nil {
			return err
		}
	}
}

// childProduce pushes count records of the test stream up (until killed,
// for a large count).
func childProduce(ctx context.Context, a *Arena, count uint64) error {
	up, err := openRing(a, rootUp)
	if err != nil {
		return err
	}
	p, err := up.Producer()
	if err != nil {
		return err
	}
	var buf []byte
	for i := range count {
		if err := p.Push(ctx, record(buf, i)); err != nil {
			return err
		}
	}
	return p.Close()
}

// childDieMidWrite commits count records, then reserves one more, writes
// half of it and exits without committing or closing.
func childDieMidWrite(ctx context.Context, a *Arena, count uint64) error {
	up, err := openRing(a, rootUp)
	if err != nil {
		return err
	}
	p, err := up.Producer()
	if err != nil {
		return err
	}
	var buf []byte
	for i := range count {
		if err := p.Push(ctx, record(buf, i)); err != nil {
			return err
		}
	}
	rec, err := p.Reserve(ctx, 64)
	if err != nil {
		return err
	}
	copy(rec, record(buf, count)[:32])
	os.Exit(0)
	return nil
}

// childHandshake takes turns with the parent on a shared word: it waits
// for each odd value, then makes it even and wakes the parent.
func childHandshake(ctx context.Context, a *Arena, rounds uint64) error {
	off, err := a.Root(rootWord)
	if err != nil {
		return err
	}
	w, err := a.Uint32(off)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for i := range rounds {
		if err := waitForValue(ctx, w, uint32(2*i+1)); err != nil {
			return err
		}
		w.Add(1)
		if _, err := Notify(w, 1); err != nil {
			return err
		}
	}
	return nil
}

// waitForValue waits on w until it holds want.
func waitForValue(ctx context.Context, w *atomic.Uint32, want uint32) error {
	for {
		v := w.Load()
		if v == want {
			return nil
		}
		if err := Wait(ctx, w, v); err != nil {
			return fmt.Errorf("waiting for %d (at %d): %w", want, v, err)
		}
	}
}

// startChild starts the test binary as a child playing role on a (by
// name if it has one, else through its file), with count.
func startChild(t testing.TB, a *Arena, role string, count uint64) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childRoleEnv+"="+role, childCountEnv+"="+strconv.FormatUint(count, 10))
	if a.Name() != "" {
		cmd.Env = append(cmd.Env, childNameEnv+"="+a.Name())
	} else {
		cmd.ExtraFiles = []*os.File{a.File()}
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	dieWithParent(cmd)
	must(t, "start child", cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil { // not waited for: the test failed early
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}
