package breaker

// The state word packs what the lock-free paths need into one atomic uint64:
//
//	bits 63..32  generation, bumped by every transition
//	bits 31..3   consecutive failures while CLOSED
//	bits  2..0   mode
//
// Packing the consecutive count with the generation lets the fast path count
// a failure with one compare-and-swap that also proves no transition happened
// in between, so a failure from before a trip can never leak into the next
// CLOSED spell. Only the fast path writes the word without holding mu.
const (
	modeMask     = 1<<3 - 1
	consecShift  = 3
	consecMask   = (1<<29 - 1) << consecShift
	genShift     = 32
	consecOne    = 1 << consecShift
	consecMaxVal = 1<<29 - 1
)

// Modes. Each says which paths may skip the lock.
const (
	modeFast         = iota // CLOSED, consecutive rule only: Allow and Done lock-free
	modeClosed              // CLOSED with windows: Allow lock-free, Done locked
	modeOpen                // OPEN: Allow rejects lock-free until nextProbe
	modeForcedOpen          // forced OPEN: Allow rejects lock-free until the force expires
	modeHalfOpen            // HALF_OPEN: locked
	modeForcedClosed        // forced CLOSED: locked, to check the expiry
)

func modeOf(w uint64) uint64 { return w & modeMask }
func consecOf(w uint64) int  { return int(w & consecMask >> consecShift) }

// A ticket, returned by Allow and given back to Done, packs
//
//	bits 63..40  low 24 bits of the generation at Allow
//	bits 39..32  probe slot + 1 while HALF_OPEN, else 0
//	bits 31..0   Allow's time in microseconds since the breaker's epoch,
//	             modulo 2^32 (only when the slow-call rule needs it)
//
// 24 generation bits are plenty: a ticket would have to outlive 16 million
// transitions to be mistaken for a current one.
const (
	ticketGenShift  = 40
	ticketSlotShift = 32
)

func makeTicket(w uint64, slot int, startMicros uint32) uint64 {
	return (w>>genShift)<<ticketGenShift | uint64(slot)<<ticketSlotShift | uint64(startMicros)
}

// sameGen reports whether ticket t was issued under the generation in w.
func sameGen(t, w uint64) bool {
	return t>>ticketGenShift == (w>>genShift)&(1<<24-1)
}

func ticketSlot(t uint64) int      { return int(t >> ticketSlotShift & 0xff) }
func ticketMicros(t uint64) uint32 { return uint32(t) }
func micros(ns int64) uint32       { return uint32(ns / 1000) }
