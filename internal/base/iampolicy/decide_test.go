package iampolicy

import (
	"slices"
	"strings"
	"testing"
)

const (
	destObject = "arn:aws:s3:::dest/inventory/source-bucket/cfg/data/x.csv.gz"
	allowAll   = `{"Sid":"AllowAll","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`
)

func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func s3Put(resource string) Request {
	return Request{Service: S3Service, Action: "s3:PutObject", Resource: resource}
}

func TestDecide(t *testing.T) {
	role := "arn:aws:iam::111122223333:role/path/Deployer"
	session := "arn:aws:sts::111122223333:assumed-role/Deployer/ci-run"
	tests := []struct {
		name       string
		policy     string
		req        Request
		want       Outcome
		statements []string
		reason     string // for Unknown, a substring of the reason
	}{
		{"allow everything, service", doc(allowAll), s3Put(destObject), Allow, []string{"AllowAll"}, ""},
		{"allow everything, IAM principal", doc(allowAll), Request{AWS: role, Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/k"}, Allow, []string{"AllowAll"}, ""},
		{"allow everything, single object statement", `{"Statement":` + allowAll + `}`, s3Put(destObject), Allow, []string{"AllowAll"}, ""},
		{"empty of matches is NotAllowed", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"deny put without condition wins over allow everything", doc(allowAll, `{"Sid":"NoPut","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), Deny, []string{"NoPut"}, ""},
		{"deny put, get is still allowed", doc(allowAll, `{"Sid":"NoPut","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}`), Request{Service: S3Service, Action: "s3:GetObject", Resource: destObject}, Allow, []string{"AllowAll"}, ""},
		{"deny alone is Deny", doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}`), s3Put(destObject), Deny, []string{"#0"}, ""},
		{"every matching statement is named", doc(`{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:Put*","Resource":"*"}`, `{"Sid":"B","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:*","Resource":"arn:aws:s3:::dest/*"}`), s3Put(destObject), Allow, []string{"A", "B"}, ""},
		// Principals.
		{"AWS star covers services", doc(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), Allow, []string{"#0"}, ""},
		{"service list", doc(`{"Effect":"Allow","Principal":{"Service":["cloudtrail.amazonaws.com","s3.amazonaws.com"]},"Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), Allow, []string{"#0"}, ""},
		{"other service", doc(`{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"service in other case", doc(`{"Effect":"Allow","Principal":{"Service":"S3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), Unknown, []string{"#0"}, "in case only"},
		{"account principal does not cover a service", doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"federated does not cover a service", doc(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"*","Resource":"*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"canonical user does not cover a service", doc(`{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbace"},"Action":"*","Resource":"*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"canonical user for an IAM principal is unknown", doc(`{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbace"},"Action":"*","Resource":"*"}`), Request{AWS: role, Action: "s3:PutObject", Resource: destObject}, Unknown, []string{"#0"}, "canonical user"},
		{"account ID covers its role", doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:PutObject","Resource":"*"}`), Request{AWS: role, Action: "s3:PutObject", Resource: destObject}, Allow, []string{"#0"}, ""},
		{"root ARN covers its role", doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:PutObject","Resource":"*"}`), Request{AWS: role, Action: "s3:PutObject", Resource: destObject}, Allow, []string{"#0"}, ""},
		{"root ARN of another account", doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:PutObject","Resource":"*"}`), Request{AWS: role, Action: "s3:PutObject", Resource: destObject}, NotAllowed, nil, ""},
		{"account request principal", doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:PutObject","Resource":"*"}`), Request{AWS: "111122223333", Action: "s3:PutObject", Resource: destObject}, Allow, []string{"#0"}, ""},
		{"role ARN covers its session", doc(`{"Effect":"Allow","Principal":{"AWS":"` + role + `"},"Action":"s3:PutObject","Resource":"*"}`), Request{AWS: session, Action: "s3:PutObject", Resource: destObject}, Allow, []string{"#0"}, ""},
		{"role ARN does not cover another role's session", doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Other"},"Action":"s3:PutObject","Resource":"*"}`), Request{AWS: session, Action: "s3:PutObject", Resource: destObject}, NotAllowed, nil, ""},
		{"wildcard AWS principal is unknown", doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"s3:PutObject","Resource":"*"}`), Request{AWS: role, Action: "s3:PutObject", Resource: destObject}, Unknown, []string{"#0"}, "wildcard"},
		// NotPrincipal, NotAction, NotResource.
		{"deny not-principal hits the service", doc(allowAll, `{"Sid":"OnlyAdmins","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}`), s3Put(destObject), Deny, []string{"OnlyAdmins"}, ""},
		{"deny not-principal spares the named account", doc(allowAll, `{"Sid":"OnlyAdmins","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}`), Request{AWS: role, Action: "s3:PutObject", Resource: destObject}, Allow, []string{"AllowAll"}, ""},
		{"deny not-principal spares the named service", doc(allowAll, `{"Sid":"OnlyS3","Effect":"Deny","NotPrincipal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), Allow, []string{"AllowAll"}, ""},
		{"allow not-action covers put", doc(`{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"*"}`), s3Put(destObject), Allow, []string{"#0"}, ""},
		{"allow not-action excludes put", doc(`{"Effect":"Allow","Principal":"*","NotAction":["s3:Delete*","s3:Put*"],"Resource":"*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"deny not-resource outside the prefix", doc(allowAll, `{"Sid":"OnlyInventory","Effect":"Deny","Principal":"*","Action":"s3:PutObject","NotResource":"arn:aws:s3:::dest/inventory/*"}`), s3Put("arn:aws:s3:::dest/other/x"), Deny, []string{"OnlyInventory"}, ""},
		{"deny not-resource inside the prefix", doc(allowAll, `{"Sid":"OnlyInventory","Effect":"Deny","Principal":"*","Action":"s3:PutObject","NotResource":"arn:aws:s3:::dest/inventory/*"}`), s3Put(destObject), Allow, []string{"AllowAll"}, ""},
		// Actions and resources.
		{"action wildcard", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:Put*","Resource":"*"}`), s3Put(destObject), Allow, []string{"#0"}, ""},
		{"action case-insensitive", doc(`{"Effect":"Allow","Principal":"*","Action":"S3:putobject","Resource":"*"}`), s3Put(destObject), Allow, []string{"#0"}, ""},
		{"action of another service", doc(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"resource of the bucket, not its objects", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::dest"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"resource wildcard inside a key", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::dest/*/data/*"}`), s3Put(destObject), Allow, []string{"#0"}, ""},
		{"resource question mark", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::de?t/*"}`), s3Put(destObject), Allow, []string{"#0"}, ""},
		{"resource of another bucket", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::other/*","arn:aws:s3:::dest2/*"]}`), s3Put(destObject), NotAllowed, nil, ""},
		{"resource case-sensitive", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::DEST/*"}`), s3Put(destObject), NotAllowed, nil, ""},
		{"resource not an ARN is unknown", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"dest/*"}`), s3Put(destObject), Unknown, []string{"#0"}, "not an ARN"},
		// Policy variables: out of scope in 2012-10-17, plain text in 2008-10-17.
		{"policy variable in resource", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::dest/${aws:username}/*"}`), s3Put(destObject), Unknown, []string{"#0"}, "policy variable"},
		{"version 2008 reads variables as text", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::dest/${aws:username}/*"}]}`, s3Put(destObject), NotAllowed, nil, ""},
		{"version 2008 policy", `{"Version":"2008-10-17","Statement":[{"Sid":"Old","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::dest/*"}]}`, s3Put(destObject), Allow, []string{"Old"}, ""},
		// Undecidable statements matter only when the answer depends on them.
		{"unknown allow alone", doc(`{"Sid":"Ip","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`), s3Put(destObject), Unknown, []string{"Ip"}, `"IpAddress" is not implemented`},
		{"unknown allow beside a decided allow", doc(allowAll, `{"Sid":"Ip","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`), s3Put(destObject), Allow, []string{"AllowAll"}, ""},
		{"unknown deny beside a decided allow", doc(allowAll, `{"Sid":"NotFromVpc","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`), s3Put(destObject), Unknown, []string{"NotFromVpc"}, `"aws:SourceVpce" is not known`},
		{"unknown deny beside an unknown allow", doc(`{"Sid":"Ip","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`, `{"Sid":"NotFromVpc","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`), s3Put(destObject), Unknown, []string{"NotFromVpc"}, "statement Ip"},
		{"unknown deny without any allow", doc(`{"Sid":"NotFromVpc","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`), s3Put(destObject), NotAllowed, nil, ""},
		{"decided deny beside an unknown deny and allow", doc(allowAll, `{"Sid":"NotFromVpc","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}`, `{"Sid":"NoPut","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}`), s3Put(destObject), Deny, []string{"NoPut"}, ""},
		{"unknown operator in a statement for another action", doc(allowAll, `{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`), s3Put(destObject), Allow, []string{"AllowAll"}, ""},
		{"unknown operator in a statement for another principal", doc(allowAll, `{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`), s3Put(destObject), Allow, []string{"AllowAll"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mustParse(t, tt.policy).Decide(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.want || !slices.Equal(d.Statements, tt.statements) {
				t.Fatalf("Decide = %+v, want %v by %q", d, tt.want, tt.statements)
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", d.Reason, tt.reason)
			}
			checkDecision(t, d)
		})
	}
}

// TestDecideControlTower evaluates a Control Tower log-archive bucket
// policy: its TLS-only Deny uses Bool on aws:SecureTransport, which does
// not apply when the key is absent, applies when it is false, and applies
// to an absent key only when written BoolIfExists.
func TestDecideControlTower(t *testing.T) {
	policy := readTestdata(t, "control-tower-log-archive.json")
	const (
		bucket = "arn:aws:s3:::aws-controltower-logs-444455556666-us-east-1"
		object = bucket + "/inventory/source-bucket/cfg/data/x.csv.gz"
	)
	ctx := func(extra ...string) map[string][]string {
		m := map[string][]string{"aws:SourceOrgID": {"o-exampleorg1"}, "s3:x-amz-acl": {"bucket-owner-full-control"}}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i]] = []string{extra[i+1]}
		}
		return m
	}
	tests := []struct {
		name       string
		policy     string
		req        Request
		want       Outcome
		statements []string
	}{
		{"inventory put, TLS key absent", policy, Request{Service: S3Service, Action: "s3:PutObject", Resource: object, Context: ctx()}, Allow, []string{"S3InventoryDelivery"}},
		{"inventory put over TLS", policy, Request{Service: S3Service, Action: "s3:PutObject", Resource: object, Context: ctx("aws:SecureTransport", "true")}, Allow, []string{"S3InventoryDelivery"}},
		{"inventory put without TLS", policy, Request{Service: S3Service, Action: "s3:PutObject", Resource: object, Context: ctx("aws:SecureTransport", "false")}, Deny, []string{"AllowSSLRequestsOnly"}},
		{"inventory put from another organization", policy, Request{Service: S3Service, Action: "s3:PutObject", Resource: object, Context: map[string][]string{"aws:SourceOrgID": {"o-other"}, "s3:x-amz-acl": {"bucket-owner-full-control"}}}, NotAllowed, nil},
		{"inventory put outside the inventory prefix", policy, Request{Service: S3Service, Action: "s3:PutObject", Resource: bucket + "/elsewhere/x", Context: ctx()}, NotAllowed, nil},
		{"config delivery", policy, Request{Service: "config.amazonaws.com", Action: "s3:PutObject", Resource: bucket + "/o-exampleorg1/AWSLogs/111122223333/Config/x.json.gz", Context: ctx()}, Allow, []string{"AWSBucketDeliveryForConfig"}},
		{"cloudtrail acl check", policy, Request{Service: "cloudtrail.amazonaws.com", Action: "s3:GetBucketAcl", Resource: bucket}, Allow, []string{"AWSBucketPermissionsCheck"}},
		{"BoolIfExists denies an absent key", strings.Replace(policy, `"Bool"`, `"BoolIfExists"`, 1), Request{Service: S3Service, Action: "s3:PutObject", Resource: object, Context: ctx()}, Deny, []string{"AllowSSLRequestsOnly"}},
		{"BoolIfExists spares TLS", strings.Replace(policy, `"Bool"`, `"BoolIfExists"`, 1), Request{Service: S3Service, Action: "s3:PutObject", Resource: object, Context: ctx("aws:SecureTransport", "true")}, Allow, []string{"S3InventoryDelivery"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mustParse(t, tt.policy).Decide(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.want || !slices.Equal(d.Statements, tt.statements) {
				t.Fatalf("Decide = %+v, want %v by %q", d, tt.want, tt.statements)
			}
			checkDecision(t, d)
		})
	}
}

func TestDecideInvalidRequest(t *testing.T) {
	p := mustParse(t, doc(allowAll))
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"no principal", Request{Action: "s3:PutObject", Resource: destObject}, "exactly one of Service and AWS"},
		{"two principals", Request{Service: S3Service, AWS: "111122223333", Action: "s3:PutObject", Resource: destObject}, "exactly one of Service and AWS"},
		{"bad AWS principal", Request{AWS: "alice", Action: "s3:PutObject", Resource: destObject}, `principal "alice"`},
		{"action without service", Request{Service: S3Service, Action: "PutObject", Resource: destObject}, `action "PutObject"`},
		{"action with wildcard", Request{Service: S3Service, Action: "s3:Put*", Resource: destObject}, `action "s3:Put*"`},
		{"resource not an ARN", Request{Service: S3Service, Action: "s3:PutObject", Resource: "dest/key"}, `resource "dest/key"`},
		{"resource with wildcard", Request{Service: S3Service, Action: "s3:PutObject", Resource: "arn:aws:s3:::dest/*"}, `resource "arn:aws:s3:::dest/*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Decide(tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decide = %+v, %v; want an error containing %q", d, err, tt.want)
			}
			if d.Outcome != Unknown {
				t.Errorf("Decide with an error returned %v, want the zero Unknown", d.Outcome)
			}
		})
	}
}

func TestOutcomeText(t *testing.T) {
	for o, want := range map[Outcome]string{Unknown: "Unknown", NotAllowed: "NotAllowed", Allow: "Allow", Deny: "Deny"} {
		b, err := o.MarshalText()
		if err != nil || string(b) != want || o.String() != want {
			t.Errorf("Outcome %d: MarshalText %q, %v; String %q; want %q", int(o), b, err, o.String(), want)
		}
	}
	if _, err := Outcome(9).MarshalText(); err == nil {
		t.Error("MarshalText of Outcome(9) succeeded, want an error")
	}
	if got := Outcome(9).String(); got != "Outcome(9)" {
		t.Errorf("String = %q, want Outcome(9)", got)
	}
	var d Decision
	if d.Outcome != Unknown {
		t.Errorf("zero Decision is %v, want Unknown", d.Outcome)
	}
}
