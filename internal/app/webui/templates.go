package webui

import "html/template"

// Style is the dashboard's style sheet, in the look of the AWS console:
// a dark header, white panels, dense tables, the console's severity
// colours. A page that embeds Render's fragment includes it once.
const Style = `
body{margin:0;font:14px/1.4 "Amazon Ember","Helvetica Neue",Roboto,Arial,sans-serif;color:#16191f;background:#f2f3f3}
header{background:#232f3e;color:#fff;padding:8px 20px;font-size:16px}
header b{color:#ff9900}
main{padding:12px 20px}
a{color:#0073bb;text-decoration:none}a:hover{text-decoration:underline}
nav.views{display:flex;gap:0;border-bottom:1px solid #d5dbdb;margin-bottom:10px;flex-wrap:wrap}
nav.views a{padding:6px 14px;color:#545b64;font-weight:bold;border-bottom:3px solid transparent}
nav.views a[aria-current]{color:#16191f;border-bottom-color:#ec7211}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end;background:#fff;border:1px solid #eaeded;padding:8px 12px;margin-bottom:10px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#545b64}
form.filters input,form.filters select{font:inherit;padding:3px 6px;border:1px solid #aab7b8;border-radius:2px;min-width:10em}
form.filters button{font:inherit;font-weight:bold;background:#ec7211;color:#fff;border:1px solid #ec7211;border-radius:2px;padding:4px 16px}
.strip{background:#fff;border:1px solid #eaeded;padding:6px 12px;margin-bottom:10px;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px}
.panel{background:#fff;border:1px solid #eaeded;box-shadow:0 1px 1px rgba(0,28,36,.3)}
.panel h2{font-size:16px;margin:0;padding:8px 12px;border-bottom:1px solid #eaeded}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;min-width:960px;font-size:13px}
td.message{min-width:18em}
th{background:#fafafa;color:#545b64;text-align:left;padding:4px 8px;border-bottom:1px solid #eaeded;white-space:nowrap}
td{padding:4px 8px;border-bottom:1px solid #eaeded;vertical-align:top;overflow-wrap:anywhere}
tr:hover td{background:#f1faff}
td.id,td.ou{white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}
.sev{display:inline-block;border-radius:2px;padding:0 6px;color:#fff;font-size:12px;font-weight:bold;white-space:nowrap}
.sev-CRITICAL{background:#7d2105}.sev-HIGH{background:#ba2e0f}.sev-MEDIUM{background:#cc5f21}.sev-LOW{background:#b2911c}.sev-INFO{background:#687078}
.waived{color:#687078}
details summary{cursor:pointer}
details .full{white-space:pre-wrap;background:#fafafa;border-left:3px solid #d5dbdb;padding:4px 8px;margin-top:4px}
.more{color:#687078;font-size:12px}
.pager{display:flex;gap:16px;align-items:center;padding:8px 12px}
.error{background:#fdf3f1;border:1px solid #d13212;color:#d13212;padding:8px 12px;margin-bottom:10px}
.note{color:#545b64;padding:6px 12px}
.empty{padding:12px;color:#687078}
`

var templates = template.Must(template.New("webui").Parse(`
{{define "page"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>S3 inventory findings{{with .Title}} · {{.}}{{end}}</title><style>{{.Style}}</style></head>
<body><header><b>S3 inventory scanner</b> · findings{{with .Title}} of table {{.}}{{end}}</header>
<main>{{.Body}}</main></body></html>
{{end}}

{{define "text"}}{{if .Cut}}<details><summary>{{.Short}}… <span class="more">(+{{.Hidden}} characters)</span></summary><div class="full">{{.Full}}</div></details>{{else}}{{.Full}}{{end}}{{end}}
{{define "name"}}{{if .Cut}}<span title="{{.Full}}">{{.Short}}…</span>{{else}}{{.Full}}{{end}}{{end}}
{{define "sev"}}<span class="sev sev-{{.}}">{{.}}</span>{{end}}

{{define "view"}}<div class="dashboard">
<nav class="views">{{range $v := .Views}}{{$q := $.ViewLink $v}}<a{{with $.Href $q}} href="{{.}}"{{end}}{{if eq $v $.Query.View}} aria-current="page"{{end}}>{{$v.Title}}</a>{{$.Action $q}}{{end}}</nav>
<form class="filters"{{if not .Endpoint}} method="get" action=""{{end}}>
<input type="hidden" name="view" value="{{.Query.View}}">
<label>Account<input name="account" value="{{.Query.Account}}" placeholder="12-digit account ID" inputmode="numeric" maxlength="12"></label>
<label>OU<input name="ou" value="{{.Query.OU}}" placeholder="OU ID or name" maxlength="128"></label>
<label>Rule<select name="rule"><option value="">every rule</option>{{range .Rules}}<option value="{{.ID}}"{{if eq .ID $.Query.Rule}} selected{{end}}>{{.ID}} {{.Name}}</option>{{end}}</select></label>
<label>Severity<select name="severity"><option value="">every severity</option>{{range .Severities}}<option{{if eq . $.Query.Severity}} selected{{end}}>{{.}}</option>{{end}}</select></label>
{{if .Endpoint}}<a class="btn btn-primary" id="apply">Apply</a>{{.ApplyAction .Query.View}}{{else}}<button type="submit">Apply</button>{{end}}{{if .Query.Filtered}} <a{{with .Href .ClearLink}} href="{{.}}"{{end}}>Clear filters</a>{{.Action .ClearLink}}{{end}}
</form>
{{with .Latest}}<div class="strip" id="latest">
<span>Last scan <b>{{.ScanID}}</b> ({{.Trigger}}){{with .Age}}, finished {{.}} ago{{end}}</span>
<span>Accounts: {{.Complete}} complete, {{.Failed}} failed, {{.Incomplete}} incomplete</span>
<span>{{.Buckets}} buckets, {{.Configs}} configurations</span>
<span>Findings: {{range .BySeverity}}<a{{with $.Href ($.SeverityLink .Severity)}} href="{{.}}"{{end}} data-severity="{{.Severity}}" data-count="{{.N}}">{{template "sev" .Severity}} {{.N}}</a>{{$.Action ($.SeverityLink .Severity)}} {{end}}</span>
</div>{{end}}
{{with .Err}}<div class="error" role="alert">{{.}}</div>{{end}}
<section class="panel" id="view" data-view="{{.Query.View}}">
<h2>{{.Query.View.Title}}{{with .Query.Account}} · account {{.}}{{end}}{{with .Query.OU}} · OU {{.}}{{end}}{{with .Query.Rule}} · rule {{.}}{{end}}{{if .Query.Severity}} · {{.Query.Severity}}{{end}}</h2>
{{range .Page.Notes}}<p class="note">{{.}}</p>{{end}}
{{if not .Err}}<div class="scroll">{{if eq .Query.View "accounts"}}{{template "accounts" .}}{{else if eq .Query.View "runs"}}{{template "runs" .}}{{else}}{{template "findings" .}}{{end}}</div>
<div class="pager">{{if .Page.First}}<span id="position">Showing {{.Page.First}}–{{.Page.Last}}{{if ge .Page.Total 0}} of {{.Page.Total}}{{end}}</span>{{else if gt .Page.Total 0}}<span id="position">Nothing more: {{.Page.Total}} in all</span>{{end}}
{{with .FirstLink}}<a{{with $.Href .}} href="{{.}}"{{end}} rel="first" id="first">← First page</a>{{$.Action .}}{{end}}{{with .MoreLink}}<a{{with $.Href .}} href="{{.}}"{{end}} rel="next" id="more">More →</a>{{$.Action .}}{{end}}</div>{{end}}
</section></div>{{end}}

{{define "findings"}}{{if .Page.Findings}}<table id="findings"><thead><tr>
{{if eq .Query.View "changes"}}<th>Change</th>{{else if eq .Query.View "waivers"}}<th>Waiver ends</th>{{end}}<th>Severity</th><th>Account</th><th>Account name</th><th>OU</th><th>Bucket</th><th>Configuration</th><th>Rule</th><th>Status</th><th class="num">Age</th><th>Message</th>
</tr></thead><tbody>{{range .Page.Findings}}
<tr data-finding="{{.ID}}" data-severity="{{.Severity}}" data-account="{{.Account}}" data-rule="{{.Rule}}" data-ou="{{.OUID}}"{{if eq $.Query.View "changes"}} data-change="{{.Change}}"{{end}}>
{{if eq $.Query.View "changes"}}<td class="id" title="{{.ChangeAt}}">{{.Change}}</td>{{else if eq $.Query.View "waivers"}}<td class="id" data-ends="{{.WaiverEnds}}">{{.WaiverEnds}} <span class="more">{{.WaiverLeft}}</span></td>{{end}}<td>{{template "sev" .Severity}}</td><td class="id"><a{{with $.Href ($.AccountLink .Account)}} href="{{.}}"{{end}}>{{.Account}}</a>{{$.Action ($.AccountLink .Account)}}</td><td>{{template "name" .AccountName}}</td><td class="ou">{{if .OUID}}<a{{with $.Href ($.OULink .OUID)}} href="{{.}}"{{end}} title="{{.OUID}}">{{template "name" .OU}}</a>{{$.Action ($.OULink .OUID)}}{{end}}</td>
<td>{{template "name" .Bucket}}{{with .Region}} <span class="more">{{.}}</span>{{end}}</td><td>{{template "name" .Config}}</td>
<td class="id"><a{{with $.Href ($.RuleLink .Rule)}} href="{{.}}"{{end}} title="{{.RuleTitle}}">{{.Rule}}</a>{{$.Action ($.RuleLink .Rule)}}</td>
<td>{{if eq .Status "WAIVED"}}<span class="waived">WAIVED</span>{{if .Waiver.Full}} {{template "text" .Waiver}}{{end}}{{else}}{{.Status}}{{end}}</td>
<td class="num"{{with .FirstSeen}} title="first seen {{.}}"{{end}}>{{.Age}}</td><td class="message">{{template "text" .Message}}</td></tr>{{end}}
</tbody></table>{{else}}<p class="empty">No {{if eq .Query.View "coverage"}}account or bucket that could not be read{{else if eq .Query.View "changes"}}finding opened or resolved by that scan{{else if eq .Query.View "waivers"}}waiver ending within 30 days{{else}}open finding{{end}} matches{{if .Page.Next}} on this page: More reads on{{end}}.</p>{{end}}{{end}}

{{define "accounts"}}{{if .Page.Accounts}}<table id="accounts"><thead><tr>
<th>Account</th><th>Account name</th><th>OU</th><th class="num">Open</th><th class="num">Waived</th><th class="num">Unreadable buckets</th><th class="num">Buckets</th><th class="num">Configurations</th><th>Last complete scan</th>
</tr></thead><tbody>{{range .Page.Accounts}}
<tr data-account="{{.Account}}" data-open="{{.Open}}" data-ou="{{.OUID}}"><td class="id"><a{{with $.Href ($.AccountLink .Account)}} href="{{.}}"{{end}}>{{.Account}}</a>{{$.Action ($.AccountLink .Account)}}</td><td>{{template "name" .Name}}</td>
<td class="ou">{{if .OUID}}<a{{with $.Href ($.OULink .OUID)}} href="{{.}}"{{end}} title="{{.OUID}}">{{template "name" .OU}}</a>{{$.Action ($.OULink .OUID)}}{{end}}</td>
<td class="num">{{.Open}}</td><td class="num">{{.Waived}}</td>
{{if .Scanned}}<td class="num">{{.Unreadable}}</td><td class="num">{{.Buckets}}</td><td class="num">{{.Confs}}</td><td title="{{.LastScan}} ({{.ScanID}})">{{.Age}} ago</td>{{else}}<td colspan="4" class="more">counted from its open findings</td>{{end}}</tr>{{end}}
</tbody></table>{{else}}<p class="empty">No account matches.</p>{{end}}{{end}}

{{define "runs"}}{{if .Page.Runs}}<table id="runs"><thead><tr>
<th>Scan</th><th>Trigger</th><th>Started</th><th class="num">Duration</th><th class="num">Complete</th><th class="num">Failed</th><th class="num">Incomplete</th><th class="num">Buckets</th><th class="num">Configurations</th>
{{range .Severities}}<th class="num">{{.}}</th>{{end}}{{with .Page.Column}}<th class="num">{{.}}</th>{{end}}
</tr></thead><tbody>{{range .Page.Runs}}
<tr data-scan="{{.ScanID}}"><td>{{.ScanID}}</td><td>{{.Trigger}}</td><td>{{.Started}}</td><td class="num">{{.Duration}}</td>
<td class="num">{{.Complete}}</td><td class="num">{{.Failed}}</td><td class="num">{{.Incomplete}}</td><td class="num">{{.Buckets}}</td><td class="num">{{.Conf}}</td>
{{range .BySeverity}}<td class="num">{{.N}}</td>{{end}}{{if $.Page.Column}}<td class="num">{{.Column}}</td>{{end}}</tr>{{end}}
</tbody></table>{{else}}<p class="empty">No scan run recorded.</p>{{end}}{{end}}
`))
