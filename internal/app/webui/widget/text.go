package widget

import (
	"fmt"
	"strings"

	"github.com/s3inv/scanner/internal/app/webui"
)

// style styles the views inside a widget, on top of the
// dashboard's default styles (links, tables, buttons), in light and
// dark themes alike; every rule is scoped to the view.
const style = `.dashboard a:not([href]){cursor:pointer}
.dashboard nav.views{display:flex;flex-wrap:wrap;gap:2px 14px;margin-bottom:6px}
.dashboard nav.views a[aria-current]{font-weight:bold;text-decoration:underline}
.dashboard form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end;margin-bottom:6px}
.dashboard form.filters label{display:flex;flex-direction:column;font-size:12px}
.dashboard .strip{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px;margin-bottom:6px}
.dashboard .panel h2{font-size:14px;margin:4px 0}
.dashboard .scroll{overflow-x:auto}
.dashboard td{vertical-align:top;overflow-wrap:anywhere}
.dashboard td.id,.dashboard td.ou,.dashboard td.num{white-space:nowrap}
.dashboard .sev{display:inline-block;border-radius:2px;padding:0 6px;color:#fff;font-size:11px;font-weight:bold;white-space:nowrap}
.dashboard .sev-CRITICAL{background:#7d2105}.dashboard .sev-HIGH{background:#ba2e0f}.dashboard .sev-MEDIUM{background:#cc5f21}.dashboard .sev-LOW{background:#b2911c}.dashboard .sev-INFO{background:#687078}
.dashboard .error{border:1px solid #d13212;color:#d13212;padding:6px 10px;margin-bottom:6px}
.dashboard .more,.dashboard .note,.dashboard .empty,.dashboard .waived{opacity:.75}
.dashboard .pager{display:flex;gap:16px;align-items:center;padding:6px 0}
.dashboard details .full{white-space:pre-wrap;border-left:3px solid #aab7b8;padding:4px 8px}`

// doc is the Markdown the widget returns for a describe event
// (written with ' for the backquote).
var doc = strings.ReplaceAll(fmt.Sprintf(`## S3 inventory findings

Views of the findings table of the scanner, read with the key and the
indexes of the table only (never a Scan): at most %[1]d rows a view, read
from at most %[2]d Query pages (of at most 204 items each; 1,001 when
the worst accounts are counted by rule or severity) and the latest run. "More" continues from where the page ended, reading nothing twice.
Links and the filter form call this function again.

| param | values | default |
|---|---|---|
| 'view' | 'findings' (open findings, CRITICAL and HIGH first), 'changes' (opened and resolved by the latest scan, since the one before), 'accounts' (worst accounts), 'coverage' (not fully scanned, and why), 'waivers' (waivers ending within 30 days), 'runs' (scan history) | 'findings' |
| 'account' | a 12-digit account ID | every account |
| 'ou' | an OU's ID ('ou-…', or the root 'r-…') or its name | every OU |
| 'rule' | a rule ID, such as 'INV-101' | every rule |
| 'severity' | 'CRITICAL', 'HIGH', 'MEDIUM', 'LOW' or 'INFO' | every severity |
| 'next' | the position a "More" action sends (opaque) | the first page |

Example: '{"view": "waivers", "ou": "Production"}'.

With '"apply": true' (the Apply button of the form) the filters are the
fields of the form ('widgetContext.forms.all'): account, OU, rule,
severity. The role of the function may only 'dynamodb:Query' and
'dynamodb:GetItem' the findings table and its indexes.
`, webui.PageSize, webui.MaxReads), "'", "`")
