package remediate

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// signs mark each kind of change in the text plan, as Terraform's do.
var signs = map[Kind]string{KindCreate: "+", KindUpdate: "~", KindDisable: "-", KindBucketPolicy: "~", KindKeyPolicy: "~"}

// WriteText prints the plan for people: its origin, the changes grouped
// by account with their field-by-field diff, then the manual items with
// their reasons, then the one-line total. Everything printed comes from
// the plan (values the member accounts control are quoted with %q where
// they are free text).
func (p Plan) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Plan of scan %s under policy %s, made %s; managed configuration %q.\n",
		p.ScanID, short(p.PolicyDigest), p.MadeAt.Format("2006-01-02 15:04:05Z07:00"), p.ConfigID)
	account := ""
	for _, c := range p.Changes {
		if c.Account != account {
			account = c.Account
			fmt.Fprintf(bw, "\nAccount %s\n", account)
		}
		writeChange(bw, c)
	}
	if len(p.Manual) > 0 {
		fmt.Fprintf(bw, "\nManual (%d): not changed by this plan\n", len(p.Manual))
		for _, m := range p.Manual {
			fmt.Fprintf(bw, "  %s %s %s: %s\n", m.Account, target(m.Bucket, m.ConfigID), m.Rule, m.Reason)
		}
	}
	fmt.Fprintf(bw, "\n%s\n", p.Totals())
	return bw.Flush()
}

// writeChange prints one change and its diff.
func writeChange(w io.Writer, c Change) {
	what := target(c.Bucket, c.ConfigID)
	switch c.Kind {
	case KindKeyPolicy:
		what = c.KeyARN
	case KindBucketPolicy:
		what = c.Bucket
	}
	auto := ""
	if c.Automatic {
		auto = ", automatic"
	}
	fmt.Fprintf(w, "  %s %-13s %s (%s) fixes %s%s\n", signs[c.Kind], c.Kind, what, c.Region, strings.Join(c.Rules, ", "), auto)
	for _, d := range c.Diff {
		switch {
		case c.Kind == KindCreate:
			fmt.Fprintf(w, "      %s: %q\n", d.Field, d.To)
		default:
			fmt.Fprintf(w, "      %s: %q -> %q\n", d.Field, d.From, d.To)
		}
	}
}

// target names a bucket's configuration: bucket/id, or the bucket.
func target(bucket, configID string) string {
	switch {
	case bucket == "":
		return "(account)"
	case configID == "":
		return bucket
	}
	return fmt.Sprintf("%s/%q", bucket, configID)
}

// short is the first 12 hex digits of a digest.
func short(d string) string {
	if len(d) > 12 {
		return "sha256:" + d[:12]
	}
	return d
}
