package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The grammar of plugin output, written from the Monitoring Plugins
// development guidelines rather than from the renderer: a status line
// "SERVICE STATUS: text | perfdata", perfdata items
// 'label'=value[UOM];[warn];[crit];[min];[max] separated by spaces, labels
// without "=" or "'" (quoted when they have spaces) unique in their first
// 19 characters, UOM one of s ms us % B KB MB TB c, value a number or U,
// thresholds in the range syntax [@]start:end.
var (
	pluginStatusLine = regexp.MustCompile(`^MXRAY ([A-Z]+) (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+) \| (.*)$`)
	pluginNumber     = `-?[0-9]+(\.[0-9]+)?`
	pluginValue      = regexp.MustCompile(`^(` + pluginNumber + `|U)(s|ms|us|%|B|KB|MB|TB|c)?$`)
	pluginRange      = regexp.MustCompile(`^@?((~|` + pluginNumber + `)?:)?(` + pluginNumber + `)?$`)
	pluginMinMax     = regexp.MustCompile(`^(` + pluginNumber + `)?$`)
	pluginExit       = map[string]int{"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
)

// checkPluginOutput fails the test when out does not follow the
// guidelines, and returns the perfdata by label.
func checkPluginOutput(t *testing.T, out string, exit int) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	m := pluginStatusLine.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("status line does not follow 'MXRAY COMMAND STATE - text | perfdata': %q", lines[0])
	}
	if pluginExit[m[2]] != exit {
		t.Errorf("status word %s, exit code %d", m[2], exit)
	}
	if n := utf8.RuneCountInString(m[3]); n > 80 {
		t.Errorf("status text is %d characters (about 80 is the limit): %q", n, m[3])
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, "|") {
			t.Errorf("long output line contains '|', which starts perfdata: %q", l)
		}
	}
	return parsePerfdata(t, m[4])
}

func parsePerfdata(t *testing.T, s string) map[string][]string {
	t.Helper()
	perf := map[string][]string{}
	seen19 := map[string]string{}
	for s != "" {
		label, rest, ok := perfLabel(s)
		if !ok {
			t.Fatalf("perfdata label malformed at %q", s)
		}
		item, next, _ := strings.Cut(rest, " ")
		s = next
		fields := strings.Split(item, ";")
		if len(fields) > 5 {
			t.Errorf("%s: more than 5 fields: %q", label, item)
		}
		if !pluginValue.MatchString(fields[0]) {
			t.Errorf("%s: value %q is not a number or U with a known UOM", label, fields[0])
		}
		for i, f := range fields[1:] {
			re := pluginRange
			if i >= 2 {
				re = pluginMinMax
			}
			if !re.MatchString(f) {
				t.Errorf("%s: field %d %q is malformed", label, i+2, f)
			}
		}
		key := label
		if len(key) > 19 {
			key = key[:19]
		}
		if other, dup := seen19[key]; dup {
			t.Errorf("labels %q and %q share their first 19 characters", other, label)
		}
		seen19[key] = label
		perf[label] = fields
	}
	return perf
}

// perfLabel reads 'label'= or label= from the start of s.
func perfLabel(s string) (label, rest string, ok bool) {
	if strings.HasPrefix(s, "'") {
		end := strings.Index(s[1:], "'=")
		if end < 0 {
			return "", "", false
		}
		label = s[1 : end+1]
		return label, s[end+3:], label != "" && !strings.ContainsAny(label, "='")
	}
	label, rest, ok = strings.Cut(s, "=")
	return label, rest, ok && label != "" && !strings.ContainsAny(label, " '")
}

// monitoredReport has every kind of measurement: an SPF count, two
// certificates, a listing, a reachable and an unreachable host.
func monitoredReport(worstSev Severity) *Report {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := New("check", "example.com", "test", start)
	spf := r.Section("spf", "SPF")
	spf.Add(Finding{ID: "spf.lookups", Severity: OK, Summary: "3/10 lookups"})
	spf.Measurements = &Measurements{SPF: &SPFLookups{Domain: "example.com", Lookups: 3}}
	smtp := r.Section("smtp", "SMTP")
	smtp.Add(Finding{ID: "smtp.size", Severity: Info, Subject: "mx1.example.com (192.0.2.1:25)", Summary: "SIZE limit"})
	smtp.Measurements = &Measurements{
		Certificates: []CertificateExpiry{
			{Host: "mx1.example.com", Address: "192.0.2.1", Port: 25, NotAfter: start.Add(40 * 24 * time.Hour)},
			{Host: "mx2.example.com", Address: "192.0.2.2", Port: 25, NotAfter: start.Add(10*24*time.Hour + time.Hour)},
		},
		SMTP: []Reachability{{Host: "mx1.example.com", Address: "192.0.2.1", Port: 25, Reachable: true},
			{Host: "mx2.example.com", Address: "2001:db8::2", Port: 25}},
	}
	bl := r.Section("dnsbl", "Blocklists")
	bl.Measurements = &Measurements{Listings: []Listing{{Target: "192.0.2.1", List: "bl.example.org", Listed: worstSev == Failure},
		{Target: "192.0.2.2", List: "bl.example.org"}}}
	switch worstSev {
	case Failure:
		bl.Add(Finding{ID: "dnsbl.listed", Severity: Failure, Subject: "192.0.2.1", Summary: "listed on bl.example.org | 127.0.0.2\nnext"})
	case Warning, Unknown:
		bl.Add(Finding{ID: "dnsbl.x", Severity: worstSev, Subject: "192.0.2.1", Summary: "something"})
	}
	r.Finish(start.Add(2500 * time.Millisecond))
	return r
}

func TestWriteNagiosFollowsTheGuidelines(t *testing.T) {
	warn21, _ := ParseRange("21:")
	crit7, _ := ParseRange("7:")
	crit14, _ := ParseRange("14:")
	for _, tt := range []struct {
		name      string
		sev       Severity
		opt       NagiosOptions
		wantExit  int
		wantInLn1 string
	}{
		{"ok", OK, NagiosOptions{}, NagiosOK, "MXRAY CHECK OK - example.com: 1 ok, 1 info, no warnings"},
		{"warning", Warning, NagiosOptions{}, NagiosWarning, "1 warning: dnsbl.x (192.0.2.1)"},
		{"failure", Failure, NagiosOptions{}, NagiosCritical, "1 failure: dnsbl.listed (192.0.2.1)"},
		{"unknown", Unknown, NagiosOptions{}, NagiosUnknown, "1 unknown: dnsbl.x"},
		{"cert warn threshold", OK, NagiosOptions{CertWarn: &warn21, CertCrit: &crit7}, NagiosWarning,
			"example.com: certificate of mx2.example.com:25 expires in 10 days"},
		{"cert crit threshold", Warning, NagiosOptions{CertWarn: &warn21, CertCrit: &crit14}, NagiosCritical, "MXRAY CHECK CRITICAL - "},
		{"failure outranks a cert warning", Failure, NagiosOptions{CertWarn: &warn21}, NagiosCritical, "dnsbl.listed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			exit, err := WriteNagios(&buf, monitoredReport(tt.sev), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if exit != tt.wantExit {
				t.Errorf("exit %d, want %d\n%s", exit, tt.wantExit, out)
			}
			if first, _, _ := strings.Cut(out, "\n"); !strings.Contains(first, tt.wantInLn1) {
				t.Errorf("first line lacks %q:\n%s", tt.wantInLn1, first)
			}
			perf := checkPluginOutput(t, out, exit)
			for label, want := range map[string]string{"spf_lookups": "3", "duration": "2.5s", "cert_days": "10.04",
				"smtp_reachable": "1", "smtp_unreachable": "1", "findings_ok": "1"} {
				if got := perf[label]; len(got) == 0 || got[0] != want {
					t.Errorf("perfdata %s = %v, want %s", label, got, want)
				}
			}
			if got := perf["spf_lookups"]; len(got) < 3 || got[2] != "10" {
				t.Errorf("spf_lookups critical threshold = %v, want 10", got)
			}
			if tt.opt.CertWarn != nil && perf["cert_days"][1] != tt.opt.CertWarn.String() {
				t.Errorf("cert_days thresholds %v, want warn %s", perf["cert_days"], tt.opt.CertWarn)
			}
			if tt.sev == Failure && perf["dnsbl_listed"][0] != "1" {
				t.Errorf("dnsbl_listed = %v, want 1", perf["dnsbl_listed"])
			}
		})
	}
}

// A certificate nobody saw and an SPF count that could not be made are
// "U", not zero.
func TestWriteNagiosUnknownValues(t *testing.T) {
	r := New("check", "example.com", "test", time.Now())
	r.Section("spf", "SPF").Add(Finding{ID: "spf.lookup-failed", Severity: Unknown, Summary: "SERVFAIL"})
	r.Section("smtp", "SMTP").Add(Finding{ID: "smtp.port25-blocked", Severity: Unknown, Summary: "blocked"})
	r.Section("dnsbl", "Blocklists").Add(Finding{ID: "dnsbl.unknown", Severity: Unknown, Subject: "bl.example", Summary: "SERVFAIL"})
	r.Finish(time.Now())
	var buf bytes.Buffer
	exit, err := WriteNagios(&buf, r, NagiosOptions{})
	if err != nil {
		t.Fatal(err)
	}
	perf := checkPluginOutput(t, buf.String(), exit)
	if exit != NagiosUnknown || perf["spf_lookups"][0] != "U" || perf["cert_days"][0] != "U" || perf["dnsbl_listed"][0] != "U" {
		t.Fatalf("exit %d, perfdata %v", exit, perf)
	}
}

// Many findings of the worst severity still fit the first line.
func TestWriteNagiosHeadlineStaysShort(t *testing.T) {
	r := New("check", "a-rather-long-domain-name.example.com", "test", time.Now())
	s := r.Section("dmarc", "DMARC")
	for i := range 12 {
		s.Add(Finding{ID: fmt.Sprintf("dmarc.problem-%d", i), Severity: Warning, Subject: "tag" + strconv.Itoa(i), Summary: "x"})
	}
	r.Finish(time.Now())
	var buf bytes.Buffer
	exit, _ := WriteNagios(&buf, r, NagiosOptions{})
	checkPluginOutput(t, buf.String(), exit)
	if !strings.Contains(buf.String(), "more") {
		t.Fatalf("want a '+N more' in:\n%s", buf.String())
	}
}

func TestParseRange(t *testing.T) {
	for _, tt := range []struct {
		in             string
		alert, noAlert []float64
	}{
		{"10", []float64{-1, 11}, []float64{0, 5, 10}},
		{"10:", []float64{9.9, -3}, []float64{10, 1e6}},
		{"~:10", []float64{10.5}, []float64{-1e6, 10}},
		{"10:20", []float64{9, 21}, []float64{10, 15, 20}},
		{"@10:20", []float64{10, 15, 20}, []float64{9, 21}},
		{"@~:7", []float64{-5, 7}, []float64{7.01}},
	} {
		r, err := ParseRange(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		for _, v := range tt.alert {
			if !r.Alert(v) {
				t.Errorf("%s: %v should alert", tt.in, v)
			}
		}
		for _, v := range tt.noAlert {
			if r.Alert(v) {
				t.Errorf("%s: %v should not alert", tt.in, v)
			}
		}
	}
	for _, bad := range []string{"", "@", "abc", "20:10", "1:x", "NaN", "~:~"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
