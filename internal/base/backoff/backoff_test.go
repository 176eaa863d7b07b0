package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBounds(t *testing.T) {
	base, max := 100*time.Millisecond, 2*time.Second
	for attempt, ceil := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: 1600 * time.Millisecond, 6: 2 * time.Second, 40: 2 * time.Second} {
		for range 200 {
			if d := Equal(base, max, attempt); d < ceil/2 || d > ceil {
				t.Fatalf("Equal(attempt %d) = %s; want %s to %s", attempt, d, ceil/2, ceil)
			}
			if d := Full(base, max, attempt); d < 0 || d > ceil {
				t.Fatalf("Full(attempt %d) = %s; want 0 to %s", attempt, d, ceil)
			}
		}
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep with a cancelled context = %v; want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v", err)
	}
}
