package bimi

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mxray/mxray/dnscheck/httpsfetch"

	"github.com/mxray/mxray/dnscheck/dmarc"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

const (
	// MaxLogoSize is how much of a logo mxray reads; the BIMI Group
	// recommends logos of at most 32 KB (RecommendedLogoSize).
	MaxLogoSize         = 512 << 10
	RecommendedLogoSize = 32 << 10
	MaxEvidenceSize     = 256 << 10
	refBIMI             = "draft-brand-indicators-for-message-identification §4"
)

// Record is a parsed BIMI assertion record.
type Record struct {
	Raw        string                 `json:"raw"`
	Logo       string                 `json:"l"`
	Authority  string                 `json:"a"`
	Extensions []dnscheck.RecordField `json:"extensions,omitempty"`
}

// Declined reports a declination to publish (empty l= and a=).
func (b *Record) Declined() bool { return b.Logo == "" && b.Authority == "" }

// Parse parses a record: "v=BIMI1" first, then tag=value pairs
// separated by ";". l= and a= must be https: URLs when not empty.
func Parse(txt string) (*Record, error) {
	rec := &Record{Raw: txt}
	fields, err := dnscheck.SplitRecord(txt, "v=BIMI1", true)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, fld := range fields {
		name, value := fld.Name, fld.Value
		if seen[name] {
			return nil, fmt.Errorf("the tag %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "l":
			rec.Logo = value
		case "a":
			rec.Authority = value
		default:
			rec.Extensions = append(rec.Extensions, dnscheck.RecordField{Name: name, Value: value})
		}
	}
	for _, u := range []struct{ tag, v string }{{"l", rec.Logo}, {"a", rec.Authority}} {
		if u.v == "" {
			continue
		}
		pu, err := url.Parse(u.v)
		if err != nil || pu.Scheme != "https" || pu.Host == "" {
			return rec, fmt.Errorf("%s=%q is not an https:// URL", u.tag, dnscheck.Truncate(u.v, 80))
		}
	}
	return rec, nil
}

// Result is the BIMI state of a domain.
type Result struct {
	Domain    string             `json:"domain"`
	Status    string             `json:"status"`
	Records   []string           `json:"records"`
	Record    *Record            `json:"record,omitempty"`
	Error     string             `json:"error,omitempty"`
	Logo      *httpsfetch.Result `json:"logo,omitempty"`
	Authority *httpsfetch.Result `json:"authority,omitempty"`
	// AuthorityNotAfter is the expiry of the evidence certificate, when parsed.
	AuthorityNotAfter time.Time `json:"authority_not_after,omitzero"`
	AuthorityErr      string    `json:"authority_error,omitempty"`
	// DMARCPolicy is the effective policy of the domain's DMARC record
	// ("" when none), read with the DMARC parser (see lookupDMARCPolicy).
	DMARCPolicy string          `json:"dmarc_policy,omitempty"`
	DMARC       dnscheck.Answer `json:"-"`
	TXT         dnscheck.Answer `json:"-"`
	now         time.Time
}

// Check looks up default._bimi.DOMAIN, fetches the logo and the
// evidence with client, and reads the DMARC policy.
func Check(ctx context.Context, r dnscheck.Resolver, client *http.Client, domain string, now time.Time) *Result {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	b := &Result{Domain: domain, now: now}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.DMARC, b.DMARCPolicy = lookupDMARCPolicy(ctx, r, domain)
	}()
	defer wg.Wait()
	b.TXT = r.Lookup(ctx, "default._bimi."+domain, dns.TypeTXT)
	b.Status = b.TXT.Status.String()
	b.Records = dnscheck.TXTStrings(b.TXT)
	if !b.TXT.Exists() {
		return b
	}
	var cand []string
	for _, s := range b.Records {
		if strings.HasPrefix(strings.TrimLeft(s, " \t"), "v=BIMI1") {
			cand = append(cand, s)
		}
	}
	switch len(cand) {
	case 0:
		b.Error = fmt.Sprintf("none of the %d TXT record(s) begins with \"v=BIMI1\"", len(b.Records))
		return b
	case 1:
	default:
		b.Error = fmt.Sprintf("%d records begin with \"v=BIMI1\"; receivers ignore them all", len(cand))
		return b
	}
	rec, err := Parse(cand[0])
	b.Record = rec
	if err != nil {
		b.Error = err.Error()
		return b
	}
	if rec.Logo != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := httpsfetch.Get(ctx, client, rec.Logo, MaxLogoSize)
			b.Logo = &f
		}()
	}
	if rec.Authority != "" {
		f := httpsfetch.Get(ctx, client, rec.Authority, MaxEvidenceSize)
		b.Authority = &f
		if f.OK() {
			b.AuthorityNotAfter, b.AuthorityErr = pemLeafNotAfter(f.Body)
		}
	}
	return b
}

// lookupDMARCPolicy reads the domain's own DMARC record with the DMARC
// parser and returns its effective policy ("" when there is none or the
// record is invalid), for the BIMI requirement of DMARC at enforcement.
func lookupDMARCPolicy(ctx context.Context, r dnscheck.Resolver, domain string) (dnscheck.Answer, string) {
	l := dmarc.LookupAt(ctx, r, domain)
	if l.Record == nil {
		return l.Answer, ""
	}
	return l.Answer, l.Record.EffectivePolicy()
}

func pemLeafNotAfter(body []byte) (time.Time, string) {
	for rest := body; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return time.Time{}, "no PEM CERTIFICATE block in the evidence document"
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return time.Time{}, "the first certificate does not parse: " + err.Error()
		}
		return c.NotAfter, ""
	}
}

func (b *Result) publish() string {
	return fmt.Sprintf("default._bimi.%s. IN TXT \"v=BIMI1; l=https://%s/bimi/logo.svg; a=https://%s/bimi/vmc.pem\"", b.Domain, b.Domain, b.Domain)
}

// Findings judges the record, the logo, the evidence and the DMARC policy.
func (b *Result) Findings() []report.Finding {
	name := "default._bimi." + b.Domain
	ev := append([]string{b.TXT.Describe()}, b.TXT.Strings()...)
	refs := []string{refBIMI}
	switch {
	case b.TXT.Failed():
		return []report.Finding{{ID: "bimi.lookup-failed", Severity: report.Unknown, Subject: name,
			Summary: "could not look up the BIMI record " + name + ": " + b.Status, Evidence: ev,
			Cause: "the resolver gave no definite answer; the record may well exist",
			Fix:   "retry; if it persists, check the nameservers of " + b.Domain}}
	case b.TXT.Missing() || (b.Record == nil && b.Error != "" && len(b.Records) > 0 && !bimiAnyPrefix(b.Records, "v=BIMI1")):
		return []report.Finding{{ID: "bimi.none", Severity: report.Info, Subject: name,
			Summary: b.Domain + " publishes no BIMI record (no brand logo in supporting mailboxes)", Evidence: ev,
			Fix: "optional: with DMARC at p=quarantine or p=reject, publish an SVG Tiny PS logo over HTTPS and the record below " +
				"(Gmail and Apple Mail also require a VMC or CMC certificate at a=)",
			Publish: []string{b.publish()}, References: refs}}
	case b.Record == nil || b.Error != "":
		return []report.Finding{{ID: "bimi.invalid", Severity: report.Failure, Subject: name,
			Summary: "the BIMI record is invalid: " + b.Error, Evidence: ev,
			Cause:   "receivers ignore an invalid record and show no logo",
			Fix:     "publish exactly one record of this form (https:// URLs)",
			Publish: []string{b.publish()}, References: refs}}
	}
	var fs []report.Finding
	if b.Record.Declined() {
		return []report.Finding{{ID: "bimi.declined", Severity: report.Info, Subject: name,
			Summary: "the BIMI record declines to publish a logo (empty l= and a=)", Evidence: ev, References: refs}}
	}
	fs = append(fs, report.Finding{ID: "bimi.record", Severity: report.OK, Subject: name,
		Summary: "BIMI record present", Evidence: ev, References: refs})
	if f := b.Logo; f != nil {
		switch {
		case !f.OK():
			sev := report.Failure
			if f.Kind == httpsfetch.Timeout || f.Kind == httpsfetch.DNSUnknown || f.Kind == httpsfetch.Network {
				sev = report.Unknown
			}
			u, _ := url.Parse(f.URL)
			fs = append(fs, report.Finding{ID: "bimi.logo-unreachable", Severity: sev, Subject: f.URL,
				Summary: "the BIMI logo could not be fetched: " + f.Problem(), Evidence: f.Evidence(),
				Cause: "receivers that cannot fetch the logo show none", Fix: f.FixHint(u.Hostname()), References: refs})
		default:
			body := string(f.Body)
			var problems []string
			if !f.ContentTypeIs("image/svg+xml") {
				problems = append(problems, fmt.Sprintf("Content-Type is %q, not image/svg+xml", f.ContentType))
			}
			if !strings.Contains(body, "<svg") {
				problems = append(problems, "the body is not an SVG document (no <svg element)")
			} else if !strings.Contains(strings.ToLower(body), "tiny-ps") {
				problems = append(problems, "the SVG does not declare baseProfile=\"tiny-ps\" (SVG Tiny Portable/Secure is required)")
			}
			if f.Size > RecommendedLogoSize {
				problems = append(problems, fmt.Sprintf("the logo is %d octets; keep it under %d", f.Size, RecommendedLogoSize))
			}
			if len(problems) > 0 {
				fs = append(fs, report.Finding{ID: "bimi.logo-format", Severity: report.Warning, Subject: f.URL,
					Summary: "the BIMI logo is reachable but may be rejected: " + problems[0], Evidence: append(f.Evidence(), problems...),
					Cause:      "receivers validate the logo against the SVG Tiny PS profile and discard logos that fail",
					Fix:        "export the logo as SVG Tiny PS (baseProfile=\"tiny-ps\", square, no scripts or external references), served as image/svg+xml",
					References: refs})
			} else {
				fs = append(fs, report.Finding{ID: "bimi.logo-ok", Severity: report.OK, Subject: f.URL,
					Summary: fmt.Sprintf("the BIMI logo is reachable over HTTPS (%d octets, SVG Tiny PS)", f.Size), Evidence: f.Evidence()})
			}
		}
	}
	switch f := b.Authority; {
	case f == nil:
		fs = append(fs, report.Finding{ID: "bimi.no-evidence", Severity: report.Info, Subject: name,
			Summary: "the BIMI record has no a= evidence (VMC or CMC)",
			Cause:   "Gmail and Apple Mail show BIMI logos only with a Verified or Common Mark Certificate; others (e.g. Yahoo) may show it without",
			Fix:     "obtain a VMC or CMC for the logo and publish its PEM URL in a=", References: refs})
	case !f.OK():
		sev := report.Failure
		if f.Kind == httpsfetch.Timeout || f.Kind == httpsfetch.DNSUnknown || f.Kind == httpsfetch.Network {
			sev = report.Unknown
		}
		u, _ := url.Parse(f.URL)
		fs = append(fs, report.Finding{ID: "bimi.evidence-unreachable", Severity: sev, Subject: f.URL,
			Summary: "the BIMI evidence document (a=) could not be fetched: " + f.Problem(), Evidence: f.Evidence(),
			Cause: "receivers that require a VMC/CMC show no logo", Fix: f.FixHint(u.Hostname()), References: refs})
	case b.AuthorityErr != "":
		fs = append(fs, report.Finding{ID: "bimi.evidence-invalid", Severity: report.Failure, Subject: f.URL,
			Summary: "the BIMI evidence document is not a PEM certificate chain: " + b.AuthorityErr, Evidence: f.Evidence(),
			Fix: "serve the VMC/CMC chain in PEM form (leaf first) at the a= URL", References: refs})
	case !b.now.IsZero() && b.now.After(b.AuthorityNotAfter):
		fs = append(fs, report.Finding{ID: "bimi.evidence-expired", Severity: report.Failure, Subject: f.URL,
			Summary:  "the BIMI mark certificate expired on " + b.AuthorityNotAfter.UTC().Format(time.DateOnly),
			Evidence: f.Evidence(), Cause: "receivers that require a VMC/CMC stop showing the logo",
			Fix: "renew the mark certificate and replace the file at the a= URL", References: refs})
	default:
		fs = append(fs, report.Finding{ID: "bimi.evidence-ok", Severity: report.OK, Subject: f.URL,
			Summary:  "the BIMI evidence certificate is reachable, valid until " + b.AuthorityNotAfter.UTC().Format(time.DateOnly),
			Evidence: f.Evidence()})
	}
	fs = append(fs, b.dmarcFinding())
	return fs
}

// dmarcFinding: BIMI needs DMARC at enforcement.
func (b *Result) dmarcFinding() report.Finding {
	ev := append([]string{b.DMARC.Describe()}, b.DMARC.Strings()...)
	refs := []string{refBIMI, "RFC 7489 §6.3"}
	switch {
	case b.DMARC.Failed():
		return report.Finding{ID: "bimi.dmarc-unknown", Severity: report.Unknown, Subject: "_dmarc." + b.Domain,
			Summary: "could not read the DMARC policy BIMI depends on: " + b.DMARC.Status.String(), Evidence: ev, References: refs}
	case b.DMARCPolicy == "quarantine" || b.DMARCPolicy == "reject":
		return report.Finding{ID: "bimi.dmarc-enforced", Severity: report.OK, Subject: "_dmarc." + b.Domain,
			Summary: "DMARC is at enforcement (p=" + b.DMARCPolicy + "), as BIMI requires", Evidence: ev, References: refs}
	}
	pol := "no DMARC record"
	if b.DMARCPolicy != "" {
		pol = "DMARC p=" + b.DMARCPolicy
	}
	return report.Finding{ID: "bimi.dmarc-not-enforced", Severity: report.Warning, Subject: "_dmarc." + b.Domain,
		Summary:    "BIMI is published but the domain has " + pol + ": receivers show no logo",
		Evidence:   ev,
		Cause:      "BIMI logos are shown only for mail that passes DMARC under p=quarantine or p=reject",
		Fix:        "move DMARC to enforcement once reports show your legitimate mail passes",
		Publish:    []string{fmt.Sprintf("_dmarc.%s. IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@%s\"", b.Domain, b.Domain)},
		References: refs}
}

func bimiAnyPrefix(list []string, p string) bool {
	for _, s := range list {
		if strings.HasPrefix(strings.TrimLeft(s, " \t"), p) {
			return true
		}
	}
	return false
}
