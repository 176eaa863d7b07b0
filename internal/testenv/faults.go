package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is what a FaultProxy does to a request that a FaultRule matches.
type Fault int

// The faults a FaultProxy injects.
const (
	// FaultThrottle answers HTTP 400
	// ProvisionedThroughputExceededException without forwarding.
	FaultThrottle Fault = iota + 1
	// FaultThrottling answers HTTP 400 ThrottlingException (the
	// control-plane and on-demand throttle) without forwarding.
	FaultThrottling
	// FaultInternal answers HTTP 500 InternalServerError without
	// forwarding.
	FaultInternal
	// FaultReset reads the request and resets the connection (TCP RST)
	// without answering.
	FaultReset
	// FaultDelay forwards the request after FaultRule.Delay (or until the
	// client gives up).
	FaultDelay
	// FaultUnprocessed, for BatchWriteItem, forwards only the first
	// FaultRule.Keep write requests of each table (half when Keep is 0) and
	// returns the others as UnprocessedItems, unwritten, as DynamoDB does
	// under load.
	FaultUnprocessed
)

func (f Fault) String() string {
	switch f {
	case FaultThrottle:
		return "ProvisionedThroughputExceededException"
	case FaultThrottling:
		return "ThrottlingException"
	case FaultInternal:
		return "InternalServerError"
	case FaultReset:
		return "connection reset"
	case FaultDelay:
		return "delay"
	case FaultUnprocessed:
		return "UnprocessedItems"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// FaultRule says which requests get which fault. The first rule that matches
// a request and has not spent its Times applies.
type FaultRule struct {
	// Op is the operation (BatchWriteItem, Query, UpdateItem, ...: the
	// X-Amz-Target after the dot); "" matches every operation.
	Op string
	// Match, when set, must occur in the request's JSON body (an account's
	// partition key, "ACCOUNT#111111111111", for instance).
	Match string
	// Fault is what happens to the matching requests.
	Fault Fault
	// Skip lets the first Skip matching requests through untouched.
	Skip int
	// Times is how many matching requests get the fault after Skip; 0
	// means every one.
	Times int
	// Delay is FaultDelay's wait.
	Delay time.Duration
	// Keep is how many write requests per table FaultUnprocessed
	// forwards; 0 means half of them, rounded down.
	Keep int
}

type faultRuleState struct {
	FaultRule
	seen, applied int
}

// FaultProxy is an HTTP reverse proxy in front of a DynamoDB endpoint
// (dynalite) that injects faults by rule, so that tests can prove what a
// client does under throttling, server errors, resets, slow responses and
// partial batches. Point the client at Endpoint.
type FaultProxy struct {
	target string
	ln     net.Listener
	srv    *http.Server
	client *http.Client

	mu       sync.Mutex
	rules    []*faultRuleState
	requests map[string]int // by operation
	injected map[string]int // by operation
}

// NewFaultProxy starts a proxy on a free loopback port in front of target
// (an endpoint URL such as http://127.0.0.1:43121).
func NewFaultProxy(target string) (*FaultProxy, error) {
	if !strings.HasPrefix(target, "http://") {
		return nil, fmt.Errorf("fault proxy target %q: want an http:// endpoint URL", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fault proxy: %w", err)
	}
	p := &FaultProxy{
		target: strings.TrimSuffix(target, "/"), ln: ln,
		client:   &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}},
		requests: map[string]int{}, injected: map[string]int{},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// FaultProxyFor starts a proxy in front of target for t and closes it
// at cleanup.
func FaultProxyFor(t testing.TB, target string) *FaultProxy {
	t.Helper()
	p, err := NewFaultProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Endpoint is the proxy's URL.
func (p *FaultProxy) Endpoint() string { return "http://" + p.ln.Addr().String() }

// Add appends rules.
func (p *FaultProxy) Add(rules ...FaultRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		p.rules = append(p.rules, &faultRuleState{FaultRule: r})
	}
}

// Clear removes every rule; requests pass untouched from then on.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Requests is how many requests of an operation the proxy received ("" for
// all of them).
func (p *FaultProxy) Requests(op string) int { return p.count(p.requests, op) }

// Injected is how many requests of an operation got a fault ("" for all).
func (p *FaultProxy) Injected(op string) int { return p.count(p.injected, op) }

func (p *FaultProxy) count(m map[string]int, op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if op != "" {
		return m[op]
	}
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// Close stops the proxy.
func (p *FaultProxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	p.client.CloseIdleConnections()
	return err
}

// maxBody bounds a request body (DynamoDB's own limit is 16 MB).
const maxBody = 16 << 20

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "fault proxy: request body unreadable or over 16 MB", http.StatusRequestEntityTooLarge)
		return
	}
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	rule := p.match(op, body)
	if rule == nil {
		p.forward(w, r, body, nil)
		return
	}
	switch rule.Fault {
	case FaultThrottle:
		writeError(w, http.StatusBadRequest, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded (injected)")
	case FaultThrottling:
		writeError(w, http.StatusBadRequest, "com.amazon.coral.availability#ThrottlingException", "Rate exceeded (injected)")
	case FaultInternal:
		writeError(w, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError",
			"Internal server error (injected)")
	case FaultReset:
		reset(w)
	case FaultDelay:
		t := time.NewTimer(rule.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			p.forward(w, r, body, nil)
		case <-r.Context().Done():
		}
	case FaultUnprocessed:
		p.unprocessed(w, r, body, rule.Keep)
	default:
		http.Error(w, "fault proxy: unknown fault "+rule.Fault.String(), http.StatusInternalServerError)
	}
}

// match counts the request and returns the rule that applies to it, if
// any.
func (p *FaultProxy) match(op string, body []byte) *FaultRule {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests[op]++
	for _, rs := range p.rules {
		if (rs.Op != "" && rs.Op != op) || (rs.Match != "" && !bytes.Contains(body, []byte(rs.Match))) {
			continue
		}
		rs.seen++
		if rs.seen <= rs.Skip || (rs.Times > 0 && rs.applied >= rs.Times) {
			continue
		}
		rs.applied++
		p.injected[op]++
		r := rs.FaultRule
		return &r
	}
	return nil
}

// forward sends the request to the target and writes its answer; edit,
// when set, may rewrite the answer's JSON body.
func (p *FaultProxy) forward(w http.ResponseWriter, r *http.Request, body []byte, edit func([]byte) ([]byte, error)) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Accept-Encoding", "Connection":
			continue
		}
		req.Header[k] = vs
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	if edit != nil && resp.StatusCode == http.StatusOK {
		if out, err = edit(out); err != nil {
			http.Error(w, "fault proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
	}
	for k, vs := range resp.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Content-Encoding", "X-Amz-Crc32", "Connection":
			continue
		}
		w.Header()[k] = vs
	}
	writeBody(w, resp.StatusCode, out)
}

// unprocessed forwards the first keep write requests of each table of a
// BatchWriteItem and adds the others to the answer's UnprocessedItems.
func (p *FaultProxy) unprocessed(w http.ResponseWriter, r *http.Request, body []byte, keep int) {
	var in map[string]json.RawMessage
	var items map[string][]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, "fault proxy: BatchWriteItem body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := json.Unmarshal(in["RequestItems"], &items); err != nil {
		http.Error(w, "fault proxy: BatchWriteItem RequestItems: "+err.Error(), http.StatusBadRequest)
		return
	}
	sent, held := map[string][]json.RawMessage{}, map[string][]json.RawMessage{}
	for table, reqs := range items {
		k := keep
		if k <= 0 {
			k = len(reqs) / 2
		}
		k = min(k, len(reqs))
		if k > 0 {
			sent[table] = reqs[:k]
		}
		if k < len(reqs) {
			held[table] = reqs[k:]
		}
	}
	merge := func(answer []byte) ([]byte, error) {
		var outMap map[string]json.RawMessage
		if err := json.Unmarshal(answer, &outMap); err != nil {
			return nil, fmt.Errorf("BatchWriteItem answer: %w", err)
		}
		left := map[string][]json.RawMessage{}
		if raw, ok := outMap["UnprocessedItems"]; ok {
			if err := json.Unmarshal(raw, &left); err != nil {
				return nil, fmt.Errorf("BatchWriteItem UnprocessedItems: %w", err)
			}
		}
		for t, reqs := range held {
			left[t] = append(left[t], reqs...)
		}
		b, err := json.Marshal(left)
		if err != nil {
			return nil, err
		}
		if outMap == nil {
			outMap = map[string]json.RawMessage{}
		}
		outMap["UnprocessedItems"] = b
		return json.Marshal(outMap)
	}
	if len(sent) == 0 {
		out, err := merge([]byte(`{}`))
		if err != nil {
			http.Error(w, "fault proxy: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		writeBody(w, http.StatusOK, out)
		return
	}
	b, err := json.Marshal(sent)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	in["RequestItems"] = b
	fwd, err := json.Marshal(in)
	if err != nil {
		http.Error(w, "fault proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	p.forward(w, r, fwd, merge)
}

// writeBody writes an answer with its length and its CRC32, which the
// SDK checks.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes a DynamoDB JSON error.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", "fault-proxy")
	writeBody(w, status, body)
}

// reset closes the client's connection with a TCP RST. A connection that
// cannot be taken over is aborted the way net/http aborts a handler
// (http.ErrAbortHandler): closed without an answer all the same.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
