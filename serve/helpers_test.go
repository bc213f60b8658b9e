package serve_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/check"
	"github.com/mxray/mxray/dnscheck/dnstest"
	"github.com/mxray/mxray/internal/demoworld"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/serve"
)

// demo starts the demo world and a server for it (under /demo/, and as
// the main world when asMain).
func demo(t testing.TB, asMain bool, tune func(*serve.Options)) (*demoworld.World, *httptest.Server) {
	t.Helper()
	w, err := demoworld.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	o := serve.Options{Demo: w.Serve, Version: "test", RatePerMinute: -1, MaxInFlight: 64}
	if asMain {
		o.World = w.Serve
	}
	if tune != nil {
		tune(&o)
	}
	return w, start(t, o)
}

// start serves o on loopback until the test ends.
func start(t testing.TB, o serve.Options) *httptest.Server {
	t.Helper()
	srv, err := serve.New(o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs
}

// zoneWorld is a world of zone text whose SMTP addresses route to the
// given fakes; not sealed: the policy applies as on the internet.
func zoneWorld(t testing.TB, zone string, routes map[string]string) (*serve.World, *dnstest.Server) {
	t.Helper()
	dns := dnstest.Start(t, zone)
	return &serve.World{Resolvers: []string{dns.Addr}, Dial: smtptest.Router(routes),
		Check: check.Config{SMTP: check.SMTPOptions{HELO: "probe.mxray.test", ConnectTimeout: 2 * time.Second,
			GreetingTimeout: 3 * time.Second, CommandTimeout: 3 * time.Second}}}, dns
}

type response struct {
	status int
	header http.Header
	body   string
}

func get(t testing.TB, url string, hdr ...string) response {
	t.Helper()
	return do(t, http.MethodGet, url, "", nil, hdr...)
}

func do(t testing.TB, method, url, ctype string, body io.Reader, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 90 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func contains(t testing.TB, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: %q missing", what, w)
		}
	}
}

// slowWorld holds slow.test, whose one MX host accepts connections and
// never greets: its SMTP part waits for the 3 s greeting timeout.
func slowWorld(t testing.TB) *serve.World {
	t.Helper()
	w, _ := zoneWorld(t, `
slow.test.    IN SOA ns hostmaster 1 3600 600 86400 300
slow.test.    IN MX 10 mx.slow.test.
mx.slow.test. IN A 81.2.69.190
`, map[string]string{"81.2.69.190:25": silentSMTP(t)})
	return w
}

// silentSMTP is a mail server that accepts and never greets.
func silentSMTP(t testing.TB) string {
	t.Helper()
	return smtptest.StartRaw(t, func(c *smtptest.RawConn) { c.Silence() }).Addr
}

// readUntil reads a streamed body until it holds s, and says when.
func readUntil(t testing.TB, r io.Reader, buf *bytes.Buffer, s string, start time.Time) time.Duration {
	t.Helper()
	chunk := make([]byte, 4096)
	for !strings.Contains(buf.String(), s) {
		n, err := r.Read(chunk)
		buf.Write(chunk[:n])
		if err != nil {
			if strings.Contains(buf.String(), s) {
				break
			}
			t.Fatalf("stream ended before %q: %v", s, err)
		}
	}
	return time.Since(start)
}

var _ = net.Dial
var _ = context.Background
