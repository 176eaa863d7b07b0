package dynamo

import (
	"testing"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.RunSinkTests(t, func(t *testing.T) sinktest.Fixture {
		return sinktest.Fixture{Sink: newTestStore(t, report.StoreOptions{}, nil)}
	})
}

func TestStore(t *testing.T) {
	sinktest.RunStoreTests(t, func(t *testing.T, o report.StoreOptions) func() report.Store {
		first := newTestStore(t, o, nil)
		opened := false
		return func() report.Store {
			if !opened {
				opened = true
				return first
			}
			// Another process on the same table.
			s, err := New(first.api, first.table, o)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}
