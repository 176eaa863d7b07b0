package report

import (
	"context"
	"errors"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// Fanout returns a sink that hands everything to each of sinks in turn (a
// table and the terminal, for example). Every sink is called even when an
// earlier one fails; the errors are joined. With one sink, Fanout returns
// it unchanged.
//
// The sink returned also implements [ScopeCloser]: CloseOutOfScope is
// forwarded to the sinks that implement it (the stores), and returns the
// sum of the findings they closed; a stream sink has nothing to close.
func Fanout(sinks ...Sink) Sink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return fanout(sinks)
}

type fanout []Sink

var _ ScopeCloser = fanout(nil)

func (f fanout) each(fn func(Sink) error) error {
	var errs []error
	for _, s := range f {
		errs = append(errs, fn(s))
	}
	return errors.Join(errs...)
}

func (f fanout) Begin(ctx context.Context, run Run) error {
	return f.each(func(s Sink) error { return s.Begin(ctx, run) })
}

func (f fanout) Put(ctx context.Context, fs []rules.Finding) error {
	return f.each(func(s Sink) error { return s.Put(ctx, fs) })
}

func (f fanout) AccountDone(ctx context.Context, scanID string, r inventory.AccountResult) error {
	return f.each(func(s Sink) error { return s.AccountDone(ctx, scanID, r) })
}

func (f fanout) End(ctx context.Context, run Run) error {
	return f.each(func(s Sink) error { return s.End(ctx, run) })
}

// CloseOutOfScope forwards to every sink that is a ScopeCloser.
func (f fanout) CloseOutOfScope(ctx context.Context, scanID string, scope Scope) (int, error) {
	total := 0
	err := f.each(func(s Sink) error {
		c, ok := s.(ScopeCloser)
		if !ok {
			return nil
		}
		n, err := c.CloseOutOfScope(ctx, scanID, scope)
		total += n
		return err
	})
	return total, err
}
