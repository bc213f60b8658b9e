package report

// The Prometheus text exposition format (version 0.0.4), for
// node_exporter's textfile collector and for a blackbox-style /probe:
// "# HELP" and "# TYPE" once per metric family, then its samples. Names
// carry their base unit (_seconds, _timestamp_seconds); every series of a
// domain carries a domain label, so the reports of many domains share one
// exposition. No sample timestamps: the textfile collector refuses them.

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// promFamily is one metric family being collected.
type promFamily struct {
	name, help string
	samples    []promSample
	seen       map[string]bool // label sets already written: series are unique
}

type promSample struct {
	labels []promLabel
	value  float64
}

type promLabel struct{ name, value string }

// promFamilies are the metrics, in the order they are written.
func promFamilies() []*promFamily {
	return []*promFamily{
		{name: "mxray_check_success", help: "1 if the check ran and found no failure and nothing it could not check (exit code 0 or 1), else 0."},
		{name: "mxray_check_exit_code", help: "The exit code of the check: 0 ok, 1 warning, 2 failure, 3 could not check."},
		{name: "mxray_check_duration_seconds", help: "How long the check took."},
		{name: "mxray_check_timestamp_seconds", help: "When the check started, in seconds since the Unix epoch."},
		{name: "mxray_findings", help: "Number of findings of the check, by severity."},
		{name: "mxray_finding", help: "1 for each warning, failure or unknown finding present (id as in docs/findings.md); absent once it clears."},
		{name: "mxray_dnsbl_listed", help: "1 if the target is listed on the blocklist, 0 if not; absent when the list gave no definite answer."},
		{name: "mxray_spf_dns_lookups", help: "DNS-querying terms of the domain's SPF record tree (RFC 7208 section 4.6.4: at most 10)."},
		{name: "mxray_spf_void_dns_lookups", help: "Terms of the SPF record tree whose lookup finds nothing (RFC 7208 section 4.6.4: at most 2)."},
		{name: "mxray_tls_certificate_expiry_timestamp_seconds", help: "When the leaf certificate presented by the mail server expires, in seconds since the Unix epoch."},
		{name: "mxray_smtp_reachable", help: "1 if a TCP connection to the mail server's port opened, 0 if not."},
	}
}

// WritePrometheus writes the reports (one or many domains) as one
// exposition in the Prometheus text format, each metric family once.
func WritePrometheus(w io.Writer, reps ...*Report) error {
	c := NewPrometheusCollector()
	for _, rep := range reps {
		c.Add(rep)
	}
	return c.Write(w)
}

// PrometheusCollector gathers the samples of reports as they come (mxray
// check --domains) and writes them as one exposition at the end: an
// exposition names each metric family once, so nothing can be written
// before the last report is in. It keeps the samples, not the reports.
type PrometheusCollector struct {
	fams   []*promFamily
	byName map[string]*promFamily
}

// NewPrometheusCollector returns an empty collector.
func NewPrometheusCollector() *PrometheusCollector {
	c := &PrometheusCollector{fams: promFamilies(), byName: map[string]*promFamily{}}
	for _, f := range c.fams {
		f.seen = map[string]bool{}
		c.byName[f.name] = f
	}
	return c
}

// Add takes the samples of one report; nil is ignored.
func (c *PrometheusCollector) Add(rep *Report) {
	if rep != nil {
		promReport(c.byName, rep)
	}
}

// Write writes the exposition of every report added.
func (c *PrometheusCollector) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, f := range c.fams {
		f.write(bw)
	}
	return bw.Flush()
}

// promReport adds the samples of one report.
func promReport(fam map[string]*promFamily, rep *Report) {
	d := promLabel{"domain", rep.Target}
	code := rep.ExitCode()
	fam["mxray_check_success"].add(boolValue(code == ExitOK || code == ExitWarning), d)
	fam["mxray_check_exit_code"].add(float64(code), d)
	fam["mxray_check_duration_seconds"].add(time.Duration(rep.Duration).Seconds(), d)
	fam["mxray_check_timestamp_seconds"].add(float64(rep.StartedAt.UnixNano())/1e9, d)
	promCounts(fam["mxray_findings"], d, rep)
	for _, f := range rep.Findings() {
		if f.Severity == OK || f.Severity == Info {
			continue
		}
		fam["mxray_finding"].add(1, d, promLabel{"id", f.ID}, promLabel{"severity", f.Severity.String()}, promLabel{"subject", f.Subject})
	}
	promMeasurements(fam, d, rep.Measurements())
}

// promCounts adds the findings per severity, every severity even when 0.
func promCounts(f *promFamily, d promLabel, rep *Report) {
	c := rep.Summary
	for _, s := range []struct {
		sev Severity
		n   int
	}{{OK, c.OK}, {Info, c.Info}, {Warning, c.Warning}, {Failure, c.Failure}, {Unknown, c.Unknown}} {
		f.add(float64(s.n), d, promLabel{"severity", s.sev.String()})
	}
}

func promMeasurements(fam map[string]*promFamily, d promLabel, m Measurements) {
	for _, l := range m.Listings {
		fam["mxray_dnsbl_listed"].add(boolValue(l.Listed), d, promLabel{"target", l.Target}, promLabel{"list", l.List})
	}
	if m.SPF != nil {
		fam["mxray_spf_dns_lookups"].add(float64(m.SPF.Lookups), d)
		fam["mxray_spf_void_dns_lookups"].add(float64(m.SPF.VoidLookups), d)
	}
	for _, c := range m.Certificates {
		fam["mxray_tls_certificate_expiry_timestamp_seconds"].add(float64(c.NotAfter.Unix()), d,
			promLabel{"host", c.Host}, promLabel{"address", c.Address}, promLabel{"port", strconv.Itoa(c.Port)})
	}
	for _, r := range m.SMTP {
		fam["mxray_smtp_reachable"].add(boolValue(r.Reachable), d,
			promLabel{"host", r.Host}, promLabel{"address", r.Address}, promLabel{"port", strconv.Itoa(r.Port)})
	}
}

// add appends a sample unless a sample with the same labels is already
// there (a series appears once in an exposition).
func (f *promFamily) add(v float64, labels ...promLabel) {
	key := promLabelText(labels)
	if f.seen[key] {
		return
	}
	f.seen[key] = true
	f.samples = append(f.samples, promSample{labels: labels, value: v})
}

// write writes the family's HELP and TYPE lines and its samples; a family
// without samples is left out.
func (f *promFamily) write(w *bufio.Writer) {
	if len(f.samples) == 0 {
		return
	}
	w.WriteString("# HELP " + f.name + " " + promEscapeHelp(f.help) + "\n")
	w.WriteString("# TYPE " + f.name + " gauge\n")
	for _, s := range f.samples {
		w.WriteString(f.name + promLabelText(s.labels) + " " + promValue(s.value) + "\n")
	}
}

// promLabelText is {name="value",...} with the values escaped, labels in
// name order; "" when there are none.
func promLabelText(labels []promLabel) string {
	if len(labels) == 0 {
		return ""
	}
	ls := append([]promLabel(nil), labels...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].name < ls[j].name })
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.name + `="` + promEscapeLabel(l.value) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

// promEscapeLabel escapes a label value: backslash, double quote and line
// feed, as the text format requires; invalid UTF-8 (from a remote server)
// becomes U+FFFD.
var promLabelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func promEscapeLabel(s string) string {
	return promLabelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// promEscapeHelp escapes HELP text: backslash and line feed.
var promHelpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func promEscapeHelp(s string) string { return promHelpEscaper.Replace(s) }

func promValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
