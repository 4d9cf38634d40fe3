// Package park is the slow path of weft's blocking operations.
//
// A goroutine that finds a queue empty (or full) first retries with a short
// [Backoff]: spin, then yield the processor, and only then park on a
// [Waiters] list until a notifier wakes it or its context ends. Notifiers
// pay one atomic load when nobody sleeps, so the fast path of a queue never
// touches the list's mutex; the mutex is taken only by goroutines that are
// about to sleep anyway and by notifiers that have someone to wake.
package park
