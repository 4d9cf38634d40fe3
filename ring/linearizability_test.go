package ring

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// linOp is an operation of the sequential bounded-FIFO model.
type linOp uint8

const (
	opTryPush linOp = iota
	opPush
	opTryPushBatch
	opTryPop
	opPop
	opTryPopBatch
	opPopBatch
	opClose
)

var linOpNames = [...]string{"TryPush", "Push", "TryPushBatch", "TryPop", "Pop", "TryPopBatch", "PopBatch", "Close"}

func (o linOp) String() string { return linOpNames[o] }

func (o linOp) isPush() bool { return o <= opTryPushBatch }

// linInput is an operation and its arguments: the values to push, or the
// length of a batch pop's destination.
type linInput struct {
	op  linOp
	vs  []uint64
	dst int
}

// linOutput is an operation's result: the values pushed (the prefix of the
// input that was accepted) or popped, and the error.
type linOutput struct {
	vs  []uint64
	err error
}

// linState is the model's state: the queued values, one byte each (histories
// use values below 256), oldest first, and whether the queue is closed.
type linState struct {
	items  string
	closed bool
}

func encode(vs []uint64) string {
	b := make([]byte, len(vs))
	for i, v := range vs {
		b[i] = byte(v)
	}
	return string(b)
}

// linModel is a bounded FIFO queue of the given capacity. It is strict about
// errors: ErrFull only when the queue holds capacity items, ErrEmpty only
// when it holds none, ErrClosed for a push only after Close and for a pop
// only after Close with the queue empty. Blocking Push and Pop never report
// ErrFull or ErrEmpty: they take effect once there is room or an item.
//
// A concurrent batch may be cut short by a peer's operation in flight, so
// the model lets a batch push (pop) move any non-empty prefix that fits
// (is queued), rather than the longest one; the sequential test below holds
// batches to the longest.
func linModel(capacity int) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return linState{} },
		Step: func(state, input, output any) (bool, any) {
			s, in, out := state.(linState), input.(linInput), output.(linOutput)
			return linStep(capacity, s, in, out, false)
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(linInput), output.(linOutput)
			arg := ""
			switch {
			case in.op.isPush():
				arg = fmt.Sprint(in.vs)
			case in.op == opTryPopBatch || in.op == opPopBatch:
				arg = fmt.Sprint(in.dst)
			}
			return fmt.Sprintf("%v(%s) -> %v, %v", in.op, arg, out.vs, out.err)
		},
		DescribeState: func(state any) string {
			s := state.(linState)
			return fmt.Sprintf("%v closed=%v", []byte(s.items), s.closed)
		},
	}
}

// linStep applies one operation to the model. With exact set, batches must
// move as many items as possible.
func linStep(capacity int, s linState, in linInput, out linOutput, exact bool) (bool, linState) {
	n := len(out.vs)
	switch {
	case in.op == opClose:
		return out.err == nil, linState{s.items, true}

	case in.op.isPush():
		free := capacity - len(s.items)
		switch {
		case s.closed:
			return out.err == ErrClosed && n == 0, s
		case out.err == ErrFull:
			return in.op != opPush && free == 0 && n == 0, s
		case out.err != nil || free == 0:
			return false, s
		}
		want := min(len(in.vs), free)
		if n < 1 || n > want || (exact && n != want) || !slices.Equal(out.vs, in.vs[:n]) {
			return false, s
		}
		return true, linState{s.items + encode(out.vs), false}

	default:
		switch {
		case len(s.items) == 0 && s.closed:
			return out.err == ErrClosed && n == 0, s
		case len(s.items) == 0:
			return (in.op == opTryPop || in.op == opTryPopBatch) && out.err == ErrEmpty && n == 0, s
		case out.err != nil:
			return false, s
		}
		want := 1
		if in.op == opTryPopBatch || in.op == opPopBatch {
			want = min(in.dst, len(s.items))
		}
		if n < 1 || n > want || (exact && n != want) || encode(out.vs) != s.items[:n] {
			return false, s
		}
		return true, linState{s.items[n:], s.closed}
	}
}

// linRecorder records a concurrent history with a logical clock: an
// operation's call stamp is taken before it starts and its return stamp
// after it ends, so real-time order between operations is preserved.
type linRecorder struct {
	clock atomic.Int64
	mu    sync.Mutex
	ops   []porcupine.Operation
	next  atomic.Uint64 // last value handed out
}

func (r *linRecorder) values(k int) []uint64 {
	vs := make([]uint64, k)
	for i := range vs {
		vs[i] = r.next.Add(1)
	}
	return vs
}

// do runs op on q from client and records it.
func (r *linRecorder) do(ctx context.Context, client int, q queue, in linInput) linOutput {
	call := r.clock.Add(1)
	var out linOutput
	switch in.op {
	case opTryPush, opPush:
		if in.op == opTryPush {
			out.err = q.TryPush(in.vs[0])
		} else {
			out.err = q.Push(ctx, in.vs[0])
		}
		if out.err == nil {
			out.vs = in.vs
		}
	case opTryPushBatch:
		var n int
		n, out.err = q.TryPushBatch(in.vs)
		out.vs = in.vs[:max(n, 0):max(n, 0)]
	case opTryPop, opPop:
		var v uint64
		if in.op == opTryPop {
			v, out.err = q.TryPop()
		} else {
			v, out.err = q.Pop(ctx)
		}
		if out.err == nil {
			out.vs = []uint64{v}
		}
	case opTryPopBatch, opPopBatch:
		dst := make([]uint64, in.dst)
		var n int
		if in.op == opTryPopBatch {
			n, out.err = q.TryPopBatch(dst)
		} else {
			n, out.err = q.PopBatch(ctx, dst)
		}
		out.vs = dst[:max(n, 0)]
	case opClose:
		q.Close()
	}
	ret := r.clock.Add(1)
	r.mu.Lock()
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	r.mu.Unlock()
	return out
}

// randomOp returns a random operation of the wanted side.
func (r *linRecorder) randomOp(rng *rand.Rand, push bool, capacity int) linInput {
	if push {
		switch rng.IntN(3) {
		case 0:
			return linInput{op: opTryPush, vs: r.values(1)}
		case 1:
			return linInput{op: opPush, vs: r.values(1)}
		default:
			return linInput{op: opTryPushBatch, vs: r.values(1 + rng.IntN(capacity+1))}
		}
	}
	switch rng.IntN(4) {
	case 0:
		return linInput{op: opTryPop}
	case 1:
		return linInput{op: opPop}
	case 2:
		return linInput{op: opTryPopBatch, dst: 1 + rng.IntN(capacity+1)}
	default:
		return linInput{op: opPopBatch, dst: 1 + rng.IntN(capacity+1)}
	}
}

// linHistory runs one short concurrent history on a fresh queue. Workers
// either only push, only pop, or (sides == nil) pick at random per
// operation. A closer closes the queue after a random number of yields or,
// in late mode, once every worker has finished or is parked; this also
// releases workers blocked with nobody left to serve them.
func linHistory(t *testing.T, q queue, sides []*bool, opsPerWorker int, seed uint64) []porcupine.Operation {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	r := &linRecorder{}
	rng := rand.New(rand.NewPCG(seed, 0))
	var finished atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w, side := range sides {
		wrng := rand.New(rand.NewPCG(seed, uint64(w+1)))
		ops := make([]linInput, 1+wrng.IntN(opsPerWorker))
		for i := range ops {
			push := wrng.IntN(2) == 0
			if side != nil {
				push = *side
			}
			ops[i] = r.randomOp(wrng, push, q.Cap())
		}
		wg.Go(func() {
			defer finished.Add(1)
			<-start
			for _, in := range ops {
				if wrng.IntN(4) == 0 {
					runtime.Gosched()
				}
				if out := r.do(ctx, w, q, in); ctx.Err() != nil {
					t.Errorf("%v did not return: %v", in.op, out.err)
					return
				}
			}
		})
	}
	late := rng.IntN(3) == 0
	delay := rng.IntN(40)
	wg.Go(func() {
		<-start
		if late {
			for {
				c, p := waiters(q)
				if int(finished.Load())+c+p >= len(sides) {
					break
				}
				runtime.Gosched()
			}
		} else {
			for range delay {
				runtime.Gosched()
			}
		}
		r.do(ctx, len(sides), q, linInput{op: opClose})
	})
	close(start)
	wg.Wait()
	return r.ops
}

// checkHistory fails t if ops is not linearizable against the model.
func checkHistory(t *testing.T, capacity int, ops []porcupine.Operation) {
	t.Helper()
	model := linModel(capacity)
	res, _ := porcupine.CheckOperationsVerbose(model, ops, 10*time.Second)
	switch res {
	case porcupine.Illegal:
		slices.SortFunc(ops, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
		var b strings.Builder
		for _, op := range ops {
			fmt.Fprintf(&b, "\n  client %d [%3d,%3d] %s", op.ClientId, op.Call, op.Return, model.DescribeOperation(op.Input, op.Output))
		}
		t.Fatalf("history is not linearizable (capacity %d):%s", capacity, b.String())
	case porcupine.Unknown:
		t.Logf("linearizability check timed out on a history of %d operations", len(ops))
	}
}

func TestLinearizabilitySPSC(t *testing.T) {
	push, pop := true, false
	histories := scaled(3000)
	for _, capacity := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("cap%d", capacity), func(t *testing.T) {
			for range histories {
				q, _ := NewSPSC[uint64](capacity)
				ops := linHistory(t, q, []*bool{&push, &pop}, 8, rand.Uint64())
				checkHistory(t, q.Cap(), ops)
			}
		})
	}
}

func TestLinearizabilityMPMC(t *testing.T) {
	push, pop := true, false
	histories := scaled(3000)
	for _, capacity := range []int{2, 4} {
		for _, sides := range []struct {
			name  string
			sides []*bool
		}{
			{"2P2C", []*bool{&push, &push, &pop, &pop}},
			{"mixed3", []*bool{nil, nil, nil}},
			{"mixed4", []*bool{nil, nil, nil, nil}},
		} {
			t.Run(fmt.Sprintf("%s/cap%d", sides.name, capacity), func(t *testing.T) {
				for range histories {
					q, _ := NewMPMC[uint64](capacity)
					ops := linHistory(t, q, sides.sides, 5, rand.Uint64())
					checkHistory(t, q.Cap(), ops)
				}
			})
		}
	}
}

// TestLinearizabilityModelRejects feeds the model sequential histories that
// a correct queue must never produce, to show the checker can fail.
func TestLinearizabilityModelRejects(t *testing.T) {
	seq := func(steps ...linStepCase) []porcupine.Operation {
		ops := make([]porcupine.Operation, len(steps))
		for i, s := range steps {
			ops[i] = porcupine.Operation{Input: s.in, Output: s.out, Call: int64(2 * i), Return: int64(2*i + 1)}
		}
		return ops
	}
	push := func(op linOp, vs ...uint64) linInput { return linInput{op: op, vs: vs} }
	ok := func(vs ...uint64) linOutput { return linOutput{vs: vs} }
	fail := func(err error) linOutput { return linOutput{err: err} }
	pop := linInput{op: opTryPop}
	closeOp := linStepCase{linInput{op: opClose}, linOutput{}}
	cases := map[string][]porcupine.Operation{
		"ErrFull below capacity": seq(
			linStepCase{push(opTryPush, 1), ok(1)},
			linStepCase{push(opTryPush, 2), fail(ErrFull)}),
		"push beyond capacity": seq(
			linStepCase{push(opTryPush, 1), ok(1)},
			linStepCase{push(opTryPush, 2), ok(2)},
			linStepCase{push(opTryPush, 3), ok(3)}),
		"batch beyond capacity": seq(
			linStepCase{push(opTryPushBatch, 1, 2, 3), ok(1, 2, 3)}),
		"empty batch push result": seq(
			linStepCase{push(opTryPushBatch, 1, 2), ok()}),
		"ErrEmpty with an item": seq(
			linStepCase{push(opTryPush, 1), ok(1)},
			linStepCase{pop, fail(ErrEmpty)}),
		"Pop reports ErrEmpty": seq(
			linStepCase{linInput{op: opPop}, fail(ErrEmpty)}),
		"Push reports ErrFull": seq(
			linStepCase{push(opPush, 1), ok(1)},
			linStepCase{push(opPush, 2), ok(2)},
			linStepCase{push(opPush, 3), fail(ErrFull)}),
		"LIFO order": seq(
			linStepCase{push(opTryPush, 1), ok(1)},
			linStepCase{push(opTryPush, 2), ok(2)},
			linStepCase{pop, ok(2)}),
		"batch pop skips": seq(
			linStepCase{push(opTryPushBatch, 1, 2), ok(1, 2)},
			linStepCase{linInput{op: opTryPopBatch, dst: 2}, ok(2)}),
		"ErrClosed before Close": seq(
			linStepCase{push(opTryPush, 1), fail(ErrClosed)}),
		"push after Close": seq(
			closeOp,
			linStepCase{push(opTryPush, 1), ok(1)}),
		"ErrClosed before drained": seq(
			linStepCase{push(opTryPush, 1), ok(1)},
			closeOp,
			linStepCase{pop, fail(ErrClosed)}),
		"ErrFull after Close": seq(
			linStepCase{push(opTryPush, 1), ok(1)},
			linStepCase{push(opTryPush, 2), ok(2)},
			closeOp,
			linStepCase{push(opTryPush, 3), fail(ErrFull)}),
		"ErrEmpty after Close": seq(
			closeOp,
			linStepCase{pop, fail(ErrEmpty)}),
		"value never pushed": seq(
			linStepCase{push(opTryPush, 1), ok(1)},
			linStepCase{pop, ok(9)}),
	}
	for name, ops := range cases {
		if porcupine.CheckOperations(linModel(2), ops) {
			t.Errorf("model accepts %s", name)
		}
	}
	// And a concurrent history that is fine only because the push and the
	// ErrEmpty overlap.
	overlap := []porcupine.Operation{
		{Input: push(opTryPush, 1), Output: ok(1), Call: 0, Return: 3},
		{Input: pop, Output: fail(ErrEmpty), Call: 1, Return: 2},
	}
	if !porcupine.CheckOperations(linModel(2), overlap) {
		t.Error("model rejects an ErrEmpty concurrent with the only push")
	}
	overlap[1].Call, overlap[1].Return = 4, 5
	if porcupine.CheckOperations(linModel(2), overlap) {
		t.Error("model accepts an ErrEmpty after the only push returned")
	}
}

type linStepCase struct {
	in  linInput
	out linOutput
}

// TestSequentialModel runs long random single-goroutine sequences on both
// queues against the model, with batches held to the longest move.
func TestSequentialModel(t *testing.T) {
	ctx := context.Background()
	for _, k := range kinds {
		for _, capacity := range []int{1, 2, 4, 8} {
			t.Run(fmt.Sprintf("%s/cap%d", k.name, capacity), func(t *testing.T) {
				q := k.new(t, capacity)
				rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
				r := &linRecorder{}
				var s linState
				for i := range scaled(200_000) {
					var in linInput
					switch {
					case i == scaled(200_000)-50:
						in = linInput{op: opClose}
					default:
						in = r.randomOp(rng, rng.IntN(2) == 0, q.Cap()+2)
					}
					// Blocking operations must not wait here.
					if in.op == opPush && len(s.items) == q.Cap() && !s.closed ||
						(in.op == opPop || in.op == opPopBatch) && len(s.items) == 0 && !s.closed {
						continue
					}
					for j := range in.vs {
						in.vs[j] &= 0xff
					}
					out := r.do(ctx, 0, q, in)
					ok, next := linStep(q.Cap(), s, in, out, true)
					if !ok {
						t.Fatalf("step %d: %v(%v, %d) = %v, %v in state %v closed=%v",
							i, in.op, in.vs, in.dst, out.vs, out.err, []byte(s.items), s.closed)
					}
					s = next
					if n := q.Len(); n != len(s.items) {
						t.Fatalf("step %d: Len() = %d, want %d", i, n, len(s.items))
					}
					if q.Closed() != s.closed {
						t.Fatalf("step %d: Closed() = %v, want %v", i, q.Closed(), s.closed)
					}
					r.ops = r.ops[:0]
				}
			})
		}
	}
}
