package scan

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/inventory"
)

// listInventory returns every inventory configuration of a bucket,
// following NextContinuationToken until IsTruncated is false. It is the one
// place that owns this loop: the SDK has no paginator for the call. A page
// truncated without a token, a repeated token or more than
// maxInventoryPages pages is ErrPagination.
func listInventory(ctx context.Context, api S3API, in s3.ListBucketInventoryConfigurationsInput, optFns ...func(*s3.Options)) ([]s3types.InventoryConfiguration, error) {
	var all []s3types.InventoryConfiguration
	guard := newPageGuard("list inventory configurations of "+aws.ToString(in.Bucket), maxInventoryPages)
	for {
		out, err := api.ListBucketInventoryConfigurations(ctx, &in, optFns...)
		if err != nil {
			return nil, err
		}
		all = append(all, out.InventoryConfigurationList...)
		if !aws.ToBool(out.IsTruncated) {
			return all, nil
		}
		next := aws.ToString(out.NextContinuationToken)
		if next == "" {
			return nil, fmt.Errorf("%w: page %d is truncated but has no continuation token", ErrPagination, guard.pages+1)
		}
		if err := guard.next(next); err != nil {
			return nil, err
		}
		in.ContinuationToken = aws.String(next)
	}
}

// readBucket lists the inventory configurations of one bucket in its own
// region. When S3 answers that the bucket lives elsewhere (301 or 400 with
// x-amz-bucket-region), it retries once in the region S3 names and
// corrects b.Region. The error, also recorded as the result's Failure, is
// returned so the caller can tell a deadline from an unreadable bucket.
func readBucket(ctx context.Context, api S3API, acct inventory.Account, b inventory.Bucket) (inventory.BucketResult, error) {
	in := s3.ListBucketInventoryConfigurationsInput{
		Bucket:              aws.String(b.Name),
		ExpectedBucketOwner: aws.String(acct.ID),
	}
	list := func(region string) ([]s3types.InventoryConfiguration, error) {
		return listInventory(ctx, api, in, func(o *s3.Options) {
			if region != "" {
				o.Region = region
			}
		})
	}
	configs, err := list(b.Region)
	if err != nil && awserr.Classify(err) == awserr.WrongRegion {
		if r := awserr.BucketRegion(err); r != "" && r != b.Region {
			b.Region = r
			configs, err = list(r)
		}
	}
	res := inventory.BucketResult{Account: acct, Bucket: b}
	if err != nil {
		err = fmt.Errorf("list inventory configurations %s/%s: %w", acct.ID, b.Name, err)
		res.Failure = failure(err)
		return res, err
	}
	res.Configs = make([]inventory.Config, len(configs))
	for i, c := range configs {
		res.Configs[i] = toConfig(c)
	}
	return res, nil
}

// failure turns an error into the Failure recorded in results. A throttle
// that outlasted every retry is "Throttled" whatever the service called
// it; the message names the service's code.
func failure(err error) *inventory.Failure {
	code, msg := awserr.Code(err), awserr.Message(err)
	switch {
	case errors.Is(err, ErrPagination):
		code = "InvalidPagination"
	case awserr.Classify(err) == awserr.Throttled:
		if code != "" && code != msg {
			msg = code + ": " + msg
		}
		code = "Throttled"
	case code == "" && awserr.Classify(err) == awserr.Canceled:
		code = "Deadline"
	case code == "":
		code = "Error"
	}
	return &inventory.Failure{Code: code, Message: msg}
}

// toConfig converts the SDK's configuration into plain data.
func toConfig(c s3types.InventoryConfiguration) inventory.Config {
	out := inventory.Config{
		ID:               aws.ToString(c.Id),
		Enabled:          aws.ToBool(c.IsEnabled),
		IncludedVersions: string(c.IncludedObjectVersions),
	}
	if c.Filter != nil {
		out.FilterPrefix = aws.ToString(c.Filter.Prefix)
	}
	if c.Schedule != nil {
		out.Frequency = string(c.Schedule.Frequency)
	}
	for _, f := range c.OptionalFields {
		out.OptionalFields = append(out.OptionalFields, string(f))
	}
	if c.Destination != nil && c.Destination.S3BucketDestination != nil {
		d := c.Destination.S3BucketDestination
		out.Destination = inventory.Destination{
			AccountID: aws.ToString(d.AccountId),
			BucketARN: aws.ToString(d.Bucket),
			Format:    string(d.Format),
			Prefix:    aws.ToString(d.Prefix),
		}
		if e := d.Encryption; e != nil {
			switch {
			case e.SSEKMS != nil:
				out.Destination.Encryption = inventory.EncryptionSSEKMS
				out.Destination.KMSKeyID = aws.ToString(e.SSEKMS.KeyId)
			case e.SSES3 != nil:
				out.Destination.Encryption = inventory.EncryptionSSES3
			}
		}
	}
	return out
}
