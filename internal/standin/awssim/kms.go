package awssim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

const kmsTargetPrefix = "TrentService."

// kmsKey is a key as the simulator holds it.
type kmsKey struct {
	id, arn, account, region, state, policy string
}

// pendingWindow is how long a key waits in PendingDeletion.
const pendingWindow = 30 * 24 * time.Hour

func newKMSKey(k Key, acct, partition string) *kmsKey {
	full := k.arn(acct, partition)
	a, _ := arn.Parse(full) // validated
	return &kmsKey{
		id: strings.TrimPrefix(a.Resource, "key/"), arn: full, account: acct, region: a.Region,
		state:  cmp.Or(k.State, "Enabled"),
		policy: cmp.Or(k.Policy, defaultKeyPolicy(partition, acct)),
	}
}

// defaultKeyPolicy is the key policy KMS gives a key created without one.
func defaultKeyPolicy(partition, acct string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:%s:iam::%s:root"},"Action":"kms:*","Resource":"*"}]}`, partition, acct)
}

// kmsFault answers an injected fault in KMS's JSON 1.1 error shape.
func kmsFault(w http.ResponseWriter, f *Fault) {
	switch f.Error {
	case FaultAccessDenied:
		writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", "awssim: injected: not authorized to use this key")
	case FaultThrottle:
		writeJSONError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	case FaultServiceUnavailable:
		writeJSONError(w, http.StatusServiceUnavailable, "DependencyTimeoutException", "awssim: injected: the service is unavailable")
	default:
		writeJSONError(w, http.StatusInternalServerError, "KMSInternalException", "awssim: injected "+f.Error)
	}
}

type kmsRequest struct {
	KeyID      string  `json:"KeyId"`
	PolicyName *string `json:"PolicyName"`
	Policy     *string `json:"Policy"`
	Bypass     bool    `json:"BypassPolicyLockoutSafetyCheck"`
}

// serveKMS answers DescribeKey, GetKeyPolicy and PutKeyPolicy. A key
// answers only callers of its own account, in its own region: a key ARN
// of another account is AccessDeniedException whether or not the key
// exists (the simulator does not evaluate key policies for cross-account
// use), a key of another region or an unknown key NotFoundException. A
// read-only role's PutKeyPolicy is AccessDeniedException.
func (s *Server) serveKMS(w http.ResponseWriter, r *http.Request, c caller, authCode, authMsg string) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), kmsTargetPrefix)
	switch op {
	case "DescribeKey", "GetKeyPolicy", "PutKeyPolicy":
	default:
		writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "awssim: operation "+r.Header.Get("X-Amz-Target")+" is not simulated")
		return
	}
	if authCode != "" {
		s.count(op, "")
		code := "UnrecognizedClientException"
		if authCode == "ExpiredToken" {
			code = "ExpiredTokenException"
		}
		writeJSONError(w, http.StatusBadRequest, code, authMsg)
		return
	}
	f, alive := s.begin(w, r, op, c.account, "")
	if !alive {
		return
	}
	if f != nil { // pagination faults never match KMS calls
		kmsFault(w, f)
		return
	}
	var in kmsRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWriteBody))
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "SerializationException", "awssim: "+err.Error())
		return
	}
	if in.KeyID == "" || len(in.KeyID) > 2048 {
		writeJSONError(w, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048")
		return
	}
	full := in.KeyID
	if a, err := arn.Parse(in.KeyID); err == nil {
		if a.AccountID != c.account {
			writeJSONError(w, http.StatusBadRequest, "AccessDeniedException",
				fmt.Sprintf("User: arn:%s:sts::%s:assumed-role/member is not authorized to perform: kms:%s on resource: %s because no resource-based policy allows the kms:%s action", s.partition, c.account, op, in.KeyID, op))
			return
		}
	} else {
		full = fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", s.partition, c.region, c.account, in.KeyID)
	}
	k := s.keys[full]
	if k == nil || k.region != c.region {
		writeJSONError(w, http.StatusBadRequest, "NotFoundException", fmt.Sprintf("Key '%s' does not exist", full))
		return
	}
	if in.PolicyName != nil && *in.PolicyName != "default" {
		writeJSONError(w, http.StatusBadRequest, "NotFoundException", fmt.Sprintf("Policy '%s' does not exist; the only key policy is default", *in.PolicyName))
		return
	}
	switch op {
	case "PutKeyPolicy":
		if c.readOnly {
			writeJSONError(w, http.StatusBadRequest, "AccessDeniedException", notAuthorized(c, "kms:PutKeyPolicy", k.arn))
			return
		}
		s.putKeyPolicy(w, c, k, in)
	case "DescribeKey":
		md := map[string]any{
			"AWSAccountId": k.account, "KeyId": k.id, "Arn": k.arn,
			"CreationDate": float64(joined.Unix()), "Enabled": k.state == "Enabled", "Description": "",
			"KeyUsage": "ENCRYPT_DECRYPT", "KeyState": k.state, "Origin": "AWS_KMS", "KeyManager": "CUSTOMER",
			"KeySpec": "SYMMETRIC_DEFAULT", "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
			"EncryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}, "MultiRegion": strings.HasPrefix(k.id, "mrk-"),
		}
		if k.state == "PendingDeletion" {
			md["DeletionDate"] = float64(s.now().Add(pendingWindow).Unix())
			md["PendingDeletionWindowInDays"] = int(pendingWindow / (24 * time.Hour))
		}
		writeJSON(w, http.StatusOK, map[string]any{"KeyMetadata": md})
	case "GetKeyPolicy":
		s.mu.RLock()
		policy := k.policy
		s.mu.RUnlock()
		writeJSON(w, http.StatusOK, map[string]any{"Policy": policy, "PolicyName": "default"})
	}
}
