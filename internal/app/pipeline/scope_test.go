package pipeline_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// The scope organization: a source account whose bucket delivers to the
// central account, to another member of the organization and to an
// account outside it (not in the simulator at all: AssumeRole there is
// counted, and denied). The central account's bucket policy denies the
// delivery in a statement whose Sid, like its key's state, is its own
// business.
const (
	scopeSource   = "100000000001"
	scopeCentral  = "100000000002"
	scopeMember   = "100000000003"
	scopeOutsider = "999988887777"
	scopeSecret   = "CentralSecretSid"
)

func scopeFixture() *awssim.Fixture {
	cfg := func(id, owner, bucket, keyAcct string) awssim.InventoryConfig {
		return awssim.InventoryConfig{ID: id, Enabled: true, Frequency: "Daily", Versions: "All",
			Destination: awssim.Destination{AccountID: owner, Bucket: "arn:aws:s3:::" + bucket, Format: "Parquet",
				Encryption: "SSE-KMS", KMSKeyID: "arn:aws:kms:us-east-1:" + keyAcct + ":key/00000000-1111-2222-3333-" + keyAcct}}
	}
	allow := func(bucket string) string {
		return `{"Sid":"InventoryDelivery","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject",` +
			`"Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"StringEquals":{"aws:SourceAccount":"` + scopeSource + `"}}}`
	}
	key := func(acct, state string) awssim.Key {
		return awssim.Key{ID: "00000000-1111-2222-3333-" + acct, Region: "us-east-1", State: state}
	}
	return &awssim.Fixture{Organization: awssim.Organization{
		Role: &awssim.Role{Name: "S3InventoryScannerMember", ExternalID: "scope-external-id"},
		Accounts: []awssim.Account{
			{ID: scopeSource, Name: "source", Buckets: []awssim.Bucket{{Name: "source-data", Inventory: []awssim.InventoryConfig{
				cfg("to-central", scopeCentral, "central-inventory", scopeCentral),
				cfg("to-member", scopeMember, "member-drop", scopeMember),
				cfg("to-outsider", scopeOutsider, "partner-drop", scopeOutsider),
			}}}},
			{ID: scopeCentral, Name: "central", Keys: []awssim.Key{key(scopeCentral, "Disabled")}, Buckets: []awssim.Bucket{{Name: "central-inventory",
				Policy: `{"Version":"2012-10-17","Statement":[` + allow("central-inventory") + `,{"Sid":"` + scopeSecret + `","Effect":"Deny",` +
					`"Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::central-inventory/*"}]}`}}},
			{ID: scopeMember, Name: "member", Keys: []awssim.Key{key(scopeMember, "Enabled")}, Buckets: []awssim.Bucket{{Name: "member-drop",
				Policy: `{"Version":"2012-10-17","Statement":[` + allow("member-drop") + `]}`}}},
		},
	}}
}

// scopeSettings are the settings of a run of the scope organization:
// from Organizations, or from a static list of accounts.
func scopeSettings(t *testing.T, static []string, policy string) (*awssim.Server, pipeline.Settings) {
	t.Helper()
	sim, awsCfg := testenv.Sim(t, scopeFixture())
	p, err := rules.LoadPolicy([]byte("version: 1\n"+policy), "scope-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = "S3InventoryScannerMember", "scope-external-id"
	if static != nil {
		cfg.AccountSource, cfg.Accounts = config.SourceStatic, static
	}
	return sim, pipeline.Settings{Config: cfg, Policy: p, Trigger: "cli",
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}},
		Now: func() time.Time { return time.Date(2027, 1, 15, 6, 0, 0, 0, time.UTC) },
	}
}

// scopeRun runs s into a JSON sink and returns its findings by
// "rule config-or-bucket".
func scopeRun(t *testing.T, s pipeline.Settings) map[string]rules.Finding {
	t.Helper()
	var out bytes.Buffer
	s.Sink = report.NewJSON(&out)
	if _, err := pipeline.Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return findingsByKey(t, out.Bytes())
}

func findingsByKey(t *testing.T, jsonl []byte) map[string]rules.Finding {
	t.Helper()
	fs := map[string]rules.Finding{}
	for l := range strings.SplitSeq(strings.TrimSpace(string(jsonl)), "\n") {
		var f rules.Finding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("finding %s: %v", l, err)
		}
		fs[f.RuleID+" "+cmp.Or(f.ConfigID, f.Bucket)] = f
	}
	return fs
}

// callsIn is every call the simulator received about account acct.
func callsIn(sim *awssim.Server, acct string) int {
	n := 0
	for _, op := range awssim.Operations {
		n += sim.CallsFor(op, acct)
	}
	return n
}

// checkScope checks the findings of the scope organization's source
// account: INV-104 exactly for the configurations in notApproved (with
// want in its message), SCAN-005 with code cause for each destination
// outside the scan's scope, and the central account's refusals without
// its Sid or key state.
func checkScope(t *testing.T, fs map[string]rules.Finding, notApproved []string, want string, outside map[string]string) {
	t.Helper()
	for _, id := range []string{"to-central", "to-member", "to-outsider"} {
		f, failed := fs["INV-104 "+id]
		if failed != slices.Contains(notApproved, id) {
			t.Errorf("INV-104 on %s: %v (%q); want it only on %v", id, failed, f.Message, notApproved)
		}
		if failed && !strings.Contains(f.Message, want) {
			t.Errorf("INV-104 on %s: %q; want %q in it", id, f.Message, want)
		}
	}
	for bucket, cause := range outside {
		f, ok := fs["SCAN-005 "+bucket]
		if !ok || f.Evidence["error_code"] != cause || f.AccountID != scopeSource {
			t.Errorf("SCAN-005 of destination %s: %+v; want one of account %s with error_code %s", bucket, f, scopeSource, cause)
		}
	}
	for _, rule := range []string{"INV-111", "INV-113"} {
		f, ok := fs[rule+" to-central"]
		if !ok || !strings.Contains(f.Message, "owned by account "+scopeCentral+", refuses delivery") {
			t.Errorf("%s on to-central: %+v; want the central account's destination refusing delivery", rule, f)
		}
		for _, secret := range []string{scopeSecret, "Disabled", "key_state", "decision"} {
			if carries(f, secret) {
				t.Errorf("%s on to-central carries %q of the central account: %q %v", rule, secret, f.Message, f.Evidence)
			}
		}
	}
}

// carries reports whether s is in f's message or evidence.
func carries(f rules.Finding, s string) bool {
	for k, v := range f.Evidence {
		if strings.Contains(k, s) || strings.Contains(v, s) {
			return true
		}
	}
	return strings.Contains(f.Message, s)
}

// TestDestinationsStayInScope scans the scope organization against the
// simulator both ways. With a static list of the source and the central
// account, a destination in another account (of the organization or
// not) is INV-104 when the policy lists no accounts, and SCAN-005
// OutsideScope whatever the policy lists: the simulator saw no call
// about those accounts, AssumeRole included. From Organizations, the
// other member is an approved destination and is read, and the account
// outside the organization is INV-104 and SCAN-005 OutsideOrganization,
// never entered. Either way the central account's refusals carry nothing
// of its policy or key.
func TestDestinationsStayInScope(t *testing.T) {
	listed := []string{scopeSource, scopeCentral}
	t.Run("static", func(t *testing.T) {
		sim, s := scopeSettings(t, listed, "")
		fs := scopeRun(t, s)
		checkScope(t, fs, []string{"to-member", "to-outsider"}, "which is not one of the scanned accounts",
			map[string]string{"member-drop": "OutsideScope", "partner-drop": "OutsideScope"})
		for _, acct := range []string{scopeMember, scopeOutsider} {
			if n := callsIn(sim, acct); n != 0 {
				t.Errorf("%d calls about account %s (AssumeRole %d), outside the static list; want none", n, acct, sim.CallsFor("AssumeRole", acct))
			}
		}
		if sim.CallsFor("GetBucketPolicy", scopeCentral) == 0 {
			t.Error("the central account's destination was not read")
		}
	})
	t.Run("static, the policy approves an unlisted account", func(t *testing.T) {
		sim, s := scopeSettings(t, listed, "rules:\n  INV-104: {approved_accounts: [\""+scopeCentral+"\", \""+scopeMember+"\"]}\n")
		fs := scopeRun(t, s)
		checkScope(t, fs, []string{"to-outsider"}, "which is not an approved destination account",
			map[string]string{"member-drop": "OutsideScope", "partner-drop": "OutsideScope"})
		if n := callsIn(sim, scopeMember); n != 0 {
			t.Errorf("%d calls about account %s, approved but not listed; want none", n, scopeMember)
		}
	})
	t.Run("organizations", func(t *testing.T) {
		sim, s := scopeSettings(t, nil, "")
		fs := scopeRun(t, s)
		checkScope(t, fs, []string{"to-outsider"}, "which is outside the organization",
			map[string]string{"partner-drop": "OutsideOrganization"})
		if n := callsIn(sim, scopeOutsider); n != 0 {
			t.Errorf("%d calls about account %s, outside the organization (AssumeRole %d); want none", n, scopeOutsider, sim.CallsFor("AssumeRole", scopeOutsider))
		}
		// The counter does see a destination's owner entered.
		if sim.CallsFor("AssumeRole", scopeMember) == 0 || sim.CallsFor("GetBucketPolicy", scopeMember) == 0 {
			t.Errorf("the other member's destination: AssumeRole %d, GetBucketPolicy %d; want it read", sim.CallsFor("AssumeRole", scopeMember), sim.CallsFor("GetBucketPolicy", scopeMember))
		}
		if _, ok := fs["SCAN-005 member-drop"]; ok {
			t.Errorf("the other member's destination is unverifiable: %+v", fs["SCAN-005 member-drop"])
		}
	})
}

// TestFanoutWorkerStaysInScope: a fan-out worker scans one account, and
// the run record tells it the static list: the worker of the source
// account reads the central account's destination and never enters the
// other member or the outsider, as a single invocation.
func TestFanoutWorkerStaysInScope(t *testing.T) {
	sim, s := scopeSettings(t, []string{scopeSource, scopeCentral}, "")
	e := newFanoutEnvOf(t, s)
	done := &finishes{}
	if c := e.coordinate("scope", done); c.Queued != 2 {
		t.Fatalf("coordinator queued %d accounts; want the 2 listed", c.Queued)
	}
	e.work("scope", 2, 30, time.Second, done)
	if runs := done.get(); len(runs) != 1 {
		t.Fatalf("%d runs finalized; want 1", len(runs))
	}
	store, _ := e.store("scope")
	recs, err := store.Findings(context.Background(), scopeSource)
	if err != nil {
		t.Fatal(err)
	}
	fs := map[string]rules.Finding{}
	for _, r := range recs {
		fs[r.RuleID+" "+cmp.Or(r.ConfigID, r.Bucket)] = r.Finding
	}
	checkScope(t, fs, []string{"to-member", "to-outsider"}, "which is not one of the scanned accounts",
		map[string]string{"member-drop": "OutsideScope", "partner-drop": "OutsideScope"})
	for _, acct := range []string{scopeMember, scopeOutsider} {
		if n := callsIn(sim, acct); n != 0 {
			t.Errorf("the workers made %d calls about account %s (AssumeRole %d), outside the static list; want none", n, acct, sim.CallsFor("AssumeRole", acct))
		}
	}
}
