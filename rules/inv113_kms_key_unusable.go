package rules

import (
	"errors"

	"github.com/s3inv/scanner/internal/base/iampolicy"
	"github.com/s3inv/scanner/internal/base/inventory"
)

var kmsKeyUnusable = Rule{
	ID:       "INV-113",
	Name:     "kms-key-unusable",
	Title:    "The report's KMS key cannot encrypt the report",
	Severity: SeverityHigh,
	Level:    LevelConfig,
	Kind:     KindDestination,
	FailsWhen: "the report's KMS key does not exist, is disabled or pending deletion, or its key policy does not " +
		"let s3.amazonaws.com kms:GenerateDataKey for this source",
	Rationale: "With SSE-KMS, S3 asks the key for a data key before it writes the report. A deleted, disabled or " +
		"scheduled-for-deletion key, or a key policy that does not let S3 use it, stops every delivery.",
	Remediation: "Enable the key (or cancel its deletion, or choose another key), and add this statement to its key " +
		"policy (the finding's `statement` evidence has it filled in): " +
		"`{\"Sid\":\"InventoryReportEncryption\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"}," +
		"\"Action\":\"kms:GenerateDataKey\",\"Resource\":\"*\",\"Condition\":{\"ArnLike\":{\"aws:SourceArn\":" +
		"\"arn:aws:s3:::SOURCE-BUCKET\"},\"StringEquals\":{\"aws:SourceAccount\":\"SOURCE-ACCOUNT-ID\"}}}`. " +
		"Set check_key_policy to false when the key is granted through KMS grants, which this check does not read.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html#configure-inventory-kms-key-policy",
		"https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html",
	},
	params: []paramSpec{checkKeyPolicy},
	check:  checkKMSKeyUnusable,
}

// checkKeyPolicy switches the key-policy part of INV-113 on and off.
var checkKeyPolicy = &param[bool]{
	key: "check_key_policy",
	def: true,
	doc: ParamDoc{
		Values:  "`true`, `false`",
		Default: "`true`",
		Meaning: "also require the key policy to let S3 use the key (off: key state only, for keys granted through KMS grants)",
	},
}

func checkKMSKeyUnusable(s subject) result {
	if s.config.Destination.Encryption != inventory.EncryptionSSEKMS || s.dest.Key == nil {
		return skipped()
	}
	owner, configured := keyOwner(s), s.config.Destination.KMSKeyID
	res := keyVerdict(s)
	if res.gap != nil {
		res.gap.owner = owner
	}
	return reduced(s, owner, res,
		"the KMS key "+configured+" of "+configName(s)+", owned by account "+owner+", refuses delivery: S3 cannot encrypt the report",
		map[string]string{"kms_key": configured, "statement": keyStatement(s)})
}

func keyVerdict(s subject) result {
	k := s.dest.Key
	what := "KMS key " + k.ARN
	ev := map[string]string{"kms_key": k.ARN, "statement": keyStatement(s)}
	switch {
	case k.Failure != nil:
		return unverified(what, k.Failure)
	case k.Missing:
		return failed("the KMS key "+k.ARN+" of "+configName(s)+" does not exist", ev)
	case k.State != "Enabled":
		ev["key_state"] = orNone(k.State)
		return failed("the KMS key "+k.ARN+" of "+configName(s)+" is "+orNone(k.State)+": S3 cannot encrypt the report", ev)
	case !checkKeyPolicy.get(s.settings):
		return passed()
	}
	p, err := iampolicy.Parse([]byte(k.Policy))
	if err != nil {
		return unverified(what, failureOf("UnreadablePolicy", err))
	}
	d, err := p.KMSGenerateDataKey(source(s.dest), k.ARN)
	if err != nil {
		return unverified(what, failureOf("InvalidKey", err))
	}
	switch d.Outcome {
	case iampolicy.Allow:
		return passed()
	case iampolicy.Unknown:
		return undecided(what, d)
	}
	ev["decision"] = d.Outcome.String()
	return failed("the key policy of KMS key "+k.ARN+" of "+configName(s)+" "+decisionText(d)+": s3.amazonaws.com may not kms:GenerateDataKey", ev)
}

// failureOf is the failure of a local check.
func failureOf(code string, err error) *inventory.Failure {
	if err == nil {
		err = errors.New("(no detail)")
	}
	return &inventory.Failure{Code: code, Message: err.Error()}
}
