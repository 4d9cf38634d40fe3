//go:build unix

package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/weftlabs/weft/shm"
)

// msgSize is the size of one message in the cross-process scenarios.
const msgSize = 64

// streamQuantum is the smallest run of a streaming scenario: starting the
// child costs milliseconds, which a few messages cannot amortise, and a
// calibration that happened to time such a run would settle on far too
// few messages. Tests, which only check that every message arrives, use
// less.
var streamQuantum = func() int {
	if testing.Testing() {
		return 1000
	}
	return 20000
}()

func init() {
	Register(
		&Scenario{
			Suite: "shm", Name: "ipc-stream-64b",
			Doc: "one 64-byte message from a parent to a child process (including the child's start, amortised)",
			Impls: []Impl{
				{Name: "weft.shm.Ring", Run: streamRing, Quantum: streamQuantum},
				{Name: "unix-socket", Peer: true, Run: streamStream(socketPair), Quantum: streamQuantum},
				{Name: "pipe", Peer: true, Run: streamStream(pipePair), Quantum: streamQuantum},
			},
		},
		&Scenario{
			Suite: "shm", Name: "ipc-pingpong-64b",
			Doc:     "round trip of a 64-byte message to a child process and back",
			Latency: true,
			Impls: []Impl{
				{Name: "weft.shm.Ring", Run: pingPongShm},
				{Name: "unix-socket", Peer: true, Run: pingPongStream(socketPair)},
				{Name: "pipe", Peer: true, Run: pingPongStream(pipePair)},
			},
		},
	)
	childRoles["ring-sink"] = childRingSink
	childRoles["ring-echo"] = childRingEcho
	childRoles["stream-sink"] = childStreamSink
	childRoles["stream-echo"] = childStreamEcho
}

// The rings between parent and child live in one shared arena: "down"
// (parent to child) in root slot 0, "up" in root slot 1.
const (
	rootDown = 0
	rootUp   = 1
)

// ipcArena is the shared arena of one run: a memfd inherited by the child
// where there is one, else a named arena.
type ipcArena struct {
	a        *shm.Arena
	down, up *shm.Ring
	files    []*os.File
	name     string
}

func newIPCArena(downCap, upCap int) *ipcArena {
	size := downCap + upCap + 1<<16
	a, err := shm.CreateMemfd(size, shm.Options{})
	var name string
	var files []*os.File
	if errors.Is(err, shm.ErrUnsupported) {
		name = fmt.Sprintf("weft-bench-%d", os.Getpid())
		a, err = shm.Create(name, size, shm.Options{})
	} else if err == nil {
		files = []*os.File{a.File()}
	}
	if err != nil {
		panic(err)
	}
	down, err := shm.NewRing(a, downCap)
	if err == nil {
		_ = a.SetRoot(rootDown, down.Offset())
	}
	up, err2 := shm.NewRing(a, upCap)
	if err = errors.Join(err, err2); err == nil {
		err = a.SetRoot(rootUp, up.Offset())
	}
	if err != nil {
		panic(err)
	}
	return &ipcArena{a: a, down: down, up: up, files: files, name: name}
}

func (x *ipcArena) close() {
	x.a.Close()
	if name := x.a.Name(); name != "" {
		shm.Remove(name)
	}
}

// openIPCArena is the child's side: the inherited memfd (its first file)
// or the named arena, and its two rings.
func openIPCArena(args childArgs) (a *shm.Arena, down, up *shm.Ring, err error) {
	if args.arena != "" {
		a, err = shm.Open(args.arena, shm.Options{})
	} else {
		f := args.file(0)
		a, err = shm.OpenFile(f, shm.Options{})
		f.Close()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	ring := func(slot int) (*shm.Ring, error) {
		off, err := a.Root(slot)
		if err != nil {
			return nil, err
		}
		return shm.OpenRing(a, off)
	}
	if down, err = ring(rootDown); err == nil {
		up, err = ring(rootUp)
	}
	if err != nil {
		a.Close()
		return nil, nil, nil, err
	}
	return a, down, up, nil
}

func ipcContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), childTimeout)
}

// streamRing sends n messages down a 64 KiB ring to a child that checks
// their sequence numbers and reports the count back up.
func streamRing(n int, _ *Recorder) {
	x := newIPCArena(1<<16, 1<<12)
	defer x.close()
	p, err := x.down.Producer()
	if err != nil {
		panic(err)
	}
	c, err := x.up.Consumer()
	if err != nil {
		panic(err)
	}
	ch := startChild("ring-sink", n, x.files, x.name)
	ctx, cancel := ipcContext()
	defer cancel()
	var msg [msgSize]byte
	for i := range n {
		binary.LittleEndian.PutUint64(msg[:], uint64(i))
		if err := p.Push(ctx, msg[:]); err != nil {
			panic(fmt.Sprintf("bench: ring push %d: %v", i, err))
		}
	}
	p.Close()
	var ack [8]byte
	got, err := c.Pop(ctx, ack[:0])
	if err != nil || len(got) != 8 || binary.LittleEndian.Uint64(got) != uint64(n) {
		panic(fmt.Sprintf("bench: child acknowledged %x, %v; want %d messages", got, err, n))
	}
	ch.wait()
}

func childRingSink(args childArgs) error {
	a, down, up, err := openIPCArena(args)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := down.Consumer()
	if err != nil {
		return err
	}
	p, err := up.Producer()
	if err != nil {
		return err
	}
	ctx, cancel := ipcContext()
	defer cancel()
	count := uint64(0)
	for {
		rec, err := c.Peek(ctx)
		if errors.Is(err, shm.ErrClosed) {
			break
		}
		if err != nil {
			return err
		}
		if len(rec) != msgSize || binary.LittleEndian.Uint64(rec) != count {
			return fmt.Errorf("message %d: %d bytes, sequence %d", count, len(rec), binary.LittleEndian.Uint64(rec))
		}
		count++
		if err := c.Advance(); err != nil {
			return err
		}
	}
	return p.Push(ctx, binary.LittleEndian.AppendUint64(nil, count))
}

// pingPongShm times round trips through the down and up rings.
func pingPongShm(n int, r *Recorder) {
	x := newIPCArena(1<<12, 1<<12)
	defer x.close()
	p, err := x.down.Producer()
	if err != nil {
		panic(err)
	}
	c, err := x.up.Consumer()
	if err != nil {
		panic(err)
	}
	ch := startChild("ring-echo", n, x.files, x.name)
	ctx, cancel := ipcContext()
	defer cancel()
	var msg [msgSize]byte
	reply := make([]byte, 0, msgSize)
	for i := range n {
		binary.LittleEndian.PutUint64(msg[:], uint64(i))
		start := r.Now()
		if err := p.Push(ctx, msg[:]); err != nil {
			panic(err)
		}
		if reply, err = c.Pop(ctx, reply[:0]); err != nil || binary.LittleEndian.Uint64(reply) != uint64(i) {
			panic(fmt.Sprintf("bench: ring reply %d lost: %v", i, err))
		}
		r.Lap(start)
	}
	p.Close()
	if _, err := c.Pop(ctx, nil); !errors.Is(err, shm.ErrClosed) {
		panic(fmt.Sprintf("bench: ring echo did not close: %v", err))
	}
	ch.wait()
}

func childRingEcho(args childArgs) error {
	a, down, up, err := openIPCArena(args)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := down.Consumer()
	if err != nil {
		return err
	}
	p, err := up.Producer()
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, cancel := ipcContext()
	defer cancel()
	for {
		rec, err := c.Peek(ctx)
		if errors.Is(err, shm.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.Push(ctx, rec); err != nil {
			return err
		}
		if err := c.Advance(); err != nil {
			return err
		}
	}
}

// A stream pair is the parent's ends of a two-way byte stream to a child
// (its writer and reader) and the files the child gets as fds 3 and 4
// (its reader and writer), plus how the parent ends its sending.
type streamPair struct {
	w     io.Writer
	rd    io.Reader
	child []*os.File
	done  func() // no more messages: the child sees EOF
	close func()
}

// socketPair is a Unix domain stream socket: fd 3 of the child is its
// end, used both ways.
func socketPair() streamPair {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		panic(err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "socket"), os.NewFile(uintptr(fds[1]), "socket")
	conn, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		panic(err)
	}
	uc := conn.(*net.UnixConn)
	return streamPair{w: uc, rd: uc, child: []*os.File{theirs, theirs},
		done: func() { uc.CloseWrite() }, close: func() { uc.Close(); theirs.Close() }}
}

// pipePair is two pipes: down (the child reads fd 3) and up (the child
// writes fd 4).
func pipePair() streamPair {
	downR, downW, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	upR, upW, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	return streamPair{w: downW, rd: upR, child: []*os.File{downR, upW},
		done: func() { downW.Close() },
		close: func() {
			for _, f := range []*os.File{downR, downW, upR, upW} {
				f.Close()
			}
		}}
}

// childStream is the child's ends: its first file to read, its second to
// write.
func childStream(args childArgs) (io.Reader, io.Writer, func()) {
	r, w := args.file(0), args.file(1)
	return r, w, func() { r.Close(); w.Close() }
}

// streamStream sends n messages, one write each, through a byte stream to
// a child that reads them through a 64 KiB buffer (the peer's best case:
// one read system call takes many messages) and reports the count back.
func streamStream(mk func() streamPair) func(int, *Recorder) {
	return func(n int, _ *Recorder) {
		sp := mk()
		defer sp.close()
		ch := startChild("stream-sink", n, sp.child, "")
		for _, f := range sp.child {
			f.Close() // the child has them now
		}
		var msg [msgSize]byte
		for i := range n {
			binary.LittleEndian.PutUint64(msg[:], uint64(i))
			if _, err := sp.w.Write(msg[:]); err != nil {
				panic(err)
			}
		}
		sp.done()
		var ack [8]byte
		if _, err := io.ReadFull(sp.rd, ack[:]); err != nil || binary.LittleEndian.Uint64(ack[:]) != uint64(n) {
			panic(fmt.Sprintf("bench: child acknowledged %x, %v; want %d messages", ack, err, n))
		}
		ch.wait()
	}
}

func childStreamSink(args childArgs) error {
	r, w, closeAll := childStream(args)
	defer closeAll()
	br := bufio.NewReaderSize(r, 64<<10)
	var msg [msgSize]byte
	count := uint64(0)
	for {
		if _, err := io.ReadFull(br, msg[:]); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if binary.LittleEndian.Uint64(msg[:]) != count {
			return fmt.Errorf("message %d has sequence %d", count, binary.LittleEndian.Uint64(msg[:]))
		}
		count++
	}
	_, err := w.Write(binary.LittleEndian.AppendUint64(nil, count))
	return err
}

// pingPongStream times round trips through a byte stream: one write and
// one read on each side per hop.
func pingPongStream(mk func() streamPair) func(int, *Recorder) {
	return func(n int, r *Recorder) {
		sp := mk()
		defer sp.close()
		ch := startChild("stream-echo", n, sp.child, "")
		for _, f := range sp.child {
			f.Close()
		}
		var msg, reply [msgSize]byte
		for i := range n {
			binary.LittleEndian.PutUint64(msg[:], uint64(i))
			start := r.Now()
			if _, err := sp.w.Write(msg[:]); err != nil {
				panic(err)
			}
			if _, err := io.ReadFull(sp.rd, reply[:]); err != nil || reply != msg {
				panic(fmt.Sprintf("bench: stream reply %d lost: %v", i, err))
			}
			r.Lap(start)
		}
		sp.done()
		ch.wait()
	}
}

func childStreamEcho(args childArgs) error {
	r, w, closeAll := childStream(args)
	defer closeAll()
	var msg [msgSize]byte
	for {
		if _, err := io.ReadFull(r, msg[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := w.Write(msg[:]); err != nil {
			return err
		}
	}
}
