package scan

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

func TestPageGuard(t *testing.T) {
	g := newPageGuard("list things", 4)
	for _, tok := range []string{"a", "b"} {
		if err := g.next(tok); err != nil {
			t.Fatalf("token %q: %v", tok, err)
		}
	}
	if err := g.next("a"); !errors.Is(err, ErrPagination) {
		t.Errorf("repeated token: %v; want ErrPagination", err)
	}
	g = newPageGuard("list things", 3)
	if g.next("a") != nil || g.next("b") != nil {
		t.Fatal("fresh tokens refused")
	}
	if err := g.next("c"); !errors.Is(err, ErrPagination) {
		t.Errorf("page 3 of at most 3 with a further token: %v; want ErrPagination", err)
	}
	if err := newPageGuard("x", 1).next(""); err != nil {
		t.Errorf("a listing of one page: %v", err)
	}
}

// TestPacerBacksOffOnlyOverTheLimit: a window with more than a quarter of
// its attempts throttled sets the rate to what the service accepted;
// random throttles below that change nothing; a limited rate grows back
// and is lifted once it is far above what the account asks for.
func TestPacerBacksOffOnlyOverTheLimit(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var a apiRate
	// 15% throttled over a second: noise, no limit.
	a.record(t0, 85, 15)
	a.record(t0.Add(time.Second), 0, 0)
	if a.rate != 0 {
		t.Fatalf("rate %g after 15%% throttled; want unlimited", a.rate)
	}
	// 200 attempts in a second, 150 throttled: the service took 50/s.
	a.record(t0.Add(1500*time.Millisecond), 200, 150)
	a.record(t0.Add(2*time.Second), 0, 0)
	if want := decrease * 50; a.rate < want-0.01 || a.rate > want+0.01 {
		t.Fatalf("rate %g; want %g (0.9 × the 50/s accepted)", a.rate, want)
	}
	// The pace: calls start 1/rate apart.
	now := t0.Add(3 * time.Second)
	if d := a.reserve(now); d != 0 {
		t.Errorf("first call waits %s; want 0", d)
	}
	if d, want := a.reserve(now), time.Duration(float64(time.Second)/a.rate); d != want {
		t.Errorf("second call waits %s; want %s", d, want)
	}
	// A clean window grows the rate by 10%.
	r := a.rate
	a.record(now, 45, 0)
	a.record(now.Add(time.Second), 0, 0)
	if want := r * growth; a.rate < want-0.01 || a.rate > want+0.01 {
		t.Errorf("rate %g after a clean window; want %g", a.rate, want)
	}
	// Asking for far less than the rate lifts the limit.
	a.record(now.Add(2*time.Second), 20, 0)
	a.record(now.Add(4*time.Second), 0, 0)
	if a.rate != 0 {
		t.Errorf("rate %g while asking 10/s; want the limit lifted", a.rate)
	}
	// Never below minRate.
	a.record(now.Add(5*time.Second), 30, 30)
	a.record(now.Add(7*time.Second), 0, 0)
	if a.rate != minRate {
		t.Errorf("rate %g after a window of nothing but throttles; want %g", a.rate, minRate)
	}
}

func TestPacerCountsTheSDKsAttempts(t *testing.T) {
	p := newPacer()
	slow := &smithy.GenericAPIError{Code: "SlowDown"}
	p.done(opInventory, middleware.Metadata{}, slow)
	p.done(opInventory, middleware.Metadata{}, nil)
	a := p.api(opInventory)
	if a.attempts != 2 || a.throttled != 1 {
		t.Errorf("attempts %d, throttled %d; want 2 and 1", a.attempts, a.throttled)
	}
	if p.api(opListBuckets).attempts != 0 {
		t.Error("ListBuckets shares the inventory's rate; want one rate per API")
	}
}

func TestFailureCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{&smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}, "Throttled"},
		{&smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}, "Throttled"},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, "AccessDenied"},
		{ErrPagination, "InvalidPagination"},
		{errors.New("boom"), "Error"},
	} {
		if f := failure(tc.err); f.Code != tc.code {
			t.Errorf("failure(%v) = %+v; want code %s", tc.err, f, tc.code)
		}
	}
	if f := failure(&smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}); f.Message != "SlowDown: Please reduce your request rate." {
		t.Errorf("throttle message %q; want the service's code and message", f.Message)
	}
}
