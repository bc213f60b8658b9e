package tlsrpt

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// Record is a parsed _smtp._tls record.
type Record struct {
	Raw        string                 `json:"raw"`
	RUA        []URI                  `json:"rua"`
	Extensions []dnscheck.RecordField `json:"extensions,omitempty"`
}

// URI is one reporting destination.
type URI struct {
	Raw    string `json:"raw"`
	Scheme string `json:"scheme"` // mailto or https
	// Target is the mailbox of a mailto: URI or the host of an https: URI.
	Target string `json:"target"`
	Error  string `json:"error,omitempty"` // why the URI is unusable
}

// Parse parses one record (RFC 8460 §3):
//
//	tlsrpt-record  = tlsrpt-version 1*(field-delim tlsrpt-field) [field-delim]
//	field-delim    = *WSP ";" *WSP
//	tlsrpt-version = %s"v=TLSRPTv1"
//	tlsrpt-rua     = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
//
// A URI that is neither mailto: nor https:, or is malformed, is kept with
// its Error set; the record is an error only when no URI is usable.
func Parse(txt string) (*Record, error) {
	rec := &Record{Raw: txt}
	fields, err := dnscheck.SplitRecord(txt, "v=TLSRPTv1", false)
	if err != nil {
		return nil, err
	}
	seenRUA := false
	for _, fld := range fields {
		name, value := fld.Name, fld.Value
		switch name {
		case "rua":
			if seenRUA {
				return nil, fmt.Errorf("the field \"rua\" appears twice")
			}
			seenRUA = true
			for _, u := range strings.Split(value, ",") {
				rec.RUA = append(rec.RUA, parseURI(strings.Trim(u, " \t")))
			}
		default:
			if !dnscheck.IsExtName(name) || !dnscheck.IsExtValue(value) {
				return nil, fmt.Errorf("field %q is not a valid extension (name=value, no spaces)", dnscheck.Truncate(name+"="+value, 40))
			}
			rec.Extensions = append(rec.Extensions, dnscheck.RecordField{Name: name, Value: value})
		}
	}
	if !seenRUA {
		return nil, fmt.Errorf("the required field \"rua\" is missing")
	}
	if len(rec.UsableRUA()) == 0 {
		return rec, fmt.Errorf("no usable rua URI (want mailto:ADDRESS or https://HOST/PATH)")
	}
	return rec, nil
}

func parseURI(s string) URI {
	u := URI{Raw: s}
	if s == "" {
		u.Error = "empty URI"
		return u
	}
	pu, err := url.Parse(s)
	if err != nil {
		u.Error = err.Error()
		return u
	}
	u.Scheme = strings.ToLower(pu.Scheme)
	switch u.Scheme {
	case "mailto":
		addr, err := url.PathUnescape(pu.Opaque)
		if err != nil || addr == "" {
			u.Error = "mailto: without an address"
			return u
		}
		a, err := mail.ParseAddress(addr)
		if err != nil || !strings.Contains(a.Address, "@") {
			u.Error = fmt.Sprintf("%q is not a mail address", addr)
			return u
		}
		u.Target = a.Address
	case "https":
		if pu.Host == "" {
			u.Error = "https: URI without a host"
			return u
		}
		u.Target = pu.Host
	case "":
		u.Error = "no scheme (want mailto: or https:)"
	default:
		u.Error = fmt.Sprintf("scheme %q is not allowed (RFC 8460 §3: mailto or https)", pu.Scheme)
	}
	return u
}

// UsableRUA returns the URIs without errors.
func (r *Record) UsableRUA() []URI {
	var out []URI
	for _, u := range r.RUA {
		if u.Error == "" {
			out = append(out, u)
		}
	}
	return out
}

// Result is the TLS-RPT state of a domain.
type Result struct {
	Domain  string   `json:"domain"`
	Status  string   `json:"status"`
	Records []string `json:"records"`
	Record  *Record  `json:"record,omitempty"`
	Error   string   `json:"error,omitempty"`
	// UsesTLSPolicy is set by the caller when the domain has MTA-STS or
	// DANE: TLS-RPT then matters more.
	UsesTLSPolicy string `json:"-"`
	// noCandidate: TXT records exist, but none is a TLS-RPT record.
	noCandidate bool

	TXT dnscheck.Answer `json:"-"`
}

// Lookup fetches and parses the _smtp._tls record of domain.
func Lookup(ctx context.Context, r dnscheck.Resolver, domain string) *Result {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	t := &Result{Domain: domain}
	t.TXT = r.Lookup(ctx, "_smtp._tls."+domain, dns.TypeTXT)
	t.Status = t.TXT.Status.String()
	t.Records = dnscheck.TXTStrings(t.TXT)
	if !t.TXT.Exists() {
		return t
	}
	var cand []string
	for _, s := range t.Records {
		if s == "v=TLSRPTv1" || strings.HasPrefix(s, "v=TLSRPTv1;") || strings.HasPrefix(s, "v=TLSRPTv1 ") || strings.HasPrefix(s, "v=TLSRPTv1\t") {
			cand = append(cand, s)
		}
	}
	switch len(cand) {
	case 0:
		t.Error = fmt.Sprintf("none of the %d TXT record(s) begins with \"v=TLSRPTv1\"", len(t.Records))
		t.noCandidate = true
	case 1:
		rec, err := Parse(cand[0])
		t.Record = rec
		if err != nil {
			t.Error = err.Error()
		}
	default:
		t.Error = fmt.Sprintf("%d TXT records begin with \"v=TLSRPTv1\"; senders ignore them all (RFC 8460 §3)", len(cand))
	}
	return t
}

func (t *Result) publish() string {
	return fmt.Sprintf("_smtp._tls.%s. IN TXT \"v=TLSRPTv1; rua=mailto:tls-reports@%s\"", t.Domain, t.Domain)
}

// Findings judges the record.
func (t *Result) Findings() []report.Finding {
	name := "_smtp._tls." + t.Domain
	ev := append([]string{t.TXT.Describe()}, t.TXT.Strings()...)
	refs := []string{"RFC 8460 §3"}
	switch {
	case t.TXT.Failed():
		return []report.Finding{{ID: "tls-rpt.lookup-failed", Severity: report.Unknown, Subject: name,
			Summary: "could not look up the TLS-RPT record " + name + ": " + t.Status, Evidence: ev,
			Cause: "the resolver gave no definite answer; the record may well exist",
			Fix:   "retry; if it persists, check the nameservers of " + t.Domain}}
	case t.TXT.Missing() || t.noCandidate:
		sev, why := report.Info, "senders that meet TLS problems (expired certificate, failed STARTTLS) have nowhere to report them"
		if t.UsesTLSPolicy != "" {
			sev = report.Warning
			why = "the domain uses " + t.UsesTLSPolicy + ", so a certificate or policy mistake makes senders hold or bounce mail; without TLS-RPT nobody tells you"
		}
		return []report.Finding{{ID: "tls-rpt.none", Severity: sev, Subject: name,
			Summary: t.Domain + " publishes no TLS-RPT record", Evidence: ev, Cause: why,
			Fix:     "publish a TLS-RPT record with a mailbox (or HTTPS endpoint) that receives the daily JSON reports",
			Publish: []string{t.publish()}, References: refs}}
	case t.Record == nil:
		return []report.Finding{{ID: "tls-rpt.invalid", Severity: report.Failure, Subject: name,
			Summary: "the TLS-RPT record is invalid: " + t.Error, Evidence: ev,
			Cause:   "senders ignore an invalid record (or several records) and send no reports",
			Fix:     "publish exactly one record of this form",
			Publish: []string{t.publish()}, References: refs}}
	}
	var fs []report.Finding
	var bad []string
	for _, u := range t.Record.RUA {
		if u.Error != "" {
			bad = append(bad, u.Raw+": "+u.Error)
		}
	}
	if len(t.Record.UsableRUA()) == 0 {
		return []report.Finding{{ID: "tls-rpt.invalid", Severity: report.Failure, Subject: name,
			Summary: "the TLS-RPT record has no usable rua destination", Evidence: append(ev, bad...),
			Cause:   "every rua URI is malformed or uses a scheme other than mailto: or https:; no report can be delivered",
			Fix:     "use mailto: or https: URIs (encode a comma inside a URI as %2C)",
			Publish: []string{t.publish()}, References: refs}}
	}
	if len(bad) > 0 {
		fs = append(fs, report.Finding{ID: "tls-rpt.bad-uri", Severity: report.Warning, Subject: name,
			Summary: fmt.Sprintf("%d rua URI(s) of the TLS-RPT record are unusable", len(bad)), Evidence: append(ev, bad...),
			Cause: "senders skip these destinations", Fix: "fix or remove them (mailto:ADDRESS or https://HOST/PATH)", References: refs})
	}
	var dests []string
	for _, u := range t.Record.UsableRUA() {
		dests = append(dests, u.Raw)
	}
	fs = append(fs, report.Finding{ID: "tls-rpt.ok", Severity: report.OK, Subject: name,
		Summary: "TLS reports go to " + strings.Join(dests, ", "), Evidence: ev, References: refs})
	return fs
}
