package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profileCPU starts a CPU profile written to path; the returned function
// ends it. The load driver uses it to show where the time goes.
func profileCPU(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("HELPLINE_CPUPROFILE: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("HELPLINE_CPUPROFILE: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
