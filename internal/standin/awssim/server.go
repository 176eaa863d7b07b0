package awssim

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default management credentials (see Server.ManagementCredentials).
const (
	DefaultAccessKeyID     = "AKIASIMMANAGEMENT001"
	DefaultSecretAccessKey = "sim-management-secret-access-key"
)

// Option adjusts a Server.
type Option func(*Server)

// WithLatency delays every call by fixed plus a random duration in
// [0, jitter), as a network round trip would.
func WithLatency(fixed, jitter time.Duration) Option {
	return func(s *Server) { s.latency, s.jitter = fixed, jitter }
}

// WithThrottle throttles every call with probability p (0 to 1), with the
// throttling error of the service called (S3 503 SlowDown, STS 400
// Throttling, Organizations 400 TooManyRequestsException, KMS 400
// ThrottlingException). seed makes the
// sequence of draws repeatable.
func WithThrottle(p float64, seed uint64) Option {
	return func(s *Server) {
		s.throttleP = p
		s.rnd = mrand.New(mrand.NewPCG(seed, seed^0x5eed))
	}
}

// WithAccountRateLimit gives every account a token bucket of burst
// requests refilled at rps per second, shared by every API the account's
// calls go to (the caller's account for S3 and Organizations, the role's
// account for AssumeRole). A call that finds the bucket empty is answered
// with the service's throttling error and takes no token.
func WithAccountRateLimit(rps float64, burst int) Option {
	return func(s *Server) { s.rps, s.burst = rps, burst }
}

// WithClock sets the clock used for credential expiry (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithManagementCredentials sets the credentials ManagementCredentials
// returns. Any access key not issued by the simulator is treated as
// management credentials anyway.
func WithManagementCredentials(accessKeyID, secret string) Option {
	return func(s *Server) { s.mgmtKey, s.mgmtSecret = accessKeyID, secret }
}

// Server is a running simulated AWS organization. It is safe for
// concurrent use.
type Server struct {
	hs *httptest.Server

	org         Organization
	mgmtAccount string
	wrongRegion string
	latency     time.Duration
	jitter      time.Duration
	now         func() time.Time
	mgmtKey     string
	mgmtSecret  string
	partition   string

	throttleMu sync.Mutex
	throttleP  float64
	rnd        *mrand.Rand
	rps        float64
	burst      int
	limits     map[string]*tokenBucket // account → its rate limit

	accounts   []*account          // in ascending ID order
	byID       map[string]*account // account ID → account
	ouChildren map[string][]OU     // parent ID → its OUs
	ouNames    map[string]bool     // every OU and root ID
	keys       map[string]*kmsKey  // key ARN → KMS key

	mu      sync.RWMutex
	buckets map[string]*bucket // bucket name → bucket; configs change with PUT
	creds   map[string]issued  // issued access key ID → credentials
	faults  []*fault
	keySeq  atomic.Int64
	// bypasses counts PutKeyPolicy calls with BypassPolicyLockoutSafetyCheck.
	bypasses atomic.Int64

	callMu   sync.Mutex
	inFlight int           // requests being answered
	peak     int           // most requests in flight at once
	busy     time.Duration // integral of inFlight over time
	lastTick time.Time
	calls    map[string]int    // op → calls
	byAcct   map[[2]string]int // {op, account} → calls
}

type account struct {
	Account
	role    Role     // effective member role
	roles   []Role   // effective further roles
	buckets []string // names, sorted
}

// assumable returns the account's role named name (without its leading
// and trailing slashes), if it has one.
func (a *account) assumable(name string) (Role, bool) {
	for _, r := range append([]Role{a.role}, a.roles...) {
		if !r.Missing && strings.Trim(r.Name, "/") == name {
			return r, true
		}
	}
	return Role{}, false
}

// mergeRoles returns the organization's further roles with the account's
// replacing those of the same name.
func mergeRoles(org, own []Role) []Role {
	out := slices.Clone(org)
	for _, r := range own {
		name := strings.Trim(r.Name, "/")
		if i := slices.IndexFunc(out, func(o Role) bool { return strings.Trim(o.Name, "/") == name }); i >= 0 {
			out[i] = r
		} else {
			out = append(out, r)
		}
	}
	return out
}

type bucket struct {
	name, region, account string
	listedRegion          string
	configs               []InventoryConfig // sorted by ID
	pages                 map[string][]byte // rendered inventory pages by token
	gen                   int               // bumped by every change of configs
	policy                string            // bucket policy; "" for none
	objects               []objectSource    // what ListObjectsV2 lists
}

// changed drops the rendered pages; s.mu must be held.
func (b *bucket) changed() {
	b.pages = nil
	b.gen++
}

type issued struct {
	account, secret, token string
	expires                time.Time
	arn                    string // the assumed-role session's ARN
	readOnly               bool   // the role may not write
}

type fault struct {
	Fault
	left int // uses left; <0 means unlimited
}

// New validates the fixture and starts the simulator on 127.0.0.1 on a
// free port. The fixture is copied: changing it afterwards changes
// nothing.
func New(fx *Fixture, opts ...Option) (*Server, error) {
	if fx == nil {
		return nil, fmt.Errorf("awssim: nil fixture; want an organization")
	}
	if err := fx.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		org:         fx.Organization,
		partition:   cmp.Or(fx.Organization.Partition, "aws"),
		limits:      map[string]*tokenBucket{},
		wrongRegion: fx.WrongRegion,
		now:         time.Now,
		mgmtKey:     DefaultAccessKeyID,
		mgmtSecret:  DefaultSecretAccessKey,
		byID:        map[string]*account{},
		ouChildren:  map[string][]OU{},
		ouNames:     map[string]bool{},
		keys:        map[string]*kmsKey{},
		buckets:     map[string]*bucket{},
		creds:       map[string]issued{},
		calls:       map[string]int{},
		byAcct:      map[[2]string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.throttleP < 0 || s.throttleP > 1 {
		return nil, fmt.Errorf("awssim: throttle probability %g: want 0 to 1", s.throttleP)
	}
	if s.rps < 0 || (s.rps > 0 && s.burst < 1) {
		return nil, fmt.Errorf("awssim: rate limit %g/s with burst %d: want a positive rate and a burst of 1 or more", s.rps, s.burst)
	}
	if s.org.ID == "" {
		s.org.ID = defaultOrgID
	}
	if s.org.Root == "" {
		s.org.Root = defaultRoot
	}
	if s.wrongRegion == "" {
		s.wrongRegion = "PermanentRedirect"
	}
	s.mgmtAccount = s.org.ManagementAccount
	if s.mgmtAccount == "" {
		s.mgmtAccount = s.org.Accounts[0].ID
	}
	s.ouNames[s.org.Root] = true
	var walk func(parent string, ous []OU)
	walk = func(parent string, ous []OU) {
		for _, ou := range ous {
			s.ouChildren[parent] = append(s.ouChildren[parent], ou)
			s.ouNames[ou.ID] = true
			walk(ou.ID, ou.OUs)
		}
	}
	walk(s.org.Root, s.org.OUs)
	for _, a := range s.org.Accounts {
		acct := &account{Account: a}
		acct.Buckets = nil // the server's buckets map holds them
		if acct.State == "" {
			acct.State = "ACTIVE"
		}
		if acct.Parent == "" {
			acct.Parent = s.org.Root
		}
		if acct.Email == "" {
			acct.Email = strings.ToLower(strings.ReplaceAll(cmp.Or(a.Name, a.ID), " ", "-")) + "@example.com"
		}
		switch {
		case a.Role != nil:
			acct.role = *a.Role
		case s.org.Role != nil:
			acct.role = *s.org.Role
		default:
			acct.role = Role{Missing: true}
		}
		acct.roles = mergeRoles(s.org.Roles, a.Roles)
		for _, b := range a.Buckets {
			region := cmp.Or(b.Region, defaultRegion)
			sb := &bucket{name: b.Name, region: region, listedRegion: cmp.Or(b.ListedRegion, region), account: a.ID, configs: b.configs(a.ID), policy: b.Policy}
			if len(b.Objects) > 0 {
				sb.objects = append(sb.objects, newExplicitObjects(b.Objects))
			}
			for _, r := range b.Reports {
				sb.objects = append(sb.objects, r.series())
			}
			s.buckets[b.Name] = sb
			acct.buckets = append(acct.buckets, b.Name)
		}
		slices.Sort(acct.buckets)
		for _, k := range a.Keys {
			kk := newKMSKey(k, a.ID, s.partition)
			s.keys[kk.arn] = kk
		}
		s.accounts = append(s.accounts, acct)
		s.byID[a.ID] = acct
	}
	slices.SortFunc(s.accounts, func(a, b *account) int { return strings.Compare(a.ID, b.ID) })
	for _, f := range fx.Faults {
		s.AddFault(f)
	}
	for _, b := range s.buckets {
		if err := b.renderAll(); err != nil {
			return nil, fmt.Errorf("awssim: render the inventory of %s: %w", b.name, err)
		}
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s, nil
}

// URL is the simulator's base URL (http://127.0.0.1:PORT), to be used as
// AWS_ENDPOINT_URL for every service.
func (s *Server) URL() string { return s.hs.URL }

// Close stops the server.
func (s *Server) Close() { s.hs.Close() }

// ManagementCredentials returns the base credentials a client should use:
// they may call Organizations and STS, and S3 as the management account.
func (s *Server) ManagementCredentials() (accessKeyID, secret string) {
	return s.mgmtKey, s.mgmtSecret
}

// ManagementAccount returns the management account's ID.
func (s *Server) ManagementAccount() string { return s.mgmtAccount }

// AddFault injects a fault from now on (see Fixture.Faults).
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(throttleAliases, f.Error) {
		f.Error = FaultThrottle
	}
	left := f.Times
	if left == 0 {
		left = -1
	}
	s.faults = append(s.faults, &fault{Fault: f, left: left})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Calls returns how many requests of the operation the simulator has
// received, failed ones and retries included.
func (s *Server) Calls(op string) int {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	return s.calls[op]
}

// CallsFor returns how many requests of the operation concerned the
// account: the role's account for AssumeRole, the caller's account for S3
// and KMS.
func (s *Server) CallsFor(op, accountID string) int {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	return s.byAcct[[2]string{op, accountID}]
}

// AllCalls returns a copy of the call counts by operation.
func (s *Server) AllCalls() map[string]int {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls sets every call count back to zero.
func (s *Server) ResetCalls() {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	s.calls = map[string]int{}
	s.byAcct = map[[2]string]int{}
	s.tick(0)
	s.peak, s.busy = s.inFlight, 0
}

// Buckets returns the number of buckets of the organization.
func (s *Server) Buckets() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.buckets)
}

func (s *Server) count(op, acct string) {
	s.callMu.Lock()
	s.calls[op]++
	s.byAcct[[2]string{op, acct}]++
	s.callMu.Unlock()
}

// begin counts a call, waits the injected latency and delay and returns
// the fault that answers it, if any: a rate limit or random throttling
// first, then the first matching Fault. It returns false when the call
// needs no further answer: the client went away, or the fault reset the
// connection.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, op, acct, bkt string) (*Fault, bool) {
	s.count(op, acct)
	f := s.fault(op, acct, bkt)
	d := s.delay()
	if f != nil {
		d += f.Delay
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil, false
		}
	}
	if s.throttled(acct) {
		return &Fault{Error: FaultThrottle}, true
	}
	if f != nil && f.Error == FaultConnectionReset {
		resetConnection(w)
		return nil, false
	}
	if f != nil && f.Error == "" {
		f = nil // a delay only
	}
	return f, true
}

// resetConnection closes the client's connection without an answer.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // closes the connection all the same
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // a TCP reset, not an orderly close
	}
	_ = conn.Close()
}

// throttled draws the random throttle and takes a token of acct's rate
// limit; it reports whether the call is throttled.
func (s *Server) throttled(acct string) bool {
	if s.throttleP == 0 && s.rps == 0 {
		return false
	}
	s.throttleMu.Lock()
	defer s.throttleMu.Unlock()
	if s.throttleP > 0 && s.rnd.Float64() < s.throttleP {
		return true
	}
	if s.rps == 0 {
		return false
	}
	b := s.limits[acct]
	if b == nil {
		b = &tokenBucket{tokens: float64(s.burst), last: time.Now()}
		s.limits[acct] = b
	}
	return !b.take(s.rps, float64(s.burst), time.Now())
}

// tokenBucket is one account's rate limit.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// take refills the bucket for the time since the last call and takes a
// token if there is one.
func (b *tokenBucket) take(rate, burst float64, now time.Time) bool {
	b.tokens = min(burst, b.tokens+rate*now.Sub(b.last).Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (s *Server) delay() time.Duration {
	d := s.latency
	if s.jitter > 0 {
		d += time.Duration(mrand.Int64N(int64(s.jitter)))
	}
	return d
}

func (s *Server) fault(op, acct, bkt string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.left == 0 || (f.Op != "" && f.Op != op) || (f.Account != "" && f.Account != acct) || (f.Bucket != "" && f.Bucket != bkt) {
			continue
		}
		if (f.Error == FaultTruncatedWithoutToken && op != "ListBucketInventoryConfigurations") ||
			(f.Error == FaultRepeatedToken && !slices.Contains(paginated, op)) {
			continue
		}
		if f.left > 0 {
			f.left--
		}
		out := f.Fault
		return &out
	}
	return nil
}

// caller is who signed a request.
type caller struct {
	accessKeyID string
	account     string // the account the credentials act in
	arn         string // the principal: an assumed-role session, or the management user
	management  bool
	readOnly    bool   // the credentials' role may not write
	region      string // SigV4 credential scope region
	service     string // SigV4 credential scope service
}

// authenticate reads the SigV4 Authorization header (the signature itself
// is not checked) and maps the access key to an account. It returns an
// error code and message when the credentials are unusable.
func (s *Server) authenticate(r *http.Request) (caller, string, string) {
	var c caller
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || i < 0 {
		return c, "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return c, "AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
	}
	c.accessKeyID, c.region, c.service = parts[0], parts[2], parts[3]
	s.mu.RLock()
	is, ok := s.creds[c.accessKeyID]
	s.mu.RUnlock()
	if !ok {
		c.account, c.management = s.mgmtAccount, true
		c.arn = "arn:" + s.partition + ":iam::" + s.mgmtAccount + ":user/awssim"
		return c, "", ""
	}
	if r.Header.Get("X-Amz-Security-Token") != is.token {
		return c, "InvalidToken", "The provided token is malformed or otherwise invalid."
	}
	if !s.now().Before(is.expires) {
		return c, "ExpiredToken", "The provided token has expired."
	}
	c.account, c.arn, c.readOnly = is.account, is.arn, is.readOnly
	return c, "", ""
}

// InFlight returns the most requests the simulator was answering at once,
// and the request-time it spent answering them (the integral of the
// number in flight over time): divided by the wall time of a run, the
// average number in flight.
func (s *Server) InFlight() (peak int, busy time.Duration) {
	s.callMu.Lock()
	defer s.callMu.Unlock()
	s.tick(0)
	return s.peak, s.busy
}

// tick accounts for the time since the last change of inFlight and
// applies delta; s.callMu must be held.
func (s *Server) tick(delta int) {
	now := time.Now()
	if !s.lastTick.IsZero() {
		s.busy += time.Duration(s.inFlight) * now.Sub(s.lastTick)
	}
	s.lastTick = now
	s.inFlight += delta
	s.peak = max(s.peak, s.inFlight)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.callMu.Lock()
	s.tick(1)
	s.callMu.Unlock()
	defer func() {
		s.callMu.Lock()
		s.tick(-1)
		s.callMu.Unlock()
	}()
	c, code, msg := s.authenticate(r)
	service := c.service
	switch {
	case service != "":
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), kmsTargetPrefix):
		service = "kms"
	case r.Header.Get("X-Amz-Target") != "":
		service = "organizations"
	case r.Method == http.MethodPost && r.URL.Path == "/" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		service = "sts"
	default:
		service = "s3"
	}
	switch service {
	case "sts":
		s.serveSTS(w, r, c, code, msg)
	case "organizations":
		s.serveOrganizations(w, r, c, code, msg)
	case "s3":
		s.serveS3(w, r, c, code, msg)
	case "kms":
		s.serveKMS(w, r, c, code, msg)
	default:
		writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "awssim: service "+service+" is not simulated")
	}
}

// newRequestID returns a request ID; not secret, so math/rand is enough
// (and keeps the simulator's CPU out of the benchmark's way).
func newRequestID() string {
	return fmt.Sprintf("%016X", mrand.Uint64())
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
