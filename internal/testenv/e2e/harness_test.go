//go:build unix

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildTools builds the bootstrap (for this machine, as the Lambda build
// does for linux/arm64: -tags lambda,lambda.norpc) and the Runtime Interface
// Emulator into dir.
func buildTools(t *testing.T, root, dir string) (bootstrap, rie string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	bootstrap, rie = filepath.Join(dir, "bootstrap"), filepath.Join(dir, "aws-lambda-rie")
	for _, args := range [][]string{
		{"build", "-tags", "lambda,lambda.norpc", "-o", bootstrap, "./cmd/scanner"},
		{"build", "-o", rie, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"},
	} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return bootstrap, rie
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// function is a bootstrap running under the Runtime Interface Emulator.
type function struct {
	invokeURL string
	out       *syncBuffer // the emulator's and the function's output
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startFunction runs bootstrap under the emulator with exactly env (the
// test's own environment is not passed on: no AWS profile or credentials
// of the developer leak in). The emulator and the bootstrap it starts are
// killed, as a process group, at cleanup.
func startFunction(t *testing.T, rie, bootstrap string, env map[string]string) *function {
	t.Helper()
	apiAddr, runtimeAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", apiAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	home := t.TempDir()
	base := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        home,
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_LAMBDA_LOG_FORMAT":       "JSON",
		"AWS_LAMBDA_LOG_LEVEL":        "INFO",
		"LOG_LEVEL":                   "warn", // the emulator's own logs
	}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start aws-lambda-rie: %v", err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL) // the emulator and the bootstrap
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("function output (%s):\n%s", apiAddr, tail(out.String(), 4000))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", apiAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws-lambda-rie did not listen on %s: %v\n%s", apiAddr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &function{invokeURL: "http://" + apiAddr + "/2015-03-31/functions/function/invocations", out: out}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// invoke sends one payload and returns the function's response body.
func (f *function) invoke(t *testing.T, payload string) []byte {
	t.Helper()
	body, err := f.post(payload)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// post is invoke for a goroutine of its own: it returns the error.
func (f *function) post(payload string) ([]byte, error) {
	c := &http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Post(f.invokeURL, "application/json", strings.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	return body, nil
}

// awsCall is one DynamoDB or SQS request a function made: the IAM
// service prefix (dynamodb, sqs), the operation and what it named.
type awsCall struct {
	Service, Op string
	Table       string // DynamoDB: the table (one call a table of a batch)
	Index       string // DynamoDB: the index queried
	Queue       string // SQS: the queue URL
}

// recorder is a proxy in front of a DynamoDB or SQS server (both speak
// the AWS JSON protocol, the operation in X-Amz-Target) that records each
// request's service, operation and table, index or queue.
type recorder struct {
	URL   string
	mu    sync.Mutex
	calls []awsCall
}

// targetServices maps X-Amz-Target's prefix to the IAM service prefix.
var targetServices = map[string]string{"DynamoDB_20120810": "dynamodb", "AmazonSQS": "sqs"}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		var in struct {
			TableName    string
			IndexName    string
			QueueURL     string `json:"QueueUrl"`
			RequestItems map[string]json.RawMessage
		}
		_ = json.Unmarshal(body, &in)
		prefix, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
		svc := targetServices[prefix]
		if svc == "" {
			svc = "unknown target " + prefix
		}
		r.mu.Lock()
		if in.TableName != "" || len(in.RequestItems) == 0 {
			r.calls = append(r.calls, awsCall{Service: svc, Op: op, Table: in.TableName, Index: in.IndexName, Queue: in.QueueURL})
		}
		for table := range in.RequestItems {
			r.calls = append(r.calls, awsCall{Service: svc, Op: op, Table: table})
		}
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Calls returns the calls recorded so far.
func (r *recorder) Calls() []awsCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]awsCall(nil), r.calls...)
}

// scheduledEvent is what an EventBridge scheduled rule delivers.
func scheduledEvent() string {
	return fmt.Sprintf(`{"version":"0","id":"e2e-0001","detail-type":"Scheduled Event","source":"aws.events",`+
		`"account":"111111111111","time":%q,"region":"us-east-1",`+
		`"resources":["arn:aws:events:us-east-1:111111111111:rule/scanner"],"detail":{}}`,
		time.Now().UTC().Format(time.RFC3339))
}
