package mtasts

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck/httpsfetch"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// MaxAge is the largest max_age a policy may carry (RFC 8461 §3.2: one year).
const MaxAge = 31557600

// MaxPolicySize is the largest policy body mxray reads (RFC 8461 §3.3
// suggests senders limit the policy to 64 KiB).
const MaxPolicySize = 64 << 10

// Record is the parsed "_mta-sts" TXT record (RFC 8461 §3.1).
type Record struct {
	Raw        string                 `json:"raw"`
	Version    string                 `json:"version"` // always "STSv1"
	ID         string                 `json:"id"`      // 1-32 letters and digits; a new id tells senders to refetch the policy
	Extensions []dnscheck.RecordField `json:"extensions,omitempty"`
}

// ParseRecord parses one TXT record (its strings already joined)
// against the grammar of RFC 8461 §3.1:
//
//	sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
//	sts-version     = %s"v=STSv1"
//	sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
//	sts-extension   = sts-ext-name "=" sts-ext-value
//
// Whitespace around ";" is accepted (sts-field-delim = *WSP ";" *WSP).
func ParseRecord(txt string) (*Record, error) {
	rec := &Record{Raw: txt}
	fields, err := dnscheck.SplitRecord(txt, "v=STSv1", false)
	if err != nil {
		return nil, err
	}
	rec.Version = "STSv1"
	for _, fld := range fields {
		name, value := fld.Name, fld.Value
		switch name {
		case "id":
			if rec.ID != "" {
				return nil, fmt.Errorf("the field \"id\" appears twice")
			}
			if !isMTASTSID(value) {
				return nil, fmt.Errorf("id=%q must be 1 to 32 letters and digits", dnscheck.Truncate(value, 40))
			}
			rec.ID = value
		default:
			if !dnscheck.IsExtName(name) {
				return nil, fmt.Errorf("field name %q is not valid (letters, digits, '_', '-', '.'; at most 32)", dnscheck.Truncate(name, 40))
			}
			if !dnscheck.IsExtValue(value) {
				return nil, fmt.Errorf("the value of %q is empty or holds spaces, '=', ';' or control characters", name)
			}
			rec.Extensions = append(rec.Extensions, dnscheck.RecordField{Name: name, Value: value})
		}
	}
	if rec.ID == "" {
		return nil, fmt.Errorf("the required field \"id\" is missing")
	}
	return rec, nil
}

func isMTASTSID(s string) bool {
	if len(s) < 1 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !dnscheck.IsAlnum(s[i]) {
			return false
		}
	}
	return true
}

// SelectRecord applies RFC 8461 §3.1 to the TXT records at _mta-sts:
// records that do not begin with "v=STSv1" are discarded; if the number left
// is not one, senders assume there is no policy.
func SelectRecord(txts []string) (string, error) {
	var cand []string
	for _, t := range txts {
		if t == "v=STSv1" || strings.HasPrefix(t, "v=STSv1;") || strings.HasPrefix(t, "v=STSv1 ") || strings.HasPrefix(t, "v=STSv1\t") {
			cand = append(cand, t)
		}
	}
	switch len(cand) {
	case 0:
		return "", fmt.Errorf("none of the %d TXT record(s) begins with \"v=STSv1\"", len(txts))
	case 1:
		return cand[0], nil
	}
	return "", fmt.Errorf("%d TXT records begin with \"v=STSv1\"; there must be exactly one", len(cand))
}

// Policy is a parsed policy file (RFC 8461 §3.2).
type Policy struct {
	Version    string                 `json:"version"`
	Mode       string                 `json:"mode"` // enforce, testing or none
	MaxAge     int64                  `json:"max_age_seconds"`
	MX         []string               `json:"mx"` // patterns as written, lower case: "mx1.example.com", "*.example.net"
	Extensions []dnscheck.RecordField `json:"extensions,omitempty"`
	// Warnings are deviations from the grammar that senders tolerate
	// (blank lines, unknown fields).
	Warnings []string `json:"warnings,omitempty"`
	Raw      string   `json:"raw"`
}

// ParsePolicy parses a policy body. Lines end in LF or CRLF (RFC 8461
// §3.2 grammar, erratum 6253); each is "key:" *WSP value. version, mode and
// max_age are required and may appear once; "mx" may repeat and is required
// unless the mode is none; unknown keys are ignored (§3.2 "unknown fields
// MUST be ignored") but recorded.
func ParsePolicy(body string) (*Policy, error) {
	p := &Policy{Raw: body}
	seen := map[string]int{}
	lines := strings.Split(body, "\n")
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		n := i + 1
		if strings.TrimSpace(line) == "" {
			if i != len(lines)-1 { // the final terminator leaves an empty last element
				p.Warnings = append(p.Warnings, fmt.Sprintf("line %d is blank (the grammar has no blank lines; most senders skip it)", n))
			}
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d %q is not \"key: value\"", n, dnscheck.Truncate(line, 60))
		}
		if key != strings.TrimSpace(key) || key == "" {
			return nil, fmt.Errorf("line %d: the key %q has surrounding whitespace or is empty", n, dnscheck.Truncate(key, 40))
		}
		value = strings.Trim(value, " \t")
		seen[key]++
		if key != "mx" && seen[key] > 1 && (key == "version" || key == "mode" || key == "max_age") {
			return nil, fmt.Errorf("line %d: %q appears more than once", n, key)
		}
		switch key {
		case "version":
			if value != "STSv1" {
				return nil, fmt.Errorf("line %d: version must be \"STSv1\", got %q", n, dnscheck.Truncate(value, 40))
			}
			p.Version = value
		case "mode":
			switch value {
			case "enforce", "testing", "none":
				p.Mode = value
			default:
				return nil, fmt.Errorf("line %d: mode must be enforce, testing or none, got %q", n, dnscheck.Truncate(value, 40))
			}
		case "max_age":
			// sts-policy-max-age-value = 1*10(DIGIT), at most 31557600.
			if len(value) < 1 || len(value) > 10 || strings.Trim(value, "0123456789") != "" {
				return nil, fmt.Errorf("line %d: max_age must be 1 to 10 digits, got %q", n, dnscheck.Truncate(value, 40))
			}
			v, _ := strconv.ParseInt(value, 10, 64)
			if v > MaxAge {
				return nil, fmt.Errorf("line %d: max_age %d exceeds the maximum %d (one year)", n, v, MaxAge)
			}
			p.MaxAge = v
		case "mx":
			pat := strings.ToLower(value)
			if err := validMXPattern(pat); err != nil {
				return nil, fmt.Errorf("line %d: mx %q: %v", n, dnscheck.Truncate(value, 60), err)
			}
			p.MX = append(p.MX, pat)
		default:
			if !dnscheck.IsExtName(key) {
				return nil, fmt.Errorf("line %d: %q is not a valid field name", n, dnscheck.Truncate(key, 40))
			}
			p.Extensions = append(p.Extensions, dnscheck.RecordField{Name: key, Value: value})
			p.Warnings = append(p.Warnings, fmt.Sprintf("line %d: unknown field %q (ignored by senders)", n, key))
		}
	}
	switch {
	case p.Version == "":
		return nil, fmt.Errorf("the required field \"version: STSv1\" is missing")
	case p.Mode == "":
		return nil, fmt.Errorf("the required field \"mode\" is missing")
	case seen["max_age"] == 0:
		return nil, fmt.Errorf("the required field \"max_age\" is missing")
	case len(p.MX) == 0 && p.Mode != "none":
		return nil, fmt.Errorf("mode %s needs at least one \"mx:\" line", p.Mode)
	}
	return p, nil
}

// validMXPattern checks "host.example" or "*.example" (RFC 8461 §3.2:
// sts-policy-mx-value = ["*."] Domain; a wildcard only as the whole left-most label).
func validMXPattern(p string) error {
	name := strings.TrimPrefix(p, "*.")
	if name == "" || strings.HasSuffix(name, ".") && len(name) == 1 {
		return fmt.Errorf("empty host name")
	}
	if strings.ContainsAny(name, "* \t") {
		return fmt.Errorf("a wildcard may only be the whole left-most label (\"*.example.com\")")
	}
	if strings.HasSuffix(name, ".") {
		return fmt.Errorf("a trailing dot is not part of the grammar")
	}
	if _, ok := dns.IsDomainName(name); !ok || strings.Contains(name, "..") || strings.HasPrefix(name, ".") {
		return fmt.Errorf("not a domain name")
	}
	if _, ok := dns.IsDomainName(p); !ok {
		return fmt.Errorf("not a domain name")
	}
	return nil
}

// MatchMXPattern reports whether the MX host name matches a policy pattern
// (RFC 8461 §4.1): case-insensitively equal, or — for "*.suffix" — the host
// is exactly one label followed by ".suffix" ("*.example.com" matches
// "mx.example.com" but not "example.com" nor "a.b.example.com").
func MatchMXPattern(pattern, host string) bool {
	pattern = strings.TrimSuffix(strings.ToLower(pattern), ".")
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		label, rest, ok := strings.Cut(host, ".")
		return ok && label != "" && rest == suffix
	}
	return pattern == host
}

// Match returns the first pattern of the policy matching host, or "".
func (p *Policy) Match(host string) string {
	for _, pat := range p.MX {
		if MatchMXPattern(pat, host) {
			return pat
		}
	}
	return ""
}

// Match is one MX host of the domain against the policy.
type Match struct {
	Host    string `json:"host"`
	Pattern string `json:"pattern,omitempty"` // the matching pattern; empty when none matches
}

// Result is the MTA-STS state of a domain.
type Result struct {
	Domain    string             `json:"domain"`
	Records   []string           `json:"records"` // the TXT records at _mta-sts, as received
	Status    string             `json:"status"`  // the TXT lookup's status
	Record    *Record            `json:"record,omitempty"`
	RecordErr string             `json:"record_error,omitempty"`
	Fetch     *httpsfetch.Result `json:"fetch,omitempty"`
	Policy    *Policy            `json:"policy,omitempty"`
	PolicyErr string             `json:"policy_error,omitempty"`
	// MXChecked is true once MatchMX ran with the domain's MX hosts.
	MXChecked bool    `json:"-"`
	MX        []Match `json:"mx,omitempty"`

	TXT dnscheck.Answer `json:"-"`
	Now time.Time       `json:"-"` // for the policy id suggested in fixes
}

// Active reports whether senders would apply a policy: a valid record and a
// valid policy whose mode is not none.
func (m *Result) Active() bool {
	return m.Record != nil && m.Policy != nil && m.Policy.Mode != "none"
}

// PolicyURL is where the policy of domain lives (RFC 8461 §3.3).
func PolicyURL(domain string) string {
	return "https://mta-sts." + strings.TrimSuffix(domain, ".") + "/.well-known/mta-sts.txt"
}

// Check looks up the _mta-sts record and fetches the policy with
// client (see httpsfetch.NewClient). The policy is fetched even when the record is
// missing, so that a policy without its record (which senders never find) is
// reported. Call MatchMX with the domain's MX hosts before Findings.
func Check(ctx context.Context, r dnscheck.Resolver, client *http.Client, domain string) *Result {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	m := &Result{Domain: domain, Now: time.Now()}
	// The record lookup and the policy fetch are independent: run them side
	// by side so the check costs the longer of the two, not their sum.
	fetched := make(chan httpsfetch.Result, 1)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { fetched <- httpsfetch.Get(fctx, client, PolicyURL(domain), MaxPolicySize) }()

	m.TXT = r.Lookup(ctx, "_mta-sts."+domain, dns.TypeTXT)
	m.Status = m.TXT.Status.String()
	m.Records = dnscheck.TXTStrings(m.TXT)
	if m.TXT.Exists() {
		raw, err := SelectRecord(m.Records)
		if err == nil {
			m.Record, err = ParseRecord(raw)
		}
		if err != nil {
			m.RecordErr = err.Error()
		}
	}
	if m.TXT.Failed() {
		return m // nothing is known; the policy alone would not change that
	}
	f := <-fetched
	m.Fetch = &f
	if f.OK() {
		p, err := ParsePolicy(string(f.Body))
		if err != nil {
			m.PolicyErr = err.Error()
		} else {
			m.Policy = p
		}
	}
	return m
}

// MatchMX records, for every MX host of the domain, the policy pattern it
// matches (RFC 8461 §4.1).
func (m *Result) MatchMX(hosts []string) {
	m.MXChecked = true
	m.MX = nil
	for _, h := range hosts {
		mm := Match{Host: strings.TrimSuffix(strings.ToLower(h), ".")}
		if m.Policy != nil {
			mm.Pattern = m.Policy.Match(h)
		}
		m.MX = append(m.MX, mm)
	}
}

const (
	refSTSRecord = "RFC 8461 §3.1"
	refSTSPolicy = "RFC 8461 §3.2"
	refSTSFetch  = "RFC 8461 §3.3"
	refSTSMatch  = "RFC 8461 §4.1"
)

// policyID is a fresh policy id suggestion: the time, which is what most
// operators use and always changes when the policy does.
func (m *Result) policyID() string {
	now := m.Now
	if now.IsZero() {
		now = time.Now()
	}
	return now.UTC().Format("20060102T150405")
}

// suggestedPolicy is a policy file for the domain's actual MX hosts, keeping
// the published mode and max_age when there is a policy.
func (m *Result) suggestedPolicy(mode string) string {
	maxAge := int64(604800)
	if m.Policy != nil {
		if mode == "" {
			mode = m.Policy.Mode
		}
		if m.Policy.MaxAge >= 86400 {
			maxAge = m.Policy.MaxAge
		}
	}
	if mode == "" || mode == "none" {
		mode = "testing"
	}
	var b strings.Builder
	b.WriteString("version: STSv1\nmode: " + mode + "\n")
	pats := map[string]bool{}
	if m.Policy != nil {
		for _, p := range m.Policy.MX {
			pats[p] = true
		}
	}
	for _, h := range m.MX {
		if h.Pattern == "" {
			pats[h.Host] = true
		}
	}
	list := make([]string, 0, len(pats))
	for p := range pats {
		list = append(list, p)
	}
	sort.Strings(list)
	for _, p := range list {
		b.WriteString("mx: " + p + "\n")
	}
	fmt.Fprintf(&b, "max_age: %d\n", maxAge)
	return b.String()
}

func (m *Result) txtRecord() string {
	return fmt.Sprintf("_mta-sts.%s. IN TXT \"v=STSv1; id=%s\"", m.Domain, m.policyID())
}

// Findings judges the record, the policy fetch, the policy and the MX match.
func (m *Result) Findings() []report.Finding {
	subjectTXT := "_mta-sts." + m.Domain
	evTXT := append([]string{m.TXT.Describe()}, m.TXT.Strings()...)
	if m.TXT.Failed() {
		return []report.Finding{{ID: "mta-sts.lookup-failed", Severity: report.Unknown, Subject: subjectTXT,
			Summary:  "could not look up the MTA-STS record " + subjectTXT + ": " + m.Status,
			Evidence: evTXT,
			Cause:    "the resolver gave no definite answer; the record may well exist",
			Fix:      "retry; if it persists, check the nameservers of " + m.Domain + " (dig " + subjectTXT + " TXT)",
		}}
	}
	var fs []report.Finding
	url := PolicyURL(m.Domain)
	policyOK := m.Fetch != nil && m.Fetch.OK() && m.Policy != nil

	switch {
	case m.TXT.Missing() && !policyOK:
		return []report.Finding{{ID: "mta-sts.none", Severity: report.Info, Subject: m.Domain,
			Summary:  m.Domain + " publishes no MTA-STS policy",
			Evidence: append(evTXT, m.fetchEvidence()...),
			Cause:    "without MTA-STS (or DANE) a network attacker can strip STARTTLS or redirect mail to another host; senders deliver in clear text or to an unauthenticated server",
			Fix: "serve the policy at " + url + " (Content-Type text/plain, a certificate valid for mta-sts." + m.Domain +
				"), start with mode: testing and TLS-RPT reports, then switch to enforce:\n" + m.suggestedPolicy("testing"),
			Publish:    []string{m.txtRecord(), "mta-sts." + m.Domain + ". IN A <address of the HTTPS server holding the policy>"},
			References: []string{refSTSRecord, refSTSPolicy, refSTSFetch},
		}}
	case m.TXT.Missing():
		fs = append(fs, report.Finding{ID: "mta-sts.record-missing", Severity: report.Warning, Subject: subjectTXT,
			Summary:    "a policy is served at " + url + " but the TXT record " + subjectTXT + " is missing; senders never fetch the policy",
			Evidence:   append(evTXT, m.fetchEvidence()...),
			Cause:      "senders look for the TXT record first (RFC 8461 §3.1) and fetch the policy only when it exists",
			Fix:        "publish the record (change the id whenever the policy changes)",
			Publish:    []string{m.txtRecord()},
			References: []string{refSTSRecord}})
	case m.Record == nil:
		fs = append(fs, report.Finding{ID: "mta-sts.record-invalid", Severity: report.Failure, Subject: subjectTXT,
			Summary:    "the MTA-STS record is invalid: " + m.RecordErr,
			Evidence:   evTXT,
			Cause:      "with no single valid \"v=STSv1\" record, senders assume the domain has no MTA-STS policy (RFC 8461 §3.1)",
			Fix:        "publish exactly one record of the form below (and remove the others at " + subjectTXT + ")",
			Publish:    []string{m.txtRecord()},
			References: []string{refSTSRecord}})
		return append(fs, m.policyFindings(url, false)...)
	default:
		fs = append(fs, report.Finding{ID: "mta-sts.record", Severity: report.OK, Subject: subjectTXT,
			Summary: "MTA-STS record present, id " + m.Record.ID, Evidence: evTXT, References: []string{refSTSRecord}})
	}
	return append(fs, m.policyFindings(url, true)...)
}

func (m *Result) fetchEvidence() []string {
	if m.Fetch == nil {
		return nil
	}
	return m.Fetch.Evidence()
}

// policyFindings judges the fetch and the policy. announced is false when the
// record is invalid: a fetch failure then matters less (senders would not
// fetch anyway), but is still shown.
func (m *Result) policyFindings(url string, announced bool) []report.Finding {
	var fs []report.Finding
	f := m.Fetch
	if f == nil {
		return nil
	}
	if !f.OK() {
		sev := report.Failure
		cause := "senders that find the record cannot fetch the policy; with no previously cached policy they deliver without MTA-STS protection, and a cached enforce policy cannot be refreshed (RFC 8461 §3.3, §5.1)"
		switch {
		case f.Kind == httpsfetch.Timeout || f.Kind == httpsfetch.DNSUnknown || f.Kind == httpsfetch.Network:
			sev = report.Unknown
			cause = "mxray could not reach the policy server; this may be the path from here rather than the server"
		case !announced:
			sev = report.Warning
		}
		fs = append(fs, report.Finding{ID: "mta-sts.policy-fetch-failed", Severity: sev, Subject: url,
			Summary:    "the MTA-STS policy could not be fetched: " + f.Problem(),
			Evidence:   f.Evidence(),
			Cause:      cause,
			Fix:        f.FixHint("mta-sts." + m.Domain),
			References: []string{refSTSFetch}})
		return fs
	}
	if !f.ContentTypeIs("text/plain") {
		fs = append(fs, report.Finding{ID: "mta-sts.policy-content-type", Severity: report.Warning, Subject: url,
			Summary:    fmt.Sprintf("the policy is served as %q, not text/plain", f.ContentType),
			Evidence:   f.Evidence(),
			Cause:      "RFC 8461 §3.3 requires the media type text/plain; strict senders reject the policy",
			Fix:        "serve /.well-known/mta-sts.txt with Content-Type: text/plain",
			References: []string{refSTSFetch}})
	}
	if m.Policy == nil {
		fs = append(fs, report.Finding{ID: "mta-sts.policy-invalid", Severity: report.Failure, Subject: url,
			Summary:    "the MTA-STS policy is invalid: " + m.PolicyErr,
			Evidence:   append(f.Evidence(), stsSplitLines(string(f.Body), 20)...),
			Cause:      "senders discard a policy they cannot parse and deliver without MTA-STS",
			Fix:        "serve a policy of this form (one mx line per MX host or wildcard):\n" + m.suggestedPolicy(""),
			References: []string{refSTSPolicy}})
		return fs
	}
	p := m.Policy
	ev := stsSplitLines(p.Raw, 40)
	fs = append(fs, report.Finding{ID: "mta-sts.policy", Severity: report.OK, Subject: url,
		Summary:    fmt.Sprintf("policy mode %s, %d mx pattern(s), max_age %d s (%s)", p.Mode, len(p.MX), p.MaxAge, stsHumanDuration(p.MaxAge)),
		Evidence:   ev,
		References: []string{refSTSPolicy}})
	for _, w := range p.Warnings {
		fs = append(fs, report.Finding{ID: "mta-sts.policy-lint", Severity: report.Info, Subject: url, Summary: w,
			References: []string{refSTSPolicy}})
	}
	switch p.Mode {
	case "testing":
		fs = append(fs, report.Finding{ID: "mta-sts.mode-testing", Severity: report.Info, Subject: url,
			Summary: "the policy is in testing mode: senders report failures (TLS-RPT) but still deliver",
			Fix:     "once TLS-RPT reports show no failures, change to \"mode: enforce\" and publish a new id",
			Publish: []string{m.txtRecord()}, References: []string{refSTSPolicy}})
	case "none":
		fs = append(fs, report.Finding{ID: "mta-sts.mode-none", Severity: report.Info, Subject: url,
			Summary:    "the policy is in mode none: MTA-STS is switched off (senders drop cached policies)",
			References: []string{refSTSPolicy, "RFC 8461 §8.3"}})
	}
	if p.MaxAge < 86400 && p.Mode != "none" {
		// Info: RFC 8461 §3.2 only "expects" weeks; a short max_age weakens
		// the policy at refresh time, it does not stop mail.
		fs = append(fs, report.Finding{ID: "mta-sts.max-age-short", Severity: report.Info, Subject: url,
			Summary:    fmt.Sprintf("max_age is %d s (%s); senders re-fetch so often that an attacker at refresh time can strip the policy", p.MaxAge, stsHumanDuration(p.MaxAge)),
			Cause:      "RFC 8461 §3.2 expects max_age in the range of weeks or more",
			Fix:        "set max_age: 604800 (one week) or more, and publish a new id",
			References: []string{refSTSPolicy}})
	}
	if !m.MXChecked || p.Mode == "none" {
		return fs
	}
	var missing []string
	for _, h := range m.MX {
		if h.Pattern != "" {
			fs = append(fs, report.Finding{ID: "mta-sts.mx-match", Severity: report.OK, Subject: h.Host,
				Summary: h.Host + " matches the policy pattern " + h.Pattern, References: []string{refSTSMatch}})
			continue
		}
		missing = append(missing, h.Host)
	}
	for _, h := range missing {
		sev, effect := report.Warning, "in testing mode senders only report it; once in enforce mode they will refuse to deliver to it"
		if p.Mode == "enforce" {
			sev, effect = report.Failure, "in enforce mode, senders that apply MTA-STS refuse to deliver to this host"
		}
		fs = append(fs, report.Finding{ID: "mta-sts.mx-mismatch", Severity: sev, Subject: h,
			Summary:    "the MX host " + h + " matches no mx pattern of the MTA-STS policy",
			Evidence:   append([]string{"policy mx patterns: " + strings.Join(p.MX, ", ")}, ev...),
			Cause:      effect + " (RFC 8461 §4.1); if every MX misses, mail to the domain stops",
			Fix:        "add the host to the policy, serve it at " + url + ", and publish a new id so senders refetch it:\n" + m.suggestedPolicy(""),
			Publish:    []string{m.txtRecord()},
			References: []string{refSTSMatch, refSTSPolicy}})
	}
	return fs
}

func stsSplitLines(s string, max int) []string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > max {
		lines = append(lines[:max:max], fmt.Sprintf("... (%d more lines)", len(lines)-max))
	}
	for i, l := range lines {
		lines[i] = dnscheck.Truncate(l, 200)
	}
	return lines
}

func stsHumanDuration(sec int64) string {
	switch {
	case sec >= 86400 && sec%86400 == 0:
		return fmt.Sprintf("%d days", sec/86400)
	case sec >= 86400:
		return fmt.Sprintf("%.1f days", float64(sec)/86400)
	case sec >= 3600:
		return fmt.Sprintf("%.1f hours", float64(sec)/3600)
	}
	return fmt.Sprintf("%d seconds", sec)
}

// DetailLines shows the record, the policy and the MX match in the text report.
func (m *Result) DetailLines() []string {
	var out []string
	if m.Record != nil {
		out = append(out, "record: "+m.Record.Raw)
	}
	if p := m.Policy; p != nil {
		out = append(out, fmt.Sprintf("policy: mode %s, max_age %d, mx %s", p.Mode, p.MaxAge, strings.Join(p.MX, ", ")))
	}
	if m.Policy != nil && m.MXChecked {
		for _, h := range m.MX {
			match := "matches no pattern"
			if h.Pattern != "" {
				match = "matches " + h.Pattern
			}
			out = append(out, "  "+h.Host+" "+match)
		}
	}
	return out
}
