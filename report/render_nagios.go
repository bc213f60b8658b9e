package report

// The Nagios / Icinga plugin output, after the Monitoring Plugins
// development guidelines (monitoring-plugins.org/doc/guidelines.html):
//
//	MXRAY CHECK WARNING - example.com: 1 warning: dkim.rsa-1024 (google) | 'findings_ok'=35;;;0 ...
//	[warning] dkim.rsa-1024 google: the RSA key of selector google has 1024 bits ...
//
// The first line is the service output and the performance data; the
// lines after it are the long output. The state comes from the exit code
// (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); the word only repeats it.

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Nagios states, in the exit codes the guidelines assign them.
const (
	NagiosOK       = 0
	NagiosWarning  = 1
	NagiosCritical = 2
	NagiosUnknown  = 3
)

var nagiosStateNames = [...]string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// NagiosOptions tune the Nagios output.
type NagiosOptions struct {
	// CertWarn and CertCrit are the -w/-c thresholds on the days until the
	// earliest TLS certificate expires (e.g. "21:" warns below 21 days).
	// nil: no threshold of its own; the findings alone decide.
	CertWarn, CertCrit *Range
	// Now is when the days are counted from; zero: when the report started
	// (the time the certificates were seen).
	Now time.Time
}

// nagiosTextMax bounds the first line's text before the perfdata; the
// guidelines name about 80 characters as the traditional limit.
const nagiosTextMax = 80

// WriteNagios writes the plugin output for the report and returns the
// plugin's exit code: the report's own state (ExitCode), made worse by a
// certificate-days threshold that alerts.
func WriteNagios(w io.Writer, rep *Report, opt NagiosOptions) (exitCode int, err error) {
	m := rep.Measurements()
	certState, certNote := opt.certState(rep, m)
	state := worseNagios(rep.ExitCode(), certState)
	bw := bufio.NewWriter(w)
	text := nagiosHeadline(rep, state, certState, certNote)
	fmt.Fprintf(bw, "MXRAY %s %s - %s | %s\n", strings.ToUpper(nagiosClean(rep.Command)), nagiosStateNames[state],
		text, strings.Join(nagiosPerfdata(rep, m, opt), " "))
	if certNote != "" {
		c, _ := m.EarliestCertificate()
		fmt.Fprintf(bw, "[threshold] %s (address %s, not after %s)\n", nagiosClean(certNote), nagiosClean(c.Address), c.NotAfter.UTC().Format(time.RFC3339))
	}
	for _, l := range nagiosLongOutput(rep) {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return state, bw.Flush()
}

// worseNagios combines two states in mxray's order of severity: critical
// (a failure) outranks unknown (could not check), which outranks warning.
func worseNagios(a, b int) int {
	rank := map[int]int{NagiosOK: 0, NagiosWarning: 1, NagiosUnknown: 2, NagiosCritical: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// certDays is the days until the earliest certificate expires.
func (o NagiosOptions) certDays(rep *Report, m Measurements) (CertificateExpiry, float64, bool) {
	c, ok := m.EarliestCertificate()
	if !ok {
		return c, 0, false
	}
	now := o.Now
	if now.IsZero() {
		now = rep.StartedAt
	}
	return c, c.NotAfter.Sub(now).Hours() / 24, true
}

// certState is the state the -w/-c thresholds give the certificate days,
// and a few words for the headline when they alert.
func (o NagiosOptions) certState(rep *Report, m Measurements) (int, string) {
	c, days, ok := o.certDays(rep, m)
	if !ok {
		return NagiosOK, ""
	}
	note := fmt.Sprintf("certificate of %s:%d expires in %.0f days", c.Host, c.Port, math.Floor(days))
	switch {
	case o.CertCrit != nil && o.CertCrit.Alert(days):
		return NagiosCritical, note
	case o.CertWarn != nil && o.CertWarn.Alert(days):
		return NagiosWarning, note
	}
	return NagiosOK, ""
}

// nagiosHeadline is the text of the first line: the target and the worst
// findings in a few words.
func nagiosHeadline(rep *Report, state, certState int, certNote string) string {
	target := nagiosClean(rep.Target)
	if certState == state && certState != NagiosOK {
		return clip(target+": "+certNote, nagiosTextMax)
	}
	worstSev := worst(rep.Findings())
	if worstSev == OK || worstSev == Info {
		c := rep.Summary
		return clip(fmt.Sprintf("%s: %d ok, %d info, no warnings", target, c.OK, c.Info), nagiosTextMax)
	}
	var items []string
	for _, f := range rep.Findings() {
		if f.Severity == worstSev {
			items = append(items, nagiosItem(f))
		}
	}
	head := fmt.Sprintf("%s: %d %s: ", target, len(items), plural(len(items), worstSev.String()))
	return clip(head+joinWithin(items, nagiosTextMax-utf8.RuneCountInString(head)), nagiosTextMax)
}

// nagiosItem names a finding in a few words: its id and subject.
func nagiosItem(f Finding) string {
	if f.Subject == "" {
		return f.ID
	}
	return f.ID + " (" + nagiosClean(f.Subject) + ")"
}

// joinWithin joins items with ", " within max characters, ending in
// "+N more" for those that do not fit; the first item is clipped when even
// it alone does not fit.
func joinWithin(items []string, max int) string {
	for n := len(items); n >= 1; n-- {
		more := ""
		if rest := len(items) - n; rest > 0 {
			more = fmt.Sprintf(", +%d more", rest)
		}
		s := strings.Join(items[:n], ", ") + more
		if utf8.RuneCountInString(s) <= max {
			return s
		}
		if n == 1 && max-utf8.RuneCountInString(more) >= 8 {
			return clip(items[0], max-utf8.RuneCountInString(more)) + more
		}
	}
	return clip(strings.Join(items, ", "), max)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if word == "unknown" {
		return "unknowns"
	}
	return word + "s"
}

// nagiosPerfdata is the performance data: counts per severity, the run
// time, and the measurements of the sections that ran.
func nagiosPerfdata(rep *Report, m Measurements, opt NagiosOptions) []string {
	c := rep.Summary
	perf := []string{
		perfItem("findings_ok", fmt.Sprint(c.OK), "", "", "", "0"),
		perfItem("findings_info", fmt.Sprint(c.Info), "", "", "", "0"),
		perfItem("findings_warning", fmt.Sprint(c.Warning), "", "", "", "0"),
		perfItem("findings_failure", fmt.Sprint(c.Failure), "", "", "", "0"),
		perfItem("findings_unknown", fmt.Sprint(c.Unknown), "", "", "", "0"),
		perfItem("duration", perfNumber(math.Round(time.Duration(rep.Duration).Seconds()*1000)/1000), "s", "", "", "0"),
	}
	ran := sectionsRan(rep)
	if ran["spf"] {
		v := "U"
		if m.SPF != nil {
			v = fmt.Sprint(m.SPF.Lookups)
		}
		// RFC 7208 §4.6.4: more than 10 is a permerror; mxray warns from 9.
		perf = append(perf, perfItem("spf_lookups", v, "", "8", "10", "0"))
	}
	if ran["dnsbl"] {
		// Zero listings is a measurement only when the lists answered: with
		// no definite answer, or a list or target unknown and nothing
		// listed, the value is U (not determined).
		v := fmt.Sprint(m.ListedCount())
		if m.ListedCount() == 0 && (len(m.Listings) == 0 || sectionUnknown(rep, "dnsbl")) {
			v = "U"
		}
		perf = append(perf, perfItem("dnsbl_listed", v, "", "", "", "0"))
	}
	if ran["smtp"] || ran["submission"] {
		perf = append(perf, certPerf(rep, m, opt))
		up, down := reachCounts(m)
		perf = append(perf, perfItem("smtp_reachable", fmt.Sprint(up), "", "", "", "0"),
			perfItem("smtp_unreachable", fmt.Sprint(down), "", "", "", "0"))
	}
	return perf
}

// sectionUnknown: the section has a finding that could not be observed.
func sectionUnknown(rep *Report, id string) bool {
	for _, sec := range rep.Sections {
		if sec.ID != id {
			continue
		}
		for _, f := range sec.Findings {
			if f.Severity == Unknown {
				return true
			}
		}
	}
	return false
}

// certPerf is the days until the earliest certificate expires, with the
// -w/-c thresholds; U when no certificate was seen.
func certPerf(rep *Report, m Measurements, opt NagiosOptions) string {
	warn, crit := "", ""
	if opt.CertWarn != nil {
		warn = opt.CertWarn.String()
	}
	if opt.CertCrit != nil {
		crit = opt.CertCrit.String()
	}
	v := "U"
	if _, days, ok := opt.certDays(rep, m); ok {
		v = perfNumber(math.Round(days*100) / 100)
	}
	return perfItem("cert_days", v, "", warn, crit, "")
}

func reachCounts(m Measurements) (up, down int) {
	for _, r := range m.SMTP {
		if r.Reachable {
			up++
		} else {
			down++
		}
	}
	return up, down
}

func sectionsRan(rep *Report) map[string]bool {
	ran := map[string]bool{}
	for _, s := range rep.Sections {
		ran[s.ID] = true
	}
	return ran
}

// perfItem formats 'label'=value[UOM];[warn];[crit];[min];[max], dropping
// trailing empty fields as the guidelines allow.
func perfItem(label, value, uom, warn, crit, min string) string {
	fields := []string{value + uom, warn, crit, min}
	for len(fields) > 1 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return "'" + label + "'=" + strings.Join(fields, ";")
}

// perfNumber writes a number without exponent, as perfdata parsers expect.
func perfNumber(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// nagiosLongOutput lists every finding that is not ok or info, one a line.
func nagiosLongOutput(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings() {
		if f.Severity == OK || f.Severity == Info {
			continue
		}
		subj := ""
		if f.Subject != "" {
			subj = " " + f.Subject
		}
		out = append(out, nagiosClean(fmt.Sprintf("[%s] %s%s: %s", f.Severity, f.ID, subj, f.Summary)))
	}
	if len(out) == 0 {
		out = append(out, "no warnings, failures or unknowns")
	}
	return out
}

// nagiosClean keeps remote text from breaking the plugin output: "|"
// would start the perfdata, line breaks and control characters would start
// new lines or drive a terminal.
func nagiosClean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '|':
			return '/'
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
}

// clip shortens s to at most n characters (runes), ending in "…".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
