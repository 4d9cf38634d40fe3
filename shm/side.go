package shm

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/weftlabs/weft/internal/park"
)

// ringWaitSlice bounds one sleep of a ring side waiting for its peer: it
// wakes this often to look at its context and, once a whole slice has
// passed with nothing happening, at whether the peer is still alive.
const ringWaitSlice = 10 * time.Millisecond

// side is one end's view of its own state words and its peer's.
type side struct {
	a                            *Arena         // where the words live
	flags, pid, wake             *atomic.Uint32 // ours
	peerFlags, peerPid, peerWake *atomic.Uint32 // the peer's

	// Private to the side's goroutine: how its recent waits went.
	spinFails int    // waits in a row whose spinning ended in sleep (saturates at spinGiveUp)
	waits     uint32 // waits so far
}

// attach claims the side for this process: the pid slot must be empty or
// hold a process that has died (whose place is taken over: it published
// only whole records, so the ring is consistent).
func (s *side) attach(what string) error {
	me := uint32(os.Getpid())
	for {
		if s.flags.Load()&flagClosed != 0 {
			return fmt.Errorf("%w: attach %s to a closed side", ErrClosed, what)
		}
		cur := s.pid.Load()
		if cur != 0 && processAlive(int(cur)) {
			return fmt.Errorf("%w: %s attached by process %d", ErrBusy, what, cur)
		}
		if s.pid.CompareAndSwap(cur, me) {
			s.flags.And(^flagWaiting)
			return nil
		}
	}
}

// wakePeer wakes the peer if its flags (just loaded) say it sleeps.
func (s *side) wakePeer(peerFlags uint32) {
	if peerFlags&flagWaiting == 0 {
		return
	}
	s.peerFlags.And(^flagWaiting)
	s.peerWake.Add(1)
	notify(s.peerWake, 1) // without futex (not Linux), the peer polls instead
}

// close marks the side closed (final) and wakes the peer.
func (s *side) close() {
	s.flags.Or(flagClosed)
	s.peerWake.Add(1)
	notify(s.peerWake, 1)
}

// peerGone returns ErrClosed if the peer closed, ErrPeerDead if its
// process has exited, else nil. checkAlive says whether to pay for the
// liveness check (a system call and a /proc read).
func (s *side) peerGone(checkAlive bool) error {
	if s.peerFlags.Load()&flagClosed != 0 {
		return ErrClosed
	}
	if checkAlive {
		if pid := s.peerPid.Load(); pid != 0 && !processAlive(int(pid)) {
			return fmt.Errorf("%w: process %d", ErrPeerDead, pid)
		}
	}
	return nil
}

// await runs try until it succeeds or fails with something other than
// retry, waiting between attempts: first spinning and yielding (park's
// Backoff), then giving the CPU to another thread once, then sleeping on
// the side's wake word. The sleep follows the announce-recheck-sleep
// protocol, with the peer's publish-then-check:
//
//	we:   seq := wake; flags |= waiting; try again; futex_wait(wake, seq)
//	peer: publish (atomic store); if flags & waiting { clear; wake++; futex_wake }
//
// Our RMW on flags and the peer's store are sequentially consistent, and
// each side loads the other's word after its own write: either our recheck
// sees the publication, or the peer sees waiting and bumps wake, which
// our futex_wait then finds different from seq (or is woken from). No
// wake-up is lost. A sleep lasts at most ringWaitSlice; after a whole
// slice without progress we check that the peer still lives.
func (s *side) await(ctx context.Context, try func() error, retry error) error {
	// Spin in full unless recent spins kept ending in sleep anyway: then
	// the peer is not running (the machine has fewer free CPUs than
	// spinners), and spinning only takes the CPU it needs. Every
	// spinProbe-th wait then spins for longer than a sleeping peer takes
	// to wake up and answer, to notice when CPUs are free again.
	brief := s.spinFails >= spinGiveUp
	probe := brief && s.waits%spinProbe == 0
	s.waits++
	var b park.Backoff
	for (!brief || probe || b.Polls() < pollBrief) && b.Snooze() {
		if err := s.a.check("ring wait"); err != nil {
			return err
		}
		if err := try(); err != retry {
			s.spinFails = 0
			return err
		}
	}
	if probe {
		for end := time.Now().Add(probeSpin); time.Now().Before(end); {
			runtime.Gosched()
			if err := s.a.check("ring wait"); err != nil {
				return err
			}
			if err := try(); err != retry {
				s.spinFails = 0
				return err
			}
		}
	}
	s.spinFails = min(s.spinFails+1, spinGiveUp)
	for {
		// Let the peer run if it shares our CPU (a Gosched would only
		// let goroutines of this process run), then look once more.
		osYield()
		if err := s.a.check("ring wait"); err != nil {
			return err
		}
		if err := try(); err != retry {
			return err
		}
		if err := s.sleep(ctx, try, retry); err != retry {
			return err
		}
	}
}

// How a side spins before it sleeps: through park's Backoff (a few
// microseconds of pauses and yields), or only pollBrief polls after
// spinGiveUp waits in a row in which spinning did not help. Every
// spinProbe-th of those brief waits probes instead: it spins for
// probeSpin, longer than a sleeping peer takes to be woken and answer.
const (
	pollBrief  = 8
	spinGiveUp = 4
	spinProbe  = 16
	probeSpin  = 30 * time.Microsecond
)

// sleep is await's slow path: announce, recheck, sleep, in slices, until
// try succeeds or fails otherwise, the context ends or the peer is gone.
func (s *side) sleep(ctx context.Context, try func() error, retry error) error {
	wake := s.wake
	defer func() {
		if !s.a.closed.Load() {
			s.flags.And(^flagWaiting)
		}
	}()
	checkAlive := false
	for {
		// Closing the arena unmaps the words: a sleeper notices within
		// a slice and stops touching them. (Close must not race with
		// the ring's other operations; this covers the one that waits.)
		if err := s.a.check("ring wait"); err != nil {
			return err
		}
		seq := wake.Load()
		s.flags.Or(flagWaiting)
		if err := try(); err != retry {
			return err
		}
		if err := s.peerGone(checkAlive); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		d := ringWaitSlice
		if dl, ok := ctx.Deadline(); ok {
			d = max(min(d, time.Until(dl)), time.Microsecond)
		}
		start := time.Now()
		futexSleep(wake, seq, d)
		// Woken early (or the word had moved on): the peer did
		// something; look again.
		if time.Since(start) < d {
			return retry
		}
		checkAlive = true
	}
}
