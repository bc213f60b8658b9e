package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxray/mxray/internal/demoworld"
	"github.com/mxray/mxray/probe/smtptest"
	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/serve"
)

// TestSecurityHeaders: every answer — page, asset, API, error — carries
// the policy; the CSP allows no inline script or style.
func TestSecurityHeaders(t *testing.T) {
	_, hs := demo(t, true, nil)
	for _, path := range []string{"/", "/demo/", "/static/style.css", "/static/app.js", "/api/v1/check", "/check/bad..name", "/nope", "/metrics"} {
		r := get(t, hs.URL+path)
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, r.header)
		}
	}
	if r := get(t, hs.URL+"/static/app.js"); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("app.js: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if r := get(t, hs.URL+"/static/../serve.go"); r.status == 200 {
		t.Errorf("static served a file outside static/")
	}
}

// TestHomePages: the home page has its forms with labels, the demo link;
// the demo's home lists its domains.
func TestHomePages(t *testing.T) {
	_, hs := demo(t, true, nil)
	r := get(t, hs.URL+"/")
	contains(t, "home", r.body, `<label for="q">`, `<label for="eml">`, `action="/go"`, `href="/demo/"`, "Try the demo", "<h1>", "/preflight")
	r = get(t, hs.URL+"/demo/")
	contains(t, "demo home", r.body, `href="/demo/check/healthy.example"`, `href="/demo/check/broken.example"`, "demo world")
	r = get(t, hs.URL+"/preflight")
	contains(t, "preflight form", r.body, `<label for="from">`, `<label for="ips">`, `<label for="message">`)
}

// TestCheckPage: the broken demo domain's page streams every part and
// the summary; its findings, the SPF tree, the DMARC walk, the SMTP
// transcript and the blocklist table are there; records to publish have
// copy buttons.
func TestCheckPage(t *testing.T) {
	_, hs := demo(t, false, nil)
	r := get(t, hs.URL+"/demo/check/broken.example")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	contains(t, "page", r.body,
		`id="slot-mx"`, `id="slot-smtp"`, `data-part="mx"`, `data-part="smtp"`, `data-part="dnsbl"`, `class="final"`,
		"mx.target-nxdomain", "spf.lookup-limit", "smtp.open-relay", "dnsbl.listed",
		"SPF include tree", "_s1.broken.example", "DMARC tree walk", "_dmarc.broken.example.",
		"SMTP transcript", " C: EHLO probe.mxray.example", " S: 220 localhost.localdomain",
		"Blocklist answers", "81.2.69.180", "bl.mxray.example",
		`class="copy" data-copy="rec-`, "<details>", "Summary:", "failure",
		`Link to this result: <a href="/demo/check/broken.example">`)
	if strings.Index(r.body, `class="final"`) < strings.Index(r.body, `data-part="smtp"`) {
		t.Error("the summary came before the last part")
	}
}

// TestPartsBeforeSlowSMTP: a mail host that never greets keeps the SMTP
// part waiting for its greeting timeout (3 s here), while the DNS parts
// are on the page at once.
func TestPartsBeforeSlowSMTP(t *testing.T) {
	w := slowWorld(t)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1})
	started := time.Now()
	resp, err := http.Get(hs.URL + "/check/slow.test")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	mxAt := readUntil(t, resp.Body, &buf, `data-part="mx"`, started)
	smtpAt := readUntil(t, resp.Body, &buf, `data-part="smtp"`, started)
	if mxAt > 2*time.Second || smtpAt < 3*time.Second {
		t.Errorf("mx part after %v, smtp part after %v: want mx at once and smtp after the 3 s greeting timeout", mxAt, smtpAt)
	}
	readUntil(t, resp.Body, &buf, "</html>", started)
	contains(t, "slow page", buf.String(), "smtp.greeting-timeout")
}

// TestRefusedTargets: a public server refuses private, loopback and
// special-use targets with 403 and the reason — after resolution too —
// and never dials such an address for a domain check.
func TestRefusedTargets(t *testing.T) {
	var dialed []string
	w, _ := zoneWorld(t, `
leak.test.         IN SOA ns hostmaster 1 3600 600 86400 300
corp.example.com.  IN MX 10 mail.corp.example.com.
mail.corp.example.com. IN A 10.1.2.3
_mta-sts.corp.example.com. IN TXT "v=STSv1; id=1"
mta-sts.corp.example.com. IN A 127.0.0.1
inside.example.com. IN A 192.168.1.25
`, nil)
	w.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		return nil, fmt.Errorf("test: no dial expected")
	}
	hs := start(t, serve.Options{World: w, RatePerMinute: -1})
	for _, tc := range []struct{ path, reason string }{
		{"/check/printer.local", "multicast DNS"},
		{"/check/router.home.arpa", "home network"},
		{"/smtp/127.0.0.1", "loopback"},
		{"/smtp/[::1]:25", "loopback"},
		{"/smtp/inside.example.com", "resolves to 192.168.1.25, which is private"},
		{"/smtp/198.51.100.7:22", "not an SMTP port"},
		{"/blocklist/10.0.0.1", "private"},
		{"/api/v1/blocklist?target=169.254.169.254", "link-local"},
		{"/api/v1/smtp?host=inside.example.com", "192.168.1.25"},
		{"/probe?module=smtp&target=127.0.0.1", "loopback"},
	} {
		r := get(t, hs.URL+tc.path)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, tc.reason) {
			t.Errorf("%s: %d %q, want 403 with %q", tc.path, r.status, r.body, tc.reason)
		}
	}
	r := get(t, hs.URL+"/api/v1/check?domain=corp.example.com")
	if r.status != 200 {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Find("smtp.no-public-address")) == 0 || len(rep.Find("mta-sts.policy-fetch-failed")) == 0 {
		t.Errorf("private MX and MTA-STS host: findings %v", ids(&rep))
	}
	if len(dialed) > 0 {
		t.Errorf("dialed %v", dialed)
	}
}

func ids(rep *report.Report) []string {
	var out []string
	for _, f := range rep.Findings() {
		out = append(out, f.ID)
	}
	return out
}

// TestAllowTarget: with --allow-target, other domains and addresses are
// refused; the allowed domain's names are not.
func TestAllowTarget(t *testing.T) {
	w, hs := demo(t, true, func(o *serve.Options) { o.AllowTargets = []string{"healthy.example", "81.2.69.0/24"} })
	_ = w
	if r := get(t, hs.URL+"/api/v1/check?domain=broken.example"); r.status != 403 || !strings.Contains(r.body, "--allow-target") {
		t.Errorf("broken.example: %d %s", r.status, r.body)
	}
	if r := get(t, hs.URL+"/api/v1/check?domain=healthy.example&only=mx"); r.status != 200 {
		t.Errorf("healthy.example: %d %s", r.status, r.body)
	}
	if r := get(t, hs.URL+"/api/v1/blocklist?target=81.2.69.180"); r.status != 200 {
		t.Errorf("81.2.69.180: %d %s", r.status, r.body)
	}
	if r := get(t, hs.URL+"/api/v1/blocklist?target=81.2.70.1"); r.status != 403 {
		t.Errorf("81.2.70.1: %d %s", r.status, r.body)
	}
}

// TestAPI: every endpoint answers with the --format json document.
func TestAPI(t *testing.T) {
	_, hs := demo(t, false, nil)
	for _, tc := range []struct {
		path, command, finding string
		exit                   int
	}{
		{"/demo/api/v1/check?domain=healthy.example", "check", "dane.ok", report.ExitOK},
		{"/demo/api/v1/check?domain=broken.example&only=spf", "check", "spf.lookup-limit", report.ExitFailure},
		{"/demo/api/v1/smtp?host=mx1.healthy.example", "smtp", "smtp.relay-denied", report.ExitOK},
		{"/demo/api/v1/smtp?host=mail.healthy.example:465", "smtp", "smtp.auth-offered", report.ExitOK},
		{"/demo/api/v1/blocklist?target=81.2.69.180&target=81.2.69.160", "blocklist", "dnsbl.listed", report.ExitFailure},
	} {
		r := get(t, hs.URL+tc.path)
		var rep report.Report
		if err := json.Unmarshal([]byte(r.body), &rep); err != nil || r.status != 200 {
			t.Errorf("%s: %d %v %.300s", tc.path, r.status, err, r.body)
			continue
		}
		if rep.SchemaVersion != report.SchemaVersion || rep.Command != tc.command || rep.Tool != "mxray" || len(rep.Find(tc.finding)) == 0 {
			t.Errorf("%s: schema %d command %q findings %v", tc.path, rep.SchemaVersion, rep.Command, ids(&rep))
		}
		if got := r.header.Get("X-Mxray-Exit-Code"); got != strconv.Itoa(tc.exit) {
			t.Errorf("%s: exit code header %q, want %d", tc.path, got, tc.exit)
		}
		if rep.Trace != nil {
			t.Errorf("%s: trace without trace=1", tc.path)
		}
	}
	r := do(t, "POST", hs.URL+"/demo/api/v1/explain?offline=1", "text/plain",
		strings.NewReader("554 5.7.1 Service unavailable; Client host [81.2.69.180] blocked using bl.mxray.example"))
	var rep report.Report
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil || rep.Command != "explain" || len(rep.Sections) < 2 {
		t.Errorf("explain: %d %v %.300s", r.status, err, r.body)
	}
	for _, bad := range []string{"/demo/api/v1/check", "/demo/api/v1/check?domain=exa%20mple.com", "/demo/api/v1/check?domain=healthy.example&only=nosuch",
		"/demo/api/v1/smtp?host=", "/demo/api/v1/smtp?host=mx.example:99999", "/demo/api/v1/blocklist", "/demo/api/v1/blocklist?target=not_a_name!"} {
		if r := get(t, hs.URL+bad); r.status != 400 || !strings.Contains(r.body, `"error"`) {
			t.Errorf("%s: %d %s, want 400 with an error", bad, r.status, r.body)
		}
	}
	if r := do(t, "POST", hs.URL+"/demo/api/v1/explain", "text/plain", strings.NewReader("  ")); r.status != 400 {
		t.Errorf("empty explain: %d", r.status)
	}
	r = do(t, "POST", hs.URL+"/demo/api/v1/preflight", "application/x-www-form-urlencoded", strings.NewReader("from=news%40healthy.example&ips=81.2.69.160"))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"requirements"`) || !strings.Contains(r.body, `"command": "preflight"`) {
		t.Errorf("preflight: %d %s", r.status, r.body)
	}
	r = do(t, "POST", hs.URL+"/demo/api/v1/preflight", "application/x-www-form-urlencoded", strings.NewReader("from=news%40healthy.example"))
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "sending IP") {
		t.Errorf("preflight without an IP: %d %s", r.status, r.body)
	}
}

// TestRateLimit: the third report within the burst of 2 gets 429 with a
// Retry-After of at least a second; a full server gets 429 too.
func TestRateLimit(t *testing.T) {
	_, hs := demo(t, false, func(o *serve.Options) { o.RatePerMinute, o.Burst = 6, 2 })
	for i := 0; i < 2; i++ {
		if r := get(t, hs.URL+"/demo/api/v1/blocklist?target=81.2.69.160"); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := get(t, hs.URL+"/demo/api/v1/blocklist?target=81.2.69.160")
	ra, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || ra < 1 || ra > 10 || !strings.Contains(r.body, "too many reports") {
		t.Errorf("third request: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := get(t, hs.URL+"/demo/check/healthy.example"); r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "too many reports") {
		t.Errorf("page over the rate: %d", r.status)
	}
	// Pages and assets that run nothing are not limited.
	if r := get(t, hs.URL+"/demo/"); r.status != 200 {
		t.Errorf("home over the rate: %d", r.status)
	}
}

func TestBusy(t *testing.T) {
	w := slowWorld(t)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1, MaxInFlight: 1})
	resp, err := http.Get(hs.URL + "/check/slow.test")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	readUntil(t, resp.Body, &buf, `id="slots"`, time.Now()) // the first report runs
	r := get(t, hs.URL+"/api/v1/check?domain=slow.test")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "as many reports as it may") {
		t.Errorf("second report: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
	}
}

// TestOversizedUpload: over 10 MB is a 413 with a clear message, for an
// upload in the form, a pasted text and the API's raw body.
func TestOversizedUpload(t *testing.T) {
	_, hs := demo(t, false, nil)
	big := bytes.Repeat([]byte("550 5.1.1 <a@example.org>: Recipient address rejected\r\n"), serve.MaxUpload/50)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("eml", "bounce.eml")
	fw.Write(big)
	mw.Close()
	for _, tc := range []struct {
		path, ctype string
		body        []byte
	}{
		{"/demo/go", mw.FormDataContentType(), form.Bytes()},
		{"/demo/explain", "application/x-www-form-urlencoded", []byte("q=" + url.QueryEscape(string(big)))},
		{"/demo/api/v1/explain", "message/rfc822", big},
	} {
		r := do(t, "POST", hs.URL+tc.path, tc.ctype, bytes.NewReader(tc.body))
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "over the 10 MB limit") {
			t.Errorf("%s: %d %.200s, want 413 naming the 10 MB limit", tc.path, r.status, r.body)
		}
	}
	// Just under the limit is explained.
	ok := big[:serve.MaxUpload-100]
	if r := do(t, "POST", hs.URL+"/demo/api/v1/explain?offline=1", "text/plain", bytes.NewReader(ok)); r.status != 200 {
		t.Errorf("under the limit: %d %.200s", r.status, r.body)
	}
}

// TestCrossOriginForm: a form posted from another site is refused.
func TestCrossOriginForm(t *testing.T) {
	_, hs := demo(t, false, nil)
	body := "q=healthy.example"
	ct := "application/x-www-form-urlencoded"
	if r := do(t, "POST", hs.URL+"/demo/go", ct, strings.NewReader(body), "Sec-Fetch-Site", "cross-site"); r.status != 403 || !strings.Contains(r.body, "cross-origin") {
		t.Errorf("cross-site: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", hs.URL+"/demo/go", ct, strings.NewReader(body), "Origin", "https://evil.example"); r.status != 403 {
		t.Errorf("other origin: %d", r.status)
	}
	if r := do(t, "POST", hs.URL+"/demo/go", ct, strings.NewReader(body), "Sec-Fetch-Site", "same-origin"); r.status != 303 {
		t.Errorf("same origin: %d", r.status)
	}
}

// TestRoute: the one input goes where it belongs.
func TestRoute(t *testing.T) {
	_, hs := demo(t, false, nil)
	ct := "application/x-www-form-urlencoded"
	for _, tc := range []struct{ q, to string }{
		{"healthy.example", "/demo/check/healthy.example"},
		{"  Healthy.Example.  ", "/demo/check/healthy.example"},
		{"alice@broken.example", "/demo/check/broken.example"},
		{"mx1.healthy.example", "/demo/smtp/mx1.healthy.example"},
		{"mail.healthy.example:465", "/demo/smtp/mail.healthy.example:465"},
		{"81.2.69.180, 81.2.69.160", "/demo/blocklist/81.2.69.180,81.2.69.160"},
		{"81.2.69.180\n81.2.69.160", "/demo/blocklist/81.2.69.180,81.2.69.160"},
		{"550 5.1.1 user unknown", "/demo/explain?text=550+5.1.1+user+unknown"},
	} {
		r := do(t, "POST", hs.URL+"/demo/go", ct, strings.NewReader("q="+url.QueryEscape(tc.q)))
		if r.status != 303 || r.header.Get("Location") != tc.to {
			t.Errorf("%q: %d → %q, want %q", tc.q, r.status, r.header.Get("Location"), tc.to)
		}
	}
	r := do(t, "POST", hs.URL+"/demo/go", ct, strings.NewReader("q="+url.QueryEscape("Reporting-MTA: dns; mx\n\n550 5.1.1 <bob@healthy.example>: Recipient address rejected: User unknown")))
	if r.status != 200 || !strings.Contains(r.body, "Explanation of") || !strings.Contains(r.body, "Not stored and not linkable") {
		t.Errorf("pasted text: %d %.300s", r.status, r.body)
	}
	if r := do(t, "POST", hs.URL+"/demo/go", ct, strings.NewReader("q=")); r.status != 400 {
		t.Errorf("empty: %d", r.status)
	}
}

// TestHostileBanner: a banner with markup and a terminal escape is shown
// as text: escaped by the template, the escape made visible.
func TestHostileBanner(t *testing.T) {
	raw := smtptest.StartRaw(t, func(c *smtptest.RawConn) {
		c.Send("220 <script>document.title='pwned'</script> \x1b[2J\x1b]0;owned\x07 ESMTP \u202egnp.exe")
		c.Session()
	})
	w, _ := zoneWorld(t, "x.test. IN SOA ns hostmaster 1 3600 600 86400 300\n", nil)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1})
	r := get(t, hs.URL+"/smtp/"+raw.Addr)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if strings.Contains(r.body, "<script>document") || strings.Contains(r.body, "\x1b") || strings.Contains(r.body, "\u202e") {
		t.Fatal("remote bytes reached the page unescaped")
	}
	contains(t, "hostile page", r.body, "&lt;script&gt;document.title=", `\x1b[2J`, `\u202e`)
	smtptest.AssertNoMessage(t, raw.Rec)
}

// TestUnknownWorldPaths: without a main world, / leads to the demo.
func TestDemoOnly(t *testing.T) {
	_, hs := demo(t, false, nil)
	if r := get(t, hs.URL+"/"); r.status != 303 || r.header.Get("Location") != "/demo/" {
		t.Errorf("/: %d %s", r.status, r.header.Get("Location"))
	}
	if r := get(t, hs.URL+"/check/healthy.example"); r.status != 404 {
		t.Errorf("/check without a main world: %d", r.status)
	}
	_ = demoworld.Healthy
}

// TestResultPages: every result page of the demo world answers, streamed
// to its summary, at its shareable address.
func TestResultPages(t *testing.T) {
	_, hs := demo(t, false, nil)
	for _, tc := range []struct {
		method, path, body string
		status             int
		wants              []string
	}{
		{"GET", "/demo/smtp/mx1.healthy.example", "", 200, []string{"SMTP dry run:", "SMTP transcript", "Every reply, explained", "smtp.relay-denied", `class="final"`}},
		{"GET", "/demo/smtp/mail.healthy.example:465", "", 200, []string{"port 465", "smtp.auth-offered"}},
		{"GET", "/demo/blocklist/81.2.69.180,81.2.69.160", "", 200, []string{"Blocklists:", "Blocklist answers", "demo listing: 81.2.69.180 sent to spam traps", "dnsbl.listed", "dnsbl.not-listed"}},
		{"GET", "/demo/explain?text=" + url.QueryEscape("550 5.7.1 <81.2.69.180> blocked using bl.mxray.example"), "", 200, []string{"Explanation of", "explain.", `class="final"`}},
		{"POST", "/demo/explain", "q=" + url.QueryEscape("421 4.7.0 Try again later"), 200, []string{"Explanation of", "Not stored and not linkable"}},
		// A pasted log excerpt, from the home page's one input: the log's
		// groups as the text report shows them, each with its example line.
		{"POST", "/demo/go", "q=" + url.QueryEscape(pastedLog), 200, []string{"Explanation of", "(mail log), 4 lines, 4 of a known MTA, 2 events in 2 groups",
			"1 × refused by this server: blocked", "remote IPs: 81.2.69.180 (1)", "example (line 2): ", "1 × refused by remote servers: userunknown",
			"this server refused: ", "explain.userunknown", `class="final"`}},
		{"POST", "/demo/preflight", "from=news%40healthy.example&ips=81.2.69.160", 200, []string{"Preflight for", "Gmail", "Yahoo", "Microsoft", `class="final"`}},
		{"GET", "/demo/check/exa%20mple.com", "", 400, []string{"cannot appear in a host name"}},
		{"GET", "/demo/explain", "", 303, nil},
	} {
		var r response
		if tc.method == "GET" {
			r = get(t, hs.URL+tc.path)
		} else {
			r = do(t, "POST", hs.URL+tc.path, "application/x-www-form-urlencoded", strings.NewReader(tc.body))
		}
		if r.status != tc.status {
			t.Errorf("%s %s: %d, want %d: %.300s", tc.method, tc.path, r.status, tc.status, r.body)
			continue
		}
		contains(t, tc.path, r.body, tc.wants...)
	}
}

// pastedLog is a Postfix log excerpt: a client refused for a listing,
// with the lines around it, and a bounce from a remote server.
const pastedLog = `Nov 26 10:00:00 mx postfix/smtpd[123]: connect from relay.isp.test[81.2.69.180]
Nov 26 10:00:01 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from relay.isp.test[81.2.69.180]: 554 5.7.1 Service unavailable; Client host [81.2.69.180] blocked using bl.mxray.example; from=<a@isp.test> to=<b@healthy.example> proto=ESMTP helo=<relay.isp.test>
Nov 26 10:00:01 mx postfix/smtpd[123]: disconnect from relay.isp.test[81.2.69.180] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
Nov 26 10:05:01 mx postfix/smtp[457]: 4F3A21C0123: to=<u@example.net>, relay=mx.example.net[192.0.2.3]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.3] said: 550 5.1.1 <u@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))
`

// TestDemoPrivateMX: in the sealed demo world, as on the internet, an MX
// host at a private address is reported and not probed.
func TestDemoPrivateMX(t *testing.T) {
	_, hs := demo(t, false, nil)
	r := get(t, hs.URL+"/demo/api/v1/check?domain=broken.example&only=smtp")
	var rep report.Report
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Find("smtp.skipped-addresses")) != 1 || strings.Contains(r.body, "no server at 10.20.30.40") {
		t.Errorf("private MX: %v", ids(&rep))
	}
}

// TestSlowUpload: a body that trickles in is cut at the deadline.
func TestSlowUpload(t *testing.T) {
	_, hs := demo(t, false, func(o *serve.Options) { o.Timeout = time.Second })
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("550 5.1.1 "))
		time.Sleep(3 * time.Second)
		pw.Close()
	}()
	started := time.Now()
	r := do(t, "POST", hs.URL+"/demo/api/v1/explain", "text/plain", pr)
	if r.status != http.StatusRequestTimeout || time.Since(started) > 2500*time.Millisecond {
		t.Errorf("%d after %v: %s", r.status, time.Since(started), r.body)
	}
}
