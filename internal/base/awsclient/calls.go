package awsclient

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/s3inv/scanner/internal/base/awserr"
)

// API names one operation of one service, as the SDK names them: Service
// "S3", Operation "ListBucketInventoryConfigurations".
type API struct {
	Service, Operation string
}

// APICalls counts the requests sent to one API and those AWS answered
// with a throttle.
type APICalls struct {
	API
	// Calls counts requests sent: every attempt, retries included.
	Calls int64
	// Throttled counts the attempts that failed with a throttle error
	// (awserr's Throttled, the retryer's own throttles: SlowDown,
	// Throttling, TooManyRequests…).
	Throttled int64
}

// CallStats counts the requests every client built from a configuration
// sends, by API (WithCallStats installs it). It is safe for concurrent
// use; counting costs one map lookup and two atomic adds per attempt.
type CallStats struct {
	apis sync.Map // API → *apiCounts
}

type apiCounts struct{ calls, throttled atomic.Int64 }

// NewCallStats returns an empty CallStats.
func NewCallStats() *CallStats { return &CallStats{} }

// WithCallStats makes every client built from the loaded configuration
// count its requests into s: a middleware of the deserialize step, which
// runs once per attempt inside the retry loop, so a retried call counts
// each attempt, and a throttle is what awserr classifies as one (the
// retryer's own classification).
func WithCallStats(s *CallStats) Option {
	return func(o *settings) { o.calls = s }
}

// AddTo adds the counting middleware to a client's stack; it is an SDK
// API option (aws.Config.APIOptions).
func (s *CallStats) AddTo(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("CountCalls",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			s.count(API{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx)},
				err != nil && awserr.Classify(err) == awserr.Throttled)
			return out, md, err
		}), middleware.Before)
}

func (s *CallStats) count(api API, throttled bool) {
	c, ok := s.apis.Load(api)
	if !ok {
		c, _ = s.apis.LoadOrStore(api, &apiCounts{})
	}
	n := c.(*apiCounts)
	n.calls.Add(1)
	if throttled {
		n.throttled.Add(1)
	}
}

// Snapshot returns the counts so far, by service then operation.
func (s *CallStats) Snapshot() []APICalls {
	var out []APICalls
	s.apis.Range(func(k, v any) bool {
		n := v.(*apiCounts)
		out = append(out, APICalls{API: k.(API), Calls: n.calls.Load(), Throttled: n.throttled.Load()})
		return true
	})
	slices.SortFunc(out, func(a, b APICalls) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Operation, b.Operation))
	})
	return out
}

// Since returns the counts of now minus those of before (two snapshots
// of one CallStats), leaving out the APIs not called in between.
func Since(now, before []APICalls) []APICalls {
	prev := make(map[API]APICalls, len(before))
	for _, b := range before {
		prev[b.API] = b
	}
	var out []APICalls
	for _, n := range now {
		p := prev[n.API]
		if d := (APICalls{API: n.API, Calls: n.Calls - p.Calls, Throttled: n.Throttled - p.Throttled}); d.Calls > 0 {
			out = append(out, d)
		}
	}
	return out
}
