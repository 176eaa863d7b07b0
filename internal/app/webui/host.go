package webui

import (
	"net/http"
	"strconv"
	"strings"
)

// LoopbackOnly serves next only to requests addressed to this machine's
// loopback names with the server's port: a Host of 127.0.0.1:port,
// localhost:port or [::1]:port (any case; without the port when it is
// 80, as browsers send it). Any other Host, none included, is answered
// 421 Misdirected Request without reaching next.
//
// A server on 127.0.0.1 is reachable by every web page the user's
// browser opens: a page of evil.example whose name is then made to
// resolve to 127.0.0.1 (DNS rebinding) may read the server's answers as
// its own origin's. The browser still sends Host: evil.example:port,
// which is how the server tells it apart.
func LoopbackOnly(next http.Handler, port int) http.Handler {
	p := strconv.Itoa(port)
	allowed := map[string]bool{}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		allowed[h+":"+p] = true
		if port == 80 {
			allowed[h] = true
		}
	}
	refusal := "421 misdirected request: this dashboard answers only http://127.0.0.1:" + p +
		"/, http://localhost:" + p + "/ and http://[::1]:" + p + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Connection", "close")
			http.Error(w, refusal, http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
