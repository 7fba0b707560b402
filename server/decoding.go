package server

import "github.com/astraguard/astraguard/internal/protolimit"

// newDecoding returns the budget that bounds the memory of the requests
// the server decodes at once (protolimit.Budget: each decode holds its
// estimate, from the wire, until it has ended, and one that does not fit
// waits in the codec), wired to the test hooks h. The handler's charge
// (the waiting room, room) takes over once a request is decoded.
//
// It is as large as the waiting room (half of MaxQueuedBytes), so all
// request memory is at most one and a half MaxQueuedBytes: decoding,
// waiting, admitted. An estimate larger than the whole size takes all of
// it: the request is decoded alone, never refused for its size
// (MaxRecvMsgBytes and decodedBound bound it).
func newDecoding(size int64, h streamHooks) *protolimit.Budget {
	var opts []protolimit.BudgetOption
	if h.decoding != nil {
		opts = append(opts, protolimit.WithHeld(h.decoding))
	}
	if h.decodeWait != nil {
		opts = append(opts, protolimit.WithWait(h.decodeWait))
	}
	return protolimit.NewBudget(size, opts...)
}
