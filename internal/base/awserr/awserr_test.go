package awserr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

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
