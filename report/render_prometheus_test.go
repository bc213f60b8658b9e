package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseExposition parses the output with the Prometheus project's own
// parser (legacy name validation: the strictest) and fails the test on
// any error, on a duplicate series, and on a family without HELP.
func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("expfmt cannot parse the output: %v\n%s", err, text)
	}
	for name, mf := range fams {
		if mf.GetHelp() == "" {
			t.Errorf("%s has no HELP", name)
		}
		if mf.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s: type %v", name, mf.GetType())
		}
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			key := labelKey(m)
			if seen[key] {
				t.Errorf("%s: duplicate series %s", name, key)
			}
			seen[key] = true
		}
	}
	return fams
}

func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.GetLabel() {
		b.WriteString(l.GetName() + "=" + l.GetValue() + ",")
	}
	return b.String()
}

// sample finds the value of the series with exactly these labels.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

// Names per the Prometheus conventions: the mxray_ namespace, snake case,
// base units in the name, no _total on gauges.
var promName = regexp.MustCompile(`^mxray_[a-z][a-z0-9_]*[a-z0-9]$`)

func TestWritePrometheusParsesWithExpfmt(t *testing.T) {
	a := monitoredReport(Failure)
	b := monitoredReport(OK)
	b.Target = "example.org"
	hostile := "mx \"quoted\" \\ back\nslash \xff"
	b.Sections[1].Findings = append(b.Sections[1].Findings, Finding{ID: "smtp.x", Severity: Warning, Subject: hostile, Summary: "s"})
	b.Sections[1].Findings = append(b.Sections[1].Findings, Finding{ID: "smtp.x", Severity: Warning, Subject: hostile, Summary: "same series twice"})
	b.Finish(b.StartedAt.Add(time.Second))

	var buf bytes.Buffer
	if err := WritePrometheus(&buf, a, b); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	fams := parseExposition(t, text)
	for _, name := range []string{"mxray_check_success", "mxray_check_duration_seconds", "mxray_findings", "mxray_finding",
		"mxray_dnsbl_listed", "mxray_spf_dns_lookups", "mxray_tls_certificate_expiry_timestamp_seconds", "mxray_smtp_reachable"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
	for name := range fams {
		if !promName.MatchString(name) || strings.HasSuffix(name, "_total") {
			t.Errorf("metric name %q breaks the naming conventions", name)
		}
		if strings.Count(text, "# TYPE "+name+" ") != 1 {
			t.Errorf("%s: want exactly one TYPE line for two domains", name)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"mxray_check_success", map[string]string{"domain": "example.com"}, 0},
		{"mxray_check_success", map[string]string{"domain": "example.org"}, 1},
		{"mxray_check_duration_seconds", map[string]string{"domain": "example.com"}, 2.5},
		{"mxray_findings", map[string]string{"domain": "example.com", "severity": "failure"}, 1},
		{"mxray_findings", map[string]string{"domain": "example.org", "severity": "unknown"}, 0},
		{"mxray_finding", map[string]string{"domain": "example.com", "id": "dnsbl.listed", "severity": "failure", "subject": "192.0.2.1"}, 1},
		{"mxray_finding", map[string]string{"domain": "example.org", "id": "smtp.x", "severity": "warning", "subject": strings.ToValidUTF8(hostile, "\uFFFD")}, 1},
		{"mxray_dnsbl_listed", map[string]string{"domain": "example.com", "target": "192.0.2.1", "list": "bl.example.org"}, 1},
		{"mxray_dnsbl_listed", map[string]string{"domain": "example.org", "target": "192.0.2.1", "list": "bl.example.org"}, 0},
		{"mxray_spf_dns_lookups", map[string]string{"domain": "example.com"}, 3},
		{"mxray_tls_certificate_expiry_timestamp_seconds", map[string]string{"domain": "example.com", "host": "mx1.example.com", "address": "192.0.2.1", "port": "25"},
			float64(time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC).Unix())},
		{"mxray_smtp_reachable", map[string]string{"domain": "example.com", "host": "mx2.example.com", "address": "2001:db8::2", "port": "25"}, 0},
	} {
		got, ok := sample(t, fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// ok and info findings have no series of their own.
	if _, ok := sample(t, fams, "mxray_finding", map[string]string{"domain": "example.com", "id": "spf.lookups", "severity": "ok", "subject": ""}); ok {
		t.Error("an ok finding has a mxray_finding series")
	}
}

// A report without measurements still makes a valid exposition, and no
// reports make an empty one.
func TestWritePrometheusMinimal(t *testing.T) {
	r := New("blocklist", "192.0.2.9", "test", time.Now())
	r.Finish(time.Now())
	var buf bytes.Buffer
	if err := WritePrometheus(&buf, r); err != nil {
		t.Fatal(err)
	}
	fams := parseExposition(t, buf.String())
	if _, ok := fams["mxray_spf_dns_lookups"]; ok {
		t.Error("SPF lookups written without a measurement")
	}
	buf.Reset()
	if err := WritePrometheus(&buf); err != nil || buf.Len() != 0 {
		t.Fatalf("no reports: %q, %v", buf.String(), err)
	}
}
