package msgcheck

// The findings about a message.

import (
	"fmt"
	"strings"

	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
)

var (
	refForm     = []string{"RFC 5322 §3.6", "https://support.google.com/a/answer/81126"}
	refOneClick = []string{"RFC 8058 §3.1", "RFC 2369 §3.2", "https://support.google.com/a/answer/81126", "https://senders.yahooinc.com/best-practices/"}
)

// Findings judges the message; v is the verification of its DKIM
// signatures (for the one-click fields' coverage), nil when not verified.
func (r *Result) Findings(v *dkim.Verification) []report.Finding {
	fs := r.formFindings()
	fs = append(fs, r.impersonationFindings()...)
	fs = append(fs, r.OneClickFinding(v))
	if len(r.LinkDomains) > 0 {
		fs = append(fs, report.Finding{ID: "message.link-domains", Severity: report.Info,
			Summary:  fmt.Sprintf("the body links to %d domain(s), checked on the domain blocklists", len(r.LinkDomains)),
			Evidence: []string{strings.Join(r.LinkDomains, ", ")}})
	}
	return fs
}

func (r *Result) formFindings() []report.Finding {
	if len(r.Form) == 0 {
		return []report.Finding{{ID: "message.form-ok", Severity: report.OK,
			Summary: "one From (" + r.From + "), a Date, a valid Message-ID, no duplicated single fields (RFC 5322 §3.6)"}}
	}
	var fs []report.Finding
	for _, p := range r.Form {
		fs = append(fs, report.Finding{ID: "message.field-" + p.Kind, Severity: report.Failure, Subject: p.Field,
			Summary:    p.Detail,
			Cause:      "Gmail and Yahoo reject messages that break RFC 5322 §3.6 (Gmail: 550 5.7.1 \"This message is not RFC 5322 compliant\")",
			Fix:        "fix the " + p.Field + " field in the sending platform's template or settings",
			References: refForm})
	}
	return fs
}

func (r *Result) impersonationFindings() []report.Finding {
	if r.Impersonates == "" {
		return nil
	}
	p, _ := provider.ByID(r.Impersonates)
	return []report.Finding{{ID: "message.from-provider-domain", Severity: report.Failure, Subject: r.FromDomain,
		Summary:    fmt.Sprintf("From uses %s, a domain of %s: mail from your servers with that From impersonates the provider", r.FromDomain, p.Name),
		Cause:      "the provider's own DMARC policy makes receivers reject or quarantine such mail; Gmail's guidelines forbid impersonating Gmail From: headers",
		Fix:        "send from an address in a domain you own and authenticate (SPF, DKIM, DMARC)",
		References: []string{"https://support.google.com/a/answer/81126"}}}
}

// OneClickFinding judges RFC 8058 one-click unsubscribe: the two fields,
// and a valid DKIM signature covering both.
func (r *Result) OneClickFinding(v *dkim.Verification) report.Finding {
	u := r.Unsubscribe
	ev := []string{fmt.Sprintf("List-Unsubscribe (%d field(s)): %s", u.Fields, orNone(u.Value)),
		fmt.Sprintf("List-Unsubscribe-Post (%d field(s)): %s", u.PostFields, orNone(u.Post))}
	f := report.Finding{ID: "message.one-click", Evidence: ev, References: refOneClick}
	if !u.OneClick {
		f.ID, f.Severity = "message.one-click-missing", report.Failure
		if strings.EqualFold(strings.TrimSpace(u.Post), "One-Click") {
			f.ID = "message.one-click-wrong-form"
		}
		f.Summary = "no valid one-click unsubscribe: " + strings.Join(u.Problems, "; ")
		f.Cause = "Gmail and Yahoo require RFC 8058 one-click unsubscribe of bulk marketing mail"
		f.Fix = "add \"List-Unsubscribe: <https://…/unsubscribe/OPAQUE>\" and \"List-Unsubscribe-Post: " + OneClickValue + "\", both signed by DKIM"
		return f
	}
	if s, ok := CoveredBy(v); ok {
		f.Severity = report.OK
		f.Summary = "one-click unsubscribe (RFC 8058): an HTTPS URI, the exact post value, both fields signed by " + s.Describe()
		return f
	}
	if v != nil && v.Err != "" {
		f.ID, f.Severity = "message.one-click-unknown", report.Unknown
		f.Summary = "the one-click fields are right, but whether a valid DKIM signature covers them is not known: the signatures could not be verified (" + v.Err + ")"
		return f
	}
	f.ID, f.Severity = "message.one-click-not-signed", report.Failure
	f.Summary = "List-Unsubscribe and List-Unsubscribe-Post are not both covered by a valid DKIM signature's h="
	f.Cause = "RFC 8058 §3.1: receivers only offer one-click when a valid DKIM signature covers both fields"
	f.Fix = "add List-Unsubscribe and List-Unsubscribe-Post to the header fields the platform signs (h=)"
	if v != nil {
		for _, s := range v.Signatures {
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %s, h=%s", s.Describe(), s.Result, strings.Join(s.SignedHeaders, ":")))
			if s.Result == dkim.SigTempError && s.Covers("List-Unsubscribe") && s.Covers("List-Unsubscribe-Post") {
				f.ID, f.Severity = "message.one-click-unknown", report.Unknown
				f.Summary = "a DKIM signature covers both fields, but its key could not be looked up"
				f.Fix = "retry"
			}
		}
	}
	return f
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
