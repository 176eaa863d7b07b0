package pipeline

import (
	"context"
	"errors"

	"github.com/s3inv/scanner/internal/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// Fanout returns a sink that hands everything to each of sinks in turn (a
// table and the terminal, for example). Every sink is called even when an
// earlier one fails; the errors are joined.
func Fanout(sinks ...report.Sink) report.Sink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return fanout(sinks)
}

type fanout []report.Sink

func (f fanout) each(fn func(report.Sink) error) error {
	var errs []error
	for _, s := range f {
		errs = append(errs, fn(s))
	}
	return errors.Join(errs...)
}

func (f fanout) Begin(ctx context.Context, run report.Run) error {
	return f.each(func(s report.Sink) error { return s.Begin(ctx, run) })
}

func (f fanout) Put(ctx context.Context, fs []rules.Finding) error {
	return f.each(func(s report.Sink) error { return s.Put(ctx, fs) })
}

func (f fanout) AccountDone(ctx context.Context, scanID string, r inventory.AccountResult) error {
	return f.each(func(s report.Sink) error { return s.AccountDone(ctx, scanID, r) })
}

func (f fanout) End(ctx context.Context, run report.Run) error {
	return f.each(func(s report.Sink) error { return s.End(ctx, run) })
}
