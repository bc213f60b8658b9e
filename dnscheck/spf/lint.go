package spf

// Lint of a domain's whole SPF record tree. Evaluation stops at the first
// match; a health check must not: a broken include after the matching term
// breaks mail from every other sender. Every record in the tree is judged,
// with the lookup counts of RFC 7208 §4.6.4 per node so the user sees which
// include to flatten.

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"

	"github.com/mxray/mxray/report"
)

// Analyze fetches, resolves and lints the SPF record tree of domain. The
// returned check can then Evaluate addresses, reusing the tree's lookups.
func Analyze(ctx context.Context, r dnscheck.Resolver, domain string) *Check {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	m := dnscheck.NewMemo(r)
	c := &Check{Domain: domain, memo: m}
	var rr99 dnscheck.Answer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.Tree = walkTree(ctx, m, domain, &walkOptions{maxNodes: 100}) }()
	// RFC 7208 §3.1 removed the SPF RR type (99); look for it to say so.
	go func() { defer wg.Done(); rr99 = m.Lookup(ctx, dnscheck.QueryName(domain), dns.TypeSPF) }()
	wg.Wait()
	c.Record = c.Tree.Record
	c.Status = c.Tree.Status
	c.Lookups, c.VoidLookups = c.Tree.TotalLookups, c.Tree.TotalVoid
	c.Findings = lint(c, rr99)
	return c
}

// Evaluate runs check_host() for ip against the check's domain, reusing the
// lookups the analysis made. sender "" is postmaster@domain; a sender at
// another domain still has the check's domain evaluated (its local part
// and domain feed the %{l}, %{o} and %{s} macros).
func (c *Check) Evaluate(ctx context.Context, r dnscheck.Resolver, ip netip.Addr, sender, helo string) Evaluation {
	m := c.memo
	if m == nil {
		m = dnscheck.NewMemo(r)
	}
	if sender == "" {
		sender = "postmaster@" + c.Domain
	}
	if helo == "" {
		helo = c.Domain
	}
	return checkHostMemo(ctx, m, ip, c.Domain, sender, helo, true)
}

var refs = []string{"RFC 7208"}

func lint(c *Check, rr99 dnscheck.Answer) []report.Finding {
	var fs []report.Finding
	root := c.Tree
	d := c.Domain
	ev := append([]string{root.TXT.Describe()}, quoteAll(dnscheck.TXTStrings(root.TXT))...)
	switch root.Status {
	case "none":
		f := report.Finding{ID: "spf.missing", Severity: report.Failure,
			Summary:    d + " has no SPF record",
			Evidence:   ev,
			Cause:      "without SPF, receivers cannot tell which hosts may send as " + d + "; Gmail and Yahoo require SPF or DKIM for all senders and both for bulk senders, and DMARC has one fewer way to pass",
			Fix:        "publish one TXT record listing the hosts that send mail for " + d + " and ending in -all (or ~all while testing)",
			Publish:    []string{d + `. IN TXT "v=spf1 mx -all"   ; add ip4:/include: for every other sending service`},
			References: []string{"RFC 7208 §3", "RFC 7208 §4.5"}}
		if len(rr99.Records) > 0 {
			f.Evidence = append(f.Evidence, "SPF (type 99) records exist but are not used by receivers: "+strings.Join(rr99.Strings(), " | "))
			f.Cause += "; the record is published only as the obsolete SPF RR type (99), which RFC 7208 §3.1 removed"
		}
		return append(fs, f)
	case "invalid", "skipped":
		return append(fs, report.Finding{ID: "spf.not-checked", Severity: report.Unknown,
			Summary: "the SPF record of " + d + " was not checked: " + orDefault(root.Error, "the check ended first")})
	case "unknown":
		return append(fs, report.Finding{ID: "spf.lookup-failed", Severity: report.Unknown,
			Summary: "could not look up the SPF (TXT) record of " + d, Evidence: ev,
			Cause: "receivers that see the same failure give temperror and defer mail (RFC 7208 §4.4)",
			Fix:   "retry; if it persists, check the nameservers of " + d, References: []string{"RFC 7208 §4.4"}})
	}
	if len(rr99.Records) > 0 {
		fs = append(fs, report.Finding{ID: "spf.type99", Severity: report.Warning,
			Summary:  d + " still publishes the obsolete SPF RR type (99)",
			Evidence: rr99.Strings(),
			Cause:    "RFC 7208 §3.1 removed the SPF RR type; receivers read only TXT, so the type 99 copy is dead weight that drifts out of date",
			Fix:      "delete the SPF (type 99) record and keep the TXT record", References: []string{"RFC 7208 §3.1", "RFC 7208 §14.1"}})
	}
	fs = append(fs, lintNode(c, root, true, nil)...)
	fs = append(fs, lintIPs(root)...)
	fs = append(fs, lintLimits(c)...)
	if root.Status == "ok" && worstOf(fs) == report.OK {
		fs = append(fs, report.Finding{ID: "spf.ok", Severity: report.OK,
			Summary: fmt.Sprintf("%s publishes one valid SPF record: %s", d, c.Record)})
	}
	return fs
}

func worstOf(fs []report.Finding) report.Severity {
	w := report.OK
	for _, f := range fs {
		w = report.Worst(w, f.Severity)
	}
	return w
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// lintNode judges one record and, recursively, its children. policy is
// true for the root and for records reached by redirect from it: their
// "all" decides the domain's result.
func lintNode(c *Check, n *Node, policy bool, parent *Node) []report.Finding {
	from := ""
	if parent != nil {
		from = " (" + n.Via + " in the record of " + parent.Domain + ")"
	}
	if fs, done := lintStatus(n, parent, from); done {
		return fs
	}
	rec := n.Parsed
	if rec == nil {
		return nil
	}
	fs := lintSize(n, from)
	termFs, allTerm := lintTerms(n, from)
	fs = append(fs, termFs...)
	fs = append(fs, lintRedirectIgnored(n, allTerm)...)
	if policy {
		fs = append(fs, lintPolicyAll(n, allTerm)...)
	}
	fs = append(fs, lintTermLookups(n)...)
	fs = append(fs, lintChildren(c, n, policy)...)
	return fs
}

// lintStatus judges a node whose record cannot be judged term by term: no
// record, a failed lookup, several records, a syntax error, a loop, an
// invalid or message-dependent target, or a tree cut short. done is true for
// each of these; the node then has nothing more to judge.
func lintStatus(n *Node, parent *Node, from string) (fs []report.Finding, done bool) {
	subj := n.Domain
	ev := append([]string{n.TXT.Describe()}, quoteAll(dnscheck.TXTStrings(n.TXT))...)
	switch n.Status {
	case "none":
		if parent == nil {
			return nil, true
		}
		return []report.Finding{lintNoRecord(n, parent, from, ev)}, true
	case "unknown":
		return []report.Finding{{ID: "spf.include-lookup-failed", Severity: report.Unknown, Subject: subj,
			Summary: "could not look up the SPF record of " + n.Domain + from, Evidence: ev,
			Cause: "receivers that see the same failure give temperror", Fix: "retry; if it persists, check the nameservers of " + n.Domain,
			References: []string{"RFC 7208 §4.4"}}}, true
	case "multiple":
		return []report.Finding{{ID: "spf.multiple-records", Severity: report.Failure, Subject: subj,
			Summary:    fmt.Sprintf("%s has %d v=spf1 records%s: SPF evaluation is a permerror", n.Domain, len(n.Records), from),
			Evidence:   append([]string{n.TXT.Describe()}, quoteAll(n.Records)...),
			Cause:      "RFC 7208 §4.5: more than one v=spf1 record is a permerror; usually a second record was added for a new service instead of merging",
			Fix:        "merge them into one record: keep one v=spf1, the union of the mechanisms, and one all at the end",
			Publish:    mergedRecord(n),
			References: []string{"RFC 7208 §4.5", "RFC 7208 §3.2"}}}, true
	case "syntax-error":
		return []report.Finding{lintSyntaxError(n, from, ev)}, true
	case "loop":
		return []report.Finding{{ID: "spf.include-loop", Severity: report.Failure, Subject: subj,
			Summary:    n.Domain + " is reached again from inside its own tree" + from,
			Cause:      "evaluation recurses until the limit of 10 DNS-querying terms: permerror (RFC 7208 §4.6.4)",
			Fix:        "remove " + n.Via + " from the record of " + parent.Domain,
			References: []string{"RFC 7208 §4.6.4", "RFC 7208 §5.2"}}}, true
	case "invalid":
		return []report.Finding{{ID: "spf.invalid-target", Severity: report.Failure, Subject: subj,
			Summary: n.Via + " in the record of " + parent.Domain + " names an invalid domain: " + n.Error,
			Fix:     "correct the domain name", References: []string{"RFC 7208 §4.3", "RFC 7208 §7.1"}}}, true
	case "macro":
		return []report.Finding{{ID: "spf.macro-target", Severity: report.Info, Subject: parent.Domain,
			Summary: n.Via + " depends on the message (macros); its record is resolved per evaluation and counted as 1 lookup here"}}, true
	case "skipped":
		return []report.Finding{{ID: "spf.tree-truncated", Severity: report.Unknown, Subject: subj,
			Summary: "the record tree is too deep or too large to resolve fully; " + n.Domain + " was not fetched" + from}}, true
	}
	return nil, false
}

// lintNoRecord reports an include or redirect target that has no SPF record.
func lintNoRecord(n *Node, parent *Node, from string, ev []string) report.Finding {
	id, ref := "spf.include-no-record", "RFC 7208 §5.2"
	if strings.HasPrefix(strings.ToLower(n.Via), "redirect") {
		id, ref = "spf.redirect-no-record", "RFC 7208 §6.1"
	}
	return report.Finding{ID: id, Severity: report.Failure, Subject: n.Domain,
		Summary:    n.Domain + " has no SPF record" + from + ": evaluation reaching it is a permerror",
		Evidence:   ev,
		Cause:      "an include or redirect of a domain without an SPF record makes check_host() return permerror, and receivers treat a permerror like a fail or ignore SPF",
		Fix:        "remove " + n.Via + " from the record of " + parent.Domain + ", or correct the domain name (the provider's documentation names the include to use)",
		References: []string{ref, "RFC 7208 §2.6.7"}}
}

// lintSyntaxError reports a record that does not parse, pointing at the
// error and at character-strings joined without a space.
func lintSyntaxError(n *Node, from string, ev []string) report.Finding {
	evs := append([]string{}, ev...)
	evs = append(evs, n.Record, strings.Repeat(" ", max(n.ErrorPos-1, 0))+"^")
	if parts := dnscheck.TXTParts(n.TXT); len(parts) > 0 {
		for _, p := range parts {
			if len(p) > 1 && IsRecord(strings.Join(p, "")) {
				evs = append(evs, fmt.Sprintf("the record is split into %d strings, joined without spaces (RFC 7208 §3.3): check that each string ends or the next begins with a space", len(p)))
			}
		}
	}
	return report.Finding{ID: "spf.syntax-error", Severity: report.Failure, Subject: n.Domain,
		Summary:    "syntax error in the SPF record of " + n.Domain + from + ": " + n.Error,
		Evidence:   evs,
		Cause:      "RFC 7208 §4.6: a syntax error anywhere in the record makes check_host() return permerror, whatever the client",
		Fix:        "correct the record at the position shown",
		References: []string{"RFC 7208 §4.6", "RFC 7208 §12"}}
}

// lintTerms judges the record's terms in order: +all, ptr, and terms after
// the first "all", which are never evaluated. It returns that first "all"
// term, or nil.
func lintTerms(n *Node, from string) (fs []report.Finding, allTerm *Term) {
	subj := n.Domain
	rec := n.Parsed
	for i := range rec.Terms {
		t := &rec.Terms[i]
		if t.Mechanism == "all" && allTerm == nil {
			allTerm = t
		}
		if t.Mechanism == "all" && t.Qualifier == '+' {
			fs = append(fs, report.Finding{ID: "spf.all-pass", Severity: report.Failure, Subject: subj,
				Summary:    fmt.Sprintf("%q in the record of %s%s authorizes every host on the internet", t.Raw, n.Domain, from),
				Evidence:   []string{n.Record},
				Cause:      "+all makes SPF pass for any sender address, so SPF gives no protection and DMARC can pass for forged mail",
				Fix:        "end the record with -all (or ~all)",
				Publish:    []string{n.Domain + ". IN TXT " + quoteRecord(strings.Replace(n.Record, t.Raw, "-all", 1))},
				References: []string{"RFC 7208 §5.1", "RFC 7208 §10.1"}})
		}
		if t.Mechanism == "ptr" {
			fs = append(fs, report.Finding{ID: "spf.ptr-deprecated", Severity: report.Warning, Subject: subj,
				Summary:    fmt.Sprintf("%q in the record of %s%s: the ptr mechanism is deprecated", t.Raw, n.Domain, from),
				Cause:      "RFC 7208 §5.5: ptr is slow, unreliable (reverse DNS is controlled by the address owner) and loads the .arpa servers; some receivers skip it",
				Fix:        "replace ptr with ip4:/ip6: ranges or a:/include: of the sending hosts",
				References: []string{"RFC 7208 §5.5"}})
		}
		if allTerm != nil && t != allTerm && t.Mechanism != "" {
			fs = append(fs, report.Finding{ID: "spf.after-all", Severity: report.Warning, Subject: subj,
				Summary: fmt.Sprintf("%q comes after %q in the record of %s and is never evaluated", t.Raw, allTerm.Raw, n.Domain),
				Cause:   "\"all\" always matches; evaluation stops there (RFC 7208 §5.1)",
				Fix:     "move " + t.Raw + " before " + allTerm.Raw, References: []string{"RFC 7208 §5.1"}})
		}
	}
	return fs, allTerm
}

// lintRedirectIgnored reports a redirect in a record that also has "all".
func lintRedirectIgnored(n *Node, allTerm *Term) []report.Finding {
	rec := n.Parsed
	if rec.Redirect == nil || allTerm == nil {
		return nil
	}
	return []report.Finding{{ID: "spf.redirect-ignored", Severity: report.Warning, Subject: n.Domain,
		Summary:    fmt.Sprintf("%q in the record of %s is ignored because the record has %q", rec.Redirect.Raw, n.Domain, allTerm.Raw),
		Cause:      "RFC 7208 §6.1: redirect applies only when no mechanism matches, and \"all\" always matches",
		Fix:        "remove either the redirect or the all mechanism, whichever was not meant",
		References: []string{"RFC 7208 §6.1"}}}
}

// lintPolicyAll judges how a policy record (the root, or one reached by
// redirect from it) ends when nothing matches: no "all" and no redirect, or
// ?all, leave unlisted hosts neutral.
func lintPolicyAll(n *Node, allTerm *Term) []report.Finding {
	if n.Parsed.Redirect != nil {
		return nil
	}
	subj := n.Domain
	switch {
	case allTerm == nil:
		// Info, as ?all: neutral for strangers is the domain's choice (RFC
		// 7208 §4.7); its own mail still passes, and DMARC decides on forgeries.
		return []report.Finding{{ID: "spf.no-all", Severity: report.Info, Subject: subj,
			Summary:    "the SPF record of " + n.Domain + " has no \"all\" mechanism and no redirect: unlisted hosts get neutral",
			Evidence:   []string{n.Record},
			Cause:      "RFC 7208 §4.7: when nothing matches the result is neutral, which receivers treat like no SPF at all",
			Fix:        "end the record with -all (or ~all while you are still finding your senders)",
			Publish:    []string{n.Domain + ". IN TXT " + quoteRecord(strings.TrimRight(n.Record, " ")+" -all")},
			References: []string{"RFC 7208 §4.7", "RFC 7208 §5.1"}}}
	case allTerm.Qualifier == '?':
		return []report.Finding{{ID: "spf.all-neutral", Severity: report.Info, Subject: subj,
			Summary:    "the SPF record of " + n.Domain + " ends in ?all: unlisted hosts get neutral",
			Evidence:   []string{n.Record},
			Cause:      "neutral asserts nothing; receivers treat it like no SPF, so forged mail is not told apart",
			Fix:        "end the record with -all (or ~all)",
			Publish:    []string{n.Domain + ". IN TXT " + quoteRecord(strings.Replace(n.Record, allTerm.Raw, "-all", 1))},
			References: []string{"RFC 7208 §2.6.2", "RFC 7208 §8.2"}}}
	}
	return nil
}

// lintTermLookups judges the DNS lookups of the record's terms: an mx with
// too many names, void lookups, and lookups that failed.
func lintTermLookups(n *Node) []report.Finding {
	subj := n.Domain
	var fs []report.Finding
	for _, tc := range n.Terms {
		switch {
		case tc.MXNames > MaxMXNames:
			fs = append(fs, report.Finding{ID: "spf.mx-too-many", Severity: report.Failure, Subject: subj,
				Summary: fmt.Sprintf("%q in the record of %s: %s has %d MX names; evaluation is a permerror", tc.Term, n.Domain, tc.Target, tc.MXNames),
				Cause:   "RFC 7208 §4.6.4: an mx term may look up at most 10 names; more is a permerror",
				Fix:     "replace mx with ip4:/ip6: ranges of the mail hosts", References: []string{"RFC 7208 §4.6.4"}})
		case tc.Void:
			fs = append(fs, report.Finding{ID: "spf.void-lookup", Severity: report.Warning, Subject: subj,
				Summary: fmt.Sprintf("%q in the record of %s: %s has no records (%s), a void lookup", tc.Term, n.Domain, tc.Target, tc.Status),
				Cause:   "the term can never match, and each such lookup counts against the limit of 2 void lookups (RFC 7208 §4.6.4); often a decommissioned host or a typo",
				Fix:     "remove " + tc.Term + " or correct the name", References: []string{"RFC 7208 §4.6.4"}})
		case tc.Status == "servfail" || tc.Status == "timeout" || tc.Status == "refused" || tc.Status == "error" || tc.Status == "unknown":
			fs = append(fs, report.Finding{ID: "spf.term-lookup-failed", Severity: report.Unknown, Subject: subj,
				Summary: fmt.Sprintf("%q in the record of %s: the lookup of %s failed (%s); evaluation reaching it is a temperror", tc.Term, n.Domain, tc.Target, tc.Status),
				Fix:     "retry; if it persists, check the nameservers of " + tc.Target, References: []string{"RFC 7208 §5"}})
		}
		if tc.Detail != "" && tc.MXNames <= MaxMXNames && strings.HasPrefix(tc.Detail, "address lookup failed") {
			fs = append(fs, report.Finding{ID: "spf.term-lookup-failed", Severity: report.Unknown, Subject: subj,
				Summary: fmt.Sprintf("%q in the record of %s: %s", tc.Term, n.Domain, tc.Detail)})
		}
	}
	return fs
}

// lintChildren reports includes repeated in the record and judges each
// child record in turn; a redirect from a policy record is a policy record.
func lintChildren(c *Check, n *Node, policy bool) []report.Finding {
	var fs []report.Finding
	seen := map[string]bool{}
	for _, ch := range n.Children {
		key := strings.ToLower(ch.Domain)
		if seen[key] && ch.Status != "macro" {
			fs = append(fs, report.Finding{ID: "spf.duplicate-include", Severity: report.Warning, Subject: n.Domain,
				Summary: fmt.Sprintf("the record of %s includes %s more than once", n.Domain, ch.Domain),
				Cause:   "each include costs lookups against the limit of 10 and the second can never change the result",
				Fix:     "remove the repeated " + ch.Via, References: []string{"RFC 7208 §4.6.4"}})
		}
		seen[key] = true
		isRedirect := strings.HasPrefix(strings.ToLower(ch.Via), "redirect")
		fs = append(fs, lintNode(c, ch, policy && isRedirect, n)...)
	}
	return fs
}

// lintSize judges how the record travels: character-strings over 255
// octets cannot be sent, and an answer over 512 octets needs EDNS0 or TCP.
func lintSize(n *Node, from string) []report.Finding {
	var fs []report.Finding
	for _, parts := range dnscheck.TXTParts(n.TXT) {
		if !IsRecord(strings.Join(parts, "")) {
			continue
		}
		for _, p := range parts {
			if len(p) > 255 {
				fs = append(fs, report.Finding{ID: "spf.txt-string-too-long", Severity: report.Failure, Subject: n.Domain,
					Summary:    fmt.Sprintf("a TXT character-string of the SPF record of %s is %d octets; the limit is 255", n.Domain, len(p)),
					Cause:      "a DNS character-string holds at most 255 octets (RFC 1035 §3.3); longer text must be split into several strings of one TXT record, which receivers join without spaces (RFC 7208 §3.3)",
					Fix:        "publish the record as several quoted strings",
					Publish:    []string{n.Domain + ". IN TXT " + quoteRecord(strings.Join(parts, ""))},
					References: []string{"RFC 7208 §3.3", "RFC 1035 §3.3"}})
			}
		}
	}
	size := answerSize(n.TXT)
	switch {
	case size > 512:
		fs = append(fs, report.Finding{ID: "spf.udp-size", Severity: report.Warning, Subject: n.Domain,
			Summary:    fmt.Sprintf("the TXT answer for %s%s is %d octets, more than fits a 512-octet UDP reply", n.Domain, from, size),
			Evidence:   []string{n.TXT.Describe(), fmt.Sprintf("record: %d octets", len(n.Record))},
			Cause:      "RFC 7208 §3.4: receivers without EDNS0 get a truncated reply and must retry over TCP; some do not, and get temperror",
			Fix:        "shorten the TXT records at this name: move other TXT records (site verifications) to subdomains where the service allows, or split the SPF record with include:",
			References: []string{"RFC 7208 §3.4"}})
	case len(n.Record) > 450:
		fs = append(fs, report.Finding{ID: "spf.record-long", Severity: report.Info, Subject: n.Domain,
			Summary:    fmt.Sprintf("the SPF record of %s is %d octets; RFC 7208 §3.4 advises staying under 450 so the answer fits in 512 octets", n.Domain, len(n.Record)),
			References: []string{"RFC 7208 §3.4"}})
	}
	return fs
}

// answerSize is the size of the TXT reply: as received, or rebuilt from the
// records when the resolver did not say (a reply without EDNS0 or other
// records in it would be at least this large).
func answerSize(a dnscheck.Answer) int {
	if len(a.Records) == 0 {
		return a.Size
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(a.Name), dns.TypeTXT)
	m.Response = true
	m.Answer = a.Records
	m.Compress = true
	return max(a.Size, m.Len())
}

// quoteRecord writes a record as master-file TXT data, split into strings
// of at most 255 octets (RFC 7208 §3.3).
func quoteRecord(rec string) string {
	var parts []string
	for len(rec) > 255 {
		cut := strings.LastIndexByte(rec[:255], ' ')
		if cut <= 0 {
			cut = 255
		}
		parts = append(parts, rec[:cut])
		rec = rec[cut:]
	}
	parts = append(parts, rec)
	for i, p := range parts {
		parts[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
	}
	return strings.Join(parts, " ")
}

// mergedRecord proposes one record from several: their terms, without
// duplicates, the all of the first record last.
func mergedRecord(n *Node) []string {
	var terms []string
	seen := map[string]bool{}
	all := ""
	for _, r := range n.Records {
		rec, err := Parse(r)
		if err != nil {
			return nil
		}
		for _, t := range rec.Terms {
			k := strings.ToLower(t.Raw)
			if t.Mechanism == "all" {
				if all == "" {
					all = t.Raw
				}
				continue
			}
			if !seen[k] {
				seen[k] = true
				terms = append(terms, t.Raw)
			}
		}
	}
	if all == "" {
		all = "~all"
	}
	rec := "v=spf1 " + strings.Join(append(terms, all), " ")
	return []string{n.Domain + ". IN TXT " + quoteRecord(rec) + "   ; check the merged list before publishing"}
}

// spfNet is one ip4/ip6 term of the tree, for the duplicate/overlap lint.
type spfNet struct {
	p      netip.Prefix
	domain string
	term   string
}

func collectNets(n *Node, out *[]spfNet, seen map[string]bool) {
	// A record reached twice (two includes of the same domain) is one
	// record: its ranges are not duplicates of themselves.
	if seen[strings.ToLower(n.Domain)] {
		return
	}
	seen[strings.ToLower(n.Domain)] = true
	if n.Parsed != nil {
		for _, t := range n.Parsed.Terms {
			if t.Mechanism == "ip4" || t.Mechanism == "ip6" {
				*out = append(*out, spfNet{t.Net.Masked(), n.Domain, t.Raw})
			}
		}
	}
	for _, c := range n.Children {
		collectNets(c, out, seen)
	}
}

// lintIPs reports ip4/ip6 ranges listed twice or contained in another
// range of the same tree: harmless to the result, but they make the record
// longer and hide which entry is meant.
func lintIPs(root *Node) []report.Finding {
	var nets []spfNet
	collectNets(root, &nets, map[string]bool{})
	sort.SliceStable(nets, func(i, j int) bool { return nets[i].p.Bits() < nets[j].p.Bits() })
	var dup, over []string
	for i := range nets {
		for j := range i {
			a, b := nets[j], nets[i] // a is at least as wide as b
			if a.p.Addr().Is4() != b.p.Addr().Is4() || !a.p.Contains(b.p.Addr()) {
				continue
			}
			where := func(x spfNet) string { return x.term + " (" + x.domain + ")" }
			if a.p == b.p {
				dup = append(dup, where(b)+" repeats "+where(a))
			} else {
				over = append(over, where(b)+" is inside "+where(a))
			}
			break
		}
	}
	var fs []report.Finding
	if len(dup) > 0 {
		fs = append(fs, report.Finding{ID: "spf.duplicate-ip", Severity: report.Info,
			Summary: fmt.Sprintf("%d address range(s) are listed more than once in the SPF tree", len(dup)), Evidence: dup,
			Cause: "repeats make the record longer (closer to the 512-octet reply size) without authorizing anything more",
			Fix:   "remove the repeated entries from your own records; repeats inside a provider's include are theirs to fix", References: []string{"RFC 7208 §3.4"}})
	}
	if len(over) > 0 {
		fs = append(fs, report.Finding{ID: "spf.overlapping-ip", Severity: report.Info,
			Summary: fmt.Sprintf("%d address range(s) are contained in a wider range of the SPF tree", len(over)), Evidence: over,
			Fix: "remove the narrower entries if the wider range is meant to stay"})
	}
	return fs
}

// lintLimits reports the totals against RFC 7208 §4.6.4, with each
// include's share so the user sees which one to flatten.
func lintLimits(c *Check) []report.Finding {
	root := c.Tree
	if root.Status != "ok" {
		return nil
	}
	var ev []string
	var shares []*Node
	var walk func(n *Node)
	walk = func(n *Node) {
		for _, ch := range n.Children {
			shares = append(shares, ch)
			if strings.HasPrefix(strings.ToLower(ch.Via), "redirect") {
				walk(ch)
			}
		}
	}
	walk(root)
	sort.SliceStable(shares, func(i, j int) bool { return shares[i].TotalLookups > shares[j].TotalLookups })
	ev = append(ev, fmt.Sprintf("%s: %d of its own", root.Domain, root.Lookups))
	for _, s := range shares {
		ev = append(ev, fmt.Sprintf("%s: %d lookups (1 for the term, %d inside)", s.Via, s.TotalLookups+1, s.TotalLookups))
	}
	loop := hasStatus(root, "loop")
	var fs []report.Finding
	counts := fmt.Sprintf("%d/%d lookups, %d/%d void", c.Lookups, MaxLookups, c.VoidLookups, MaxVoidLookups)
	switch {
	case c.Lookups > MaxLookups || loop:
		flatten := ""
		if len(shares) > 0 {
			flatten = " — start with " + shares[0].Via + " (" + fmt.Sprint(shares[0].TotalLookups+1) + " lookups)"
		}
		fs = append(fs, report.Finding{ID: "spf.lookup-limit", Severity: report.Failure,
			Summary:    fmt.Sprintf("the SPF tree of %s needs %d DNS-querying terms; the limit is %d (%s)", root.Domain, c.Lookups, MaxLookups, counts),
			Evidence:   ev,
			Cause:      "RFC 7208 §4.6.4: the 11th include/a/mx/ptr/exists/redirect is a permerror; mail from every sender whose match comes after that point fails SPF",
			Fix:        "replace includes with the ip4:/ip6: ranges they resolve to (flattening), drop includes of services no longer used, or move senders to subdomains with their own records" + flatten,
			References: []string{"RFC 7208 §4.6.4"}})
	case c.Lookups >= MaxLookups-1:
		fs = append(fs, report.Finding{ID: "spf.lookup-near-limit", Severity: report.Warning,
			Summary:  fmt.Sprintf("the SPF tree of %s is at %s: one more include breaks it", root.Domain, counts),
			Evidence: ev,
			Cause:    "providers change their includes without notice; a tree at the limit breaks when one of them adds a lookup",
			Fix:      "flatten an include or remove unused ones to leave headroom", References: []string{"RFC 7208 §4.6.4"}})
	default:
		fs = append(fs, report.Finding{ID: "spf.lookups", Severity: report.OK,
			Summary: fmt.Sprintf("the SPF tree of %s needs %s", root.Domain, counts), Evidence: ev})
	}
	if c.VoidLookups > MaxVoidLookups {
		fs = append(fs, report.Finding{ID: "spf.void-limit", Severity: report.Failure,
			Summary:    fmt.Sprintf("the SPF tree of %s has %d terms whose lookup finds nothing; the limit is %d", root.Domain, c.VoidLookups, MaxVoidLookups),
			Cause:      "RFC 7208 §4.6.4: the third void lookup (NXDOMAIN or no records) is a permerror",
			Fix:        "remove the terms reported as void lookups",
			References: []string{"RFC 7208 §4.6.4"}})
	}
	return fs
}

func hasStatus(n *Node, st string) bool {
	if n.Status == st {
		return true
	}
	for _, c := range n.Children {
		if hasStatus(c, st) {
			return true
		}
	}
	return false
}

// DetailLines draws the record tree and the evaluations for the text report.
func (c *Check) DetailLines() []string {
	var lines []string
	if c.Tree != nil && c.Tree.Status != "none" {
		lines = c.treeLines()
	}
	for _, e := range c.Evaluations {
		s := fmt.Sprintf("check_host(%s, %s, %s) = %s", e.IP, e.Domain, e.Sender, e.Result)
		if e.Subject != "" {
			s += "  (" + e.Subject + ")"
		}
		lines = append(lines, s)
		counted := fmt.Sprintf("(%d/%d lookups, %d/%d void counted)", e.Lookups, MaxLookups, e.VoidLookups, MaxVoidLookups)
		if e.Term != "" {
			lines = append(lines, "    decided by "+e.Term+" "+counted)
		} else {
			lines = append(lines, "    "+counted)
		}
		lines = append(lines, "    "+e.Reason)
		if e.Explanation != "" {
			lines = append(lines, "    explanation: "+e.Explanation)
		}
	}
	return lines
}

// treeLines draws the record tree, one line per record with its lookup
// counts, and under each record the terms whose lookup found nothing or
// failed.
func (c *Check) treeLines() []string {
	lines := []string{"record tree:"}
	var draw func(n *Node, prefix string, last bool, root bool)
	draw = func(n *Node, prefix string, last, root bool) {
		head, next := prefix, prefix
		if !root {
			if last {
				head, next = prefix+"└─ ", prefix+"   "
			} else {
				head, next = prefix+"├─ ", prefix+"│  "
			}
		}
		label := n.Domain
		if n.Via != "" {
			label = n.Via
		}
		counts := fmt.Sprintf("[%d lookups, %d void]", n.TotalLookups, n.TotalVoid)
		if root {
			counts = fmt.Sprintf("[%d/%d lookups, %d/%d void]", n.TotalLookups, MaxLookups, n.TotalVoid, MaxVoidLookups)
		}
		switch n.Status {
		case "ok":
			lines = append(lines, fmt.Sprintf("%s%s %s  %s", head, label, counts, n.Record))
		default:
			lines = append(lines, fmt.Sprintf("%s%s (%s) %s", head, label, n.Status, n.Error))
		}
		// The terms whose lookup found nothing or failed, under their record.
		for _, tc := range n.Terms {
			bar := "│  "
			if len(n.Children) == 0 {
				bar = "   "
			}
			switch {
			case tc.Void:
				lines = append(lines, fmt.Sprintf("%s%s· %s → %s (void lookup)", next, bar, tc.Term, tc.Status))
			case tc.Status != "ok" && tc.Status != "not-evaluated":
				lines = append(lines, fmt.Sprintf("%s%s· %s → %s", next, bar, tc.Term, tc.Status))
			case tc.Detail != "":
				lines = append(lines, fmt.Sprintf("%s%s· %s → %s", next, bar, tc.Term, tc.Detail))
			}
		}
		for i, ch := range n.Children {
			draw(ch, next, i == len(n.Children)-1, false)
		}
	}
	draw(c.Tree, "  ", true, true)
	return lines
}

// EvaluationFinding turns an evaluation into a finding. A judged
// evaluation (an IP the user says sends mail for the domain) is graded:
// fail is a failure, softfail and neutral warnings, temperror unknown. An
// unjudged one (an MX host, which may or may not send mail) is info.
func (e Evaluation) EvaluationFinding(judged bool) report.Finding {
	f := report.Finding{ID: "spf.result-" + string(e.Result), Subject: e.IP.String(),
		Summary:    fmt.Sprintf("SPF %s for %s sending as %s", e.Result, e.IP, e.Sender),
		Evidence:   []string{"decided by: " + orDefault(e.Term, "(no term: default)"), e.Reason, fmt.Sprintf("%d/%d lookups, %d/%d void", e.Lookups, MaxLookups, e.VoidLookups, MaxVoidLookups)},
		References: []string{"RFC 7208 §2.6", "RFC 7208 §4"}}
	if e.Subject != "" {
		f.Summary += " (" + e.Subject + ")"
	}
	if e.Explanation != "" {
		f.Evidence = append(f.Evidence, "explanation: "+e.Explanation)
	}
	if !judged {
		f.ID = "spf.mx-" + string(e.Result)
		f.Severity = report.Info
		if e.Result != Pass {
			f.Cause = "a mail host that also sends mail (bounces, forwards, outgoing relay) needs to be authorized; if it only receives, this is fine"
			f.Fix = "if " + e.IP.String() + " sends mail for " + e.Domain + ", add it (ip4:/ip6: or mx) to the SPF record"
		}
		return f
	}
	switch e.Result {
	case Pass:
		f.Severity = report.OK
	case Fail:
		f.Severity = report.Failure
		f.Cause = "receivers that enforce SPF reject this mail, and DMARC cannot pass through SPF"
		f.Fix = "authorize " + e.IP.String() + " in the SPF record of " + e.Domain + " (ip4:/ip6: or the sending service's include:)"
	case SoftFail, Neutral:
		f.Severity = report.Warning
		f.Cause = "the address is not authorized; receivers score the mail down and DMARC cannot pass through SPF"
		f.Fix = "authorize " + e.IP.String() + " in the SPF record of " + e.Domain
	case None:
		f.Severity = report.Failure
		f.Cause = e.Domain + " publishes no SPF record, so no address is authorized"
		f.Fix = "publish an SPF record for " + e.Domain
	case TempError:
		f.Severity = report.Unknown
		f.Cause = "a DNS lookup failed; receivers defer or accept without SPF"
		f.Fix = "retry; if it persists, check the nameservers named in the reason"
	case PermError:
		f.Severity = report.Failure
		f.Cause = "the SPF record (tree) is broken; receivers treat permerror like fail or ignore SPF"
		f.Fix = "fix the record as the lint findings say"
	}
	return f
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
