package model

import "unsafe"

// StateBytes is the size of one series' Detector state in bytes (the
// configuration it points to is shared). Reported by the benchmarks; the
// budget is 1 KiB.
const StateBytes = unsafe.Sizeof(Detector{})
