package awssim

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// reportFolder is the layout of an inventory delivery's folder name.
const reportFolder = "2006-01-02T15-04Z"

// maxReports bounds a Reports series.
const maxReports = 100000

// validateDestinationSide checks the bucket's policy, objects and report
// series; p is the bucket's path in the fixture.
func (b Bucket) validateDestinationSide(p string) error {
	if b.Policy != "" {
		if err := validPolicy(b.Policy); err != nil {
			return fmt.Errorf("%s.policy: %v", p, err)
		}
	}
	series := make([]reportSeries, 0, len(b.Reports))
	bases := map[string]int{}
	for i, r := range b.Reports {
		rp := fmt.Sprintf("%s.reports[%d]", p, i)
		if !bucketRe.MatchString(r.SourceBucket) {
			return fmt.Errorf("%s.source_bucket %q: want an S3 bucket name (3-63 of a-z, 0-9, . and -)", rp, r.SourceBucket)
		}
		if !configIDRe.MatchString(r.ConfigID) {
			return fmt.Errorf("%s.config_id %q: want 1-64 of letters, digits, '.', '_' and '-'", rp, r.ConfigID)
		}
		if r.Last.IsZero() {
			return fmt.Errorf("%s.last: missing; want the newest delivery's time (2026-05-03T01:00:00Z)", rp)
		}
		if r.Every != "" && !strings.EqualFold(r.Every, "Daily") && !strings.EqualFold(r.Every, "Weekly") {
			return fmt.Errorf("%s.every %q: want Daily or Weekly", rp, r.Every)
		}
		if r.Count < 0 || r.Count > maxReports {
			return fmt.Errorf("%s.count %d: want 1 to %d (0 means 1)", rp, r.Count, maxReports)
		}
		s := r.series()
		if j, dup := bases[s.base]; dup {
			return fmt.Errorf("%s: a second series under %q (reports[%d]); want one series per source bucket, configuration and prefix", rp, s.base, j)
		}
		bases[s.base] = i
		series = append(series, s)
	}
	keys := map[string]bool{}
	for i, o := range b.Objects {
		op := fmt.Sprintf("%s.objects[%d]", p, i)
		if o.Key == "" || len(o.Key) > 1024 || !utf8.ValidString(o.Key) {
			return fmt.Errorf("%s.key %q: want 1 to 1024 bytes of UTF-8", op, o.Key)
		}
		if keys[o.Key] {
			return fmt.Errorf("%s.key %q: duplicate object key", op, o.Key)
		}
		keys[o.Key] = true
		if o.Size < 0 {
			return fmt.Errorf("%s.size %d: want 0 or more bytes", op, o.Size)
		}
		for j, s := range series {
			if s.has(o.Key) {
				return fmt.Errorf("%s.key %q: also a delivery of reports[%d]; declare it once", op, o.Key, j)
			}
		}
	}
	return nil
}

// validPolicy checks that a bucket or key policy is a JSON object.
func validPolicy(doc string) error {
	var v map[string]any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return fmt.Errorf("not a JSON object (%v); want a policy document", err)
	}
	if _, ok := v["Statement"]; !ok {
		return fmt.Errorf("no Statement; want a policy document")
	}
	return nil
}

var keyIDRe = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)

var keyStates = []string{"Enabled", "Disabled", "PendingDeletion"}

// validate checks a key of account acct; seen holds the ARNs of the keys
// checked before it.
func (k Key) validate(p, acct, partition string, seen map[string]bool) error {
	if k.ARN != "" {
		a, err := arn.Parse(k.ARN)
		id, isKey := strings.CutPrefix(a.Resource, "key/")
		switch {
		case err != nil || a.Service != "kms" || !isKey:
			return fmt.Errorf("%s.arn %q: want a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)", p, k.ARN)
		case a.AccountID != acct:
			return fmt.Errorf("%s.arn %q: in account %s; want a key of the declaring account %s", p, k.ARN, a.AccountID, acct)
		case a.Partition != partition:
			return fmt.Errorf("%s.arn %q: partition %s; want the organization's partition %s", p, k.ARN, a.Partition, partition)
		case !regionRe.MatchString(a.Region):
			return fmt.Errorf("%s.arn %q: region %q; want a region such as eu-west-1", p, k.ARN, a.Region)
		case k.Region != "" && k.Region != a.Region:
			return fmt.Errorf("%s.region %q: the ARN's region is %s", p, k.Region, a.Region)
		case k.ID != "" && k.ID != id:
			return fmt.Errorf("%s.id %q: the ARN's key ID is %s", p, k.ID, id)
		}
		k.ID = id
	}
	if !keyIDRe.MatchString(k.ID) {
		return fmt.Errorf("%s.id %q: want a key ID (a UUID, or mrk- and 32 hex digits)", p, k.ID)
	}
	if k.Region != "" && !regionRe.MatchString(k.Region) {
		return fmt.Errorf("%s.region %q: want a region such as eu-west-1", p, k.Region)
	}
	if k.State != "" && !slices.Contains(keyStates, k.State) {
		return fmt.Errorf("%s.state %q: want one of %s", p, k.State, strings.Join(keyStates, ", "))
	}
	if k.Policy != "" {
		if err := validPolicy(k.Policy); err != nil {
			return fmt.Errorf("%s.policy: %v", p, err)
		}
	}
	full := k.arn(acct, partition)
	if seen[full] {
		return fmt.Errorf("%s: duplicate key %s", p, full)
	}
	seen[full] = true
	return nil
}

// arn returns the key's ARN; k must be valid.
func (k Key) arn(acct, partition string) string {
	if k.ARN != "" {
		return k.ARN
	}
	return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", partition, cmp.Or(k.Region, defaultRegion), acct, k.ID)
}

// objectSource is a sorted run of a bucket's objects.
type objectSource interface {
	len() int
	// at returns the i-th object; keys ascend with i.
	at(i int) listedObject
}

type listedObject struct {
	key      string
	modified time.Time
	size     int64
}

// seek returns the position of the first object of src whose key is
// from or after it, searching from lo.
func seek(src objectSource, lo int, from string) int {
	n := src.len()
	return lo + sort.Search(n-lo, func(i int) bool { return src.at(lo+i).key >= from })
}

// explicitObjects are the objects a fixture lists, sorted by key.
type explicitObjects []listedObject

func (e explicitObjects) len() int              { return len(e) }
func (e explicitObjects) at(i int) listedObject { return e[i] }

func newExplicitObjects(objs []Object) explicitObjects {
	out := make(explicitObjects, len(objs))
	for i, o := range objs {
		mod := o.LastModified
		if mod.IsZero() {
			mod = joined
		}
		out[i] = listedObject{key: o.Key, modified: mod.UTC(), size: o.Size}
	}
	slices.SortFunc(out, func(a, b listedObject) int { return strings.Compare(a.key, b.key) })
	return out
}

// reportSeries generates the keys of a Reports declaration on demand: two
// objects per delivery, in key order (the folder names sort by time).
type reportSeries struct {
	base  string    // "<prefix>/<source>/<config>/"
	first time.Time // the oldest delivery
	step  time.Duration
	count int
}

// reportFiles are the objects of one delivery, in key order.
var reportFiles = [2]struct {
	name string
	size int64
}{{"manifest.checksum", 33}, {"manifest.json", 512}}

func (r Reports) series() reportSeries {
	step := 24 * time.Hour
	if strings.EqualFold(r.Every, "Weekly") {
		step *= 7
	}
	count := max(r.Count, 1)
	base := r.SourceBucket + "/" + r.ConfigID + "/"
	if p := strings.TrimSuffix(r.Prefix, "/"); p != "" {
		base = p + "/" + base
	}
	last := r.Last.UTC().Truncate(time.Minute)
	return reportSeries{base: base, first: last.Add(-time.Duration(count-1) * step), step: step, count: count}
}

func (r reportSeries) len() int { return 2 * r.count }

func (r reportSeries) at(i int) listedObject {
	t := r.first.Add(time.Duration(i/2) * r.step)
	f := reportFiles[i%2]
	return listedObject{key: r.base + t.Format(reportFolder) + "/" + f.name, modified: t, size: f.size}
}

// has reports whether key is one of the series' objects.
func (r reportSeries) has(key string) bool {
	i := seek(r, 0, key)
	return i < r.len() && r.at(i).key == key
}

// etag is a stable ETag for an object.
func etag(key string) string {
	h := fnv.New128a()
	h.Write([]byte(key))
	return fmt.Sprintf("%q", fmt.Sprintf("%x", h.Sum(nil)))
}

// listing is one ListObjectsV2 page.
type listing struct {
	objects   []listedObject
	prefixes  []string
	truncated bool
	next      string // where the next page starts (a key, inclusive)
}

// listObjects lists the objects of sources from the key from (inclusive)
// on, those under prefix only, rolling keys up to common prefixes at the
// first delimiter after the prefix, at most maxKeys keys and common
// prefixes together. from must not sort before prefix.
func listObjects(sources []objectSource, from, prefix, delim string, maxKeys int) listing {
	type cursor struct {
		src objectSource
		pos int
	}
	cursors := make([]cursor, len(sources))
	for i, s := range sources {
		cursors[i] = cursor{src: s, pos: seek(s, 0, from)}
	}
	var out listing
	for {
		best, bestObj := -1, listedObject{}
		for i, c := range cursors {
			if c.pos >= c.src.len() {
				continue
			}
			if o := c.src.at(c.pos); best < 0 || o.key < bestObj.key {
				best, bestObj = i, o
			}
		}
		if best < 0 || !strings.HasPrefix(bestObj.key, prefix) {
			return out
		}
		if len(out.objects)+len(out.prefixes) == maxKeys {
			out.truncated, out.next = true, from
			return out
		}
		if delim != "" {
			if i := strings.Index(bestObj.key[len(prefix):], delim); i >= 0 {
				cp := bestObj.key[:len(prefix)+i+len(delim)]
				out.prefixes = append(out.prefixes, cp)
				after, ok := prefixEnd(cp)
				if !ok {
					return out
				}
				from = after
				for j := range cursors {
					cursors[j].pos = seek(cursors[j].src, cursors[j].pos, from)
				}
				continue
			}
		}
		out.objects = append(out.objects, bestObj)
		cursors[best].pos++
		from = bestObj.key + "\x00"
	}
}

// prefixEnd returns the first string after every string that starts with
// p; false when there is none (p is all 0xFF bytes).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// listObjectsTokenPrefix starts every decoded ListObjectsV2 token.
const listObjectsTokenPrefix = "lo2:"

// listObjectsV2 answers one page of ListObjectsV2; f, when set, makes it
// misbehave (a RepeatedToken fault: the page names itself as the next).
func listObjectsV2(w http.ResponseWriter, r *http.Request, b *bucket, f *Fault) {
	q := r.URL.Query()
	if q.Has("encoding-type") && q.Get("encoding-type") != "url" {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request", "ArgumentName", "encoding-type")
		return
	}
	if q.Has("encoding-type") {
		writeS3Error(w, r, http.StatusNotImplemented, "NotImplemented", "awssim: ListObjectsV2 with encoding-type=url is not simulated")
		return
	}
	maxKeys := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range", "ArgumentName", "max-keys", "ArgumentValue", v)
			return
		}
		maxKeys = min(n, 1000)
	}
	prefix, delim, startAfter, token := q.Get("prefix"), q.Get("delimiter"), q.Get("start-after"), q.Get("continuation-token")
	from := prefix
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		rest, ok := strings.CutPrefix(string(raw), listObjectsTokenPrefix)
		if err != nil || !ok {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect", "ArgumentName", "continuation-token")
			return
		}
		from = max(from, rest)
	} else if startAfter != "" {
		from = max(from, startAfter+"\x00")
	}
	page := listObjects(b.objects, from, prefix, delim, maxKeys)
	if f != nil && f.Error == FaultRepeatedToken {
		page.truncated, page.next = true, from
	}

	type xmlObject struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
	}
	type xmlPrefix struct {
		Prefix string `xml:"Prefix"`
	}
	out := struct {
		XMLName    xml.Name    `xml:"ListBucketResult"`
		NS         string      `xml:"xmlns,attr"`
		Name       string      `xml:"Name"`
		Prefix     string      `xml:"Prefix"`
		Delimiter  string      `xml:"Delimiter,omitempty"`
		MaxKeys    int         `xml:"MaxKeys"`
		KeyCount   int         `xml:"KeyCount"`
		Truncated  bool        `xml:"IsTruncated"`
		Token      string      `xml:"ContinuationToken,omitempty"`
		Next       string      `xml:"NextContinuationToken,omitempty"`
		StartAfter string      `xml:"StartAfter,omitempty"`
		Contents   []xmlObject `xml:"Contents"`
		Prefixes   []xmlPrefix `xml:"CommonPrefixes"`
	}{
		NS: s3NS, Name: b.name, Prefix: prefix, Delimiter: delim, MaxKeys: maxKeys,
		KeyCount: len(page.objects) + len(page.prefixes), Truncated: page.truncated, Token: token, StartAfter: startAfter,
	}
	if page.truncated {
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(listObjectsTokenPrefix + page.next))
	}
	for _, o := range page.objects {
		out.Contents = append(out.Contents, xmlObject{Key: o.key, LastModified: o.modified.Format("2006-01-02T15:04:05.000Z"), ETag: etag(o.key), Size: o.size, StorageClass: "STANDARD"})
	}
	for _, p := range page.prefixes {
		out.Prefixes = append(out.Prefixes, xmlPrefix{Prefix: p})
	}
	writeS3XML(w, out)
}
