// Package backoff computes the waits between attempts of a call that
// failed for a passing reason (throttling, unprocessed items, a failed
// event): exponential from a base, capped, with jitter so that concurrent
// callers spread out, and waits them out unless the context ends first.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// ceiling is base doubled attempt-1 times (attempt counts from 1), at
// most max.
func ceiling(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Equal is the wait before retry number attempt with "equal jitter": half
// of the exponential ceiling fixed, half random. It never waits less than
// half the ceiling, for callers that must slow down.
func Equal(base, max time.Duration, attempt int) time.Duration {
	d := ceiling(base, max, attempt)
	return d/2 + rand.N(d/2+1)
}

// Full is the wait before retry number attempt with "full jitter":
// anywhere from zero to the exponential ceiling.
func Full(base, max time.Duration, attempt int) time.Duration {
	return rand.N(ceiling(base, max, attempt) + 1)
}

// Sleep waits d, or until ctx ends (its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
