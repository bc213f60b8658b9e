package serve_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mxray/mxray/serve"
)

// TestRouteLooksUpOnlyWhatIsAllowed: the home page's one input looks a
// name up (mail domain or mail host?) only after the policy and the rate
// limit let it: a name outside --allow-target is refused before any
// query — the redirect would tell which refused names exist — and a
// client over its rate gets 429 before any query. The report the lookup
// leads to is not charged twice.
func TestRouteLooksUpOnlyWhatIsAllowed(t *testing.T) {
	w, dns := zoneWorld(t, `
$ORIGIN allowed.test.
@      IN SOA ns hostmaster 1 3600 600 86400 300
@      IN MX 10 mx
mx     IN A 81.2.69.40
$ORIGIN other.test.
@      IN SOA ns hostmaster 1 3600 600 86400 300
www    IN A 81.2.69.41
`, nil)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, AllowTargets: []string{"allowed.test"}, RatePerMinute: 1, Burst: 1})
	asked := func(name string) bool {
		for _, q := range dns.Log() {
			if strings.HasPrefix(q, name) {
				return true
			}
		}
		return false
	}
	post := func(q string) response {
		return do(t, "POST", hs.URL+"/go", "application/x-www-form-urlencoded", strings.NewReader("q="+url.QueryEscape(q)))
	}
	if r := post("www.other.test"); r.status != http.StatusForbidden || !strings.Contains(r.body, "--allow-target") || asked("www.other.test") {
		t.Errorf("a name outside --allow-target: %d, looked up: %v", r.status, asked("www.other.test"))
	}
	r := post("allowed.test")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/check/allowed.test" {
		t.Fatalf("allowed name: %d → %q", r.status, r.header.Get("Location"))
	}
	// The report it leads to was paid for by the lookup (burst 1).
	if r := get(t, hs.URL+"/api/v1/check?domain=allowed.test"); r.status != http.StatusTooManyRequests {
		t.Errorf("another report, not prepaid: %d, want 429", r.status)
	}
	if r := get(t, hs.URL+"/check/allowed.test"); r.status != http.StatusOK {
		t.Errorf("the redirect's report: %d, want 200 (prepaid)", r.status)
	}
	// Over the rate: refused before the name is asked about.
	if r := post("relay.allowed.test"); r.status != http.StatusTooManyRequests || asked("relay.allowed.test") {
		t.Errorf("over the rate: %d, looked up: %v", r.status, asked("relay.allowed.test"))
	}
	if r := get(t, hs.URL+"/check/allowed.test"); r.status != http.StatusTooManyRequests {
		t.Errorf("a prepaid report is used once: %d, want 429", r.status)
	}
	m := get(t, hs.URL+"/metrics").body
	for _, want := range []string{`mxray_serve_rejected_requests_total{reason="rate-limit"} 3`, `mxray_serve_rejected_requests_total{reason="forbidden-target"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
}

// TestPreflightSelectorsAndAPIHints: the preflight form has the selector
// field its report speaks of (--selector), and the API takes it: with a
// selector the dkim row is judged, not left manual. The demo's home page
// names its API under /demo.
func TestPreflightSelectorsAndAPIHints(t *testing.T) {
	_, hs := demo(t, false, nil)
	r := get(t, hs.URL+"/demo/preflight")
	contains(t, "preflight form", r.body, `<label for="selectors">`, `name="selectors"`)
	ct := "application/x-www-form-urlencoded"
	for sel, want := range map[string]string{"": `"status": "manual"`, "s1": `"status": "pass"`} {
		r = do(t, "POST", hs.URL+"/demo/api/v1/preflight", ct, strings.NewReader("from=news%40healthy.example&ips=81.2.69.160&selectors="+sel))
		row := regexp.MustCompile(`(?s)"provider": "gmail",[^}]*?"id": "dkim",\s*"status": "[a-z]+"`).FindString(r.body)
		if r.status != http.StatusOK || !strings.Contains(row, want) {
			t.Errorf("selectors %q: %d, gmail dkim row %q, want %s", sel, r.status, row, want)
		}
	}
	if r := do(t, "POST", hs.URL+"/demo/api/v1/preflight", ct, strings.NewReader("from=news%40healthy.example&ips=81.2.69.160&selectors=bad%2Fsel")); r.status != http.StatusBadRequest {
		t.Errorf("a malformed selector: %d", r.status)
	}
	r = get(t, hs.URL+"/demo/")
	contains(t, "demo home", r.body, "<code>/demo/api/v1/smtp?host=…</code>", "<code>/demo/api/v1/blocklist?target=…</code>",
		"<code>POST /demo/api/v1/explain</code>", "<code>POST /demo/api/v1/preflight</code>")
}
