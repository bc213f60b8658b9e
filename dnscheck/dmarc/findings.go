package dmarc

// The judgement of a domain's DMARC state: one finding per observation, each
// with the records seen, the cause, the fix and — where a record must change
// — the exact record to publish.

import (
	"fmt"
	"strings"

	"github.com/mxray/mxray/dnscheck"

	"github.com/mxray/mxray/report"
)

const (
	refDMARCFormat    = "RFC 9989 \"General Record Format\""
	refDMARCWalk      = "RFC 9989 \"DNS Tree Walk\""
	refDMARCDiscovery = "RFC 9989 \"DMARC Policy Discovery\""
	refDMARCOrg       = "RFC 9989 \"Organizational Domain Discovery\""
	ref7489Org        = "RFC 7489 §3.2"
	ref7489Discovery  = "RFC 7489 §6.6.3"
	refDMARCExternal  = "RFC 7489 §7.1"
)

// dmarcName is the owner name of a domain's DMARC record, zone-file form.
func dmarcName(domain string) string { return "_dmarc." + domain + "." }

// suggestedDMARC is the record mxray proposes for a domain that has none or a
// broken one: monitoring first, with aggregate reports to the domain itself,
// so that alignment problems show before the policy is tightened.
func suggestedDMARC(domain, policy string) string {
	if policy == "" {
		policy = None
	}
	return fmt.Sprintf("%s 3600 IN TXT \"v=DMARC1; p=%s; rua=mailto:dmarc-reports@%s\"", dmarcName(domain), policy, domain)
}

// rewriteDMARC returns the record with tag values changed (value "" removes
// the tag), keeping the other tags in order, as a zone-file line.
func rewriteDMARC(domain string, rec *Record, set map[string]string, order []string) string {
	parts := []string{"v=DMARC1"}
	done := map[string]bool{}
	for _, t := range rec.Tags[1:] {
		name := strings.ToLower(t.Name)
		if v, ok := set[name]; ok {
			done[name] = true
			if v != "" {
				parts = append(parts, name+"="+v)
			}
			continue
		}
		if done[name] || name == "v" {
			continue
		}
		done[name] = true
		parts = append(parts, t.Name+"="+t.Value)
	}
	for _, name := range order {
		if v := set[name]; v != "" && !done[name] {
			parts = append(parts, name+"="+v)
		}
	}
	return fmt.Sprintf("%s 3600 IN TXT %s", dmarcName(domain), dnscheck.QuoteTXT(strings.Join(parts, "; ")))
}

// Findings judges the DMARC result.
func (d *Result) Findings() []report.Finding {
	own := d.Own()
	walkEv := describeWalk(d.Walk)
	fs := d.nearMissFindings(own)
	fs = append(fs, d.multipleRecordFindings(own)...)
	if nf, done := d.noRecordFindings(own, walkEv); done {
		return append(fs, nf...)
	}

	recEv := []string{fmt.Sprintf("%s TXT \"%s\"", dmarcName(d.PolicyDomain), d.Record.Raw)}
	source, pol := d.policySourceFinding(own, walkEv, recEv)
	fs = append(fs, source, d.policyFinding(pol, recEv))
	fs = append(fs, d.testModeFindings(recEv)...)
	fs = append(fs, d.weakSubdomainFindings(recEv)...)

	// Reports.
	fs = append(fs, d.noRUAFindings(recEv)...)
	fs = append(fs, d.reportAuthFindings()...)

	// Syntax, removed and unknown tags.
	fs = append(fs, d.syntaxFindings()...)
	fs = append(fs, d.removedTagFindings(recEv)...)
	fs = append(fs, d.unknownTagFindings(recEv)...)
	fs = append(fs, d.uriSizeFindings(recEv)...)
	fs = append(fs, d.psdFindings(recEv)...)

	fs = append(fs, d.orgFindings()...)
	fs = append(fs, d.alignmentFindings()...)
	return fs
}

// nearMissFindings reports near misses at the domain's own name: TXT records
// that look like DMARC but do not start with v=DMARC1 are discarded by every
// receiver.
func (d *Result) nearMissFindings(own Query) []report.Finding {
	var fs []report.Finding
	for _, t := range own.TXT {
		if !isDMARCCandidate(t) && looksLikeDMARC(t) {
			_, err := Parse(t)
			sev := report.Failure
			if own.Record != nil {
				sev = report.Warning
			}
			fs = append(fs, report.Finding{ID: "dmarc.not-dmarc1", Severity: sev,
				Summary:    "a TXT record at " + own.Name + " looks like DMARC but does not start with v=DMARC1; receivers ignore it",
				Evidence:   []string{"\"" + t + "\"", err.Error()},
				Cause:      "the record must begin with the tag v=DMARC1, exactly so (upper case, first, no leading text); any other start makes it \"not a DMARC record\"",
				Fix:        "rewrite it so that it starts with v=DMARC1;",
				Publish:    fixedNearMiss(d.Domain, t),
				References: []string{refDMARCFormat, refDMARCWalk + " step 2"}})
		}
	}
	return fs
}

// multipleRecordFindings reports more than one v=DMARC1 record at the
// domain's own name, which receivers treat as none.
func (d *Result) multipleRecordFindings(own Query) []report.Finding {
	if len(own.DMARC) <= 1 {
		return nil
	}
	return []report.Finding{{ID: "dmarc.multiple", Severity: report.Failure,
		Summary:    fmt.Sprintf("%d DMARC records at %s: receivers treat that as no record at all", len(own.DMARC), own.Name),
		Evidence:   dmarcQuoteAll(own.DMARC),
		Cause:      "when more than one v=DMARC1 record is returned, all are discarded",
		Fix:        "delete all but one DMARC record at " + own.Name,
		Publish:    []string{fmt.Sprintf("%s 3600 IN TXT %s", dmarcName(d.Domain), dnscheck.QuoteTXT(own.DMARC[0]))},
		References: []string{refDMARCWalk + " step 2", ref7489Discovery}}}
}

// noRecordFindings judges a domain without a DMARC record to apply: the
// lookup of its own record failed, the tree walk failed, or there is none.
// done is true when one of these holds; nothing more can then be judged.
func (d *Result) noRecordFindings(own Query, walkEv []string) (fs []report.Finding, done bool) {
	switch {
	case own.Failed():
		return []report.Finding{{ID: "dmarc.lookup-failed", Severity: report.Unknown,
			Summary:  "could not look up the DMARC record of " + d.Domain + ": " + own.Status,
			Evidence: walkEv,
			Cause:    "the resolver gave no definite answer; the record may well exist. Receivers that meet this error decide on their own (accept, or defer with 4xx)",
			Fix:      "retry; if it persists, check the nameservers of " + d.Domain + " (dig +trace " + own.Name + " TXT)"}}, true
	case d.Record == nil && d.Unknown():
		return []report.Finding{{ID: "dmarc.lookup-failed", Severity: report.Unknown,
			Summary:  d.Domain + " has no DMARC record of its own, and the tree walk to its parents failed: the policy that applies is unknown",
			Evidence: walkEv,
			Fix:      "retry; publish a DMARC record for " + d.Domain + " itself either way",
			Publish:  []string{suggestedDMARC(d.Domain, "")}, References: []string{refDMARCWalk}}}, true
	case d.Record == nil:
		fs = append(fs, report.Finding{ID: "dmarc.missing", Severity: report.Failure,
			Summary:  "no DMARC record for " + d.Domain + " (nor an inherited one): receivers apply no DMARC policy and send no reports",
			Evidence: walkEv,
			Cause: "without DMARC anyone can put " + d.Domain + " in the From: of phishing mail; large mailbox providers (Gmail, Yahoo, " +
				"Microsoft) require a DMARC record from bulk senders",
			Fix: "publish a DMARC record; start with p=none and aggregate reports, read them, fix the senders that do not align, " +
				"then move to p=quarantine and p=reject",
			Publish:    []string{suggestedDMARC(d.Domain, "")},
			References: []string{refDMARCDiscovery, "RFC 9989 \"Domain Owner Actions\""}})
		if d.PolicyDomain7489 != "" {
			// RFC 7489 receivers find a record that RFC 9989 receivers do not.
			fs = append(fs, d.orgFindings()...)
		}
		return fs, true
	}
	return nil, false
}

// policySourceFinding says where the policy comes from — the domain's own
// record, or one inherited from its Organizational Domain or a Public Suffix
// Domain — and returns the policy that applies to the domain.
func (d *Result) policySourceFinding(own Query, walkEv, recEv []string) (report.Finding, string) {
	rec := d.Record
	pol := rec.EffectivePolicy()
	switch d.PolicyFrom {
	case "domain":
		return report.Finding{ID: "dmarc.record", Severity: report.OK,
			Summary:  fmt.Sprintf("DMARC record published at %s: p=%s", own.Name, dmarcOrDash(pol)),
			Evidence: recEv, References: []string{refDMARCFormat}}, pol
	default:
		which := "its Organizational Domain " + d.PolicyDomain
		if d.PolicyFrom == "psd" {
			which = "the Public Suffix Domain " + d.PolicyDomain + " (psd=y)"
		}
		sub := rec.EffectiveSubdomainPolicy()
		return report.Finding{ID: "dmarc.inherited", Severity: report.Info,
			Summary:    fmt.Sprintf("%s has no DMARC record of its own; the policy of %s applies (sp: %s, np: %s)", d.Domain, which, dmarcOrDash(sub), dmarcOrDash(rec.EffectiveNonexistentPolicy())),
			Evidence:   append(walkEv, recEv...),
			Cause:      "for a subdomain without a record, receivers use the sp= (existing) or np= (non-existent) policy of the Organizational Domain, or of the PSD",
			Fix:        "nothing if that policy suits " + d.Domain + "; publish a record at " + own.Name + " to choose its own policy and report addresses",
			References: []string{refDMARCDiscovery, ref7489Discovery}}, sub
	}
}

// policyFinding judges the policy pol that applies to the domain: broken,
// none (monitoring only) or one that protects the domain.
func (d *Result) policyFinding(pol string, recEv []string) report.Finding {
	switch {
	case d.Record.PolicyBroken():
		return d.policyInvalidFinding(recEv)
	case pol == None:
		return d.policyNoneFinding(recEv)
	default:
		return report.Finding{ID: "dmarc.policy", Severity: report.OK,
			Summary: "DMARC policy is p=" + pol + ": receivers are asked to " + map[string]string{Quarantine: "treat failing mail as suspicious", Reject: "reject failing mail"}[pol]}
	}
}

// policyInvalidFinding reports p missing or invalid, or sp/np invalid.
func (d *Result) policyInvalidFinding(recEv []string) report.Finding {
	rec := d.Record
	var whats []string
	if _, has := rec.Tag("p"); !has {
		whats = append(whats, "has no p= tag")
	}
	for _, tag := range rec.InvalidPolicy {
		v, _ := rec.Tag(tag)
		whats = append(whats, fmt.Sprintf("has %s=%s, which is not none, quarantine or reject", tag, v))
	}
	what := strings.Join(whats, " and ")
	sev, cause := report.Failure, "with p= missing or invalid (or an invalid sp= or np=) and no usable rua=, RFC 9989 receivers apply no DMARC processing at all; RFC 7489 receivers discard a record without a valid p="
	if rec.hasUsableRUA() {
		sev, cause = report.Warning, "RFC 9989 receivers treat the whole record as p=none because rua= is usable; RFC 7489 receivers discard a record without a valid p="
	}
	set := map[string]string{}
	if rec.Policy == "" {
		set["p"] = None
	}
	for _, tag := range rec.InvalidPolicy {
		if tag != "p" {
			set[tag] = "" // drop the broken sp=/np=: p= then applies
		}
	}
	return report.Finding{ID: "dmarc.policy-invalid", Severity: sev,
		Summary: "the DMARC record " + what, Evidence: recEv, Cause: cause,
		Fix:        "give p= (and sp=, np= if used) one of none (monitoring), quarantine or reject",
		Publish:    []string{rewriteDMARC(d.PolicyDomain, rec, set, []string{"p"})},
		References: []string{refDMARCFormat, refDMARCDiscovery, "RFC 7489 §6.3"}}
}

// policyNoneFinding reports a policy of none: monitoring only.
func (d *Result) policyNoneFinding(recEv []string) report.Finding {
	rec, pub := d.Record, d.PolicyDomain
	tag, sum := "p", "DMARC policy is p=none: monitoring only, spoofed mail is not rejected or quarantined"
	if d.PolicyFrom != "domain" {
		tag = "sp"
		if rec.SubdomainPolicy == "" {
			tag = "p"
		}
		sum = fmt.Sprintf("the policy that applies to %s (%s= of %s) is none: monitoring only, spoofed mail is not rejected or quarantined", d.Domain, tag, pub)
	}
	// Info: p=none is a valid policy (RFC 9989) and meets the bulk-sender
	// requirements of Gmail, Yahoo and Microsoft; enforcing is a choice.
	return report.Finding{ID: "dmarc.policy-none", Severity: report.Info,
		Summary:    sum,
		Evidence:   recEv,
		Cause:      "none asks receivers to take no action on mail that fails DMARC; it is the right first step, but does not protect the domain",
		Fix:        "once the aggregate reports show that all legitimate senders pass with alignment, raise the policy to quarantine, then reject",
		Publish:    []string{rewriteDMARC(pub, rec, map[string]string{tag: Quarantine}, []string{tag})},
		References: []string{"RFC 9989 \"p\"", "RFC 9989 \"Domain Owner Actions\""}}
}

// testModeFindings reports t=y, under which RFC 9989 receivers do not apply
// the policy.
func (d *Result) testModeFindings(recEv []string) []report.Finding {
	rec := d.Record
	if !rec.Testing {
		return nil
	}
	return []report.Finding{{ID: "dmarc.test-mode", Severity: report.Info,
		Summary:    "t=y: the policy is in test mode; RFC 9989 receivers do not apply it",
		Evidence:   recEv,
		Cause:      "t=y asks receivers not to apply p=/sp=/np= but only their own special handling (e.g. rewriting From:)",
		Fix:        "remove t=y once the reports look right",
		Publish:    []string{rewriteDMARC(d.PolicyDomain, rec, map[string]string{"t": ""}, nil)},
		References: []string{"RFC 9989 \"t\""}}}
}

// weakSubdomainFindings reports subdomain policies (sp=, np=) weaker than p.
func (d *Result) weakSubdomainFindings(recEv []string) []report.Finding {
	rec, pub := d.Record, d.PolicyDomain
	if rec.Policy == "" {
		return nil
	}
	weak := map[string]string{}
	if rec.SubdomainPolicy != "" && dmarcPolicyRank(rec.SubdomainPolicy) < dmarcPolicyRank(rec.Policy) {
		weak["sp"] = rec.SubdomainPolicy
	}
	if rec.NonexistentPolicy != "" && dmarcPolicyRank(rec.NonexistentPolicy) < dmarcPolicyRank(rec.Policy) {
		weak["np"] = rec.NonexistentPolicy
	}
	var fs []report.Finding
	for _, tag := range []string{"sp", "np"} {
		v, ok := weak[tag]
		if !ok {
			continue
		}
		scope := "existing subdomains"
		if tag == "np" {
			scope = "non-existent subdomains (a favourite of spoofers: anything.example.com)"
		}
		// sp= weaker than p= is a choice for subdomains that send through
		// others (info); np= weaker than p= protects nothing, since a name
		// that does not exist sends no legitimate mail (warning).
		sev := report.Info
		if tag == "np" {
			sev = report.Warning
		}
		fs = append(fs, report.Finding{ID: "dmarc.weak-" + tag, Severity: sev,
			Summary:    fmt.Sprintf("%s=%s is weaker than p=%s: %s are less protected than %s itself", tag, v, rec.Policy, scope, pub),
			Evidence:   recEv,
			Cause:      tag + "= overrides p= for " + scope,
			Fix:        fmt.Sprintf("remove %s= (then p= applies) or raise it to %s", tag, rec.Policy),
			Publish:    []string{rewriteDMARC(pub, rec, map[string]string{tag: ""}, nil)},
			References: []string{"RFC 9989 \"" + tag + "\""}})
	}
	return fs
}

// noRUAFindings reports a record without rua=: no aggregate reports.
func (d *Result) noRUAFindings(recEv []string) []report.Finding {
	rec, pub := d.Record, d.PolicyDomain
	if len(rec.RUA) != 0 {
		return nil
	}
	return []report.Finding{{ID: "dmarc.no-rua", Severity: report.Warning,
		Summary:    "no rua= tag: receivers send no aggregate reports, so failures of your own senders go unseen",
		Evidence:   recEv,
		Cause:      "without rua= receivers MUST NOT send aggregate reports",
		Fix:        "add rua=mailto: an address that collects the daily XML reports (your own, or a DMARC report service that authorises " + pub + ")",
		Publish:    []string{rewriteDMARC(pub, rec, map[string]string{"rua": "mailto:dmarc-reports@" + pub}, []string{"rua"})},
		References: []string{"RFC 9989 \"rua\""}}}
}

// reportAuthFindings judges, for each report address in another
// organization's domain, whether that domain authorises the reports.
func (d *Result) reportAuthFindings() []report.Finding {
	pub := d.PolicyDomain
	var fs []report.Finding
	for _, a := range d.Reports {
		ev := []string{a.Tag + "=" + a.URI, fmt.Sprintf("%s TXT: %s", a.Name, a.Status)}
		ev = append(ev, dmarcQuoteAll(a.TXT)...)
		switch {
		case a.Answer.Failed():
			fs = append(fs, report.Finding{ID: "dmarc.report-auth-unknown", Severity: report.Unknown, Subject: a.Target,
				Summary:  "could not check whether " + a.Target + " accepts " + a.Tag + " reports for " + pub + ": " + a.Status,
				Evidence: ev, Fix: "retry", References: []string{refDMARCExternal}})
		case a.Authorized:
			fs = append(fs, report.Finding{ID: "dmarc.report-auth", Severity: report.OK, Subject: a.Target,
				Summary: a.Target + " authorises " + a.Tag + " reports for " + pub, Evidence: ev})
		default:
			fs = append(fs, report.Finding{ID: "dmarc.report-unauthorized", Severity: report.Failure, Subject: a.Target,
				Summary:  fmt.Sprintf("%s=%s is in another organization's domain, which does not authorise reports for %s: receivers will not send them", a.Tag, a.URI, pub),
				Evidence: ev,
				Cause:    "a report address outside the policy domain's Organizational Domain must be confirmed by a v=DMARC1 record at " + a.Name,
				Fix:      "ask the operator of " + a.Target + " to publish the authorisation record (report services do this when the domain is added to the account)",
				Publish:  []string{a.Name + " 3600 IN TXT \"v=DMARC1\""}, References: []string{refDMARCExternal, "RFC 9989 \"External Report Addresses\""}})
		}
	}
	return fs
}

// syntaxFindings reports each syntax error in the record, with its column.
func (d *Result) syntaxFindings() []report.Finding {
	rec := d.Record
	var fs []report.Finding
	for _, e := range rec.Errors {
		fs = append(fs, report.Finding{ID: "dmarc.syntax", Severity: report.Warning,
			Summary:    "syntax error in the DMARC record at column " + fmt.Sprint(e.Pos+1) + ": " + e.Msg,
			Evidence:   []string{rec.Raw, strings.Repeat(" ", e.Pos) + "^"},
			Cause:      "receivers ignore a tag with a syntax error and use its default, which may not be what was meant",
			Fix:        "correct the tag; the grammar is in RFC 9989 \"Formal Definition\"",
			References: []string{"RFC 9989 \"Formal Definition\""}})
	}
	return fs
}

// removedTagFindings reports the tags RFC 9989 removed (pct, rf, ri).
func (d *Result) removedTagFindings(recEv []string) []report.Finding {
	rec, pub := d.Record, d.PolicyDomain
	var fs []report.Finding
	for _, t := range rec.Removed {
		why := map[string]string{
			"pct": "RFC 9989 removed pct: new receivers apply the policy to all failing mail; RFC 7489 receivers still sample pct% of it",
			"rf":  "RFC 9989 removed rf (failure report format); only AFRF was ever defined",
			"ri":  "RFC 9989 removed ri (report interval); receivers send aggregate reports daily whatever it says",
		}[t.Name]
		sev := report.Info
		if t.Name == "pct" && t.Value != "100" {
			sev = report.Warning
		}
		fs = append(fs, report.Finding{ID: "dmarc.removed-tag", Severity: sev, Subject: t.Name,
			Summary:  fmt.Sprintf("%s=%s is removed in RFC 9989; receivers on the old and new standards treat it differently", t.Name, t.Value),
			Evidence: recEv, Cause: why, Fix: "remove " + t.Name + "=",
			Publish:    []string{rewriteDMARC(pub, rec, map[string]string{t.Name: ""}, nil)},
			References: []string{"RFC 9989 Appendix \"Changes from RFC 7489\"", "RFC 7489 §6.3"}})
	}
	return fs
}

// unknownTagFindings reports tags outside the IANA DMARC tag registry.
func (d *Result) unknownTagFindings(recEv []string) []report.Finding {
	var fs []report.Finding
	for _, t := range d.Record.Unknown {
		// Info: receivers ignore the tag; a misspelt p= or rua= shows as
		// dmarc.policy-invalid or dmarc.no-rua.
		fs = append(fs, report.Finding{ID: "dmarc.unknown-tag", Severity: report.Info, Subject: t.Name,
			Summary:    fmt.Sprintf("unknown tag %s=%s at column %d: receivers ignore it", t.Name, dnscheck.Clip(t.Value), t.Pos+1),
			Evidence:   recEv,
			Cause:      "only tags in the IANA DMARC tag registry are processed; a misspelt tag (e.g. rau= for rua=) silently does nothing",
			Fix:        "correct or remove it",
			References: []string{refDMARCFormat}})
	}
	return fs
}

// uriSizeFindings reports report URIs with an RFC 7489 size limit (!size),
// which RFC 9989 dropped.
func (d *Result) uriSizeFindings(recEv []string) []report.Finding {
	rec := d.Record
	var fs []report.Finding
	for _, u := range append(append([]URI{}, rec.RUA...), rec.RUF...) {
		if u.Size != "" && u.Err == "" {
			fs = append(fs, report.Finding{ID: "dmarc.uri-size", Severity: report.Info,
				Summary:  "report URI " + u.Raw + " has an RFC 7489 size limit (!" + u.Size + "), which RFC 9989 receivers ignore",
				Evidence: recEv, Fix: "drop the !" + u.Size + " suffix", References: []string{"RFC 7489 §6.2", "RFC 9989 \"Formal Definition\""}})
		}
	}
	return fs
}

// psdFindings reports a domain that declares itself a Public Suffix Domain.
func (d *Result) psdFindings(recEv []string) []report.Finding {
	if d.PolicyFrom != "domain" || d.Record.PSD != "y" {
		return nil
	}
	return []report.Finding{{ID: "dmarc.psd", Severity: report.Info,
		Summary:    d.Domain + " declares itself a Public Suffix Domain (psd=y): its policy applies to the independent domains registered under it",
		Evidence:   recEv,
		Cause:      "psd=y is for registries and other Public Suffix Operators; a normal organization should not publish it",
		Fix:        "remove psd=y unless " + d.Domain + " is a public suffix",
		References: []string{"RFC 9989 \"psd\""}}}
}

// orgFindings reports the Organizational Domain under both standards, and
// where they disagree.
func (d *Result) orgFindings() []report.Finding {
	ev := []string{
		fmt.Sprintf("RFC 9989 tree walk (%d queries): Organizational Domain %s", len(d.Walk), d.OrgDomain),
		fmt.Sprintf("RFC 7489 Public Suffix List: Organizational Domain %s", d.OrgDomain7489),
	}
	if !d.OrgKnown {
		return []report.Finding{{ID: "dmarc.org-domain-unknown", Severity: report.Unknown,
			Summary:    "the RFC 9989 Organizational Domain of " + d.Domain + " is uncertain: a query of the tree walk failed",
			Evidence:   append(ev, describeWalk(d.Walk)...),
			Fix:        "retry; relaxed alignment and inherited policies depend on it",
			References: []string{refDMARCOrg}}}
	}
	var fs []report.Finding
	if x := d.Extra7489; x != nil && x.Failed() {
		fs = append(fs, report.Finding{ID: "dmarc.lookup-7489-failed", Severity: report.Unknown,
			Summary:    "the RFC 7489 lookup of " + x.Name + " failed: the policy RFC 7489 receivers apply is unknown",
			Evidence:   []string{x.Answer.Describe()},
			Fix:        "retry",
			References: []string{ref7489Discovery}})
		return fs
	}
	if d.OrgDomain != d.OrgDomain7489 {
		fs = append(fs, report.Finding{ID: "dmarc.org-domain-disagree", Severity: report.Warning,
			Summary: fmt.Sprintf("receivers disagree on the Organizational Domain of %s: %s by the RFC 9989 tree walk, %s by the RFC 7489 Public Suffix List",
				d.Domain, d.OrgDomain, d.OrgDomain7489),
			Evidence: append(ev, describeWalk(d.Walk)...),
			Cause: "relaxed alignment and inherited policies use the Organizational Domain; receivers still on RFC 7489 use the PSL, " +
				"new ones the DMARC records found in the DNS (psd= tags, the highest record)",
			Fix:        "publish DMARC records so that both methods agree: a record at _dmarc." + d.OrgDomain7489 + " and no v=DMARC1 record at a parent of it (unless it carries psd=y)",
			References: []string{refDMARCOrg, ref7489Org}})
	}
	if d.PolicyDomain != d.PolicyDomain7489 {
		fs = append(fs, report.Finding{ID: "dmarc.policy-disagree", Severity: report.Warning,
			Summary: fmt.Sprintf("receivers disagree on which DMARC record applies to %s: %s under RFC 9989, %s under RFC 7489",
				d.Domain, dmarcOrDash(dmarcNameOr(d.PolicyDomain)), dmarcOrDash(dmarcNameOr(d.PolicyDomain7489))),
			Evidence:   append(ev, describeWalk(d.Walk)...),
			Cause:      "RFC 9989 also looks at Public Suffix Domain records (psd=y) and chooses the Organizational Domain from the DNS; RFC 7489 only at the domain and its PSL Organizational Domain",
			Fix:        "publish a DMARC record at _dmarc." + d.Domain + " so that every receiver uses the same one",
			Publish:    []string{suggestedDMARC(d.Domain, "")},
			References: []string{refDMARCDiscovery, ref7489Discovery}})
	}
	return fs
}

// alignmentFindings judges the SPF alignment of a sending source, when one
// was given.
func (d *Result) alignmentFindings() []report.Finding {
	a := d.Alignment
	if a == nil {
		return nil
	}
	mode := "relaxed: same Organizational Domain"
	if a.Strict {
		mode = "strict: identical domains"
	}
	ev := []string{
		"RFC5322.From domain: " + a.FromDomain + " (Organizational Domain " + a.FromOrg + dmarcOrgNote(a.FromOrg9989) + ")",
		"RFC5321.MailFrom domain: " + a.MailFromDomain + " (Organizational Domain " + a.MailFromOrg + dmarcOrgNote(a.MailFromOrg9989) + ")",
		"SPF result: " + dmarcOrDash(a.SPFResult),
		"alignment mode: aspf=" + map[bool]string{true: "s", false: "r"}[a.Strict] + " (" + mode + ")",
	}
	refs := []string{"RFC 9989 \"SPF-Authenticated Identifiers\"", "RFC 7489 §3.1.2"}
	if a.Aligned9989 != nil && *a.Aligned9989 != a.Aligned {
		return []report.Finding{{ID: "dmarc.spf-alignment-disagree", Severity: report.Warning,
			Summary: fmt.Sprintf("SPF alignment of %s with %s depends on the receiver: %s under RFC 9989, %s under RFC 7489",
				a.MailFromDomain, a.FromDomain, dmarcAlignedWord(*a.Aligned9989), dmarcAlignedWord(a.Aligned)),
			Evidence: ev, Cause: "the two standards find different Organizational Domains",
			Fix:        "use a MAIL FROM (Return-Path) domain equal to " + a.FromDomain + " or directly under it",
			References: refs}}
	}
	switch {
	case a.SPFResult == "" || a.SPFResult == "temperror" || a.SPFResult == "unknown":
		return []report.Finding{{ID: "dmarc.spf-alignment-unknown", Severity: report.Unknown,
			Summary:  "SPF result for the sending source is not known, so whether SPF counts for DMARC is unknown",
			Evidence: ev, Fix: "retry; see the SPF section", References: refs}}
	case a.Pass:
		return []report.Finding{{ID: "dmarc.spf-aligned", Severity: report.OK,
			Summary:  fmt.Sprintf("SPF passes for %s and aligns (%s) with From: %s: DMARC passes on SPF alone", a.MailFromDomain, mode, a.FromDomain),
			Evidence: ev, References: refs}}
	case a.SPFPass:
		return []report.Finding{{ID: "dmarc.spf-not-aligned", Severity: report.Warning,
			Summary:    fmt.Sprintf("SPF passes for %s, but it does not align (%s) with From: %s: DMARC then depends on an aligned DKIM signature", a.MailFromDomain, mode, a.FromDomain),
			Evidence:   ev,
			Cause:      "DMARC counts an SPF pass only when the MAIL FROM domain aligns with the From: domain",
			Fix:        fmt.Sprintf("send with a MAIL FROM (Return-Path) in %s (a custom bounce domain at your provider), or relax aspf=s to r if the domains share an Organizational Domain; and sign with DKIM d=%s", a.FromDomain, a.FromDomain),
			References: refs}}
	default:
		return []report.Finding{{ID: "dmarc.spf-fail", Severity: report.Warning,
			Summary:    fmt.Sprintf("SPF does not pass (%s) for the sending source, so SPF cannot make DMARC pass: only an aligned DKIM signature can", a.SPFResult),
			Evidence:   ev,
			Fix:        "authorise the sending IP in the SPF record of " + a.MailFromDomain + " (see the SPF section) and sign with DKIM d=" + a.FromDomain,
			References: refs}}
	}
}

func dmarcOrgNote(org9989 string) string {
	if org9989 == "" {
		return ""
	}
	return "; RFC 9989: " + org9989
}

func dmarcAlignedWord(b bool) string {
	if b {
		return "aligned"
	}
	return "not aligned"
}

func dmarcOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func dmarcNameOr(domain string) string {
	if domain == "" {
		return "no record"
	}
	return dmarcName(domain)
}

func dmarcQuoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "\"" + s + "\""
	}
	return out
}

// fixedNearMiss proposes a corrected record for a TXT that looks like DMARC:
// the tags it could read, behind v=DMARC1.
func fixedNearMiss(domain, txt string) []string {
	tags, _ := dnscheck.ParseTagList(txt)
	parts := []string{"v=DMARC1"}
	hasP := false
	for _, t := range tags {
		if strings.EqualFold(t.Name, "v") || t.Value == "" {
			continue
		}
		if t.Name == "p" {
			hasP = true
		}
		parts = append(parts, t.Name+"="+t.Value)
	}
	if !hasP {
		parts = append(parts[:1], append([]string{"p=none"}, parts[1:]...)...)
	}
	return []string{fmt.Sprintf("%s 3600 IN TXT %s", dmarcName(domain), dnscheck.QuoteTXT(strings.Join(parts, "; ")))}
}

// DetailLines shows the tree walk and the parsed record under the section.
func (d *Result) DetailLines() []string {
	lines := []string{fmt.Sprintf("RFC 9989 tree walk from %s (%d of at most %d queries):", d.Domain, len(d.Walk), MaxWalkQueries)}
	for _, l := range d.Walk {
		s := fmt.Sprintf("  %-40s %s", l.Name, l.Status)
		switch {
		case l.Record != nil:
			s += "  \"" + l.Record.Raw + "\""
		case len(l.DMARC) > 1:
			s += fmt.Sprintf("  %d DMARC records (none counts)", len(l.DMARC))
		}
		lines = append(lines, s)
	}
	org := d.OrgDomain
	if !d.OrgKnown {
		org += " (uncertain: a query failed)"
	}
	lines = append(lines,
		"Organizational Domain: "+org+" (RFC 9989), "+d.OrgDomain7489+" (RFC 7489, Public Suffix List)",
		"policy record: "+dmarcOrDash(dmarcNameOr(d.PolicyDomain))+" (RFC 9989), "+dmarcOrDash(dmarcNameOr(d.PolicyDomain7489))+" (RFC 7489)")
	if r := d.Record; r != nil {
		lines = append(lines, fmt.Sprintf("p=%s sp=%s np=%s adkim=%s aspf=%s psd=%s t=%s",
			dmarcOrDash(r.EffectivePolicy()), dmarcOrDash(r.EffectiveSubdomainPolicy()), dmarcOrDash(r.EffectiveNonexistentPolicy()),
			r.ADKIM, r.ASPF, r.PSD, map[bool]string{true: "y", false: "n"}[r.Testing]))
	}
	return lines
}

func notAlignedFix(a *Alignment) string {
	fix := fmt.Sprintf("send with a MAIL FROM (Return-Path) domain in %s (a custom bounce domain at your provider)", a.FromDomain)
	if a.Strict && a.FromOrg == a.MailFromOrg {
		fix += ", or relax aspf=s to aspf=r: the domains share the Organizational Domain " + a.FromOrg
	}
	return fix + "; and sign with DKIM d=" + a.FromDomain
}
