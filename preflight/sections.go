package preflight

// The evidence, one section per part, each built from the part's own
// findings (the same ones `mxray check`, `spf`, `dkim`, `dmarc` and
// `blocklist` report).

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/report"
)

// buildReport assembles the report: the provider table, then the evidence.
func (res *Result) buildReport(cfg Config, started time.Time) *report.Report {
	rep := report.New("preflight", res.From.String(), cfg.Version, started)
	rep.Requirements = res.Requirements
	if len(res.Unchecked) > 0 {
		rep.Sections = append(rep.Sections, report.Section{ID: "not-checked", Title: "Requirements not checked (an input was not given)",
			Findings: []report.Finding{res.uncheckedFinding()}, Detail: res.Unchecked})
	}
	rep.Sections = append(rep.Sections,
		res.ipSection(),
		report.Section{ID: "spf", Title: "SPF (RFC 7208) of " + res.SPFDomain, Findings: res.spfFindings(), Detail: res.SPF},
		report.Section{ID: "dkim", Title: "DKIM (RFC 6376)", Findings: res.dkimFindings(), Detail: dkimDetail{res.DKIM, res.Keys}},
		report.Section{ID: "dmarc", Title: "DMARC (RFC 9989, RFC 7489) and alignment with From " + res.From.Domain,
			Findings: append(res.DMARC.Findings(), res.alignmentFindings()...), Detail: res.DMARC})
	if res.Message != nil {
		rep.Sections = append(rep.Sections, report.Section{ID: "message", Title: "The message (RFC 5322, RFC 8058)",
			Findings: append(append(res.Message.Findings(res.DKIM), res.fromFindings()...), res.sizeFindings()...), Detail: res.Message})
	}
	if res.Recipients != nil {
		rep.Sections = append(rep.Sections, report.Section{ID: "recipients", Title: "Recipients and their domains",
			Findings: res.Recipients.Findings(), Detail: res.Recipients})
	}
	rep.Sections = append(rep.Sections, report.Section{ID: "dnsbl", Title: "Blocklists (DNSBL)",
		Findings: res.Blocklists.Findings(), Detail: res.Blocklists})
	if tr, ok := cfg.Resolver.(interface{ Trace() []report.Query }); ok {
		rep.Trace = tr.Trace()
		if key := cfg.DNSBL.DQSKey; key != "" {
			for i := range rep.Trace {
				rep.Trace[i].Name = strings.ReplaceAll(rep.Trace[i].Name, key+".", "<dqs-key>.")
			}
		}
	}
	keepObservedFindings(rep)
	rep.Finish(now(cfg))
	return rep
}

// keepObservedFindings leaves in each requirement only the evidence
// finding ids the report has.
func keepObservedFindings(rep *report.Report) {
	seen := map[string]bool{}
	for _, f := range rep.Findings() {
		seen[f.ID] = true
	}
	for i := range rep.Requirements {
		var ids []string
		for _, id := range rep.Requirements[i].Findings {
			if seen[id] {
				ids = append(ids, id)
			}
		}
		rep.Requirements[i].Findings = ids
	}
}

// uncheckedFinding: the rows left manual for want of an input are a
// warning (exit code 1), so that exit 0 is never read as "all clear"
// when, say, DKIM was never looked at. Not unknown (3): nothing failed to
// answer; the sender can give the input.
func (res *Result) uncheckedFinding() report.Finding {
	var ev, needs []string
	for _, u := range res.Unchecked {
		ev = append(ev, fmt.Sprintf("%s (%s): give %s", u.ID, strings.Join(u.Providers, ", "), u.Needs))
		if !slices.Contains(needs, u.Needs) {
			needs = append(needs, u.Needs)
		}
	}
	what := "requirements were"
	if len(res.Unchecked) == 1 {
		what = "requirement was"
	}
	return report.Finding{ID: "preflight.not-checked", Severity: report.Warning,
		Summary:  fmt.Sprintf("%d %s not checked: give %s", len(res.Unchecked), what, strings.Join(needs, "; ")),
		Evidence: ev,
		Cause:    "mxray judges what it is given: without a message saved from the sending platform it cannot see the DKIM signatures, the unsubscribe fields or the message's form; without a selector, no DKIM key",
		Fix:      "run again with --message FILE (a test message sent to yourself and saved as .eml) and, for the keys, --selector S"}
}

// fromFindings: the message's From against --from.
func (res *Result) fromFindings() []report.Finding {
	if res.GivenFrom == "" {
		return nil
	}
	return []report.Finding{{ID: "message.from-mismatch", Severity: report.Failure, Subject: res.From.Domain,
		Summary:    fromMismatch(res),
		Cause:      "the sending platform puts another From in the message than the one you meant (a default sender, an old template)",
		Fix:        "set the From of the campaign to an address in " + res.GivenFrom[strings.LastIndexByte(res.GivenFrom, '@')+1:] + " in the platform, or give --from " + res.From.String() + " if that is the From you mean",
		References: []string{"RFC 5322 §3.6.2", "RFC 7489 §3.1"}}}
}

// dkimDetail is the DKIM section's typed result.
type dkimDetail struct {
	Verification *dkim.Verification `json:"verification,omitempty"`
	Keys         []*dkim.Result     `json:"keys,omitempty"`
}

func (res *Result) ipSection() report.Section {
	sec := report.Section{ID: "sending-ips", Title: "Sending IPs: reverse DNS and HELO", Detail: res.IPs}
	for _, ip := range res.IPs {
		host := "the sending host's name"
		if ip.HELO != nil {
			host = strings.TrimSuffix(ip.HELO.Name, ".")
		}
		if use := dnscheck.SpecialUse(ip.IP); use != "" {
			sec.Add(report.Finding{ID: "sending-ip.special-use", Severity: report.Warning, Subject: ip.IP.String(),
				Summary: ip.IP.String() + " is " + use + ": no receiver on the internet will see mail from it",
				Fix:     "give the public address the platform sends from"})
		}
		sec.Add(ip.PTR.Findings(host)...)
		if ip.HELO != nil {
			sec.Add(heloFinding(ip))
		}
	}
	return sec
}

// heloFinding: the EHLO name should resolve to the IP (RFC 5321 §4.1.4
// asks for the client's primary host name; receivers check it resolves).
func heloFinding(ip IPResult) report.Finding {
	h := ip.HELO
	name := strings.TrimSuffix(h.Name, ".")
	ev := []string{h.A.Describe(), h.AAAA.Describe()}
	f := report.Finding{ID: "helo.resolves", Subject: ip.IP.String(), Evidence: ev, References: []string{"RFC 5321 §4.1.4", "RFC 5321 §2.3.5"}}
	switch ip.HELOStatus {
	case "ok":
		f.Severity, f.Summary = report.OK, "the HELO name "+name+" resolves to "+ip.IP.String()
	case "unknown":
		f.ID, f.Severity, f.Summary = "helo.lookup-failed", report.Unknown, "could not look up the HELO name "+name
	default:
		f.ID, f.Severity = "helo.not-this-ip", report.Warning
		f.Summary = "the HELO name " + name + " does not resolve to " + ip.IP.String()
		f.Cause = "receivers (Postfix reject_unknown_helo_hostname, spam filters) distrust a HELO name that does not lead back to the client"
		f.Fix = "say a HELO name whose A/AAAA record is " + ip.IP.String() + ", ideally the PTR name"
	}
	return f
}

func (res *Result) spfFindings() []report.Finding {
	fs := append([]report.Finding(nil), res.SPF.Findings...)
	for _, ev := range res.SPF.Evaluations {
		fs = append(fs, ev.EvaluationFinding(true))
	}
	return fs
}

func (res *Result) dkimFindings() []report.Finding {
	var fs []report.Finding
	if res.DKIM != nil {
		fs = append(fs, res.DKIM.Findings()...)
	}
	for _, k := range res.Keys {
		fs = append(fs, k.Findings()...)
	}
	if res.DKIM == nil && len(res.Keys) == 0 {
		fs = append(fs, report.Finding{ID: "dkim.not-checked", Severity: report.Info,
			Summary: "DKIM was not checked: give --message or --selector"})
	}
	return fs
}

// alignmentFindings: one per sending IP (SPF) and per valid signature (DKIM).
func (res *Result) alignmentFindings() []report.Finding {
	var fs []report.Finding
	for i, a := range res.Alignment.SPF {
		subj := ""
		if i < len(res.IPs) {
			subj = res.IPs[i].IP.String()
		}
		fs = append(fs, alignmentFinding("alignment.spf", subj, "SPF ("+a.SPFResult+") for "+a.MailFromDomain, a))
	}
	for _, a := range res.Alignment.DKIM {
		fs = append(fs, alignmentFinding("alignment.dkim", a.MailFromDomain, "the valid DKIM signature d="+a.MailFromDomain, a))
	}
	return fs
}

func alignmentFinding(id, subject, what string, a Aligned) report.Finding {
	mode := "relaxed"
	if a.Strict {
		mode = "strict"
	}
	f := report.Finding{ID: id, Subject: subject, References: []string{"RFC 9989 \"Identifier Alignment\"", "RFC 7489 §3.1"},
		Evidence: []string{fmt.Sprintf("From %s (organizational domain %s); authenticated %s (organizational domain %s); %s alignment",
			a.FromDomain, a.FromOrg, a.MailFromDomain, a.MailFromOrg, mode)}}
	switch {
	case a.RelaxedOnly:
		f.Severity = report.Unknown
		f.Summary = what + " aligns with From " + a.FromDomain + " under relaxed alignment only, and the DMARC record could not be looked up: whether aspf/adkim ask for strict alignment is not known"
	case a.Pass:
		f.Severity, f.Summary = report.OK, what+" aligns with From "+a.FromDomain
	case a.SPFResult == "temperror":
		f.Severity, f.Summary = report.Unknown, what+": the SPF result is not known"
	default:
		f.Severity, f.Summary = report.Warning, what+" does not make DMARC pass for From "+a.FromDomain
		f.Fix = "use a MAIL FROM (Return-Path) and a DKIM d= in " + a.FromDomain + " (or below it, with relaxed alignment)"
	}
	return f
}
