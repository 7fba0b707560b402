package model

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The period's and the pruners' part of the codec (codec version 4).

const prunerBytes = 3*8 + 4

const periodBytes = periodRing*4 + (periodLags+1)*4 + 4 + 8 + 4 + 4 + prunerBytes

func (r *pruner) appendBinary(b []byte) []byte {
	le := binary.LittleEndian
	for _, f := range [...]float64{r.es, r.mae, r.max} {
		b = le.AppendUint64(b, math.Float64bits(f))
	}
	return le.AppendUint32(b, r.n)
}

func (r *pruner) decode(rd *reader) {
	r.es = rd.f64()
	r.mae = rd.f64()
	r.max = rd.f64()
	r.n = rd.u32()
}

// check refuses a pruner judge never leaves: negative or non-finite
// averages, more errors than samples.
func (r *pruner) check(n uint32) error {
	for _, v := range [...]float64{r.es, r.mae, r.max} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: smoothed error statistic %v", ErrBadState, v)
		}
	}
	if r.n > n {
		return fmt.Errorf("%w: %d errors judged in %d samples", ErrBadState, r.n, n)
	}
	return nil
}

func (p *period) appendBinary(b []byte) []byte {
	le := binary.LittleEndian
	for _, f := range p.ring {
		b = le.AppendUint32(b, math.Float32bits(f))
	}
	for _, f := range p.acf {
		b = le.AppendUint32(b, math.Float32bits(f))
	}
	b = le.AppendUint32(b, math.Float32bits(p.mean))
	b = le.AppendUint64(b, math.Float64bits(p.sum))
	b = le.AppendUint32(b, p.cnt)
	b = append(b, p.pos, p.full, p.per, p.held)
	return p.err.appendBinary(b)
}

func (p *period) decode(rd *reader) {
	for i := range p.ring {
		p.ring[i] = rd.f32()
	}
	for i := range p.acf {
		p.acf[i] = rd.f32()
	}
	p.mean = rd.f32()
	p.sum = rd.f64()
	p.cnt = rd.u32()
	x := rd.next(4)
	p.pos, p.full, p.per, p.held = x[0], x[1], x[2], x[3]
	p.err.decode(rd)
}

// check refuses a period update never leaves: block means beyond the
// clamped input, a ring position or fill out of range, a period outside
// the lags searched, non-finite statistics, more block samples than
// samples.
func (p *period) check(n uint32) error {
	bad := func(what string, v any) error { return fmt.Errorf("%w: period %s %v", ErrBadState, what, v) }
	switch {
	case int(p.full) > periodRing:
		return bad("fill", p.full)
	case int(p.pos) >= periodRing || int(p.full) < periodRing && p.pos != p.full:
		return bad("position", p.pos)
	case p.per != 0 && (p.per < periodMinLag || p.per >= periodLags):
		return bad("length", p.per)
	case p.cnt > n || !(math.Abs(p.sum) <= float64(p.cnt)*uMax):
		return bad("block sum", p.sum)
	case !(math.Abs(float64(p.mean)) <= uMax):
		return bad("mean", p.mean)
	case !(p.acf[0] >= 0):
		return bad("variance", p.acf[0])
	}
	for i, v := range p.ring {
		if !(math.Abs(float64(v)) <= uMax) || i >= int(p.full) && v != 0 {
			return bad("block", v)
		}
	}
	for _, v := range p.acf {
		if !(math.Abs(float64(v)) <= 4*uMax*uMax) {
			return bad("autocorrelation", v)
		}
	}
	return p.err.check(n)
}
