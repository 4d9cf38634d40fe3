// Package pipeline runs streaming pipelines: typed stages connected by
// bounded lock-free queues (package ring), for data that does not fit in
// one batch.
//
// A pipeline reads top to bottom like the data flows. Sources take the
// Pipeline, each stage takes the stream of the stage before it with a name
// and a concurrency, and a sink runs the whole thing:
//
//	p, _ := pipeline.New(pipeline.Options{})
//	lines := pipeline.FromSlice(p, "lines", input)
//	words := pipeline.FlatMap(lines, "split", 2, splitWords)
//	long := pipeline.Filter(words, "long", 2, isLong)
//	upper := pipeline.OrderedMap(long, "upper", 2, toUpper)
//	for w, err := range pipeline.All(ctx, upper) { … }
//
// Types flow through: a stage whose input type does not match its
// predecessor's output is a compile error.
//
// Sources: FromSlice, FromSeq, FromChan, Generate (a function that
// emits), FromRing. Stages: Map, Filter, FlatMap and their ordered forms,
// Tap, Batch and Unbatch, Fold, Process (a stage with state of its own),
// Merge (fan-in), Tee (fan-out by copy) and Partition (fan-out by key).
// Sinks: All (an iter.Seq2 of items and the error), Collect, ForEach,
// Reduce, ToRing.
//
// # Concurrency and order
//
// Every stage takes a concurrency n: the number of workers running its
// function. With n = 1 a stage keeps the order of its input. With n > 1
// the workers take batches from a shared queue and results come in the
// order they finish; the ordered forms (OrderedMap, OrderedFilter,
// OrderedFlatMap) instead emit results in input order, holding finished
// batches until those before them are out, within a bounded window
// (Options.Window). Every stream has exactly one consumer; Tee copies one
// into several, Partition splits one by key, Merge joins several into one.
//
// # How it runs
//
// Items move a batch at a time (up to Options.Batch): one synchronisation
// per batch, no allocation per item. A stage of concurrency 1 runs on a
// goroutine of its own, reading its input queue and handing its output on
// through an SPSC ring. A parallel stateless stage (Map, Filter, FlatMap,
// Tap, Unbatch with n > 1, ordered or not) runs in a batch group: the
// goroutine feeding it fills batches and numbers them (or, when several
// feed it, a dealer reading their shared queue), n workers run the stage's
// function over whole batches, and the worker that completes a batch hands
// on what is ready (in input order, for the ordered forms); batches move
// between them by pointer. Parallel stages with state of
// their own (Process, Fold, Batch with n > 1) run n goroutines sharing an
// MPMC input queue.
//
// Stages of equal concurrency that follow each other are fused by default:
// consecutive stages of concurrency 1 run on one goroutine, and a batch
// group runs all the parallel stages that follow its first, each batch
// passing through every stage on the same worker, so the hand-offs between
// them disappear (Options.NoFusion turns this off). Sources keep their
// goroutine to themselves.
//
// With a Scheduler (Options.Scheduler) the workers of batch groups are
// tasks on its CPU workers, while dealing and handing on stay on goroutines
// of the pipeline, so that no CPU worker ever waits on a queue.
//
// # Memory
//
// Every queue is bounded, so whatever the input size (an endless Generate
// included) the items in flight are bounded: at most Options.Capacity per
// queue, plus a batch or two per worker being worked on and handed on,
// plus Options.Window batches per batch group. A slow consumer slows every
// stage before it (backpressure); Stats shows where time goes.
//
// # Errors and cancellation
//
// The first error in any stage (a function's error, or a panic, which
// becomes a *PanicError matching ErrPanic) cancels the run; the sink
// returns it as a *StageError naming the stage. Cancelling the sink's
// context stops the run and the sink returns the context's error.
// Breaking out of an All loop stops the run. In every case the sink
// returns only after every goroutine of the pipeline has exited. Functions
// receive the run's context and should return when it is done.
// Construction errors (a concurrency below 1, a nil function, a stream
// consumed twice, a duplicate name) are recorded and returned by the sink
// before anything runs.
//
// # Observing
//
// Pipeline.Stats reports per stage, while running and at the end, items in
// and out, busy time, time waiting for input and for room downstream, the
// depth of the input queue, and throughput. Stage goroutines run under the
// pprof label stage=NAME, switched as a batch passes through fused
// stages, so `go tool pprof -tagfocus=stage=parse` shows one stage's CPU
// time. (Work run as tasks on a Scheduler carries the scheduler's labels.)
package pipeline
