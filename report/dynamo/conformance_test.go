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
	sinktest.RunStoreTests(t, func(t *testing.T, o report.StoreOptions) report.Store {
		return newTestStore(t, o, nil)
	})
}
