package dmarc

// Finding the DMARC record that applies to a domain, two ways:
//
//   - RFC 9989 "DNS Tree Walk": query _dmarc.<domain>, then walk towards the
//     root one label at a time — but when the name has 8 labels or more, jump
//     straight to its last 7 labels, so that no walk sends more than 8
//     queries. The walk stops at a record with psd=n, or (above the starting
//     domain) psd=y. The Organizational Domain is chosen from the records
//     found ("Organizational Domain Discovery"); the policy is the From
//     domain's own record, else the Organizational Domain's, else the Public
//     Suffix Domain's ("DMARC Policy Discovery").
//   - RFC 7489 §3.2 and §6.6.3: the Organizational Domain is the public
//     suffix (from the Public Suffix List, golang.org/x/net/publicsuffix) plus
//     one label; the policy is the domain's own record, else the
//     Organizational Domain's.
//
// Receivers on either standard are in the field, so mxray reports where they
// disagree. RFC 9989 "DNS Tree Walk" says a single record must remain: a
// name with several v=DMARC1 records has none.

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// MaxWalkQueries is the bound on queries of one RFC 9989 tree walk:
// the starting name, then at most 7 labels. (Earlier drafts of DMARCbis
// used 5; the published RFC 9989 says 8.)
const MaxWalkQueries = 8

// Query is one query of a tree walk: _dmarc.<Domain> TXT.
type Query struct {
	Domain string          `json:"domain"` // the domain whose _dmarc name was asked
	Name   string          `json:"name"`   // _dmarc.<domain>.
	Status string          `json:"status"`
	TXT    []string        `json:"txt,omitempty"`    // every TXT record, strings joined
	DMARC  []string        `json:"dmarc,omitempty"`  // those starting with v=DMARC1
	Record *Record         `json:"record,omitempty"` // set when exactly one DMARC record remains
	CNAMEs []string        `json:"cnames,omitempty"`
	Answer dnscheck.Answer `json:"-"`
}

// Failed reports whether the query gave no definite answer.
func (l Query) Failed() bool { return l.Answer.Failed() }

// Valid reports whether exactly one DMARC record was found.
func (l Query) Valid() bool { return l.Record != nil }

// LookupAt queries _dmarc.<domain> and classifies what comes back.
func LookupAt(ctx context.Context, r dnscheck.Resolver, domain string) Query {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	l := Query{Domain: domain, Name: "_dmarc." + domain + "."}
	l.Answer = r.Lookup(ctx, l.Name, dns.TypeTXT)
	l.Status = l.Answer.Status.String()
	l.CNAMEs = l.Answer.CNAMEs
	l.TXT = dnscheck.TXTStrings(l.Answer)
	for _, t := range l.TXT {
		if isDMARCCandidate(t) {
			l.DMARC = append(l.DMARC, t)
		}
	}
	if len(l.DMARC) == 1 {
		l.Record, _ = Parse(l.DMARC[0])
	}
	return l
}

// WalkTargets lists the domains an RFC 9989 tree walk from domain asks
// about, in order, if it never stops early: the domain, then — when it has 8
// labels or more — its last 7 labels, then one label fewer each time, down to
// the top-level domain (RFC 9989 "DNS Tree Walk" steps 4, 5 and 8).
func WalkTargets(domain string) []string {
	domain = strings.Trim(strings.ToLower(domain), ".")
	if domain == "" {
		return nil
	}
	labels := strings.Split(domain, ".")
	out := []string{domain}
	x := len(labels)
	next := x - 1
	if x >= MaxWalkQueries {
		next = MaxWalkQueries - 1
	}
	for n := next; n >= 1; n-- {
		out = append(out, strings.Join(labels[len(labels)-n:], "."))
	}
	return out
}

// TreeWalk performs the RFC 9989 DNS tree walk from domain. The walk is
// sequential: whether the next query is sent depends on the answer to this
// one (psd=n stops it at once; psd=y or psd=n stop it above the start). A
// failed query does not stop it, but makes the outcome uncertain.
func TreeWalk(ctx context.Context, r dnscheck.Resolver, domain string) []Query {
	var walk []Query
	for i, t := range WalkTargets(domain) {
		if ctx.Err() != nil {
			break
		}
		l := LookupAt(ctx, r, t)
		walk = append(walk, l)
		if l.Record != nil {
			if l.Record.PSD == "n" || (i > 0 && l.Record.PSD == "y") {
				break
			}
		}
	}
	return walk
}

// OrgDomain9989Walk applies RFC 9989 "Organizational Domain Discovery" to the
// results of a tree walk from start: among the domains with a valid record,
// longest first, psd=n makes that domain the Organizational Domain; psd=y
// (other than at start) makes it the domain one label below; otherwise the
// record with the fewest labels wins. With no record, start is its own
// Organizational Domain. known is false when a query of the walk failed, so
// the answer could differ.
func OrgDomain9989Walk(start string, walk []Query) (org string, known bool) {
	start = strings.Trim(strings.ToLower(start), ".")
	known = true
	for _, l := range walk {
		if l.Failed() {
			known = false
		}
	}
	fewest := ""
	for i, l := range walk { // the walk is already longest to shortest
		if l.Record == nil {
			continue
		}
		switch {
		case l.Record.PSD == "n":
			return l.Domain, known
		case l.Record.PSD == "y" && i > 0:
			return oneLabelBelow(start, l.Domain), known
		}
		fewest = l.Domain
	}
	if fewest != "" {
		return fewest, known
	}
	return start, known
}

// OrgDomain9989 walks the tree from domain and returns its RFC 9989
// Organizational Domain (see OrgDomain9989Walk).
func OrgDomain9989(ctx context.Context, r dnscheck.Resolver, domain string) (org string, known bool) {
	return OrgDomain9989Walk(domain, TreeWalk(ctx, r, domain))
}

// oneLabelBelow returns the ancestor of start (or start) that has one label
// more than parent.
func oneLabelBelow(start, parent string) string {
	labels := strings.Split(start, ".")
	n := strings.Count(parent, ".") + 2
	if n > len(labels) {
		return start
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

// OrgDomain7489 is the RFC 7489 §3.2 Organizational Domain: the public
// suffix of domain (Public Suffix List, ICANN and private sections) plus one
// label. A domain that is itself a public suffix is its own.
func OrgDomain7489(domain string) string {
	domain = strings.Trim(strings.ToLower(domain), ".")
	org, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		return domain
	}
	return org
}

// Result is the DMARC state of a domain under both standards.
type Result struct {
	Domain string `json:"domain"`

	// RFC 9989.
	Walk         []Query `json:"walk"`                    // the tree walk, in query order
	PolicyDomain string  `json:"policy_domain,omitempty"` // where the applicable record is
	PolicyFrom   string  `json:"policy_from,omitempty"`   // "domain", "organizational-domain" or "psd"
	Record       *Record `json:"record,omitempty"`        // the applicable record
	OrgDomain    string  `json:"org_domain"`
	OrgKnown     bool    `json:"org_known"`

	// RFC 7489.
	OrgDomain7489    string  `json:"org_domain_7489"`
	PolicyDomain7489 string  `json:"policy_domain_7489,omitempty"`
	Record7489       *Record `json:"-"`
	Extra7489        *Query  `json:"lookup_7489,omitempty"` // the org-domain query, when the walk did not ask it

	Reports   []ReportAuth `json:"report_authorizations,omitempty"`
	Alignment *Alignment   `json:"spf_alignment,omitempty"`
}

// Own is the lookup of _dmarc.<Domain> itself.
func (d *Result) Own() Query {
	if len(d.Walk) > 0 {
		return d.Walk[0]
	}
	return Query{Domain: d.Domain}
}

// Unknown reports whether the applicable policy could not be determined: a
// query failed before a record was found.
func (d *Result) Unknown() bool {
	for _, l := range d.Walk {
		if l.Failed() {
			return true
		}
		if l.Domain == d.PolicyDomain {
			return false
		}
	}
	return false
}

// Lookup discovers the DMARC policy of domain under RFC 9989 and RFC
// 7489, and checks that external report destinations accept the reports.
func Lookup(ctx context.Context, r dnscheck.Resolver, domain string) *Result {
	domain = strings.Trim(strings.ToLower(domain), ".")
	d := &Result{Domain: domain}
	d.Walk = TreeWalk(ctx, r, domain)
	d.OrgDomain, d.OrgKnown = OrgDomain9989Walk(domain, d.Walk)
	byDomain := map[string]*Query{}
	for i := range d.Walk {
		byDomain[d.Walk[i].Domain] = &d.Walk[i]
	}

	// RFC 9989 "DMARC Policy Discovery": the From domain, else the
	// Organizational Domain, else the PSD.
	if own := d.Own(); own.Record != nil {
		d.PolicyDomain, d.PolicyFrom, d.Record = domain, "domain", own.Record
	} else if l := byDomain[d.OrgDomain]; l != nil && l.Record != nil && d.OrgDomain != domain {
		d.PolicyDomain, d.PolicyFrom, d.Record = d.OrgDomain, "organizational-domain", l.Record
	} else {
		for _, l := range d.Walk {
			if l.Record != nil && l.Record.PSD == "y" {
				d.PolicyDomain, d.PolicyFrom, d.Record = l.Domain, "psd", l.Record
				break
			}
		}
	}

	// RFC 7489 §6.6.3: the domain's own record, else the Organizational Domain's.
	d.OrgDomain7489 = OrgDomain7489(domain)
	if own := d.Own(); own.Record != nil {
		d.PolicyDomain7489, d.Record7489 = domain, own.Record
	} else if d.OrgDomain7489 != domain && !own.Failed() {
		l := byDomain[d.OrgDomain7489]
		if l == nil {
			x := LookupAt(ctx, r, d.OrgDomain7489)
			d.Extra7489 = &x
			l = &x
		}
		if l.Record != nil {
			d.PolicyDomain7489, d.Record7489 = d.OrgDomain7489, l.Record
		}
	}

	if d.Record != nil {
		d.Reports = CheckReportAuth(ctx, r, d.PolicyDomain, d.Record)
	}
	return d
}

// ReportAuth is the verification of one external report destination
// (RFC 7489 §7.1, kept by RFC 9989's reporting documents): the destination
// domain must publish a v=DMARC1 TXT record at
// <policy domain>._report._dmarc.<destination domain>.
type ReportAuth struct {
	Tag        string          `json:"tag"` // rua or ruf
	URI        string          `json:"uri"`
	Target     string          `json:"target"` // the destination's domain
	Name       string          `json:"name"`   // the name queried
	Status     string          `json:"status"`
	TXT        []string        `json:"txt,omitempty"`
	Authorized bool            `json:"authorized"`
	Answer     dnscheck.Answer `json:"-"`
}

// CheckReportAuth verifies, concurrently, every mailto: destination in
// rua and ruf whose Organizational Domain (RFC 7489, PSL) differs from the
// policy domain's.
func CheckReportAuth(ctx context.Context, r dnscheck.Resolver, policyDomain string, rec *Record) []ReportAuth {
	var out []ReportAuth
	seen := map[string]bool{}
	add := func(tag string, uris []URI) {
		for _, u := range uris {
			if u.Err != "" || u.Scheme != "mailto" || u.Domain == "" {
				continue
			}
			if OrgDomain7489(u.Domain) == OrgDomain7489(policyDomain) || seen[tag+" "+u.Domain] {
				continue
			}
			seen[tag+" "+u.Domain] = true
			out = append(out, ReportAuth{Tag: tag, URI: u.Raw, Target: u.Domain,
				Name: policyDomain + "._report._dmarc." + u.Domain + "."})
		}
	}
	add("rua", rec.RUA)
	add("ruf", rec.RUF)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func(a *ReportAuth) {
			defer wg.Done()
			a.Answer = r.Lookup(ctx, a.Name, dns.TypeTXT)
			a.Status = a.Answer.Status.String()
			a.TXT = dnscheck.TXTStrings(a.Answer)
			for _, t := range a.TXT {
				// RFC 7489 §7.1 step 4: a record starting with v=DMARC1 authorises.
				if isDMARCCandidate(t) {
					a.Authorized = true
				}
			}
		}(&out[i])
	}
	wg.Wait()
	return out
}

// Alignment is whether an SPF result would count for DMARC: SPF must
// pass for the RFC5321.MailFrom domain, and that domain must align with the
// RFC5322.From domain (RFC 9989 "SPF-Authenticated Identifiers", RFC 7489
// §3.1.2): relaxed — the same Organizational Domain; strict — identical.
type Alignment struct {
	FromDomain     string `json:"from_domain"`
	MailFromDomain string `json:"mail_from_domain"`
	Strict         bool   `json:"strict"`
	SPFResult      string `json:"spf_result"`
	SPFPass        bool   `json:"spf_pass"`
	// Aligned is the identifier alignment under RFC 7489 (PSL organizational
	// domains); Aligned9989, when known, under RFC 9989 tree walks.
	Aligned         bool   `json:"aligned"`
	FromOrg         string `json:"from_org"`
	MailFromOrg     string `json:"mail_from_org"`
	Aligned9989     *bool  `json:"aligned_9989,omitempty"`
	FromOrg9989     string `json:"from_org_9989,omitempty"`
	MailFromOrg9989 string `json:"mail_from_org_9989,omitempty"`
	// Pass: SPF passes and is aligned, so DMARC passes on SPF alone.
	Pass bool `json:"pass"`
}

// SPFAlignment judges SPF alignment with the RFC 7489 (PSL)
// Organizational Domain; it needs no DNS.
func SPFAlignment(fromDomain, mailFromDomain string, spfPass bool, strict bool) Alignment {
	from := strings.Trim(strings.ToLower(fromDomain), ".")
	mf := strings.Trim(strings.ToLower(mailFromDomain), ".")
	a := Alignment{FromDomain: from, MailFromDomain: mf, Strict: strict, SPFPass: spfPass,
		FromOrg: OrgDomain7489(from), MailFromOrg: OrgDomain7489(mf)}
	if strict {
		a.Aligned = from == mf && from != ""
	} else {
		a.Aligned = a.FromOrg == a.MailFromOrg && a.FromOrg != ""
	}
	a.Pass = spfPass && a.Aligned
	return a
}

// AlignSPF is SPFAlignment plus the RFC 9989 answer: fromOrg9989 is the
// From domain's Organizational Domain from its tree walk (known9989 false if
// that walk was uncertain); the MailFrom domain is walked here when relaxed
// alignment needs it.
func AlignSPF(ctx context.Context, r dnscheck.Resolver, fromDomain, fromOrg9989 string, known9989 bool, mailFromDomain, spfResult string, strict bool) Alignment {
	a := SPFAlignment(fromDomain, mailFromDomain, spfResult == "pass", strict)
	a.SPFResult = spfResult
	if strict {
		v := a.Aligned
		a.Aligned9989 = &v
		return a
	}
	if !known9989 || a.MailFromDomain == "" {
		return a
	}
	a.FromOrg9989 = fromOrg9989
	if a.MailFromDomain == a.FromDomain {
		a.MailFromOrg9989 = fromOrg9989
	} else {
		org, known := OrgDomain9989(ctx, r, a.MailFromDomain)
		if !known {
			return a
		}
		a.MailFromOrg9989 = org
	}
	v := a.FromOrg9989 == a.MailFromOrg9989
	a.Aligned9989 = &v
	return a
}

// describeWalk is evidence: one line per query of the walk.
func describeWalk(walk []Query) []string {
	var ev []string
	for _, l := range walk {
		line := fmt.Sprintf("%s TXT: %s", l.Name, l.Status)
		if len(l.CNAMEs) > 0 {
			line += " (via CNAME " + strings.Join(l.CNAMEs, " → ") + ")"
		}
		ev = append(ev, line)
		for _, t := range l.TXT {
			ev = append(ev, "    \""+t+"\"")
		}
		if l.Failed() && l.Answer.Err != nil {
			ev = append(ev, "    "+l.Answer.Describe())
		}
	}
	return ev
}
