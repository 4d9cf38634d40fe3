package ring

import (
	"fmt"
	"math/bits"
)

// MaxCapacity is the largest capacity a queue accepts: 2^30 slots.
const MaxCapacity = 1 << 30

// closedBit is set in a queue's tail by Close. Producers publish with a
// compare-and-swap on the tail, so once the bit is set no push can succeed,
// and a consumer that sees the bit together with head == tail knows that no
// item will ever arrive again. Positions never reach 2^63.
const closedBit = 1 << 63

// roundCapacity validates a requested capacity and rounds it up to a power
// of two no smaller than min.
func roundCapacity(capacity, min int) (int, error) {
	if capacity < 1 || capacity > MaxCapacity {
		return 0, fmt.Errorf("%w: %d (want 1..%d)", ErrCapacity, capacity, MaxCapacity)
	}
	capacity = max(capacity, min)
	return 1 << bits.Len(uint(capacity-1)), nil
}

// length returns the number of positions between head and tail, clamped to
// [0, capacity]: the two loads are not one snapshot, so under concurrency
// the raw difference may briefly fall outside.
func length(head, tail uint64, capacity int) int {
	d := int64(tail&^closedBit - head)
	if d < 0 {
		return 0
	}
	return int(min(d, int64(capacity)))
}
