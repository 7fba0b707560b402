package model

import "unsafe"

// StateBytes is the size of one series' Detector state in bytes (the
// configuration it points to is shared): 2640 bytes. Reported by the
// benchmarks. The model's budget is 4 KiB per series (issue 18; detector's
// BenchmarkServiceMemory measures the service's total).
const StateBytes = unsafe.Sizeof(Detector{})
