package liveheap

import (
	"runtime"
	"testing"
	"time"
)

// TestSampleSeesALiveAllocation: 64 MiB kept alive while sampling shows
// in the samples, and is gone from Now once dropped.
func TestSampleSeesALiveAllocation(t *testing.T) {
	before := Now()
	stop := Sample(time.Millisecond)
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = 1
	}
	time.Sleep(20 * time.Millisecond)
	samples := stop()
	runtime.KeepAlive(big)
	if len(samples) == 0 {
		t.Fatal("no sample")
	}
	if peak := max(samples[0], samples[len(samples)-1]); peak < before+60<<20 {
		t.Errorf("samples up to %d bytes while 64 MiB were live above %d; want at least 60 MiB more", peak, before)
	}
	big = nil
	if after := Now(); after > before+8<<20 {
		t.Errorf("Now = %d bytes after the 64 MiB were dropped; want about %d", after, before)
	}
}
