package sinktest

import (
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// OwnerSecrets are what the destination reads of DestinationFindings
// return from the destination's owner: its policies' Sids, its key's
// state and its own key ID, an error message of its APIs. None may reach
// an output of a source account that is not the owner.
var OwnerSecrets = []string{"OwnerDenySid", "OwnerOpenSid", "OwnerUndecidedSid", "PendingDeletion", "owner-own-key-id", "owner-secret-error"}

// DestinationFindings are the findings the rules make of AccountA's
// bucket data, whose configurations deliver to destinations of owner:
// a bucket whose policy denies the delivery (OwnerDenySid, INV-111) and
// lets any account's inventory write (OwnerOpenSid, INV-112), a key
// pending deletion known by its alias (INV-113), and a bucket whose
// policy the scanner cannot decide and a key it could not read
// (SCAN-005). With owner AccountA they keep every detail, OwnerSecrets
// included; with another owner, none of OwnerSecrets.
func DestinationFindings(owner string, at time.Time) []rules.Finding {
	statement := func(sid, effect, bucket, cond string) string {
		return `{"Sid":"` + sid + `","Effect":"` + effect + `","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject",` +
			`"Resource":"arn:aws:s3:::` + bucket + `/*"` + cond + `}`
	}
	policy := func(sts ...string) *inventory.PolicyRead {
		doc := `{"Version":"2012-10-17","Statement":[`
		for i, s := range sts {
			if i > 0 {
				doc += ","
			}
			doc += s
		}
		return &inventory.PolicyRead{Policy: doc + `]}`}
	}
	alias := "arn:aws:kms:us-east-1:" + owner + ":alias/inventory"
	check := func(id, bucket string, pol *inventory.PolicyRead, key *inventory.KeyRead) inventory.DestinationCheck {
		return inventory.DestinationCheck{
			Account: inventory.Account{ID: AccountA, Name: "source"}, Bucket: inventory.Bucket{Name: "data", Region: "us-east-1"},
			Config: inventory.Config{ID: id, Enabled: true, Frequency: "Daily", IncludedVersions: "All",
				Destination: inventory.Destination{AccountID: owner, BucketARN: "arn:aws:s3:::" + bucket, Format: "CSV",
					Encryption: inventory.EncryptionSSEKMS, KMSKeyID: alias}},
			Owner: owner, OwnerListed: true, Partition: "aws", Policy: pol, Key: key,
			Reports: &inventory.ReportsRead{Newest: at.Add(-time.Hour), Since: at.Add(-32 * 24 * time.Hour)},
		}
	}
	ownKey := "arn:aws:kms:us-east-1:" + owner + ":key/owner-own-key-id"
	checks := []inventory.DestinationCheck{
		check("refused", "owner-inventory", policy(
			statement("OwnerOpenSid", "Allow", "owner-inventory", ""),
			statement("OwnerDenySid", "Deny", "owner-inventory", "")),
			&inventory.KeyRead{ARN: ownKey, State: "PendingDeletion"}),
		check("unverified", "owner-undecided", policy(
			statement("OwnerUndecidedSid", "Allow", "owner-undecided", `,"Condition":{"NumericLessThan":{"s3:max-keys":"10"}}`)),
			&inventory.KeyRead{ARN: alias, Failure: &inventory.Failure{Code: "KMSInternalException", Message: "owner-secret-error"}}),
	}
	fs, _ := rules.NewEvaluator(nil, inventory.Org{}).Destinations(checks, "scan-destinations", at)
	return fs
}
