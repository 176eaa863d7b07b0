//go:build !lambda

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/remediate"
)

const scpSynopsis = `Print a service control policy that lets only the remediation role (and the
break-glass roles named) put or delete S3 inventory configurations, and denies
every configuration exporting ObjectAccessControlList or ObjectOwner.
Attach it beside FullAWSAccess to the OUs the scanner fixes (docs/remediation.md).
The json output is minified, as AWS Organizations counts its 5,120 bytes.`

// runSCP is `scanner scp`: it makes no AWS call.
func runSCP(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("scp", scpSynopsis)
	var o remediate.SCPOptions
	fs.StringVar(&o.RemediationRole, "remediation-role", remediate.DefaultRoleName, "the remediation role's name (path/name if it has a path), exempt in every account")
	fs.Func("break-glass", "further exempt roles: names (exempt in every account) or role ARNs, comma-separated; repeatable", func(s string) error {
		o.BreakGlass = append(o.BreakGlass, config.List(s)...)
		return nil
	})
	format := fs.String("format", "json", "output: json (the policy, minified) or text (what it does, then the policy indented)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *format != "json" && *format != "text" {
		fmt.Fprintf(stderr, "scanner scp: --format %q: want json or text\n", *format)
		return exitUsage
	}
	doc, err := remediate.SCP(o)
	if re := (*remediate.RoleError)(nil); errors.As(err, &re) {
		flag := "--remediation-role"
		if re.BreakGlass {
			flag = "--break-glass"
		}
		err = fmt.Errorf("%s %q: %s", flag, re.Role, re.Want)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scanner scp: %v\n", err)
		return exitUsage
	}
	if *format == "json" {
		fmt.Fprintf(stdout, "%s\n", doc)
		return exitOK
	}
	if err := explainSCP(stdout, doc); err != nil {
		fmt.Fprintf(stderr, "scanner scp: %v\n", err)
		return exitError
	}
	return exitOK
}

// explainSCP prints what the SCP doc denies and exempts, then doc
// indented.
func explainSCP(w io.Writer, doc []byte) error {
	var p struct {
		Statement []struct {
			Condition map[string]map[string][]string
		}
	}
	if err := json.Unmarshal(doc, &p); err != nil || len(p.Statement) != 2 {
		return fmt.Errorf("read back the service control policy: %v", err)
	}
	exempt := p.Statement[0].Condition["ArnNotLike"]["aws:PrincipalArn"]
	var b strings.Builder
	fmt.Fprintf(&b, "Service control policy: %d statements, %d of %d bytes as AWS Organizations counts them (save the --format json output).\n\n",
		len(p.Statement), len(doc), remediate.MaxSCPSize)
	fmt.Fprintf(&b, "%s denies s3:PutInventoryConfiguration (Put and Delete of inventory configurations) to every principal but:\n", remediate.SidOnlyRemediation)
	for i, r := range exempt {
		what := "break-glass"
		if i == 0 {
			what = "the remediation role"
		}
		if strings.HasPrefix(r, "arn:*:iam::*:") {
			what += ", in every account"
		}
		fmt.Fprintf(&b, "  %-60s %s\n", r, what)
	}
	fmt.Fprintf(&b, "%s denies every configuration exporting %s, whoever puts it.\n",
		remediate.SidSensitiveFields, strings.Join(remediate.SensitiveFields, " or "))
	b.WriteString("An SCP never applies to the management account or to service-linked roles.\n\n")
	var indented bytes.Buffer
	if err := json.Indent(&indented, doc, "", "  "); err != nil {
		return err
	}
	b.Write(indented.Bytes())
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
