// Package recipients reads a campaign's recipients list and looks at its
// domains the way a sending MTA will meet them, before anything is sent.
//
//   - The list is a stream (Read): one address a line, or CSV with the
//     address in the first column. Memory is bounded: counts, a bounded
//     number of examples, a 64-bit hash per distinct address for the
//     duplicates (MaxTracked) and a count per domain (MaxDomains); a list
//     of a million lines is read in well under 100 MB.
//   - Each line is judged as a Mailbox of RFC 5321 §4.1.2 (local part at most
//     64 octets, §4.5.3.1.1; UTF-8 as RFC 6531 allows), with its line number
//     when it is not one; duplicates and RFC 2142 role mailboxes are counted.
//   - Each distinct domain is looked up once (CheckDomains): MX, null MX
//     (RFC 7505), NXDOMAIN, no address, implicit MX (RFC 5321 §5.1), and
//     who receives its mail (preflight/provider), so the report says how
//     many recipients each provider's rules govern.
//   - Likely typos (Typos): domains one or two edits from a provider's own
//     domain or from a much more common domain of the list.
//
// Never an SMTP RCPT probe: verifying addresses one by one at scale is what
// gets a sending IP listed.
package recipients

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/preflight/provider"
	"github.com/mxray/mxray/report"
)

// Hosted is the recipients and domains of one hosting.
type Hosted struct {
	Hosting    provider.Hosting `json:"hosting"`
	Domains    int              `json:"domains"`
	Recipients int              `json:"recipients"`
}

// Result is the recipients list and its domains.
type Result struct {
	Source string `json:"source"`
	*List
	Statuses map[string]int `json:"statuses"` // domains per status
	Hosted   []Hosted       `json:"hosted"`
	Typos    []Typo         `json:"typos,omitempty"`
	// Problems are the domains mail cannot go to, or that could not be
	// looked up (at most MaxExamples*50); Top the most common domains.
	Problems []DomainResult `json:"problem_domains,omitempty"`
	Top      []DomainResult `json:"top_domains,omitempty"`
	// Queries is the number of DNS queries the domain checks sent, when the
	// resolver counts them.
	Queries int `json:"queries,omitempty"`

	domains []DomainResult
}

// Check looks up the list's domains and finds the likely typos.
func Check(ctx context.Context, r dnscheck.Resolver, source string, l *List, opt CheckOptions) *Result {
	res := &Result{Source: source, List: l, Statuses: map[string]int{}}
	res.domains = CheckDomains(ctx, r, l.Domains, opt)
	status := make(map[string]string, len(res.domains))
	hosted := map[provider.Hosting]*Hosted{}
	for _, h := range provider.Hostings {
		hosted[h] = &Hosted{Hosting: h}
	}
	for _, d := range res.domains {
		status[d.Domain] = d.Status
		res.Statuses[d.Status]++
		if Deliverable(d.Status) || d.Status == StatusUnknown || d.Status == StatusUnchecked {
			hosted[d.Hosting].Domains++
			hosted[d.Hosting].Recipients += d.Recipients
		}
		if !Deliverable(d.Status) && len(res.Problems) < MaxExamples*50 {
			res.Problems = append(res.Problems, d)
		}
	}
	for _, h := range provider.Hostings {
		res.Hosted = append(res.Hosted, *hosted[h])
	}
	res.Top = res.domains[:min(len(res.domains), MaxExamples)]
	res.Typos = Typos(l.Domains, status)
	return res
}

// Governed is the number of recipients whose mail the provider's rules
// govern, with the number of their domains.
func (r *Result) Governed(id provider.ID) (recipients, domains int) {
	for _, h := range r.Hosted {
		if g, ok := h.Hosting.Governs(); ok && g == id {
			recipients += h.Recipients
			domains += h.Domains
		}
	}
	return recipients, domains
}

// DomainResults returns every domain looked up, most recipients first.
func (r *Result) DomainResults() []DomainResult { return r.domains }

// Findings judges the list and its domains.
func (r *Result) Findings() []report.Finding {
	fs := []report.Finding{r.summaryFinding()}
	fs = append(fs, r.lineFindings()...)
	fs = append(fs, r.typoFindings()...)
	fs = append(fs, r.domainFindings()...)
	fs = append(fs, r.hostingFinding())
	return fs
}

func (r *Result) summaryFinding() report.Finding {
	f := report.Finding{ID: "recipients.read", Severity: report.Info,
		Summary: fmt.Sprintf("%d lines: %d addresses, %d unique, in %d domains", r.Lines, r.Addresses, r.Unique, len(r.List.Domains))}
	if r.HeaderSkipped {
		f.Evidence = append(f.Evidence, "the first line is a CSV header and was skipped")
	}
	if r.Untracked > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("%d addresses past the first %d distinct ones were not checked for duplicates", r.Untracked, MaxTracked))
	}
	if r.DomainsOverflow > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("%d addresses are in domains past the first %d and were not looked up", r.DomainsOverflow, MaxDomains))
	}
	return f
}

func examples(ps []LineProblem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, fmt.Sprintf("line %d: %s — %s", p.Line, p.Text, p.Reason))
	}
	return out
}

func (r *Result) lineFindings() []report.Finding {
	var fs []report.Finding
	if r.SyntaxErrors > 0 {
		fs = append(fs, report.Finding{ID: "recipients.syntax", Severity: report.Warning,
			Summary:    fmt.Sprintf("%d lines are not valid addresses", r.SyntaxErrors),
			Evidence:   examples(r.SyntaxExamples),
			Cause:      "such lines bounce at once (553 5.1.3) or never leave the platform",
			Fix:        "correct or remove them; the first lines are listed with their numbers",
			References: []string{"RFC 5321 §4.1.2"}})
	}
	if r.Duplicates > 0 {
		fs = append(fs, report.Finding{ID: "recipients.duplicates", Severity: report.Warning,
			Summary:  fmt.Sprintf("%d addresses are listed more than once (compared without regard to case)", r.Duplicates),
			Evidence: examples(r.DupExamples),
			Cause:    "duplicates get the message twice and complain more",
			Fix:      "remove the duplicates"})
	}
	if r.Roles > 0 {
		fs = append(fs, report.Finding{ID: "recipients.roles", Severity: report.Warning,
			Summary:    fmt.Sprintf("%d addresses are role mailboxes (info@, sales@, postmaster@ …)", r.Roles),
			Evidence:   examples(r.RoleExamples),
			Cause:      "role mailboxes reach a team, not a person who subscribed; they complain and trap more often",
			Fix:        "send marketing only to personal addresses that opted in",
			References: []string{"RFC 2142"}})
	}
	return fs
}

func (r *Result) typoFindings() []report.Finding {
	if len(r.Typos) == 0 {
		return nil
	}
	n := 0
	var ev []string
	for i, t := range r.Typos {
		n += t.Recipients
		if i < MaxExamples {
			line := fmt.Sprintf("%s (%d recipients) → %s?", t.Domain, t.Recipients, t.Likely)
			if t.Status != "" {
				line += " [" + t.Status + "]"
			}
			ev = append(ev, line)
		}
	}
	return []report.Finding{{ID: "recipients.typo-domains", Severity: report.Warning,
		Summary:  fmt.Sprintf("%d domains (%d recipients) look like typos of common domains", len(r.Typos), n),
		Evidence: ev,
		Cause:    "mail to a mistyped domain bounces, or reaches a typo squatter or a spam trap",
		Fix:      "correct the addresses (ask the subscribers to confirm) or remove them"}}
}

// domainFindings: one finding per kind of undeliverable domain.
func (r *Result) domainFindings() []report.Finding {
	kinds := []struct {
		status, id string
		sev        report.Severity
		what, fix  string
		refs       []string
	}{
		{StatusNXDomain, "recipients.domain-nxdomain", report.Failure, "do not exist (NXDOMAIN)", "remove or correct these addresses", []string{"RFC 5321 §5.1"}},
		{StatusNullMX, "recipients.domain-null-mx", report.Failure, "publish a null MX: they accept no mail", "remove these addresses", []string{"RFC 7505"}},
		{StatusNoMail, "recipients.domain-no-mail", report.Failure, "have neither MX nor address records", "remove these addresses", []string{"RFC 5321 §5.1"}},
		{StatusNoAddress, "recipients.domain-no-address", report.Failure, "have MX hosts without addresses", "remove these addresses, or retry later", []string{"RFC 5321 §5.1"}},
		{StatusImplicit, "recipients.domain-implicit-mx", report.Info, "have no MX record; mail goes to the domain's own address (implicit MX)", "nothing to do; such domains often take no mail", []string{"RFC 5321 §5.1"}},
		{StatusUnknown, "recipients.domain-unknown", report.Unknown, "could not be looked up (the lookup failed)", "retry; the domains may well be fine", nil},
		{StatusUnchecked, "recipients.domain-unchecked", report.Unknown, "were not looked up (deadline, or past the bound)", "run again with a longer --timeout", nil},
	}
	var fs []report.Finding
	for _, k := range kinds {
		var ev []string
		domains, recips := 0, 0
		for _, d := range r.domains {
			if d.Status != k.status {
				continue
			}
			domains++
			recips += d.Recipients
			if len(ev) < MaxExamples {
				ev = append(ev, fmt.Sprintf("%s (%d recipients)%s", d.Domain, d.Recipients, withReason(d.Reason)))
			}
		}
		if domains > 0 {
			fs = append(fs, report.Finding{ID: k.id, Severity: k.sev, Evidence: ev, Fix: k.fix, References: k.refs,
				Summary: fmt.Sprintf("%d domains (%d recipients) %s", domains, recips, k.what)})
		}
	}
	return fs
}

func withReason(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func (r *Result) hostingFinding() report.Finding {
	var ev []string
	hs := append([]Hosted(nil), r.Hosted...)
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Recipients > hs[j].Recipients })
	for _, h := range hs {
		if h.Recipients == 0 {
			continue
		}
		rule := "no consumer rules"
		if id, ok := h.Hosting.Governs(); ok {
			p, _ := provider.ByID(id)
			rule = p.Name + "'s bulk-sender rules"
		}
		ev = append(ev, fmt.Sprintf("%-30s %7d recipients in %6d domains (%s)", h.Hosting.Describe(), h.Recipients, h.Domains, rule))
	}
	var gov []string
	for _, p := range provider.All {
		n, _ := r.Governed(p.ID)
		gov = append(gov, fmt.Sprintf("%s %d", p.Short, n))
	}
	for _, h := range r.Hosted {
		if h.Hosting == provider.HostUnknown && h.Recipients > 0 {
			gov = append(gov, fmt.Sprintf("unknown %d (domains not looked up)", h.Recipients))
		}
	}
	return report.Finding{ID: "recipients.providers", Severity: report.Info,
		Summary:  "recipients by provider (from the domains' MX hosts): " + strings.Join(gov, ", "),
		Evidence: ev}
}
