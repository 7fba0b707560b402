package stats

import "testing"

// TestExcursionJudgesEachSideOnItsOwn: the rule follows the dwell rule's
// counts per side: a stay beyond the longest earlier one on its side by
// the margin flags once, on the sample that makes it so; a side that has
// seen fewer than DwellVisits stays never flags; returning inside the
// band ends the stay and records it.
func TestExcursionJudgesEachSideOnItsOwn(t *testing.T) {
	var e Excursion
	stay := func(side int8, n int) (flags []int) {
		for k := range n {
			if e.Update(side) {
				flags = append(flags, k+1)
			}
		}
		e.Update(0)
		return flags
	}
	for range DwellVisits {
		if f := stay(1, 20); f != nil {
			t.Fatalf("a stay above flagged at %v while the side learns", f)
		}
	}
	if f := stay(-1, 100); f != nil {
		t.Errorf("the first stay below flagged at %v: that side has no history", f)
	}
	if f := stay(1, 29); f != nil {
		t.Errorf("a stay of 29 above after stays of 20 flagged at %v (the margin asks 30)", f)
	}
	if f := stay(1, 60); len(f) != 1 || f[0] != 44 {
		t.Errorf("a stay of 60 above after stays of at most 29 flagged at %v, want [44] (1.5 * 29)", f)
	}
	if e.Record != [2]uint32{100, 60} || e.Visits != [2]uint16{1, DwellVisits + 2} || e.Side != 0 || e.Run != 0 {
		t.Errorf("state %+v, want records [100 60], visits [1 %d], inside the band", e, DwellVisits+2)
	}
	if ExcursionSide(3, 2) != 1 || ExcursionSide(-3, 2) != -1 || ExcursionSide(1.5, 2) != 0 || ExcursionSide(100, 0) != 0 || ExcursionSide(100, -1) != 0 {
		t.Error("ExcursionSide misplaces a value")
	}
}

// TestExcursionCodec: an Excursion round-trips through AppendBinary and
// DecodeBinary in ExcursionBytes, and Check refuses what Update cannot
// produce from the samples it is given.
func TestExcursionCodec(t *testing.T) {
	e := Excursion{Run: 7, Record: [2]uint32{12, 30}, Visits: [2]uint16{3, 11}, Side: -1}
	b := e.AppendBinary([]byte{0xAA})
	if len(b) != 1+ExcursionBytes {
		t.Fatalf("encoded %d bytes, want %d", len(b)-1, ExcursionBytes)
	}
	var got Excursion
	got.DecodeBinary(b[1:])
	if got != e {
		t.Fatalf("decoded %+v, want %+v", got, e)
	}
	if err := got.Check(100); err != nil {
		t.Fatalf("Check refused a reachable state: %v", err)
	}
	for name, bad := range map[string]Excursion{
		"side 2":            {Side: 2, Run: 1},
		"side, no run":      {Side: 1},
		"run, no side":      {Run: 3},
		"run beyond n":      {Side: -1, Run: 101},
		"longest, no visit": {Record: [2]uint32{0, 5}},
		"visit, no longest": {Visits: [2]uint16{2, 0}},
		"longest beyond n":  {Record: [2]uint32{101, 0}, Visits: [2]uint16{1, 0}},
		"visits beyond n":   {Record: [2]uint32{0, 2}, Visits: [2]uint16{0, 101}},
	} {
		if bad.Check(100) == nil {
			t.Errorf("%s: Check accepted %+v", name, bad)
		}
	}
}
