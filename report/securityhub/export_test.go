package securityhub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// fakeAPI is one account and Region's Security Hub: it records every
// call, and answers with respond (nil: every finding imported).
type fakeAPI struct {
	to      Target
	mu      sync.Mutex
	calls   [][]types.AwsSecurityFinding
	respond func(call int, fs []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error)
}

func (f *fakeAPI) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in.Findings)
	n := len(f.calls)
	f.mu.Unlock()
	if f.respond != nil {
		return f.respond(n, in.Findings)
	}
	return imported(in.Findings), nil
}

func imported(fs []types.AwsSecurityFinding) *securityhub.BatchImportFindingsOutput {
	return &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0), SuccessCount: aws.Int32(int32(len(fs)))}
}

// fakeClients hands out one fakeAPI per account and Region; accounts in
// noRole cannot be opened.
type fakeClients struct {
	mu      sync.Mutex
	apis    map[Target]*fakeAPI
	respond func(to Target) func(int, []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error)
	noRole  map[string]bool
	opened  []Target
}

func (c *fakeClients) Client(_ context.Context, account, region string) (API, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	to := Target{account, region}
	c.opened = append(c.opened, to)
	if c.noRole[account] {
		return nil, errors.New("assume role: AccessDenied")
	}
	if c.apis == nil {
		c.apis = map[Target]*fakeAPI{}
	}
	if c.apis[to] == nil {
		c.apis[to] = &fakeAPI{to: to}
		if c.respond != nil {
			c.apis[to].respond = c.respond(to)
		}
	}
	return c.apis[to], nil
}

func (c *fakeClients) api(to Target) *fakeAPI {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apis[to]
}

// ids returns the finding IDs of the calls.
func ids(calls [][]types.AwsSecurityFinding) [][]string {
	var out [][]string
	for _, c := range calls {
		var ids []string
		for _, f := range c {
			ids = append(ids, aws.ToString(f.Id))
		}
		out = append(out, ids)
	}
	return out
}

func opened(rs ...report.Record) []report.Transition {
	var ts []report.Transition
	for _, r := range rs {
		ts = append(ts, report.Transition{Kind: report.TransitionOpened, ScanID: "scan-2", Record: r})
	}
	return ts
}

func newExporter(t *testing.T, c Clients, log *bytes.Buffer) *Exporter {
	t.Helper()
	e, err := New(c, Options{Partition: "aws", HomeRegion: "us-east-1", Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestExportGroupsByAccountAndRegion: each finding goes to its account's
// Security Hub in the bucket's Region, account-level findings to the
// home Region; at most 100 a call; a finding changed twice is sent once,
// as it was last.
func TestExportGroupsByAccountAndRegion(t *testing.T) {
	var rs []report.Record
	for i := range 250 {
		rs = append(rs, record("111111111111", sinktest.Spec{Bucket: fmt.Sprintf("b%03d", i), Rule: "INV-001", Severity: rules.SeverityMedium}))
	}
	us := record("111111111111", sinktest.Spec{Bucket: "us-bucket", Rule: "INV-001", Severity: rules.SeverityMedium})
	us.Region = "us-west-2"
	acct := record("222222222222", sinktest.Spec{Rule: "SCAN-002", Severity: rules.SeverityHigh})
	ts := opened(append(rs, us, acct)...)
	resolved := report.Resolve(rs[0], "scan-2", t0.Add(72*time.Hour), report.DefaultRetention, report.ResolutionNotSeen)
	ts = append(ts, report.Transition{Kind: report.TransitionResolved, ScanID: "scan-2", Record: resolved, From: rules.StatusOpen})

	c := &fakeClients{}
	var log bytes.Buffer
	got, err := newExporter(t, c, &log).Export(context.Background(), ts)
	if err != nil {
		t.Fatal(err)
	}
	if want := (report.SecurityHubCounts{Imported: 252}); got != want {
		t.Errorf("Export = %+v; want %+v", got, want)
	}
	eu := c.api(Target{"111111111111", "eu-west-1"})
	if sizes := callSizes(eu.calls); !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Errorf("eu-west-1 calls of %v findings; want 100, 100, 50", sizes)
	}
	first := eu.calls[0][0]
	if aws.ToString(first.Id) != rs[0].FindingID || first.RecordState != types.RecordStateArchived {
		t.Errorf("first finding sent as %s %s; want %s ARCHIVED (its last change, the resolution)", aws.ToString(first.Id), first.RecordState, rs[0].FindingID)
	}
	for to, want := range map[Target]string{{"111111111111", "us-west-2"}: us.FindingID, {"222222222222", "us-east-1"}: acct.FindingID} {
		api := c.api(to)
		if api == nil || !slices.EqualFunc(ids(api.calls), [][]string{{want}}, slices.Equal) {
			t.Errorf("%+v: calls %v; want one of %s", to, api, want)
			continue
		}
		f := api.calls[0][0]
		if aws.ToString(f.AwsAccountId) != to.Account || !strings.Contains(aws.ToString(f.ProductArn), ":"+to.Region+":"+to.Account+":") {
			t.Errorf("%+v: finding of account %s, product %s", to, aws.ToString(f.AwsAccountId), aws.ToString(f.ProductArn))
		}
	}
	if log.Len() != 0 {
		t.Errorf("a clean export logged %s", log.String())
	}
}

func callSizes(calls [][]types.AwsSecurityFinding) []int {
	var out []int
	for _, c := range calls {
		out = append(out, len(c))
	}
	return out
}

// TestBatchesKeepWithinSize: calls stay under 6 MB whatever the findings'
// sizes.
func TestBatchesKeepWithinSize(t *testing.T) {
	var items []item
	for i := range 90 {
		items = append(items, item{finding: types.AwsSecurityFinding{Id: aws.String(fmt.Sprint(i))}, size: 200 * 1024})
	}
	bs := batches(items)
	total := 0
	for _, b := range bs {
		size := batchOverhead
		for _, it := range b {
			size += it.size + 1
		}
		if size > MaxBatchSize || len(b) > MaxFindings {
			t.Errorf("batch of %d findings, %d bytes", len(b), size)
		}
		total += len(b)
	}
	if total != 90 || len(bs) != 3 {
		t.Errorf("%d findings in %d batches; want 90 in 3 (30 of 200 KB a call)", total, len(bs))
	}
}

// TestFailedFindingsResent: findings Security Hub reports in
// FailedFindings are sent again, alone, until they are imported; those
// that keep failing, or fail with InvalidInput, are counted and logged
// once the attempts are spent.
func TestFailedFindingsResent(t *testing.T) {
	var rs []report.Record
	for i := range 5 {
		rs = append(rs, record("111111111111", sinktest.Spec{Bucket: fmt.Sprintf("b%d", i), Rule: "INV-001", Severity: rules.SeverityMedium}))
	}
	flaky, stuck, invalid := rs[1].FindingID, rs[2].FindingID, rs[3].FindingID
	c := &fakeClients{respond: func(Target) func(int, []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error) {
		return func(call int, fs []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error) {
			out := &securityhub.BatchImportFindingsOutput{}
			for _, f := range fs {
				id := aws.ToString(f.Id)
				switch {
				case id == flaky && call < 3, id == stuck:
					out.FailedFindings = append(out.FailedFindings, types.ImportFindingsError{Id: f.Id, ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")})
				case id == invalid:
					out.FailedFindings = append(out.FailedFindings, types.ImportFindingsError{Id: f.Id, ErrorCode: aws.String("InvalidInput"), ErrorMessage: aws.String("bad field")})
				}
			}
			out.FailedCount = aws.Int32(int32(len(out.FailedFindings)))
			out.SuccessCount = aws.Int32(int32(len(fs) - len(out.FailedFindings)))
			return out, nil
		}
	}}
	var log bytes.Buffer
	got, err := newExporter(t, c, &log).Export(context.Background(), opened(rs...))
	if want := (report.SecurityHubCounts{Imported: 3, Failed: 2}); got != want {
		t.Errorf("Export = %+v; want %+v", got, want)
	}
	if err == nil || !strings.Contains(err.Error(), "2 findings not imported") {
		t.Errorf("error %v; want one naming the 2 findings not imported", err)
	}
	calls := ids(c.api(Target{"111111111111", "eu-west-1"}).calls)
	want := [][]string{
		{rs[0].FindingID, flaky, stuck, invalid, rs[4].FindingID},
		{flaky, stuck}, {flaky, stuck}, {stuck}, {stuck},
	}
	if !slices.EqualFunc(calls, want, slices.Equal) {
		t.Errorf("calls %v; want %v (5 attempts, the failed findings alone)", calls, want)
	}
	for _, id := range []string{stuck, invalid} {
		if n := strings.Count(log.String(), "finding_id="+id); n != 1 {
			t.Errorf("finding %s logged %d times; want once:\n%s", id, n, log.String())
		}
	}
	if strings.Contains(log.String(), flaky) {
		t.Errorf("the finding imported on its third attempt was logged:\n%s", log.String())
	}
}

// apiError is an error as the SDK returns a service's answer.
func apiError(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg}
}

// TestNotEnabled: an account and Region where Security Hub is not enabled
// (InvalidAccessException) gets one warning and is counted, with the
// findings not sent; no call is repeated; the others are imported.
func TestNotEnabled(t *testing.T) {
	var rs []report.Record
	for i := range 150 {
		rs = append(rs, record("111111111111", sinktest.Spec{Bucket: fmt.Sprintf("b%03d", i), Rule: "INV-001", Severity: rules.SeverityMedium}))
	}
	other := record("333333333333", sinktest.Spec{Bucket: "x", Rule: "INV-001", Severity: rules.SeverityMedium})
	off := Target{"111111111111", "eu-west-1"}
	c := &fakeClients{respond: func(to Target) func(int, []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error) {
		if to != off {
			return nil
		}
		return func(int, []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error) {
			return nil, &types.InvalidAccessException{Message: aws.String("Account 111111111111 is not subscribed to AWS Security Hub")}
		}
	}}
	var log bytes.Buffer
	got, err := newExporter(t, c, &log).Export(context.Background(), opened(append(rs, other)...))
	if err != nil {
		t.Errorf("Export error %v; Security Hub not enabled is counted, not an error", err)
	}
	if want := (report.SecurityHubCounts{Imported: 1, NotEnabled: 1, Skipped: 150}); got != want {
		t.Errorf("Export = %+v; want %+v", got, want)
	}
	if n := len(c.api(off).calls); n != 1 {
		t.Errorf("%d calls where Security Hub is not enabled; want 1", n)
	}
	if n := strings.Count(log.String(), "Security Hub is not enabled"); n != 1 || !strings.Contains(log.String(), "level=WARN") {
		t.Errorf("log:\n%s\nwant one warning", log.String())
	}
}

// TestCallErrors: a call that fails (throttled past the SDK's retries)
// is sent again after a back-off; AccessDenied (the member role may not
// import) is not; an account whose role cannot be opened fails all its
// findings, in every Region, with one log line; nothing is silent.
func TestCallErrors(t *testing.T) {
	a1 := record("111111111111", sinktest.Spec{Bucket: "a", Rule: "INV-001", Severity: rules.SeverityMedium})
	a2 := record("222222222222", sinktest.Spec{Bucket: "b", Rule: "INV-001", Severity: rules.SeverityMedium})
	n1 := record("444444444444", sinktest.Spec{Bucket: "c", Rule: "INV-001", Severity: rules.SeverityMedium})
	n2 := record("444444444444", sinktest.Spec{Rule: "SCAN-002", Severity: rules.SeverityHigh})
	c := &fakeClients{noRole: map[string]bool{"444444444444": true},
		respond: func(to Target) func(int, []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error) {
			return func(call int, fs []types.AwsSecurityFinding) (*securityhub.BatchImportFindingsOutput, error) {
				switch {
				case to.Account == "111111111111" && call < 3:
					return nil, apiError("TooManyRequestsException", "Rate exceeded")
				case to.Account == "222222222222":
					return nil, apiError("AccessDeniedException", "not authorized to perform: securityhub:BatchImportFindings")
				}
				return imported(fs), nil
			}
		}}
	var log bytes.Buffer
	got, err := newExporter(t, c, &log).Export(context.Background(), opened(a1, a2, n1, n2))
	if want := (report.SecurityHubCounts{Imported: 1, Failed: 3}); got != want {
		t.Errorf("Export = %+v; want %+v", got, want)
	}
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || !strings.Contains(err.Error(), "assume role") {
		t.Errorf("error %v; want the denied import and the role", err)
	}
	if n := len(c.api(Target{"111111111111", "eu-west-1"}).calls); n != 3 {
		t.Errorf("throttled account: %d calls; want 3 (two throttled, then imported)", n)
	}
	if n := len(c.api(Target{"222222222222", "eu-west-1"}).calls); n != 1 {
		t.Errorf("denied account: %d calls; want 1 (no retry)", n)
	}
	var roleless int
	for _, to := range c.opened {
		if to.Account == "444444444444" {
			roleless++
		}
	}
	if roleless != 1 {
		t.Errorf("the account without a role was opened %d times; want once (its other Region is not tried)", roleless)
	}
	if !strings.Contains(log.String(), "account_id=444444444444 findings=2") || !strings.Contains(log.String(), "finding_id="+a2.FindingID) {
		t.Errorf("log:\n%s\nwant the roleless account's 2 findings and the denied finding", log.String())
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(nil, Options{Partition: "aws", HomeRegion: "us-east-1"}); err == nil {
		t.Error("New(nil clients): no error")
	}
	if _, err := New(&fakeClients{}, Options{Partition: "aws"}); err == nil {
		t.Error("New without a home Region: no error")
	}
}
