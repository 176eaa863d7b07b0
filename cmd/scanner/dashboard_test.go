//go:build !lambda

package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/s3inv/scanner/internal/app/demo"
	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

var screenshots = flag.String("screenshots", "", "TestDashboardInBrowser writes its screenshots to this directory (../../docs/images for the README); a temporary one when empty")

// Hostile strings the simulated organization hands the scanner: an account
// name and an inventory prefix (which INV-003's message quotes) that would
// run a script, break out of an attribute, or hide or reorder the page's
// text (a zero-width space, a bidi override).
const (
	hostileAccountName = `<script>document.title="pwned"</script>'"&amp; pay` + "\u200b" + `ments ` + "\u202e" + `gnp.exe`
	hostilePrefix      = `<script>document.title='pwned'</script>"><img src=x onerror="document.title='pwned'">`
)

// chromium returns the path of the browser, skipping the test without
// one (failing it when CI is set).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium on PATH and CI is set: install Debian's chromium package (.ci/run does)")
	}
	t.Skip("no Chromium on PATH (apt-get install chromium; set CI to make this a failure)")
	return ""
}

// TestDashboardInBrowser scans the simulated organization (with hostile
// strings) into dynalite with `scanner scan`, serves the table with
// `scanner dashboard`, and reads it in headless Chromium: every CRITICAL
// finding is listed, the counts are the table's, the filter form narrows
// the list, the "More" links reach the last finding, hostile strings are
// escaped (no script runs, format characters shown as \uXXXX) and
// shortened with the whole text one click away, and a page of another
// name that resolves to 127.0.0.1 (DNS rebinding) reads no finding. It
// saves a wide and a narrow screenshot.
func TestDashboardInBrowser(t *testing.T) {
	browser := chromium(t)
	endpoint := testenv.Dynalite(t)
	isolateAWSEnv(t)
	ctx := context.Background()

	fx := demo.Organization()
	var hostile *awssim.Account
	for i := range fx.Organization.Accounts {
		if a := &fx.Organization.Accounts[i]; a.ID == demo.DataLake {
			hostile = a
		}
	}
	hostile.Name = hostileAccountName
	longPrefix := hostilePrefix + strings.Repeat("very/long/prefix/", 110) + "the-end/"
	hostile.Buckets = append(hostile.Buckets, awssim.Bucket{Name: "partial-coverage-hostile", Region: "eu-west-1",
		Inventory: []awssim.InventoryConfig{{ID: "only-some", Enabled: true, FilterPrefix: longPrefix,
			Destination: awssim.Destination{Bucket: "arn:aws:s3:::central-inventory", AccountID: demo.Security}}}})
	sim, _ := testenv.Sim(t, fx)
	id, secret := sim.ManagementCredentials()
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret,
		"AWS_ENDPOINT_URL": sim.URL(), "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	const table = "dashboard-findings"
	store, err := dynamo.New(testenv.DynamoClient(endpoint), table, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	// The demo's waiver ends 90 days after the date given: 20 days from
	// now, so that the waivers view has it.
	if err := os.WriteFile(policy, []byte(demo.Policy(time.Now().AddDate(0, 0, -70))), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI("scan", "--role-name", demo.RoleName, "--external-id", demo.ExternalID,
		"--policy", policy, "--table", table); code != exitOK {
		t.Fatalf("scanner scan: exit %d: %s", code, errOut)
	}

	// What the table holds, read through the store's own queries.
	open := map[rules.Severity][]report.Record{}
	var all []string
	for _, sev := range rules.Severities() {
		recs, err := store.OpenBySeverity(ctx, sev, 0)
		if err != nil {
			t.Fatal(err)
		}
		open[sev] = recs
		for _, r := range recs {
			all = append(all, r.FindingID)
		}
	}
	if len(open[rules.SeverityCritical]) == 0 || len(all) <= 2*webui.PageSize {
		t.Fatalf("%d open findings, %d CRITICAL; want more than two pages and some CRITICAL", len(all), len(open[rules.SeverityCritical]))
	}

	base := serve(t, table)
	bctx := newBrowser(t, browser)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	rows := func() []string {
		t.Helper()
		ids, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('tr[data-finding]'), r => r.dataset.finding)`))
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	clickAndLoad := func(what string, sel chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.WaitEvent(page.LoadEventFired, nil, sel)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Counts: the figures above the views are the table's.
	do("open the dashboard", chromedp.Navigate(base))
	for _, sev := range rules.Severities() {
		got := eval(fmt.Sprintf(`document.querySelector('#latest a[data-severity=%q]').dataset.count`, sev))
		if want := fmt.Sprint(len(open[sev])); got != want {
			t.Errorf("dashboard shows %s %s open; the table holds %s", got, sev, want)
		}
	}

	// Every CRITICAL finding listed, before anything less severe.
	first := rows()
	crit := ids(open[rules.SeverityCritical])
	if len(first) < len(crit) || !slices.Equal(sorted(first[:len(crit)]), sorted(crit)) {
		t.Fatalf("the first page does not begin with the %d CRITICAL findings: %v", len(crit), first)
	}
	do("CRITICAL only", chromedp.Navigate(base+"?severity=CRITICAL"))
	if got, want := sorted(rows()), sorted(ids(open[rules.SeverityCritical])); !slices.Equal(got, want) {
		t.Errorf("CRITICAL view lists %d findings; the table holds %d: %v / %v", len(got), len(want), got, want)
	}

	// Paging: the "More" links reach the last open finding, each once.
	do("open the dashboard", chromedp.Navigate(base))
	var paged []string
	for pages := 1; ; pages++ {
		paged = append(paged, rows()...)
		if eval(`document.getElementById('more') ? 'more' : ''`) == "" {
			break
		}
		if pages > 10000 {
			t.Fatal("the More links do not end")
		}
		clickAndLoad("More", chromedp.Click(chromedp.ID("more")))
	}
	if !slices.Equal(sorted(paged), sorted(all)) {
		t.Errorf("paging listed %d findings; the table holds %d open", len(paged), len(all))
	}
	if got, want := eval(`document.getElementById('position').textContent`), fmt.Sprintf("of %d", len(all)); !strings.HasSuffix(got, want) {
		t.Errorf("last page position %q; want it to end %q", got, want)
	}

	// The filter form (a plain GET form) narrows the list.
	byRule, err := store.OpenByRule(ctx, "INV-104")
	if err != nil {
		t.Fatal(err)
	}
	do("choose a rule", chromedp.Navigate(base), chromedp.SetValue(chromedp.CSS(`select[name=rule]`), "INV-104"))
	clickAndLoad("apply the filter", chromedp.Click(chromedp.CSS(`form.filters button`)))
	if got := rows(); !slices.Equal(sorted(got), sorted(ids(byRule))) || len(got) >= len(first) {
		t.Errorf("rule filter lists %d findings; the table holds %d of INV-104 (unfiltered page: %d)", len(got), len(byRule), len(first))
	}
	if loc := eval(`location.search`); !strings.Contains(loc, "rule=INV-104") {
		t.Errorf("filtered page at %q; want rule=INV-104 in its address", loc)
	}

	// Worst accounts: the counts of each account's last complete scan.
	scans, err := store.AccountScans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	do("worst accounts", chromedp.Navigate(base+"?view=accounts"))
	listed := eval(`Array.from(document.querySelectorAll('tr[data-account]'), r => r.dataset.account + '=' + r.dataset.open).join(' ')`)
	for _, s := range scans {
		if want := fmt.Sprintf("%s=%d", s.AccountID, s.Open); !slices.Contains(strings.Fields(listed), want) {
			t.Errorf("worst accounts lack %s: %s", want, listed)
		}
	}

	// walk follows the More links from a page to the last one and
	// returns every finding listed.
	walk := func(what, url string) []string {
		t.Helper()
		do(what, chromedp.Navigate(url))
		var got []string
		for pages := 1; ; pages++ {
			got = append(got, rows()...)
			if eval(`document.getElementById('more') ? 'more' : ''`) == "" {
				return got
			}
			if pages > 1000 {
				t.Fatalf("%s: the More links do not end", what)
			}
			clickAndLoad(what+": More", chromedp.Click(chromedp.ID("more")))
		}
	}
	// every reads a paged listing of the store whole.
	every := func(read func(report.PageRequest) (report.Page[report.Record], error)) []report.Record {
		t.Helper()
		var out []report.Record
		req := report.PageRequest{Limit: report.MaxPageLimit}
		for {
			p, err := read(req)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p.Items...)
			if req.Token = p.Next; req.Token == "" {
				return out
			}
		}
	}

	// Opened and resolved since the previous scan: what the latest run
	// changed, as the table's changes index holds it.
	runs, err := store.RunsPage(ctx, report.PageRequest{Limit: 1})
	if err != nil || len(runs.Items) != 1 {
		t.Fatalf("latest run: %v", err)
	}
	changed := every(func(req report.PageRequest) (report.Page[report.Record], error) {
		return store.ChangesPage(ctx, runs.Items[0].ScanID, report.Selection{}, req)
	})
	if got := walk("changes", base+"?view=changes"); len(changed) == 0 || !slices.Equal(sorted(got), sorted(ids(changed))) {
		t.Errorf("changes view lists %d findings; the table's changes of %s are %d", len(got), runs.Items[0].ScanID, len(changed))
	}
	if n := eval(`String(document.querySelectorAll('tr[data-change="opened"]').length + document.querySelectorAll('tr[data-change="resolved"]').length)`); n != fmt.Sprint(len(rows())) {
		t.Errorf("changes view: %s rows marked opened or resolved of %d", n, len(rows()))
	}

	// Waivers expiring within 30 days: the demo's waiver, 20 days away.
	soon := every(func(req report.PageRequest) (report.Page[report.Record], error) {
		return store.WaiversPage(ctx, time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly), report.Selection{}, req)
	})
	if got := walk("waivers", base+"?view=waivers"); len(soon) != 1 || !slices.Equal(sorted(got), sorted(ids(soon))) {
		t.Errorf("waivers view lists %v; the table's waivers ending within 30 days are %v (want the demo's one)", got, ids(soon))
	}
	if got := eval(`document.querySelector('td[data-ends]').textContent`); !strings.Contains(got, "d left") {
		t.Errorf("waivers view shows %q; want the end date and the days left", got)
	}

	// The OU filter, by name through the form: the OU's findings, every
	// severity, as the table holds them.
	ouName := open[rules.SeverityCritical][0].OUName
	if ouName == "" {
		t.Fatal("the table's findings carry no OU name")
	}
	var ouRecs []report.Record
	for _, sev := range rules.Severities() {
		ouRecs = append(ouRecs, every(func(req report.PageRequest) (report.Page[report.Record], error) {
			return store.OpenPage(ctx, report.Selection{Severity: sev, OU: ouName}, req)
		})...)
	}
	do("type an OU name", chromedp.Navigate(base), chromedp.SetValue(chromedp.CSS(`input[name=ou]`), ouName))
	clickAndLoad("apply the OU filter", chromedp.Click(chromedp.CSS(`form.filters button`)))
	ouFirst := eval(`location.href`)
	if got := walk("OU filter", ouFirst); len(ouRecs) == 0 || len(ouRecs) >= len(all) || !slices.Equal(sorted(got), sorted(ids(ouRecs))) {
		t.Errorf("OU %q lists %d findings; the table holds %d of it (of %d)", ouName, len(got), len(ouRecs), len(all))
	}
	do("OU filter", chromedp.Navigate(ouFirst))
	if got := eval(`document.querySelector('tr[data-finding] td.ou a').textContent`); got != ouName {
		t.Errorf("OU column shows %q; want the OU's name %q", got, ouName)
	}
	// The OU's link filters by its ID: the same findings.
	ouID := eval(`document.querySelector('tr[data-finding]').dataset.ou`)
	if got := walk("OU link", base+"?ou="+ouID); !slices.Equal(sorted(got), sorted(ids(ouRecs))) {
		t.Errorf("OU %s (by ID) lists %d findings; by name %d", ouID, len(got), len(ouRecs))
	}

	// Hostile strings: shown as text, no script ran, shortened with the
	// whole text one click away.
	do("hostile account", chromedp.Navigate(base+"?account="+demo.DataLake+"&rule=INV-003"))
	if title := eval(`document.title`); strings.Contains(title, "pwned") || !strings.HasPrefix(title, "S3 inventory findings") {
		t.Errorf("page title %q: a stored script ran", title)
	}
	if n := eval(`String(document.querySelectorAll('script, img').length)`); n != "0" {
		t.Errorf("%s script or img elements in the page; want none (stored markup is text)", n)
	}
	wholeName := strings.NewReplacer("\u202e", `\u202E`, "\u200b", `\u200B`).Replace(hostileAccountName)
	if got := eval(`document.querySelector('tr[data-rule="INV-003"] span[title]').title`); got != wholeName {
		t.Errorf("account name title %q; want the whole name %q", got, wholeName)
	}
	if got := eval(`document.querySelector('tr[data-rule="INV-003"] span[title]').textContent`); !strings.HasPrefix(got, `<script>document.title="pwned"`) || !strings.HasSuffix(got, "…") {
		t.Errorf("account name shown as %q; want its beginning, as text, shortened", got)
	}
	msgSel := `tr[data-rule="INV-003"] td.message`
	summary := eval(`document.querySelector('` + msgSel + ` summary').textContent`)
	if !strings.Contains(summary, "<script>document.title='pwned'</script>") || len([]rune(summary)) > webui.MessageLimit+40 {
		t.Errorf("message summary %q: want the message's beginning, as text, shortened", summary)
	}
	full := eval(`document.querySelector('` + msgSel + ` .full').textContent`)
	if !strings.Contains(full, longPrefix) {
		t.Errorf("whole message (%d characters) lacks the whole prefix", len(full))
	}
	if eval(`String(document.querySelector('`+msgSel+` .full').checkVisibility())`) != "false" {
		t.Error("the whole message shows before it is asked for")
	}
	do("open the message", chromedp.Click(chromedp.CSS(msgSel+` summary`)))
	if eval(`String(document.querySelector('`+msgSel+` .full').checkVisibility())`) != "true" {
		t.Error("the whole message is not shown once its summary is clicked")
	}

	// DNS rebinding: a page of rebind.test, a name the browser resolves to
	// 127.0.0.1, is answered 421, and its own script reads no finding
	// from the dashboard (the same origin, for the browser).
	rebound := strings.Replace(base, "127.0.0.1", rebindHost, 1)
	do("a rebound name", chromedp.Navigate(rebound))
	if got := eval(`document.body.innerText`); !strings.Contains(got, "421 misdirected request") || strings.Contains(got, "INV-") {
		t.Errorf("page at %s shows %q; want the 421 refusal and no finding", rebound, got)
	}
	stolen, err := chromedp.Run(bctx, chromedp.Evaluate[string](`fetch('/?severity=CRITICAL').then(async r => r.status + ' ' + await r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("the rebound page's fetch: %v", err)
	}
	if !strings.HasPrefix(stolen, "421 ") || strings.Contains(stolen, open[rules.SeverityCritical][0].FindingID) {
		t.Errorf("the rebound page's script read %q; want 421 and no finding", stolen)
	}
	do("localhost", chromedp.Navigate(strings.Replace(base, "127.0.0.1", "localhost", 1)))
	if n := len(rows()); n == 0 {
		t.Error("http://localhost:port/ lists no finding; want the dashboard")
	}

	// Screenshots, wide and narrow.
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	for _, shot := range []struct {
		file          string
		width, height int64
	}{{"dashboard.png", 1400, 900}, {"dashboard-narrow.png", 420, 900}} {
		do("resize", chromedp.EmulateViewport(shot.width, shot.height), chromedp.Navigate(base))
		b, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || int64(img.Bounds().Dx()) != shot.width {
			t.Fatalf("screenshot %s: %v, %v; want a PNG %d wide", shot.file, err, img.Bounds(), shot.width)
		}
		if err := os.WriteFile(filepath.Join(dir, shot.file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", filepath.Join(dir, shot.file))
	}
}

// TestDashboardRefusesOtherHosts serves an empty findings table with
// `scanner dashboard` and sends it requests with forged Host headers: a
// loopback name with the port gets the page, any other Host 421 and no
// page.
func TestDashboardRefusesOtherHosts(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	isolateAWSEnv(t)
	for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "dummy", "AWS_SECRET_ACCESS_KEY": "dummy",
		"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
		t.Setenv(k, v)
	}
	const table = "dashboard-hosts"
	store, err := dynamo.New(testenv.DynamoClient(endpoint), table, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := serve(t, table)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	for host, want := range map[string]int{
		"127.0.0.1:" + port: http.StatusOK, "localhost:" + port: http.StatusOK, "[::1]:" + port: http.StatusOK,
		"evil.example:" + port: http.StatusMisdirectedRequest, rebindHost + ":" + port: http.StatusMisdirectedRequest,
		"127.0.0.1": http.StatusMisdirectedRequest, "localhost:1": http.StatusMisdirectedRequest,
	} {
		req, err := http.NewRequest(http.MethodGet, base, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := strings.Contains(string(body), "S3 inventory findings")
		if resp.StatusCode != want || page != (want == http.StatusOK) {
			t.Errorf("Host %q: %d (the dashboard's page: %v); want %d", host, resp.StatusCode, page, want)
		}
	}
}

// serve runs `scanner dashboard --table table --port 0` until the test
// ends and returns the address it prints; the command must then exit 0.
func serve(t *testing.T, table string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	var stderr bytes.Buffer
	exited := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"dashboard", "--table", table, "--port", "0"}, w, &stderr)
		w.Close()
		exited <- code
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	go io.Copy(io.Discard, out)
	t.Cleanup(func() {
		cancel()
		if code := <-exited; code != exitOK {
			t.Errorf("scanner dashboard: exit %d after Ctrl-C; want 0: %s", code, stderr.String())
		}
	})
	start := strings.Index(line, "http://")
	if err != nil || start < 0 {
		t.Fatalf("scanner dashboard printed %q (%v), not its address: %s", line, err, stderr.String())
	}
	return strings.Fields(line[start:])[0]
}

// rebindHost is a name the test's browser resolves to 127.0.0.1, as a
// DNS rebinding attack makes a name of its own resolve.
const rebindHost = "rebind.test"

// newBrowser starts headless Chromium for the test.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1400, 900),
		chromedp.Flag("host-resolver-rules", "MAP "+rebindHost+" 127.0.0.1"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	tctx, cancelTimeout := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return tctx
}

func ids(recs []report.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.FindingID
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
