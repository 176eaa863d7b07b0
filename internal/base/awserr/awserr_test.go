package awserr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func respErr(status int, code string, header http.Header) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "Op", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: header}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "it\nfailed"},
	}}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want Kind
	}{
		{respErr(403, "AccessDenied", nil), AccessDenied},
		{respErr(400, "AccessDeniedException", nil), AccessDenied},
		{respErr(404, "NoSuchBucket", nil), NotFound},
		{respErr(301, "PermanentRedirect", nil), WrongRegion},
		{respErr(400, "AuthorizationHeaderMalformed", nil), WrongRegion},
		{respErr(503, "SlowDown", nil), Throttled},
		{respErr(400, "Throttling", nil), Throttled},
		{respErr(400, "TooManyRequestsException", nil), Throttled},
		{respErr(403, "SomethingNew", nil), AccessDenied},
		{respErr(301, "", nil), WrongRegion},
		{respErr(500, "InternalError", nil), Transient},
		{respErr(503, "ServiceUnavailable", nil), Transient},
		{&smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: errors.New("connection reset by peer")}}, Transient},
		{respErr(400, "ValidationError", nil), Other},
		{respErr(400, "LimitExceededException", nil), Throttled},
		{respErr(429, "", nil), Throttled},
		{respErr(404, "NoSuchBucketPolicy", nil), NotConfigured},
		{respErr(401, "InvalidAccessException", nil), NotEnabled},
		{respErr(400, "InvalidInputException", nil), Invalid},
		{respErr(500, "InternalFailure", nil), Transient},
		{fmt.Errorf("list: %w", context.DeadlineExceeded), Canceled},
		{errors.New("plain"), Other},
		{nil, Other},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestBucketRegionAndMessage(t *testing.T) {
	h := http.Header{}
	h.Set("x-amz-bucket-region", "eu-central-1")
	err := fmt.Errorf("list inventory configurations: %w", respErr(301, "PermanentRedirect", h))
	if got := BucketRegion(err); got != "eu-central-1" {
		t.Errorf("BucketRegion = %q", got)
	}
	if got := BucketRegion(errors.New("x")); got != "" {
		t.Errorf("BucketRegion of a plain error = %q", got)
	}
	if got := Message(err); got != "it failed" {
		t.Errorf("Message = %q, want one line", got)
	}
	if got := Code(err); got != "PermanentRedirect" {
		t.Errorf("Code = %q", got)
	}
}

// TestThrottledIsTheRetryersClassification: every throttle code of the
// SDK's retryer is Throttled, as an error and as a bare code, and the
// retryer's own check agrees with Classify on every error of
// TestClassify's kind, so the retryer's back-off, the call counts and the
// scanner's pacing see the same throttles.
func TestThrottledIsTheRetryersClassification(t *testing.T) {
	if len(retry.DefaultThrottleErrorCodes) < 10 {
		t.Fatalf("the SDK lists %d throttle codes; want its list", len(retry.DefaultThrottleErrorCodes))
	}
	for code := range retry.DefaultThrottleErrorCodes {
		if k := Classify(respErr(400, code, nil)); k != Throttled {
			t.Errorf("Classify(%s) = %s; want Throttled", code, k)
		}
		if k := ClassifyCode(code); k != Throttled {
			t.Errorf("ClassifyCode(%s) = %s; want Throttled", code, k)
		}
	}
	sdk := retry.IsErrorThrottles(retry.DefaultThrottles)
	for _, err := range []error{
		respErr(503, "SlowDown", nil), respErr(429, "", nil), respErr(429, "TooManyRequestsException", nil),
		respErr(400, "RequestThrottledException", nil), respErr(403, "AccessDenied", nil),
		respErr(500, "InternalError", nil), respErr(400, "ValidationError", nil), errors.New("plain"),
	} {
		if got, want := Classify(err) == Throttled, sdk.IsErrorThrottle(err).Bool(); got != want {
			t.Errorf("Classify(%v) == Throttled is %t; the SDK's retryer says %t", err, got, want)
		}
	}
}

// TestClassifyCode: the code of a batch call's failed entry, with no
// error around it.
func TestClassifyCode(t *testing.T) {
	for code, want := range map[string]Kind{
		"ThrottlingException": Throttled, "InternalFailure": Transient, "AccessDeniedException": AccessDenied,
		"InvalidInput": Invalid, "InvalidInputException": Invalid, "InvalidAccessException": NotEnabled,
		"MalformedDetail": Other, "": Other,
	} {
		if got := ClassifyCode(code); got != want {
			t.Errorf("ClassifyCode(%q) = %s; want %s", code, got, want)
		}
	}
	for k := Other; k <= Invalid; k++ {
		if strings.HasPrefix(k.String(), "Kind(") {
			t.Errorf("kind %d has no name", int(k))
		}
	}
}
