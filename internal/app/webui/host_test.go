package webui

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawGet sends one request, written byte for byte as given (the request
// line and headers, without the blank line), over a new connection and
// returns the status and body of the answer.
func rawGet(t *testing.T, addr, head string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, head+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", head, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestLoopbackOnlyRefusesOtherHosts sends raw requests with forged Host
// headers to a server on 127.0.0.1: only a loopback name with the
// server's port reaches the handler; every other Host gets 421 and the
// handler is never called.
func TestLoopbackOnlyRefusesOtherHosts(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewUnstartedServer(nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	srv.Config.Handler = LoopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		fmt.Fprint(w, "the findings")
	}), port)
	srv.Start()
	t.Cleanup(srv.Close)
	addr, p := srv.Listener.Addr().String(), strconv.Itoa(port)

	for _, host := range []string{"127.0.0.1:" + p, "localhost:" + p, "LocalHost:" + p, "[::1]:" + p} {
		before := served.Load()
		code, body := rawGet(t, addr, "GET / HTTP/1.1\r\nHost: "+host)
		if code != http.StatusOK || body != "the findings" || served.Load() != before+1 {
			t.Errorf("Host %q: %d %q; want 200 from the handler", host, code, body)
		}
	}

	for what, head := range map[string]string{
		"another name":                     "GET / HTTP/1.1\r\nHost: evil.example:" + p,
		"another name, the default port":   "GET / HTTP/1.1\r\nHost: evil.example",
		"a rebinding name under localhost": "GET / HTTP/1.1\r\nHost: evil.localhost:" + p,
		"localhost with a trailing dot":    "GET / HTTP/1.1\r\nHost: localhost.:" + p,
		"no port":                          "GET / HTTP/1.1\r\nHost: 127.0.0.1",
		"another port":                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + strconv.Itoa(port+1),
		"another loopback address":         "GET / HTTP/1.1\r\nHost: 127.0.0.2:" + p,
		"any address":                      "GET / HTTP/1.1\r\nHost: 0.0.0.0:" + p,
		"127.0.0.1 as a number":            "GET / HTTP/1.1\r\nHost: 2130706433:" + p,
		"IPv6 without brackets":            "GET / HTTP/1.1\r\nHost: ::1:" + p,
		"HTTP/1.0 without a Host":          "GET / HTTP/1.0",
		"absolute form naming another":     "GET http://evil.example:" + p + "/ HTTP/1.1\r\nHost: 127.0.0.1:" + p,
		"HEAD":                             "HEAD / HTTP/1.1\r\nHost: evil.example:" + p,
	} {
		before := served.Load()
		code, body := rawGet(t, addr, head)
		if code != http.StatusMisdirectedRequest || served.Load() != before {
			t.Errorf("%s (%q): %d %q; want 421 without reaching the handler", what, head, code, body)
		}
		if strings.Contains(body, "the findings") {
			t.Errorf("%s: the answer holds the handler's body", what)
		}
	}
}

// TestLoopbackOnlyDefaultPort: on port 80 a browser sends the Host
// without its port.
func TestLoopbackOnlyDefaultPort(t *testing.T) {
	h := LoopbackOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 80)
	for host, want := range map[string]int{"localhost": 200, "localhost:80": 200, "[::1]": 200, "evil.example": 421, "localhost:8080": 421} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("port 80, Host %q: %d; want %d", host, w.Code, want)
		}
	}
}
