//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
)

// outputCall is one request the function sent to EventBridge or
// Security Hub.
type outputCall struct {
	Service, Op, Account string
}

// outputs is a proxy in front of moto_server for the function's
// EventBridge and Security Hub requests. The function signs them with the
// simulated organization's credentials, which moto does not know (it
// would file everything under its default account): the proxy asks the
// simulators which account each access key acts in and tells moto with
// its x-moto-account-id header, so findings imported through a member
// role land in that account's Security Hub, and events sent with the
// function's own credentials in the management account's. It answers
// Security Hub requests of the accounts in notEnabled as Security Hub
// does where it is not enabled (moto does not), and records every call.
type outputs struct {
	URL  string
	moto string
	mu   sync.Mutex
	seen []outputCall
}

func newOutputs(t *testing.T, motoURL string, sims []*awssim.Server, notEnabled map[string]bool) *outputs {
	t.Helper()
	u, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	o := &outputs{moto: motoURL}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, service := signer(r.Header.Get("Authorization"))
		account := ""
		for _, s := range sims {
			if a, ok := s.AccountOf(key); ok {
				account = a
				break
			}
		}
		op := r.URL.Path
		if _, target, ok := strings.Cut(r.Header.Get("X-Amz-Target"), "."); ok {
			op = target
		} else if service == "securityhub" && r.URL.Path == "/findings/import" {
			op = "BatchImportFindings"
		}
		o.mu.Lock()
		o.seen = append(o.seen, outputCall{Service: service, Op: op, Account: account})
		o.mu.Unlock()
		if account == "" {
			http.Error(w, "the proxy knows no account of access key "+key, http.StatusForbidden)
			return
		}
		if service == "securityhub" && notEnabled[account] {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Amzn-Errortype", "InvalidAccessException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = fmt.Fprintf(w, `{"Code":"InvalidAccessException","Message":"Account %s is not subscribed to AWS Security Hub"}`, account)
			return
		}
		r.Header.Set("x-moto-account-id", account)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	o.URL = srv.URL
	return o
}

// signer returns the access key ID and the service of a SigV4
// Authorization header.
func signer(auth string) (key, service string) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[3]
}

// calls returns the calls recorded so far.
func (o *outputs) calls() []outputCall {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]outputCall(nil), o.seen...)
}

// count is how many of the recorded calls were op.
func (o *outputs) count(op string) int {
	n := 0
	for _, c := range o.calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// motoAs is an SDK configuration for moto_server acting in account, in
// region.
func motoAs(endpoint, account, region string) aws.Config {
	cfg := testenv.MotoConfig(endpoint)
	cfg.Region = region
	cfg.APIOptions = append(cfg.APIOptions, smithyhttp.AddHeaderValue("x-moto-account-id", account))
	return cfg
}

// eventQueue routes every event of the scanner on account's default bus
// in moto to a new SQS queue, and returns the queue's URL.
func eventQueue(t *testing.T, endpoint, account string) (*sqs.Client, string) {
	t.Helper()
	ctx := context.Background()
	cfg := motoAs(endpoint, account, "us-east-1")
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	qo, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("scanner-events")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qo.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("scanner-all"),
		EventPattern: aws.String(`{"source":["s3-inventory-scanner"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("scanner-all"), Targets: []ebtypes.Target{
		{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])},
	}}); err != nil {
		t.Fatal(err)
	}
	return q, aws.ToString(qo.QueueUrl)
}

// event is an event as the rule's queue receives it: the parts the test
// reads.
type event struct {
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
	Detail     struct {
		FindingID   string `json:"finding_id"`
		AccountID   string `json:"account_id"`
		RuleID      string `json:"rule_id"`
		Status      string `json:"status"`
		ScanID      string `json:"scan_id"`
		SecurityHub *struct {
			Imported, Failed int
			NotEnabled       int `json:"not_enabled"`
			Skipped          int
		} `json:"security_hub"`
	} `json:"detail"`
}

// drainEvents reads and deletes every message of the queue.
func drainEvents(t *testing.T, q *sqs.Client, queueURL string) []event {
	t.Helper()
	var out []event
	for {
		m, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Messages) == 0 {
			return out
		}
		for _, msg := range m.Messages {
			var e event
			if err := json.Unmarshal([]byte(aws.ToString(msg.Body)), &e); err != nil {
				t.Fatalf("event %s: %v", aws.ToString(msg.Body), err)
			}
			out = append(out, e)
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// hubFindings reads account's Security Hub findings in region from moto,
// by finding ID: "RECORDSTATE/COMPLIANCE RULE".
func hubFindings(t *testing.T, endpoint, account, region string) map[string]string {
	t.Helper()
	cfg := motoAs(endpoint, account, region)
	out := map[string]string{}
	p := securityhub.NewGetFindingsPaginator(securityhub.NewFromConfig(cfg), &securityhub.GetFindingsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("GetFindings of %s in %s: %v", account, region, err)
		}
		for _, f := range page.Findings {
			var compliance shtypes.ComplianceStatus
			if f.Compliance != nil {
				compliance = f.Compliance.Status
			}
			if aws.ToString(f.AwsAccountId) != account || aws.ToString(f.Region) != region {
				t.Errorf("account %s, %s holds a finding of account %s, %s", account, region, aws.ToString(f.AwsAccountId), aws.ToString(f.Region))
			}
			out[aws.ToString(f.Id)] = string(f.RecordState) + "/" + string(compliance) + " " + aws.ToString(f.GeneratorId)
		}
	}
	return out
}

// eventKinds describes events, sorted: "DETAIL-TYPE RULE STATUS ID" for a
// finding's, "Scan Finished SCAN-ID" for a scan's.
func eventKinds(evs []event) []string {
	var out []string
	for _, e := range evs {
		if e.DetailType == "Scan Finished" {
			out = append(out, e.DetailType+" "+e.Detail.ScanID)
			continue
		}
		out = append(out, e.DetailType+" "+e.Detail.RuleID+" "+e.Detail.Status+" "+e.Detail.FindingID)
	}
	slices.Sort(out)
	return out
}

// checkFirstRunOutputs checks what the first scheduled run sent: an event
// for each finding it opened and one for the scan, which carries the
// Security Hub counts; each finding of 222222222222 imported ACTIVE and
// FAILED into that account's Security Hub in its bucket's Region; the
// SCAN-001 of 333333333333 (no role to import through) counted failed;
// 555555555555 (Security Hub not enabled) warned about once and counted;
// nothing anywhere else.
func checkFirstRunOutputs(t *testing.T, sum summary, first map[string][]report.Record, evs []event, motoURL string, fnOutput string) {
	t.Helper()
	want := []string{"Scan Finished " + sum.ScanID}
	for _, recs := range first {
		for _, r := range recs {
			want = append(want, "Finding Opened "+r.RuleID+" "+string(r.Status)+" "+r.FindingID)
		}
	}
	slices.Sort(want)
	if got := eventKinds(evs); !slices.Equal(got, want) {
		t.Errorf("events of the first run:\n%v\nwant\n%v", got, want)
	}
	// 222's findings imported; 333's SCAN-001 failed (no role to import
	// through); 555's SCAN-003 skipped, Security Hub not enabled there.
	wantHub := hubCounts{Imported: len(wantOpen["222222222222"]), Failed: 1, NotEnabled: 1, Skipped: 1}
	if sum.SecurityHub == nil || *sum.SecurityHub != wantHub || sum.EventsFailed != 0 {
		t.Errorf("summary: security_hub %+v, events_failed %d; want %+v, 0", sum.SecurityHub, sum.EventsFailed, wantHub)
	}
	for _, e := range evs {
		if e.DetailType == "Scan Finished" && (e.Detail.SecurityHub == nil || e.Detail.SecurityHub.Imported != wantHub.Imported || e.Detail.SecurityHub.NotEnabled != 1) {
			t.Errorf("the Scan Finished event carries security_hub %+v; want %+v", e.Detail.SecurityHub, wantHub)
		}
	}
	byRegion := map[string]map[string]string{}
	for _, r := range first["222222222222"] {
		if byRegion[r.Region] == nil {
			byRegion[r.Region] = map[string]string{}
		}
		byRegion[r.Region][r.FindingID] = "ACTIVE/FAILED " + r.RuleID
	}
	if len(byRegion) != 2 {
		t.Errorf("222222222222's findings are in %d Regions; the test wants two (eu-west-1, us-east-1)", len(byRegion))
	}
	for region, want := range byRegion {
		if got := hubFindings(t, motoURL, "222222222222", region); !maps.Equal(got, want) {
			t.Errorf("Security Hub of 222222222222, %s: %v; want %v", region, got, want)
		}
	}
	for _, elsewhere := range []struct{ account, region string }{
		{"333333333333", "us-east-1"}, {"555555555555", "us-east-1"}, {"111111111111", "us-east-1"}, {"123456789012", "us-east-1"}, {"123456789012", "eu-west-1"},
	} {
		if got := hubFindings(t, motoURL, elsewhere.account, elsewhere.region); len(got) != 0 {
			t.Errorf("Security Hub of %s, %s: %v; want nothing", elsewhere.account, elsewhere.region, got)
		}
	}
	var warnings []string
	for l := range strings.Lines(fnOutput) {
		if strings.Contains(l, "Security Hub is not enabled") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "555555555555") || !strings.Contains(warnings[0], "WARN") {
		t.Errorf("the function's warnings that Security Hub is not enabled: %q; want one, for 555555555555", warnings)
	}
}

// fixConfiguration makes the inventory configuration "plain" of
// app-unencrypted (222222222222) compliant, as its owner would: through
// the member role, with PutBucketInventoryConfiguration.
func fixConfiguration(t *testing.T, sim *awssim.Server) {
	t.Helper()
	ctx := context.Background()
	cfg, err := sim.AWSConfig(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::222222222222:role/"+roleName,
		func(o *stscreds.AssumeRoleOptions) { o.ExternalID = aws.String(externalID) }))
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err = c.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{
		Bucket: aws.String("app-unencrypted"), Id: aws.String("plain"),
		InventoryConfiguration: &s3types.InventoryConfiguration{
			Id: aws.String("plain"), IsEnabled: aws.Bool(true),
			IncludedObjectVersions: s3types.InventoryIncludedObjectVersionsAll,
			Schedule:               &s3types.InventorySchedule{Frequency: s3types.InventoryFrequencyDaily},
			Destination: &s3types.InventoryDestination{S3BucketDestination: &s3types.InventoryS3BucketDestination{
				AccountId: aws.String("111111111111"), Bucket: aws.String("arn:aws:s3:::central-inventory"),
				Format: s3types.InventoryFormatParquet,
				Encryption: &s3types.InventoryEncryption{SSEKMS: &s3types.SSEKMS{
					KeyId: aws.String("arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab")}},
			}},
		},
	})
	if err != nil {
		t.Fatalf("fix the configuration plain of app-unencrypted: %v", err)
	}
}
