package serve_test

// /probe and /metrics are read with the Prometheus project's own parser
// (github.com/prometheus/common/expfmt, a test-only dependency): what it
// accepts, Prometheus scrapes.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mxray/mxray/report"
	"github.com/mxray/mxray/serve"
)

// parseExposition parses the text format strictly.
func parseExposition(t testing.TB, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, body)
	}
	return fams
}

func gauge(t testing.TB, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok || len(f.Metric) != 1 || f.GetType() != dto.MetricType_GAUGE {
		t.Fatalf("%s: %v", name, f)
	}
	return f.Metric[0].GetGauge().GetValue()
}

// TestProbe: blackbox_exporter's convention for every module.
func TestProbe(t *testing.T) {
	_, hs := demo(t, false, nil)
	for _, tc := range []struct {
		module, target string
		success        float64
	}{
		{"check", "healthy.example", 1},
		{"check", "broken.example", 0},
		{"spf", "broken.example", 0},
		{"dmarc", "healthy.example", 1},
		{"smtp", "mx1.healthy.example", 1},
		{"smtp", "81.2.69.180", 0},
		{"blocklist", "81.2.69.180", 0},
		{"blocklist", "81.2.69.160", 1},
	} {
		r := get(t, hs.URL+"/demo/probe?module="+tc.module+"&target="+tc.target)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Errorf("%s %s: %d %s", tc.module, tc.target, r.status, r.header.Get("Content-Type"))
			continue
		}
		fams := parseExposition(t, r.body)
		if got := gauge(t, fams, "probe_success"); got != tc.success {
			t.Errorf("%s %s: probe_success %v, want %v", tc.module, tc.target, got, tc.success)
		}
		if d := gauge(t, fams, "probe_duration_seconds"); d <= 0 || d > 60 {
			t.Errorf("%s %s: probe_duration_seconds %v", tc.module, tc.target, d)
		}
		// The report's own metrics follow, from the --format prometheus
		// renderer: the same verdict, told by mxray_check_success.
		if got := gauge(t, fams, "mxray_check_success"); got != tc.success {
			t.Errorf("%s %s: mxray_check_success %v, want %v", tc.module, tc.target, got, tc.success)
		}
		if _, ok := fams["mxray_findings"]; !ok {
			t.Errorf("%s %s: no mxray_findings in\n%s", tc.module, tc.target, r.body)
		}
	}
	for _, bad := range []string{"/demo/probe?module=http&target=healthy.example", "/demo/probe?module=check", "/demo/probe?target=bad..name"} {
		if r := get(t, hs.URL+bad); r.status != 400 {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
	r := get(t, hs.URL+"/demo/probe?module=check&target=broken.example&debug=true")
	fams := parseExposition(t, r.body)
	if gauge(t, fams, "probe_success") != 0 || !strings.Contains(r.body, "# mxray check broken.example") {
		t.Errorf("debug=true: %s", r.body)
	}
}

// TestProbeRenderer: the mxray_* metrics come from the --format
// prometheus renderer when one is wired in; the whole answer still parses.
func TestProbeRenderer(t *testing.T) {
	var got []*report.Report
	_, hs := demo(t, false, func(o *serve.Options) {
		o.WritePrometheus = func(w io.Writer, reps ...*report.Report) error {
			got = append(got, reps...)
			for _, rep := range reps {
				fmt.Fprintf(w, "# HELP mxray_findings Findings by severity.\n# TYPE mxray_findings gauge\nmxray_findings{target=%q,severity=\"failure\"} %d\n", rep.Target, rep.Summary.Failure)
			}
			return nil
		}
	})
	r := get(t, hs.URL+"/demo/probe?module=check&target=broken.example")
	fams := parseExposition(t, r.body)
	if len(got) != 1 || got[0].Target != "broken.example" {
		t.Fatalf("renderer got %v", got)
	}
	if f := fams["mxray_findings"]; f == nil || f.Metric[0].GetGauge().GetValue() != float64(got[0].Summary.Failure) {
		t.Errorf("mxray_findings: %v", f)
	}
	if gauge(t, fams, "probe_success") != 0 {
		t.Error("probe_success")
	}
}

// TestProbeScrapeTimeout: the scrape's timeout bounds the probe; a probe
// cut short says so with probe_success 0, in time.
func TestProbeScrapeTimeout(t *testing.T) {
	w := slowWorld(t)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1})
	started := time.Now()
	r := get(t, hs.URL+"/probe?module=smtp&target=mx.slow.test", "X-Prometheus-Scrape-Timeout-Seconds", "1.5")
	took := time.Since(started)
	fams := parseExposition(t, r.body)
	if gauge(t, fams, "probe_success") != 0 || took > 2*time.Second {
		t.Errorf("probe_success %v after %v, want 0 within the 1.5 s scrape timeout", gauge(t, fams, "probe_success"), took)
	}
}

// TestMetrics: the server's own metrics parse, and count requests,
// durations, reports in flight and refusals by reason.
func TestMetrics(t *testing.T) {
	_, hs := demo(t, false, func(o *serve.Options) { o.RatePerMinute, o.Burst = 1, 1 })
	get(t, hs.URL+"/demo/api/v1/blocklist?target=81.2.69.160")
	get(t, hs.URL+"/demo/api/v1/blocklist?target=81.2.69.160") // 429
	get(t, hs.URL+"/demo/check/bad..name")                     // 400
	r := get(t, hs.URL+"/metrics")
	fams := parseExposition(t, r.body)
	count := func(name string, labels map[string]string) float64 {
		f := fams[name]
		if f == nil {
			t.Fatalf("%s missing:\n%s", name, r.body)
		}
		for _, m := range f.Metric {
			match := true
			for k, v := range labels {
				found := false
				for _, lp := range m.Label {
					found = found || lp.GetName() == k && lp.GetValue() == v
				}
				match = match && found
			}
			if match {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
		return -1
	}
	if v := count("mxray_serve_requests_total", map[string]string{"handler": "api_blocklist", "code": "200"}); v != 1 {
		t.Errorf("api_blocklist 200: %v", v)
	}
	if v := count("mxray_serve_requests_total", map[string]string{"handler": "api_blocklist", "code": "429"}); v < 1 {
		t.Errorf("api_blocklist 429: %v", v)
	}
	if v := count("mxray_serve_rejected_requests_total", map[string]string{"reason": "rate-limit"}); v < 1 {
		t.Errorf("rejected rate-limit: %v", v)
	}
	if v := count("mxray_serve_rejected_requests_total", map[string]string{"reason": "bad-request"}); v != 1 {
		t.Errorf("rejected bad-request: %v", v)
	}
	if v := count("mxray_serve_checks_in_flight", nil); v != 0 {
		t.Errorf("in flight: %v", v)
	}
	h := fams["mxray_serve_request_duration_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("histogram: %v", h)
	}
	for _, m := range h.Metric {
		if m.GetHistogram().GetSampleCount() == 0 {
			t.Errorf("empty histogram %v", m)
		}
	}
}

// TestMetricsInFlight: a report that runs shows in the gauge.
func TestMetricsInFlight(t *testing.T) {
	w := slowWorld(t)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/check/slow.test", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	fams := parseExposition(t, get(t, hs.URL+"/metrics").body)
	if v := gauge(t, fams, "mxray_serve_checks_in_flight"); v != 1 {
		t.Errorf("in flight %v, want 1", v)
	}
}

// TestProbeModuleOwnSections: the dmarc and spf modules judge the
// domain's DMARC and SPF only. A domain whose MX host has no address
// fails a whole check, but its DMARC and SPF probes succeed, and their
// metrics hold no MX finding.
func TestProbeModuleOwnSections(t *testing.T) {
	w, _ := zoneWorld(t, `
$ORIGIN nomx.test.
@       IN SOA ns hostmaster 1 3600 600 86400 300
@       IN MX 10 gone.nomx.test.
@       IN TXT "v=spf1 ip4:81.2.69.0/24 -all"
_dmarc  IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@nomx.test"
`, nil)
	hs := start(t, serve.Options{World: w, AllowPrivate: true, RatePerMinute: -1})
	for module, success := range map[string]float64{"check": 0, "dmarc": 1, "spf": 1} {
		r := get(t, hs.URL+"/probe?module="+module+"&target=nomx.test")
		fams := parseExposition(t, r.body)
		if got := gauge(t, fams, "probe_success"); got != success {
			t.Errorf("%s: probe_success %v, want %v\n%s", module, got, success, r.body)
		}
		if module != "check" && strings.Contains(r.body, `"mx.`) {
			t.Errorf("%s: MX findings in the module's metrics:\n%s", module, r.body)
		}
	}
}
