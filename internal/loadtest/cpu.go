package loadtest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// ProcessCPU returns the user plus system CPU time process pid has used so
// far, read from /proc/<pid>/stat (Linux only). ticksPerSec is the kernel's
// USER_HZ (`getconf CLK_TCK`, 100 on common Linux builds); the resolution is
// one tick, so measure phases that burn far more than that.
func ProcessCPU(pid, ticksPerSec int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process cpu: %w", err)
	}
	return parseStatCPU(b, ticksPerSec)
}

// parseStatCPU reads utime and stime, fields 14 and 15 of proc(5)'s stat.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(b []byte, ticksPerSec int) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || ticksPerSec <= 0 {
		return 0, fmt.Errorf("process cpu: malformed stat or ticks %d", ticksPerSec)
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("process cpu: stat has %d fields", len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("process cpu: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / time.Duration(ticksPerSec), nil
}
