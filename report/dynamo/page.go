package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/internal/paging"
	"github.com/s3inv/scanner/rules"
)

// The paged queries (report.Querier): each call is exactly one Query
// request. Its page token is the position of the last item the page
// holds (the item's table and index keys, or the LastEvaluatedKey),
// handed back as ExclusiveStartKey.

// filteredReadFactor bounds what a filtered page reads: DynamoDB's
// Limit counts the items a Query evaluates before its filter, so a page
// of n findings with a filter evaluates up to filteredReadFactor × (n+1)
// items (at most report.MaxPageLimit+1), and may hold fewer than n.
const filteredReadFactor = 4

// listing is one paged Query: its input (key condition, filter), the
// names of its position key, and the partition every token of it must
// name.
type listing struct {
	id        string // paging.ListingID
	in        *dynamodb.QueryInput
	keys      []string // table keys and index keys
	partition [2]string
	filtered  bool
	// newestFirst reads the sort key descending (ScanIndexForward false).
	newestFirst bool
}

// readLimit is the Query Limit of a page of limit items.
func readLimit(limit int, filtered bool) int32 {
	if !filtered {
		return int32(limit + 1)
	}
	return int32(min(filteredReadFactor*(limit+1), report.MaxPageLimit+1))
}

// startKey reads a token of l back into an ExclusiveStartKey.
func (l listing) startKey(token string) (map[string]types.AttributeValue, error) {
	key, err := paging.DecodeToken(token, l.id, l.keys...)
	if err != nil {
		return nil, err
	}
	if v, _ := key[l.partition[0]].(string); v != l.partition[1] {
		return nil, fmt.Errorf("page token %.24q: a position in another partition; want the next token of the page before, unchanged", token)
	}
	esk := make(map[string]types.AttributeValue, len(key))
	for k, v := range key {
		switch v := v.(type) {
		case string:
			esk[k] = &types.AttributeValueMemberS{Value: v}
		case json.Number:
			esk[k] = &types.AttributeValueMemberN{Value: v.String()}
		}
	}
	return esk, nil
}

// token is the page token of the position key (the listing's key
// attributes of av).
func (l listing) token(av map[string]types.AttributeValue) (string, error) {
	key := make(map[string]any, len(l.keys))
	for _, k := range l.keys {
		switch v := av[k].(type) {
		case *types.AttributeValueMemberS:
			key[k] = v.Value
		case *types.AttributeValueMemberN:
			key[k] = json.Number(v.Value)
		default:
			return "", fmt.Errorf("query %s: item without its key attribute %s", l.id, k)
		}
	}
	return paging.EncodeToken(l.id, key)
}

// readPage runs one Query of l and decodes its items with decode (which
// says whether to keep each), at most req.Limit of them, and the token
// of the next page.
func readPage[T any](ctx context.Context, s *Store, l listing, req report.PageRequest,
	decode func(map[string]types.AttributeValue) (T, bool, error)) (report.Page[T], error) {
	if err := paging.CheckLimit(req.Limit); err != nil {
		return report.Page[T]{}, err
	}
	in := copyQuery(l.in)
	in.Limit = aws.Int32(readLimit(req.Limit, l.filtered))
	if l.newestFirst {
		in.ScanIndexForward = aws.Bool(false)
	}
	if req.Token != "" {
		esk, err := l.startKey(req.Token)
		if err != nil {
			return report.Page[T]{}, err
		}
		in.ExclusiveStartKey = esk
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return report.Page[T]{}, fmt.Errorf("query %s: %w", s.describe(in), err)
	}
	s.stats.queries.Add(1)
	var p report.Page[T]
	var last map[string]types.AttributeValue // the item kept last
	for _, av := range out.Items {
		v, keep, err := decode(av)
		if err != nil {
			return report.Page[T]{}, err
		}
		if !keep {
			continue
		}
		if len(p.Items) == req.Limit {
			// One more than the page holds: the next page starts after
			// the last item it holds.
			p.Next, err = l.token(last)
			return p, err
		}
		p.Items = append(p.Items, v)
		last = av
	}
	if len(out.LastEvaluatedKey) > 0 {
		if in.ExclusiveStartKey != nil && maps.EqualFunc(out.LastEvaluatedKey, in.ExclusiveStartKey, sameValue) {
			return report.Page[T]{}, fmt.Errorf("query %s: returned its ExclusiveStartKey as LastEvaluatedKey; the listing does not advance", s.describe(in))
		}
		p.Next, err = l.token(out.LastEvaluatedKey)
	}
	return p, err
}

func sameValue(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && a.Value == b.Value
	}
	return false
}

// selectionFilter is the filter of sel's fields that the key does not
// decide (those named in skip are keys), with extra conditions; nil when
// there is none.
func selectionFilter(sel report.Selection, extra []expression.ConditionBuilder, skip ...string) *expression.ConditionBuilder {
	conds := slices.Clone(extra)
	if sel.Account != "" && !slices.Contains(skip, "account") {
		conds = append(conds, expression.Name(attrAccountID).Equal(expression.Value(sel.Account)))
	}
	if sel.Rule != "" && !slices.Contains(skip, "rule") {
		conds = append(conds, expression.Name("rule_id").Equal(expression.Value(sel.Rule)))
	}
	if sel.Severity != 0 && !slices.Contains(skip, "severity") {
		conds = append(conds, expression.Name("severity").Equal(expression.Value(sel.Severity.String())))
	}
	if sel.Coverage && !slices.Contains(skip, "coverage") {
		var ids []expression.OperandBuilder
		for _, r := range rules.All() {
			if rules.IsCoverage(r.ID) {
				ids = append(ids, expression.Value(r.ID))
			}
		}
		if len(ids) > 0 {
			conds = append(conds, expression.Name("rule_id").In(ids[0], ids[1:]...))
		}
	}
	if sel.OU != "" {
		conds = append(conds, expression.Name("ou_id").Equal(expression.Value(sel.OU)).
			Or(expression.Name("ou_name").Equal(expression.Value(sel.OU))))
	}
	switch len(conds) {
	case 0:
		return nil
	case 1:
		return &conds[0]
	}
	c := expression.And(conds[0], conds[1], conds[2:]...)
	return &c
}

// recordDecoder keeps the unexpired current findings.
func (s *Store) recordDecoder() func(map[string]types.AttributeValue) (report.Record, bool, error) {
	now := s.opts.Now()
	return func(av map[string]types.AttributeValue) (report.Record, bool, error) {
		if !isType(av, typeFinding) {
			return report.Record{}, false, nil
		}
		r, err := decodeRecord(av)
		if err != nil {
			return report.Record{}, false, err
		}
		return r, !r.Expired(now), nil
	}
}

// Index and table keys of the position of each listing.
var (
	tableKeys = []string{attrPK, attrSK}
	withTable = func(index ...string) []string { return append(index, tableKeys...) }
)

// OpenPage lists the unresolved findings that match sel: an account's on
// the table key (filtered on type and status), else a rule's on index
// open-by-rule, else the coverage findings on index open-coverage, else
// a severity's on index open-by-severity, newest first; the other fields
// of sel filter.
func (s *Store) OpenPage(ctx context.Context, sel report.Selection, req report.PageRequest) (report.Page[report.Record], error) {
	if err := paging.CheckOpen(sel.String(), sel.Account, sel.Rule, sel.Severity, sel.Coverage); err != nil {
		return report.Page[report.Record]{}, err
	}
	l := listing{id: paging.ListingID("open", sel.String())}
	var err error
	switch {
	case sel.Account != "":
		filter := selectionFilter(sel, []expression.ConditionBuilder{*unresolved()}, "account")
		l.in, err = accountQuery(s.table, sel.Account, findingPrefix, filter)
		l.keys, l.partition = tableKeys, [2]string{attrPK, accountPK(sel.Account)}
	case sel.Rule != "":
		filter := selectionFilter(sel, nil, "rule")
		l.in, err = keyQuery(s.table, IndexOpenByRule, expression.Key(attrOpenRule).Equal(expression.Value(sel.Rule)), filter)
		l.keys, l.partition = withTable(attrOpenRule, attrAccountID), [2]string{attrOpenRule, sel.Rule}
	case sel.Coverage:
		filter := selectionFilter(sel, nil, "coverage")
		l.in, err = keyQuery(s.table, IndexOpenCoverage, expression.Key(attrOpenCoverage).Equal(expression.Value(coverageFeed)), filter)
		l.keys, l.partition = withTable(attrOpenCoverage, attrAccountID), [2]string{attrOpenCoverage, coverageFeed}
	default:
		filter := selectionFilter(sel, nil, "severity")
		l.in, err = keyQuery(s.table, IndexOpenBySeverity, expression.Key(attrOpenSeverity).Equal(expression.Value(sel.Severity.String())), filter)
		l.keys, l.partition = withTable(attrOpenSeverity, attrFirstSeen), [2]string{attrOpenSeverity, sel.Severity.String()}
		l.newestFirst = true
	}
	if err != nil {
		return report.Page[report.Record]{}, err
	}
	l.filtered = l.in.FilterExpression != nil
	return readPage(ctx, s, l, req, s.recordDecoder())
}

// ChangesPage lists what scan scanID opened, reopened and resolved (index
// changes; a severity narrows the key, the other fields filter).
func (s *Store) ChangesPage(ctx context.Context, scanID string, sel report.Selection, req report.PageRequest) (report.Page[report.Record], error) {
	if err := paging.CheckSeverity(sel.Severity); err != nil {
		return report.Page[report.Record]{}, err
	}
	if scanID == "" {
		return report.Page[report.Record]{}, fmt.Errorf("changes of a scan: empty scan ID; want the ID of a run")
	}
	key := expression.Key(attrChangedIn).Equal(expression.Value(scanID))
	if sel.Severity != 0 {
		key = key.And(expression.Key(attrChangeSort).BeginsWith(paging.SeverityRank(sel.Severity)))
	}
	in, err := keyQuery(s.table, IndexChanges, key, selectionFilter(sel, nil, "severity"))
	if err != nil {
		return report.Page[report.Record]{}, err
	}
	l := listing{id: paging.ListingID("changes", scanID, sel.String()), in: in,
		keys: withTable(attrChangedIn, attrChangeSort), partition: [2]string{attrChangedIn, scanID}}
	l.filtered = l.in.FilterExpression != nil
	return readPage(ctx, s, l, req, s.recordDecoder())
}

// WaiversPage lists the WAIVED findings whose waiver ends by until, the
// soonest first (index waivers).
func (s *Store) WaiversPage(ctx context.Context, until string, sel report.Selection, req report.PageRequest) (report.Page[report.Record], error) {
	if err := paging.CheckWaiverDate(until); err != nil {
		return report.Page[report.Record]{}, err
	}
	if err := paging.CheckSeverity(sel.Severity); err != nil {
		return report.Page[report.Record]{}, err
	}
	key := expression.Key(attrWaiverFeed).Equal(expression.Value(waiverFeed)).
		And(expression.Key(attrWaiverExp).LessThanEqual(expression.Value(until)))
	in, err := keyQuery(s.table, IndexWaivers, key, selectionFilter(sel, nil))
	if err != nil {
		return report.Page[report.Record]{}, err
	}
	l := listing{id: paging.ListingID("waivers", until, sel.String()), in: in,
		keys: withTable(attrWaiverFeed, attrWaiverExp), partition: [2]string{attrWaiverFeed, waiverFeed}}
	l.filtered = l.in.FilterExpression != nil
	decode := s.recordDecoder()
	return readPage(ctx, s, l, req, func(av map[string]types.AttributeValue) (report.Record, bool, error) {
		r, keep, err := decode(av)
		return r, keep && r.Status == rules.StatusWaived, err
	})
}

// RunsPage lists the runs, newest first (index runs).
func (s *Store) RunsPage(ctx context.Context, req report.PageRequest) (report.Page[report.Run], error) {
	in, err := keyQuery(s.table, IndexRuns, expression.Key(attrRunFeed).Equal(expression.Value(runFeed)), nil)
	if err != nil {
		return report.Page[report.Run]{}, err
	}
	l := listing{id: paging.ListingID("runs"), in: in, newestFirst: true,
		keys: withTable(attrRunFeed, attrStartedAt), partition: [2]string{attrRunFeed, runFeed}}
	return readPage(ctx, s, l, req, func(av map[string]types.AttributeValue) (report.Run, bool, error) {
		r, err := decodeRun(av)
		return r, err == nil, err
	})
}

// WorstAccountsPage lists the last complete scans, most open findings
// first (index worst-accounts; one account's on the table key), an OU
// filtering.
func (s *Store) WorstAccountsPage(ctx context.Context, sel report.Selection, req report.PageRequest) (report.Page[report.AccountScan], error) {
	if err := paging.CheckAccounts(sel.String(), sel.Rule, sel.Severity, sel.Coverage); err != nil {
		return report.Page[report.AccountScan]{}, err
	}
	filter := selectionFilter(report.Selection{OU: sel.OU}, nil)
	l := listing{id: paging.ListingID("accounts", sel.String())}
	var err error
	if sel.Account != "" {
		l.in, err = keyQuery(s.table, "", expression.Key(attrPK).Equal(expression.Value(accountPK(sel.Account))).
			And(expression.Key(attrSK).Equal(expression.Value(skAccountScan))), filter)
		l.keys, l.partition = tableKeys, [2]string{attrPK, accountPK(sel.Account)}
	} else {
		l.in, err = keyQuery(s.table, IndexWorstAccounts, expression.Key(attrAccountFeed).Equal(expression.Value(accountFeed)), filter)
		l.keys, l.partition = withTable(attrAccountFeed, attrOpen), [2]string{attrAccountFeed, accountFeed}
		l.newestFirst = true
	}
	if err != nil {
		return report.Page[report.AccountScan]{}, err
	}
	l.filtered = filter != nil
	return readPage(ctx, s, l, req, func(av map[string]types.AttributeValue) (report.AccountScan, bool, error) {
		a, err := decodeAccountScan(av)
		return a, err == nil, err
	})
}
