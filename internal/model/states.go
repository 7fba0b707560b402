package model

import (
	"math"

	"github.com/astraguard/astraguard/internal/stats"
)

// maxStates is the most distinct values a series may show and still be
// judged as a mode-switching channel (a switch, a mode word, a square
// wave): its states, the transitions between them and how long it dwells
// in each. A series that shows more is continuous for good.
const maxStates = 16

// A series of at least ordinalStates values that, over its first
// ordinalMin transitions or later, moves between neighbouring values (no
// known value between them) in ordinalShare of its transitions or more
// is a continuous signal read through a coarse quantiser (a temperature
// in whole counts), not a mode channel: it is continuous for good. A mode
// word jumps between any of its states; a quantised signal steps through
// the values between. Two or three values are always neighbours, so a
// switch or a square wave with a rare third value stays a mode channel.
const (
	ordinalStates = 5
	ordinalMin    = 50
	ordinalShare  = 0.9
)

// states models a series with few distinct values as a state machine
// learned from the stream: the values seen (exact float equality), which
// transitions between them were ever seen, and the longest and shortest
// dwell in each. A sample is judged on its state: a value never seen, a
// transition never seen, or a dwell longer or shorter than any before. Never on a mean's distance from
// a level: a square wave's routine transitions are its normal behaviour.
type states struct {
	val    [maxStates]float64
	dwell  [maxStates]uint32             // longest finished dwell per state
	short  [maxStates]uint32             // shortest finished dwell per state (0: none)
	visits [maxStates]uint16             // finished dwells per state, saturating
	trans  [maxStates * maxStates]uint16 // transitions seen, by from*maxStates+to, saturating
	total  uint32                        // transitions seen, saturating
	once   uint32                        // transitions seen exactly once
	steps  uint32                        // transitions between neighbouring values (see ordinalStates)
	k      uint8                         // states seen; maxStates+1 once the series has shown more
	cur    uint8                         // index of the current state
	run    uint32                        // samples in the current state so far
}

// unseenMass is the largest Good-Turing estimate of the chance that the
// next transition is one never seen (transitions seen once over all
// transitions: Good, "The population frequencies of species", 1953) at
// which an unseen transition is still news. While the machine is still
// showing new transitions often, one more is not.
const unseenMass = 0.01

// Events states.update reports.
const (
	stateNone       = iota
	stateNew        // a value never seen
	stateTransition // a transition never seen
	stateDwell      // a dwell longer or shorter than any before by stats.DwellMargin
)

// discrete reports whether the series is still judged on its states.
func (s *states) discrete() bool { return s.k <= maxStates }

// update learns v and returns the event it is, if any.
func (s *states) update(v float64) int {
	if !s.discrete() {
		return stateNone
	}
	j := uint8(0)
	for j < s.k && s.val[j] != v {
		j++
	}
	if j == s.k {
		if s.k == maxStates {
			s.k = maxStates + 1 // too many values: a continuous series
			return stateNone
		}
		lo, hi := v, v
		for _, x := range s.val[:s.k] {
			lo, hi = min(lo, x), max(hi, x)
		}
		s.val[j] = v
		s.k++
		if s.k == 1 {
			s.cur, s.run = 0, 1
			return stateNone
		}
		s.leave(j)
		// A new value between known states is a new setting of the
		// same machine; one beyond them all is a new regime.
		if s.discrete() && (v == lo || v == hi) {
			return stateNew
		}
		return stateNone
	}
	if j == s.cur {
		if s.run < math.MaxUint32 {
			s.run++
		}
		// A state never left before has no dwell of its own yet: a new
		// value that persists stats.DwellMin samples is a new regime; a
		// known state out of character stays stats.DwellMargin times its
		// longest dwell (and at least stats.DwellMin samples).
		if s.dwell[j] == 0 && s.run == stats.DwellMin && s.k > 1 {
			return stateNew
		}
		if s.visits[j] >= stats.DwellVisits && s.run == uint32(math.Ceil(stats.DwellMargin*float64(max(s.dwell[j], stats.DwellMin)))) {
			return stateDwell
		}
		return stateNone
	}
	// A dwell cut stats.DwellMargin times shorter than the shortest
	// earlier one in its state, once the state has been visited
	// stats.DwellVisits times, is out of character too (the chance that
	// the next of n exchangeable dwells is the shortest is also 1/(n+1)).
	brief := s.visits[s.cur] >= stats.DwellVisits && stats.DwellMargin*float64(s.run) < float64(s.short[s.cur])
	t := uint(s.cur)*maxStates + uint(j)
	// A transition counts as unseen only between states that have each
	// been left before (the first way out of a new state says nothing),
	// and only once unseen transitions have become rare.
	news := s.trans[t] == 0 && s.dwell[s.cur] > 0 && s.dwell[j] > 0 &&
		float64(s.once) <= unseenMass*float64(s.total)
	s.leave(j)
	if !s.discrete() {
		return stateNone
	}
	if news {
		return stateTransition
	}
	if brief {
		return stateDwell
	}
	return stateNone
}

// leave ends the current dwell and enters state j.
func (s *states) leave(j uint8) {
	t := uint(s.cur)*maxStates + uint(j)
	switch s.trans[t] {
	case 0:
		s.once++
	case 1:
		s.once--
	}
	if s.trans[t] < math.MaxUint16 {
		s.trans[t]++
	}
	if s.total < math.MaxUint32 {
		s.total++
		if s.neighbours(s.cur, j) {
			s.steps++
		}
	}
	if s.visits[s.cur] < math.MaxUint16 {
		s.visits[s.cur]++
	}
	s.dwell[s.cur] = max(s.dwell[s.cur], s.run)
	if s.short[s.cur] == 0 || s.run < s.short[s.cur] {
		s.short[s.cur] = s.run
	}
	s.cur, s.run = j, 1
	if s.k >= ordinalStates && s.total >= ordinalMin && float64(s.steps) >= ordinalShare*float64(s.total) {
		s.k = maxStates + 1 // a quantised continuous signal
	}
}

// neighbours reports whether no known value lies strictly between states
// a and b.
func (s *states) neighbours(a, b uint8) bool {
	lo, hi := min(s.val[a], s.val[b]), max(s.val[a], s.val[b])
	for _, x := range s.val[:s.k] {
		if x > lo && x < hi {
			return false
		}
	}
	return true
}
