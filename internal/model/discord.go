package model

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Discords (issue 18 item 2): contextual anomalies that stay inside the
// normal range. The one-step predictor's error does not see a change of
// shape or level that lasts many samples (docs/model-tuning.md, "Where the
// misses are"); the distance of the latest window to its nearest
// neighbour in the series' own history does: a window unlike any earlier
// one is a discord (Keogh, Lin and Fu, "HOT SAX: efficiently finding the
// most unusual time series subsequence", ICDM 2005; Yeh et al., "Matrix
// Profile I", ICDM 2016, which computes that distance for every window).
//
// The history is summarised in a fixed codebook learned online: the
// normalised value is averaged over blocks of a few samples, the latest
// discordW block means form the window, and discordK prototype windows
// are kept. The window's distance to its nearest prototype (root mean
// square, in the series' deviations) is judged by the predictor's online
// pruning rule (pruner.judge), then the codebook learns the window as
// sequential k-means does (MacQueen 1967: the nearest prototype moves
// toward it by 1/its count, floored at discordRate), or, when the window
// is further from every prototype than discordNovel times the long-run
// mean distance, stores it as a new prototype, in place of the least used
// one once the codebook is full (the leader rule of adaptive resonance:
// Carpenter and Grossberg 1987). A new shape is news once; if it repeats,
// it is normal.
const (
	discordK     = 16   // prototype windows
	discordW     = 8    // block means per window
	discordRate  = 0.02 // smallest step of a prototype toward its windows
	discordNovel = 2    // distance, in long-run mean distances, that makes a new prototype
	discordUse   = 1e-3 // decay per block of each prototype's use count
)

type discord struct {
	proto [discordK][discordW]float32
	use   [discordK]float32 // decayed count of windows each prototype won
	win   [discordW]float32 // latest block means, a ring (oldest at pos)
	sum   float64           // values in the current block
	cnt   uint32            // samples in the current block
	pos   uint8             // next ring slot
	full  uint8             // blocks in the ring, up to discordW
	k     uint8             // prototypes in use
	err   pruner
}

// update adds u (normalised, within ±uMax) and, when it completes a block
// of k samples, returns 1 if the latest window is a discord by the
// pruning rule (a, aMax and prune as for the predictor), else 0.
func (s *discord) update(u float64, k uint32, a, aMax, prune float64, warm bool) float64 {
	s.sum += u
	s.cnt++
	if s.cnt < k {
		return 0
	}
	s.win[s.pos] = float32(s.sum / float64(s.cnt))
	s.sum, s.cnt = 0, 0
	s.pos = (s.pos + 1) % discordW
	if s.full < discordW {
		s.full++
		if s.full < discordW {
			return 0
		}
	}
	var x [discordW]float32
	for i := range x {
		x[i] = s.win[(int(s.pos)+i)%discordW]
	}
	best, dist := 0, math.Inf(1)
	for j := range int(s.k) {
		sq := 0.0
		for i, v := range x {
			e := float64(v - s.proto[j][i])
			sq += e * e
		}
		if sq < dist {
			best, dist = j, sq
		}
	}
	if s.k == 0 {
		s.proto[0], s.use[0], s.k = x, 1, 1
		return 0
	}
	dist = math.Sqrt(dist / discordW)
	out := s.err.judge(dist, a, aMax, prune, warm)
	for j := range int(s.k) {
		s.use[j] *= 1 - discordUse
	}
	novel := discordNovel * s.err.mae
	if s.k < discordK {
		novel = s.err.mae // fill the codebook with what the windows are not yet close to
	}
	if dist > novel {
		j := int(s.k)
		if s.k < discordK {
			s.k++
		} else {
			j = 0
			for i := range discordK {
				if s.use[i] < s.use[j] {
					j = i
				}
			}
		}
		s.proto[j], s.use[j] = x, 1
		return out
	}
	s.use[best]++
	r := float32(max(1/float64(s.use[best]), discordRate))
	for i, v := range x {
		s.proto[best][i] += r * (v - s.proto[best][i])
	}
	return out
}

// The discord's part of the codec (codec version 6).
const discordBytes = discordK*discordW*4 + discordK*4 + discordW*4 + 8 + 4 + 3 + prunerBytes

func (s *discord) appendBinary(b []byte) []byte {
	le := binary.LittleEndian
	for j := range s.proto {
		for _, f := range s.proto[j] {
			b = le.AppendUint32(b, math.Float32bits(f))
		}
	}
	for _, f := range s.use {
		b = le.AppendUint32(b, math.Float32bits(f))
	}
	for _, f := range s.win {
		b = le.AppendUint32(b, math.Float32bits(f))
	}
	b = le.AppendUint64(b, math.Float64bits(s.sum))
	b = le.AppendUint32(b, s.cnt)
	b = append(b, s.pos, s.full, s.k)
	return s.err.appendBinary(b)
}

func (s *discord) decode(rd *reader) {
	for j := range s.proto {
		for i := range s.proto[j] {
			s.proto[j][i] = rd.f32()
		}
	}
	for i := range s.use {
		s.use[i] = rd.f32()
	}
	for i := range s.win {
		s.win[i] = rd.f32()
	}
	s.sum = math.Float64frombits(rd.u64())
	s.cnt = rd.u32()
	x := rd.next(3)
	s.pos, s.full, s.k = x[0], x[1], x[2]
	s.err.decode(rd)
}

// check refuses a discord update never leaves: block means or prototypes
// beyond the clamped input, a ring position or fill out of range, unused
// prototypes holding values, use counts that are negative or beyond the
// blocks seen, more block samples than samples.
func (s *discord) check(n uint32) error {
	bad := func(what string, v any) error { return fmt.Errorf("%w: discord %s %v", ErrBadState, what, v) }
	switch {
	case s.full > discordW:
		return bad("fill", s.full)
	case s.pos >= discordW || s.full < discordW && s.pos != s.full:
		return bad("position", s.pos)
	case s.k > discordK || s.k > 0 && s.full < discordW:
		return bad("prototypes", s.k)
	case s.cnt > n || !(math.Abs(s.sum) <= float64(s.cnt)*uMax):
		return bad("block sum", s.sum)
	}
	for i, v := range s.win {
		if !(math.Abs(float64(v)) <= uMax) || i >= int(s.full) && v != 0 {
			return bad("block", v)
		}
	}
	for j := range s.proto {
		if u := float64(s.use[j]); !(u >= 0 && u <= float64(n)) || j >= int(s.k) && u != 0 {
			return bad("use", u)
		}
		for _, v := range s.proto[j] {
			if !(math.Abs(float64(v)) <= uMax) || j >= int(s.k) && v != 0 {
				return bad("prototype", v)
			}
		}
	}
	return s.err.check(n)
}

// discordBlockDefault is DiscordBlock's default; discordBlockMax bounds it
// (a block longer than a day of 1 s samples is beyond what it is for).
const (
	discordPruneDefault = 0.1
	discordBlockDefault = 16
	discordBlockMax     = 1 << 17
)
