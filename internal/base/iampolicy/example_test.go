package iampolicy_test

import (
	"fmt"

	"github.com/s3inv/scanner/internal/base/iampolicy"
)

func ExamplePolicy_InventoryDelivery() {
	p, err := iampolicy.Parse([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [{
	    "Sid": "InventoryDelivery",
	    "Effect": "Allow",
	    "Principal": {"Service": "s3.amazonaws.com"},
	    "Action": "s3:PutObject",
	    "Resource": "arn:aws:s3:::central-inventory/*",
	    "Condition": {
	      "ArnLike": {"aws:SourceArn": "arn:aws:s3:::app-data"},
	      "StringEquals": {"aws:SourceAccount": "111122223333", "s3:x-amz-acl": "bucket-owner-full-control"}
	    }
	  }]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, bucket := range []string{"app-data", "other-bucket"} {
		src := iampolicy.Source{Account: "111122223333", Bucket: bucket, ConfigID: "daily"}
		d, err := p.InventoryDelivery(src, "arn:aws:s3:::central-inventory", "inventory")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(bucket, d.Outcome, d.Statements)
	}
	fmt.Println("unscoped:", p.UnscopedServiceAllows(iampolicy.S3Service, "s3:PutObject"))
	// Output:
	// app-data Allow [InventoryDelivery]
	// other-bucket NotAllowed []
	// unscoped: []
}
