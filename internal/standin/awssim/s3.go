package awssim

import (
	"bufio"
	"cmp"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// inventoryPage is S3's page size for ListBucketInventoryConfigurations.
const inventoryPage = 100

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg string, extra ...string) {
	w.Header().Set("X-Amz-Request-Id", newRequestID())
	w.Header().Set("X-Amz-Id-2", newRequestID())
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	xml.EscapeText(&b, []byte(code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(msg))
	b.WriteString("</Message>")
	for i := 0; i+1 < len(extra); i += 2 {
		fmt.Fprintf(&b, "<%s>", extra[i])
		xml.EscapeText(&b, []byte(extra[i+1]))
		fmt.Fprintf(&b, "</%s>", extra[i])
	}
	fmt.Fprintf(&b, "<RequestId>%s</RequestId><HostId>%s</HostId></Error>", newRequestID(), newRequestID())
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

func writeS3XML(w http.ResponseWriter, v any) {
	body, err := xmlDocument(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeS3Body(w, body)
}

// s3Fault answers an injected fault in S3's error shape. Pagination faults
// are not errors and are handled by the inventory listing.
func s3Fault(w http.ResponseWriter, r *http.Request, f *Fault, bkt string) bool {
	switch f.Error {
	case FaultAccessDenied:
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
	case FaultThrottle:
		writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case FaultNoSuchBucket:
		writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "BucketName", bkt)
	case FaultInternalError:
		writeS3Error(w, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case FaultServiceUnavailable:
		writeS3Error(w, r, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unable to handle request.")
	default:
		return false
	}
	return true
}

// s3Writes are the S3 operations that change a bucket, each with the IAM
// action that authorises it (s3:PutInventoryConfiguration covers Put
// and Delete).
var s3Writes = map[string]string{
	"PutBucketInventoryConfiguration":    "s3:PutInventoryConfiguration",
	"DeleteBucketInventoryConfiguration": "s3:PutInventoryConfiguration",
	"PutBucketPolicy":                    "s3:PutBucketPolicy",
}

// notAuthorized is AWS's message for a call the caller's identity
// policies do not allow.
func notAuthorized(c caller, action, resource string) string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: \"%s\" because no identity-based policy allows the %s action", c.arn, action, resource, action)
}

// s3Op names the S3 operation of a request.
func s3Op(r *http.Request) (op, bkt string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bkt, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	switch {
	case bkt == "" && r.Method == http.MethodGet:
		return "ListBuckets", ""
	case key != "":
		return "", bkt
	case q.Has("inventory") && r.Method == http.MethodGet && q.Has("id"):
		return "GetBucketInventoryConfiguration", bkt
	case q.Has("inventory") && r.Method == http.MethodGet:
		return "ListBucketInventoryConfigurations", bkt
	case q.Has("inventory") && r.Method == http.MethodPut:
		return "PutBucketInventoryConfiguration", bkt
	case q.Has("inventory") && r.Method == http.MethodDelete:
		return "DeleteBucketInventoryConfiguration", bkt
	case q.Has("location") && r.Method == http.MethodGet:
		return "GetBucketLocation", bkt
	case q.Has("policy") && r.Method == http.MethodGet:
		return "GetBucketPolicy", bkt
	case q.Has("policy") && r.Method == http.MethodPut:
		return "PutBucketPolicy", bkt
	case q.Get("list-type") == "2" && r.Method == http.MethodGet:
		return "ListObjectsV2", bkt
	case r.Method == http.MethodHead && len(q) == 0:
		return "HeadBucket", bkt
	}
	return "", bkt
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, c caller, authCode, authMsg string) {
	op, bkt := s3Op(r)
	if op == "" {
		writeS3Error(w, r, http.StatusNotImplemented, "NotImplemented", "awssim: "+r.Method+" "+r.URL.String()+" is not simulated")
		return
	}
	if authCode != "" {
		s.count(op, "")
		if authCode == "MissingAuthenticationToken" {
			authCode = "AccessDenied"
		}
		writeS3Error(w, r, http.StatusForbidden, authCode, authMsg)
		return
	}
	f, alive := s.begin(w, r, op, c.account, bkt)
	if !alive {
		return
	}
	if f != nil && s3Fault(w, r, f, bkt) {
		return
	}
	if op == "ListBuckets" {
		s.listBuckets(w, r, c, f)
		return
	}

	s.mu.RLock()
	b := s.buckets[bkt]
	s.mu.RUnlock()
	if b == nil {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "BucketName", bkt)
		return
	}
	if op != "GetBucketLocation" && c.region != b.region {
		w.Header().Set("X-Amz-Bucket-Region", b.region)
		if s.wrongRegion == "AuthorizationHeaderMalformed" && r.Method != http.MethodHead {
			writeS3Error(w, r, http.StatusBadRequest, "AuthorizationHeaderMalformed",
				fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", c.region, b.region),
				"Region", b.region)
			return
		}
		writeS3Error(w, r, http.StatusMovedPermanently, "PermanentRedirect",
			"The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
			"Endpoint", "s3."+b.region+".amazonaws.com", "Bucket", bkt)
		return
	}
	if c.account != b.account {
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if owner := r.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" && owner != b.account {
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	if action := s3Writes[op]; action != "" && c.readOnly {
		writeS3Error(w, r, http.StatusForbidden, "AccessDenied", notAuthorized(c, action, "arn:"+s.partition+":s3:::"+bkt))
		return
	}
	switch op {
	case "HeadBucket":
		w.Header().Set("X-Amz-Bucket-Region", b.region)
		w.WriteHeader(http.StatusOK)
	case "GetBucketLocation":
		loc := b.region
		if loc == "us-east-1" {
			loc = ""
		}
		writeS3XML(w, struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			NS      string   `xml:"xmlns,attr"`
			Region  string   `xml:",chardata"`
		}{NS: s3NS, Region: loc})
	case "ListBucketInventoryConfigurations":
		s.listInventory(w, r, b, f)
	case "GetBucketInventoryConfiguration":
		id := r.URL.Query().Get("id")
		s.mu.RLock()
		i := slices.IndexFunc(b.configs, func(c InventoryConfig) bool { return c.ID == id })
		var cfg InventoryConfig
		if i >= 0 {
			cfg = b.configs[i]
		}
		s.mu.RUnlock()
		if i < 0 {
			writeS3Error(w, r, http.StatusNotFound, "NoSuchConfiguration", "The specified configuration does not exist.")
			return
		}
		writeS3XML(w, toXMLConfig(cfg))
	case "PutBucketInventoryConfiguration":
		s.putInventory(w, r, b)
	case "GetBucketPolicy":
		s.mu.RLock()
		policy := b.policy
		s.mu.RUnlock()
		if policy == "" {
			writeS3Error(w, r, http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist", "BucketName", bkt)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Request-Id", newRequestID())
		_, _ = io.WriteString(w, policy)
	case "PutBucketPolicy":
		s.putBucketPolicy(w, r, b)
	case "ListObjectsV2":
		listObjectsV2(w, r, b, f)
	case "DeleteBucketInventoryConfiguration":
		id := r.URL.Query().Get("id")
		s.mu.Lock()
		b.configs = slices.DeleteFunc(b.configs, func(c InventoryConfig) bool { return c.ID == id })
		b.changed()
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

// listBuckets answers one page of the caller's buckets; f, when set,
// makes it misbehave (a RepeatedToken fault: every page names the same
// next token).
func (s *Server) listBuckets(w http.ResponseWriter, r *http.Request, c caller, f *Fault) {
	q := r.URL.Query()
	paginated := q.Has("max-buckets") || q.Has("continuation-token") || q.Has("prefix") || q.Has("bucket-region")
	size := 10000
	if q.Has("max-buckets") {
		n, err := strconv.Atoi(q.Get("max-buckets"))
		if err != nil || n < 1 || n > 10000 {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "max-buckets must be between 1 and 10000", "ArgumentName", "max-buckets")
			return
		}
		size = n
	}
	start := ""
	if t := q.Get("continuation-token"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		if err != nil {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect", "ArgumentName", "continuation-token")
			return
		}
		start = string(raw)
	}
	type xmlBucket struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion,omitempty"`
		BucketArn    string `xml:"BucketArn,omitempty"`
	}
	out := struct {
		XMLName xml.Name    `xml:"ListAllMyBucketsResult"`
		NS      string      `xml:"xmlns,attr"`
		OwnerID string      `xml:"Owner>ID"`
		Buckets []xmlBucket `xml:"Buckets>Bucket"`
		Token   string      `xml:"ContinuationToken,omitempty"`
		Prefix  string      `xml:"Prefix,omitempty"`
	}{NS: s3NS, OwnerID: fmt.Sprintf("%064x", c.account), Prefix: q.Get("prefix")}

	var names []string
	if a := s.byID[c.account]; a != nil {
		names = a.buckets
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, n := range names {
		b := s.buckets[n]
		if n < start || !strings.HasPrefix(n, q.Get("prefix")) || (q.Has("bucket-region") && b.listedRegion != q.Get("bucket-region")) {
			continue
		}
		if len(out.Buckets) == size {
			out.Token = base64.RawURLEncoding.EncodeToString([]byte(n))
			break
		}
		xb := xmlBucket{Name: n, CreationDate: joined.Format("2006-01-02T15:04:05.000Z")}
		if paginated {
			xb.BucketRegion = b.listedRegion
			xb.BucketArn = "arn:" + s.partition + ":s3:::" + n
		}
		out.Buckets = append(out.Buckets, xb)
	}
	if f != nil && f.Error == FaultRepeatedToken {
		out.Token = base64.RawURLEncoding.EncodeToString([]byte("a"))
	}
	writeS3XML(w, out)
}

func (s *Server) listInventory(w http.ResponseWriter, r *http.Request, b *bucket, f *Fault) {
	token := r.URL.Query().Get("continuation-token")
	offset := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "inv:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(raw), "inv:") || n < 0 {
			writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect", "ArgumentName", "continuation-token")
			return
		}
		offset = n
	}
	if f == nil {
		s.mu.RLock()
		body, ok := b.pages[token]
		s.mu.RUnlock()
		if ok {
			writeS3Body(w, body)
			return
		}
	}
	s.mu.RLock()
	body, err := renderInventoryPage(b, token, offset, f)
	gen := b.gen
	s.mu.RUnlock()
	if err != nil {
		writeS3Error(w, r, http.StatusInternalServerError, "InternalError", "awssim: "+err.Error())
		return
	}
	if f == nil {
		s.mu.Lock()
		if b.gen == gen {
			b.cachePage(token, body)
		}
		s.mu.Unlock()
	}
	writeS3Body(w, body)
}

// renderInventoryPage renders the page of b's configurations that starts
// at offset, as answered to token; f, when set, makes it misbehave.
// s.mu must be held (read).
func renderInventoryPage(b *bucket, token string, offset int, f *Fault) ([]byte, error) {
	out := struct {
		XMLName   xml.Name           `xml:"ListInventoryConfigurationsResult"`
		NS        string             `xml:"xmlns,attr"`
		Configs   []xmlInventoryConf `xml:"InventoryConfiguration"`
		Truncated bool               `xml:"IsTruncated"`
		Token     string             `xml:"ContinuationToken,omitempty"`
		Next      string             `xml:"NextContinuationToken,omitempty"`
	}{NS: s3NS, Token: token}
	end := min(offset+inventoryPage, len(b.configs))
	for _, c := range b.configs[min(offset, end):end] {
		out.Configs = append(out.Configs, toXMLConfig(c))
	}
	switch {
	case f != nil && f.Error == FaultTruncatedWithoutToken:
		out.Truncated = true
	case f != nil && f.Error == FaultRepeatedToken:
		out.Truncated = true
		out.Next = inventoryToken(0)
	case end < len(b.configs):
		out.Truncated = true
		out.Next = inventoryToken(end)
	}
	return xmlDocument(out)
}

func inventoryToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("inv:" + strconv.Itoa(offset)))
}

// renderAll renders every page of b's configurations ahead of the calls,
// so answering them costs the simulator neither CPU nor new memory (which
// would blur the benchmark's figures). s.mu must be held.
func (b *bucket) renderAll() error {
	for offset := 0; ; offset += inventoryPage {
		token := ""
		if offset > 0 {
			token = inventoryToken(offset)
		}
		body, err := renderInventoryPage(b, token, offset, nil)
		if err != nil {
			return err
		}
		b.cachePage(token, body)
		if offset+inventoryPage >= len(b.configs) {
			return nil
		}
	}
}

func (b *bucket) cachePage(token string, body []byte) {
	if b.pages == nil {
		b.pages = map[string][]byte{}
	}
	b.pages[token] = body
}

// writeS3Body answers 200 with an XML document.
func writeS3Body(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", newRequestID())
	_, _ = w.Write(body)
}

// readS3Body reads a request body, decoding aws-chunked encoding (used by
// the SDK for trailing checksums).
func readS3Body(r *http.Request) ([]byte, error) {
	if !strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") &&
		!strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return io.ReadAll(r.Body)
	}
	var out []byte
	br := bufio.NewReader(r.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("aws-chunked body: chunk size %q: %w", sizeHex, err)
		}
		if n == 0 {
			return out, nil
		}
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, fmt.Errorf("aws-chunked body: %w", err)
		}
		out = append(out, chunk[:n]...)
	}
}

type xmlInventoryConf struct {
	XMLName     xml.Name   `xml:"InventoryConfiguration"`
	ID          string     `xml:"Id"`
	IsEnabled   bool       `xml:"IsEnabled"`
	Filter      *xmlFilter `xml:"Filter,omitempty"`
	Destination struct {
		S3 xmlS3Destination `xml:"S3BucketDestination"`
	} `xml:"Destination"`
	Frequency      string     `xml:"Schedule>Frequency"`
	Versions       string     `xml:"IncludedObjectVersions"`
	OptionalFields *xmlFields `xml:"OptionalFields,omitempty"`
}

type xmlFilter struct {
	Prefix string `xml:"Prefix"`
}

type xmlFields struct {
	Field []string `xml:"Field"`
}

type xmlS3Destination struct {
	AccountID  string         `xml:"AccountId,omitempty"`
	Bucket     string         `xml:"Bucket"`
	Format     string         `xml:"Format"`
	Prefix     string         `xml:"Prefix,omitempty"`
	Encryption *xmlEncryption `xml:"Encryption,omitempty"`
}

type xmlEncryption struct {
	SSES3  *struct{} `xml:"SSE-S3,omitempty"`
	SSEKMS *xmlKMS   `xml:"SSE-KMS,omitempty"`
}

type xmlKMS struct {
	KeyID string `xml:"KeyId"`
}

func toXMLConfig(c InventoryConfig) xmlInventoryConf {
	x := xmlInventoryConf{ID: c.ID, IsEnabled: c.Enabled, Frequency: cmp.Or(c.Frequency, "Daily"), Versions: cmp.Or(c.Versions, "Current")}
	if c.FilterPrefix != "" {
		x.Filter = &xmlFilter{Prefix: c.FilterPrefix}
	}
	if len(c.OptionalFields) > 0 {
		x.OptionalFields = &xmlFields{Field: c.OptionalFields}
	}
	d := c.Destination
	x.Destination.S3 = xmlS3Destination{AccountID: d.AccountID, Bucket: d.Bucket, Format: cmp.Or(d.Format, "CSV"), Prefix: d.Prefix}
	switch d.Encryption {
	case "SSE-S3":
		x.Destination.S3.Encryption = &xmlEncryption{SSES3: &struct{}{}}
	case "SSE-KMS":
		x.Destination.S3.Encryption = &xmlEncryption{SSEKMS: &xmlKMS{KeyID: d.KMSKeyID}}
	}
	return x
}

func fromXMLConfig(x xmlInventoryConf) InventoryConfig {
	d := x.Destination.S3
	c := InventoryConfig{
		ID: x.ID, Enabled: x.IsEnabled, Frequency: x.Frequency, Versions: x.Versions,
		Destination: Destination{AccountID: d.AccountID, Bucket: d.Bucket, Format: d.Format, Prefix: d.Prefix},
	}
	if x.Filter != nil {
		c.FilterPrefix = x.Filter.Prefix
	}
	if x.OptionalFields != nil {
		c.OptionalFields = x.OptionalFields.Field
	}
	if e := d.Encryption; e != nil {
		switch {
		case e.SSEKMS != nil:
			c.Destination.Encryption, c.Destination.KMSKeyID = "SSE-KMS", e.SSEKMS.KeyID
		case e.SSES3 != nil:
			c.Destination.Encryption = "SSE-S3"
		}
	}
	return c
}
