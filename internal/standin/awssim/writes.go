package awssim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/s3inv/scanner/internal/base/iampolicy"
)

// The limits of the writes, as AWS sets them.
const (
	// maxInventoryConfigs is the most inventory configurations a bucket
	// holds.
	maxInventoryConfigs = 1000
	// maxBucketPolicy is the largest bucket policy S3 accepts, in bytes
	// once the whitespace outside strings is removed.
	maxBucketPolicy = 20 << 10
	// maxKeyPolicy is the largest key policy KMS accepts, in bytes as
	// sent.
	maxKeyPolicy = 32 << 10
	// maxWriteBody bounds what the simulator reads of a write's body.
	maxWriteBody = 1 << 20
)

// putInventory answers PutBucketInventoryConfiguration: a document that
// is not a configuration of S3's schema (a required element missing, an
// enum value outside S3's, two encryptions) is MalformedXML; an Id of
// the query that differs from the document's, a bad Id, destination
// bucket ARN or account, or a destination known to be in another region
// is InvalidArgument; the 1,001st configuration is TooManyConfigurations.
// Optional fields S3 does not know yet are kept (they stand for fields
// newer than the SDK). The configuration with that Id is replaced whole.
func (s *Server) putInventory(w http.ResponseWriter, r *http.Request, b *bucket) {
	r.Body = http.MaxBytesReader(w, r.Body, maxWriteBody)
	body, err := readS3Body(r)
	var x xmlInventoryConf
	if err == nil {
		err = xml.Unmarshal(body, &x)
	}
	if err == nil {
		err = inventoryShape(body, x)
	}
	if err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: "+err.Error())
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" || x.ID != id {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("the id %q of the query does not match the configuration's Id %q", id, x.ID))
		return
	}
	cfg := fromXMLConfig(x)
	if err := s.inventoryArguments(b, cfg); err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(b.configs, id, func(c InventoryConfig, id string) int { return strings.Compare(c.ID, id) })
	switch {
	case found:
		b.configs[i] = cfg
	case len(b.configs) >= maxInventoryConfigs:
		writeS3Error(w, r, http.StatusBadRequest, "TooManyConfigurations", "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.")
		return
	default:
		b.configs = slices.Insert(b.configs, i, cfg)
	}
	b.changed()
	w.WriteHeader(http.StatusOK)
}

// inventoryShape checks what S3's schema requires of a configuration
// that xml.Unmarshal does not: the required elements, the enum values,
// one encryption at most, SSE-KMS with its key.
func inventoryShape(body []byte, x xmlInventoryConf) error {
	var present struct {
		ID        *string `xml:"Id"`
		IsEnabled *string `xml:"IsEnabled"`
		Bucket    *string `xml:"Destination>S3BucketDestination>Bucket"`
		Format    *string `xml:"Destination>S3BucketDestination>Format"`
		Frequency *string `xml:"Schedule>Frequency"`
		Versions  *string `xml:"IncludedObjectVersions"`
	}
	if err := xml.Unmarshal(body, &present); err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		p    *string
	}{{"Id", present.ID}, {"IsEnabled", present.IsEnabled}, {"Destination.S3BucketDestination.Bucket", present.Bucket},
		{"Destination.S3BucketDestination.Format", present.Format}, {"Schedule.Frequency", present.Frequency}, {"IncludedObjectVersions", present.Versions}} {
		if e.p == nil {
			return fmt.Errorf("%s is required", e.name)
		}
	}
	d := x.Destination.S3
	for _, e := range []struct{ name, v, allowed string }{
		{"Schedule.Frequency", x.Frequency, "Daily Weekly"},
		{"IncludedObjectVersions", x.Versions, "All Current"},
		{"Destination.S3BucketDestination.Format", d.Format, "CSV ORC Parquet"},
	} {
		if !slices.Contains(strings.Fields(e.allowed), e.v) {
			return fmt.Errorf("%s %q is not one of %s", e.name, e.v, e.allowed)
		}
	}
	if enc := d.Encryption; enc != nil {
		switch {
		case (enc.SSES3 == nil) == (enc.SSEKMS == nil):
			return fmt.Errorf("Encryption holds both or neither of SSE-S3 and SSE-KMS; want one")
		case enc.SSEKMS != nil && enc.SSEKMS.KeyID == "":
			return fmt.Errorf("SSE-KMS has no KeyId")
		}
	}
	if x.OptionalFields != nil && slices.Contains(x.OptionalFields.Field, "") {
		return fmt.Errorf("OptionalFields holds an empty Field")
	}
	return nil
}

// inventoryArguments checks the values S3 answers InvalidArgument to:
// the Id, the destination's account, its bucket ARN (a plain
// arn:<partition>:s3:::name, no Region or account in it), and a
// destination bucket the simulator holds in another region than the
// source.
func (s *Server) inventoryArguments(b *bucket, cfg InventoryConfig) error {
	if err := cfg.validate("InventoryConfiguration"); err != nil {
		return err
	}
	a, err := arn.Parse(cfg.Destination.Bucket)
	switch {
	case err != nil || a.Service != "s3" || a.Partition != s.partition || strings.Contains(a.Resource, "/"):
		return fmt.Errorf("Invalid bucket ARN %q; want arn:%s:s3:::<bucket name>", cfg.Destination.Bucket, s.partition)
	case a.Region != "" || a.AccountID != "":
		return fmt.Errorf("Bucket ARN should not specify a namespace: %q", cfg.Destination.Bucket)
	case !bucketRe.MatchString(a.Resource):
		return fmt.Errorf("Invalid bucket name %q in the destination bucket ARN", a.Resource)
	}
	s.mu.RLock()
	dest := s.buckets[a.Resource]
	s.mu.RUnlock()
	if dest != nil && dest.region != b.region {
		return fmt.Errorf("the destination bucket %s is in %s; it must be in the source bucket's region, %s", a.Resource, dest.region, b.region)
	}
	return nil
}

// putBucketPolicy answers PutBucketPolicy: the document must be JSON
// (MalformedPolicy), at most 20 KB once its whitespace is removed, as S3
// counts (PolicyTooLarge), a policy the project's parser reads (a
// resource policy: every statement with its Effect, Principal, Action
// and Resource), with s3 actions only and resources of this bucket and
// its objects only (MalformedPolicy). It replaces the whole policy and
// is stored without the whitespace it was sent with, so a later
// GetBucketPolicy may differ in text from what was put: compare policies
// by meaning.
func (s *Server) putBucketPolicy(w http.ResponseWriter, r *http.Request, b *bucket) {
	r.Body = http.MaxBytesReader(w, r.Body, maxWriteBody)
	body, err := readS3Body(r)
	var compact bytes.Buffer
	if err == nil {
		err = json.Compact(&compact, body)
	}
	if err != nil || !bytes.HasPrefix(compact.Bytes(), []byte("{")) {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
		return
	}
	if compact.Len() > maxBucketPolicy {
		writeS3Error(w, r, http.StatusBadRequest, "PolicyTooLarge", fmt.Sprintf("Policy exceeds the maximum allowed document size: %d bytes, at most %d", compact.Len(), maxBucketPolicy))
		return
	}
	p, err := iampolicy.Parse(compact.Bytes())
	if err != nil {
		writeS3Error(w, r, http.StatusBadRequest, "MalformedPolicy", err.Error())
		return
	}
	bucketARN := "arn:" + s.partition + ":s3:::" + b.name
	for _, st := range p.Statements {
		for _, a := range append(slices.Clone(st.Action), st.NotAction...) {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
				writeS3Error(w, r, http.StatusBadRequest, "MalformedPolicy", "Policy has invalid action: "+a)
				return
			}
		}
		for _, res := range append(slices.Clone(st.Resource), st.NotResource...) {
			if res != bucketARN && !strings.HasPrefix(res, bucketARN+"/") {
				writeS3Error(w, r, http.StatusBadRequest, "MalformedPolicy", "Policy has invalid resource: "+res)
				return
			}
		}
	}
	s.mu.Lock()
	b.policy = compact.String()
	s.mu.Unlock()
	w.Header().Set("X-Amz-Request-Id", newRequestID())
	w.WriteHeader(http.StatusNoContent)
}

// putKeyPolicy answers PutKeyPolicy of k for c: the policy is required
// (ValidationException), at most 32 KB as sent (LimitExceededException),
// of the characters KMS allows and a policy the project's parser reads
// (MalformedPolicyDocumentException); a key pending deletion refuses it
// (KMSInvalidStateException). Unless the request sets
// BypassPolicyLockoutSafetyCheck, the new policy must allow the caller
// kms:PutKeyPolicy on the key as the project's evaluator decides (an
// Allow; NotAllowed, Deny and Unknown are refused), as KMS's lockout
// safety check does. A bypass is counted (Server.LockoutBypasses).
func (s *Server) putKeyPolicy(w http.ResponseWriter, c caller, k *kmsKey, in kmsRequest) {
	invalid := func(code, msg string) { writeJSONError(w, http.StatusBadRequest, code, msg) }
	switch {
	case in.Policy == nil:
		invalid("ValidationException", "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
		return
	case len(*in.Policy) > maxKeyPolicy:
		invalid("LimitExceededException", fmt.Sprintf("The key policy is %d bytes; the key policy size quota is %d bytes", len(*in.Policy), maxKeyPolicy))
		return
	case strings.ContainsFunc(*in.Policy, func(r rune) bool { return r > 0xFF || r < 0x20 && r != '\t' && r != '\n' && r != '\r' }):
		invalid("MalformedPolicyDocumentException", "The key policy holds a character outside printable ASCII, Latin-1, tab, line feed and carriage return")
		return
	case k.state == "PendingDeletion":
		invalid("KMSInvalidStateException", k.arn+" is pending deletion.")
		return
	}
	p, err := iampolicy.Parse([]byte(*in.Policy))
	if err != nil {
		invalid("MalformedPolicyDocumentException", "The key policy is not syntactically or semantically correct: "+err.Error())
		return
	}
	if in.Bypass {
		s.bypasses.Add(1)
	} else {
		d, err := p.Decide(iampolicy.Request{AWS: c.arn, Action: "kms:PutKeyPolicy", Resource: k.arn})
		if err != nil || d.Outcome != iampolicy.Allow {
			invalid("MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.")
			return
		}
	}
	s.mu.Lock()
	k.policy = *in.Policy
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{})
}

// LockoutBypasses returns how many PutKeyPolicy calls set
// BypassPolicyLockoutSafetyCheck (and so skipped the lockout check): a
// fixer must never set it.
func (s *Server) LockoutBypasses() int { return int(s.bypasses.Load()) }
