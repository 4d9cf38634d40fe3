// Package bench is weft's benchmark suite: scenarios that measure weft's
// implementations against their peers in the same process.
//
// A Scenario is one workload (say, one producer and one consumer moving
// 8-byte items) with several implementations: weft's first, then the peers
// it is compared with (a buffered channel, a raw atomic ping-pong, …).
// Run executes every implementation of every selected scenario for several
// rounds, alternating between them inside each round so that a noisy
// neighbour on a shared machine hurts all of them alike, and reports per
// implementation the median time per operation across rounds, the spread,
// allocations per operation and the ratio to the scenario's reference
// (weft's first implementation). Latency scenarios also report percentiles
// of individual operations, timed with github.com/loov/hrtime.
//
// Every implementation runs under pprof labels (suite, scenario, impl), so
// a CPU profile of the suite can be split with go tool pprof -tagfocus.
//
// The command weft/cmd/bench runs the suite; docs/perf.md records results.
package bench
