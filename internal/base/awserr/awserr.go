// Package awserr classifies the errors the AWS SDK returns, in one place,
// so the rest of the scanner never compares error codes or strings: the
// scan (throttled, access denied, wrong region, not found), the SDK
// configuration's retryer and call counts (throttled, package awsclient),
// the findings table's batch writes, the Security Hub export (not
// enabled, access denied, a finding refused for good) and the EventBridge
// publisher (an entry worth sending again) all ask Classify or
// ClassifyCode.
//
// Classification uses errors.As on smithy.APIError (the error code) and on
// smithyhttp.ResponseError (the HTTP status and headers), as the SDK
// surfaces them. Throttling is the SDK retryer's own classification
// (retry.DefaultThrottles), so what the retryer backs off from as a
// throttle, what the call counts count as one and what the scanner paces
// and re-queues are the same errors.
package awserr

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is the class of an AWS error.
type Kind int

// The classes of AWS errors the scanner tells apart.
const (
	Other        Kind = iota
	AccessDenied      // no permission, owner mismatch, role not assumable
	NotFound          // NoSuchBucket and friends
	WrongRegion       // 301 PermanentRedirect or 400 AuthorizationHeaderMalformed
	Throttled         // the SDK retryer's throttles; seen here only when retries ran out
	Canceled          // the context was cancelled or its deadline passed
	Transient         // a 5xx or a connection that failed: the service's trouble, not the caller's
	// NotConfigured: the resource exists but has none of what was asked
	// (S3's NoSuchBucketPolicy: a bucket without a policy).
	NotConfigured
	// NotEnabled: the service is not enabled for the account and Region
	// (Security Hub's InvalidAccessException: "not subscribed").
	NotEnabled
	// Invalid: the request itself is refused, and is refused again however
	// often it is sent (InvalidInput).
	Invalid
)

var kindNames = [...]string{"Other", "AccessDenied", "NotFound", "WrongRegion", "Throttled", "Canceled", "Transient",
	"NotConfigured", "NotEnabled", "Invalid"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

var codeKinds = map[string]Kind{
	"AccessDenied":                       AccessDenied,
	"AccessDeniedException":              AccessDenied,
	"AllAccessDisabled":                  AccessDenied,
	"InvalidAccessKeyId":                 AccessDenied,
	"InvalidClientTokenId":               AccessDenied,
	"ExpiredToken":                       AccessDenied,
	"ExpiredTokenException":              AccessDenied,
	"UnrecognizedClientException":        AccessDenied,
	"SignatureDoesNotMatch":              AccessDenied,
	"NoSuchBucket":                       NotFound,
	"NotFound":                           NotFound,
	"NoSuchEntity":                       NotFound,
	"NotFoundException":                  NotFound,
	"PermanentRedirect":                  WrongRegion,
	"AuthorizationHeaderMalformed":       WrongRegion,
	"IllegalLocationConstraintException": WrongRegion,
	"InternalFailure":                    Transient,
	"NoSuchBucketPolicy":                 NotConfigured,
	"InvalidAccessException":             NotEnabled,
	"InvalidInput":                       Invalid,
	"InvalidInputException":              Invalid,
	// The throttles are the SDK retryer's (throttleCodes).
}

// throttleCodes and throttles are the SDK retryer's throttle
// classification: its codes (Throttling, SlowDown,
// TooManyRequestsException, ProvisionedThroughputExceededException, …),
// and, for an error, an HTTP 429 that the service did not model.
var (
	throttleCodes = retry.DefaultThrottleErrorCodes
	throttles     = retry.IsErrorThrottles(retry.DefaultThrottles)
)

// Classify returns the class of err. A nil error is Other.
func Classify(err error) Kind {
	if err == nil {
		return Other
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	if k := ClassifyCode(Code(err)); k != Other {
		return k
	}
	if throttles.IsErrorThrottle(err).Bool() {
		return Throttled
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		switch re.Response.StatusCode {
		case 301, 307:
			return WrongRegion
		case 403:
			return AccessDenied
		case 404:
			return NotFound
		}
		if re.Response.StatusCode >= 500 {
			return Transient
		}
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) {
		return Transient
	}
	return Other
}

// ClassifyCode returns the class of an AWS error code that comes without
// an error, such as the code of one entry a batch call failed
// (EventBridge's failed entries, Security Hub's FailedFindings). An
// unknown or empty code is Other.
func ClassifyCode(code string) Kind {
	if k, ok := codeKinds[code]; ok {
		return k
	}
	if _, ok := throttleCodes[code]; ok {
		return Throttled
	}
	return Other
}

// Code returns the AWS error code of err (such as "AccessDenied"), or ""
// when err carries none.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// BucketRegion returns the region S3 names in the x-amz-bucket-region
// header of an error response (301 PermanentRedirect, 400
// AuthorizationHeaderMalformed), or "" when there is none.
func BucketRegion(err error) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

// Message returns a one-line description of err for people: the API
// error's message (its code when it has none; Code gives the code), else
// the error text.
func Message(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	msg := err.Error()
	if errors.As(err, &ae) {
		msg = ae.ErrorMessage()
		if msg == "" {
			msg = ae.ErrorCode()
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}
