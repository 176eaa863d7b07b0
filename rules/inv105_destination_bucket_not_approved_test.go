package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV105(t *testing.T) {
	to := func(arn string) *inventory.Config {
		return ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Destination.BucketARN = arn }))
	}
	listed := setParam(approvedBuckets, []string{"arn:aws:s3:::central-inventory-*", "arn:aws:s3:::audit"})
	runRuleCases(t, "INV-105", []ruleCase{
		{name: "matches a glob", config: to("arn:aws:s3:::central-inventory-eu-west-1"), set: listed, want: pass},
		{name: "matches an exact ARN", config: to("arn:aws:s3:::audit"), set: listed, want: pass},
		{name: "matches none", config: to("arn:aws:s3:::my-own-bucket"), set: listed, want: fail,
			message:  "arn:aws:s3:::my-own-bucket, which matches no approved destination bucket",
			evidence: map[string]string{"bucket_arn": "arn:aws:s3:::my-own-bucket", "approved_buckets": "arn:aws:s3:::central-inventory-*,arn:aws:s3:::audit"}},
		{name: "no approved list", config: to("arn:aws:s3:::my-own-bucket"), want: notApplicable},
	})
}
