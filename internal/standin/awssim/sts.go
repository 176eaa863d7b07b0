package awssim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

var sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// maxRoleSession is every simulated role's maximum session duration.
const maxRoleSession = time.Hour

func writeQueryError(w http.ResponseWriter, status int, code, msg string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	body := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		NS      string   `xml:"xmlns,attr"`
		Type    string   `xml:"Error>Type"`
		Code    string   `xml:"Error>Code"`
		Message string   `xml:"Error>Message"`
		ID      string   `xml:"RequestId"`
	}{NS: stsNS, Type: typ, Code: code, Message: msg, ID: newRequestID()}
	writeXML(w, status, body)
}

// xmlDocument marshals v after the XML declaration.
func xmlDocument(v any) ([]byte, error) {
	out, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

func writeXML(w http.ResponseWriter, status int, v any) {
	out, err := xmlDocument(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// queryFault answers an injected fault in the query protocol's shape.
func queryFault(w http.ResponseWriter, f *Fault, resource string) {
	switch f.Error {
	case FaultAccessDenied:
		writeQueryError(w, http.StatusForbidden, "AccessDenied", "awssim: injected: not authorized to perform: sts:AssumeRole on resource: "+resource)
	case FaultThrottle:
		writeQueryError(w, http.StatusBadRequest, "Throttling", "Rate exceeded")
	case FaultServiceUnavailable:
		writeQueryError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "awssim: injected: the service is unavailable")
	default:
		writeQueryError(w, http.StatusInternalServerError, "InternalFailure", "awssim: injected "+f.Error)
	}
}

func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, c caller, authCode, authMsg string) {
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, http.StatusBadRequest, "MalformedQueryString", "awssim: "+err.Error())
		return
	}
	action := r.Form.Get("Action")
	switch action {
	case "AssumeRole", "GetCallerIdentity":
	default:
		s.count(action, c.account)
		writeQueryError(w, http.StatusBadRequest, "InvalidAction", "awssim: action "+action+" is not simulated")
		return
	}
	if authCode != "" {
		s.count(action, "")
		writeQueryError(w, http.StatusForbidden, authCode, authMsg)
		return
	}
	if action == "GetCallerIdentity" {
		f, ok := s.begin(w, r, action, c.account, "")
		if !ok {
			return
		}
		if f != nil {
			queryFault(w, f, "")
			return
		}
		body := struct {
			XMLName xml.Name `xml:"GetCallerIdentityResponse"`
			NS      string   `xml:"xmlns,attr"`
			Account string   `xml:"GetCallerIdentityResult>Account"`
			Arn     string   `xml:"GetCallerIdentityResult>Arn"`
			UserID  string   `xml:"GetCallerIdentityResult>UserId"`
			ID      string   `xml:"ResponseMetadata>RequestId"`
		}{NS: stsNS, Account: c.account, Arn: c.arn, UserID: c.accessKeyID, ID: newRequestID()}
		writeXML(w, http.StatusOK, body)
		return
	}

	roleARN := r.Form.Get("RoleArn")
	parsed, err := arn.Parse(roleARN)
	target := parsed.AccountID
	f, ok := s.begin(w, r, action, target, "")
	if !ok {
		return
	}
	if f != nil {
		queryFault(w, f, roleARN)
		return
	}
	if !c.management {
		writeQueryError(w, http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: arn:%s:sts::%s:assumed-role/member is not authorized to perform: sts:AssumeRole on resource: %s", s.partition, c.account, roleARN))
		return
	}
	if err != nil || parsed.Service != "iam" || !strings.HasPrefix(parsed.Resource, "role/") {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: want an IAM role ARN", roleARN))
		return
	}
	if parsed.Partition != s.partition {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: the partition %q is not this partition %q", roleARN, parsed.Partition, s.partition))
		return
	}
	session := r.Form.Get("RoleSessionName")
	if !sessionNameRe.MatchString(session) {
		writeQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session))
		return
	}
	duration := 3600 * time.Second
	if d := r.Form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", d))
			return
		}
		duration = time.Duration(n) * time.Second
		if duration > maxRoleSession {
			writeQueryError(w, http.StatusBadRequest, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
			return
		}
	}
	denied := func() {
		writeQueryError(w, http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: arn:%s:iam::%s:user/awssim is not authorized to perform: sts:AssumeRole on resource: %s", s.partition, c.account, roleARN))
	}
	acct := s.byID[target]
	name := strings.TrimPrefix(parsed.Resource, "role/")
	var role Role
	found := false
	if acct != nil {
		role, found = acct.assumable(name)
	}
	if !found || role.ExternalID != "" && r.Form.Get("ExternalId") != role.ExternalID {
		denied()
		return
	}

	roleName := name[strings.LastIndex(name, "/")+1:]
	sessionARN := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", parsed.Partition, target, roleName, session)
	key := fmt.Sprintf("ASIASIM%013d", s.keySeq.Add(1))
	is := issued{account: target, secret: randomHex(20), token: "sim-session-" + randomHex(24), expires: s.now().Add(duration).UTC().Truncate(time.Second),
		arn: sessionARN, readOnly: role.ReadOnly}
	s.mu.Lock()
	s.creds[key] = is
	s.mu.Unlock()
	body := struct {
		XMLName    xml.Name `xml:"AssumeRoleResponse"`
		NS         string   `xml:"xmlns,attr"`
		KeyID      string   `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
		Secret     string   `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
		Token      string   `xml:"AssumeRoleResult>Credentials>SessionToken"`
		Expiration string   `xml:"AssumeRoleResult>Credentials>Expiration"`
		UserArn    string   `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
		UserID     string   `xml:"AssumeRoleResult>AssumedRoleUser>AssumedRoleId"`
		ID         string   `xml:"ResponseMetadata>RequestId"`
	}{
		NS: stsNS, KeyID: key, Secret: is.secret, Token: is.token, Expiration: is.expires.Format(time.RFC3339),
		UserArn: sessionARN,
		UserID:  "AROASIM" + target + ":" + session,
		ID:      newRequestID(),
	}
	writeXML(w, http.StatusOK, body)
}

// AccountOf returns the account that credentials with the access key ID
// act in: the role's account for keys AssumeRole issued, the management
// account for the management key; false for a key the simulator never
// issued. Tests use it to tell another server (moto_server) which
// account a request of the simulated organization's credentials is for.
func (s *Server) AccountOf(accessKeyID string) (string, bool) {
	if id, _ := s.ManagementCredentials(); accessKeyID == id {
		return s.mgmtAccount, true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	is, ok := s.creds[accessKeyID]
	return is.account, ok
}
