// Package liveheap samples a process's live heap for the benchmarks that
// report memory: the live bytes after a forced GC, so that garbage not
// yet collected does not count.
package liveheap

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// Now forces a GC and returns the live heap in bytes.
func Now() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Sample measures the live heap (Now) every interval until stop is
// called, and returns the samples in the order taken: at least one.
func Sample(interval time.Duration) (stop func() []uint64) {
	var (
		samples []uint64
		done    = make(chan struct{})
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			samples = append(samples, Now())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() []uint64 { close(done); wg.Wait(); return samples }
}
