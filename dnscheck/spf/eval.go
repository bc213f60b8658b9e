package spf

// check_host() (RFC 7208 §4 and §5) with the processing limits of §4.6.4.
//
// Evaluation is sequential, as the RFC defines it: terms are evaluated left
// to right, the first match decides, and the DNS-querying terms (include, a,
// mx, ptr, exists, redirect) and void lookups are counted in that order, so
// the 11th such term or the 3rd void lookup is a permerror exactly where the
// RFC says. Speed comes from beside the evaluation: while it runs, a
// prefetcher walks the record tree concurrently (spf_tree.go) and warms a
// per-evaluation memo, so the evaluator's sequential lookups mostly find
// their answer already there or in flight. A record with N includes thus
// resolves in about its depth in round trips, not N.

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"
)

// SPF processing limits (RFC 7208 §4.6.4).
const (
	MaxLookups     = 10 // DNS-querying terms per check_host()
	MaxVoidLookups = 2  // lookups answered NXDOMAIN or NODATA
	MaxMXNames     = 10 // MX names per "mx" term (more: permerror)
	MaxPTRNames    = 10 // PTR names per "ptr" / %{p} (more: ignored)
)

// CheckHost is the RFC 7208 §4 check_host() entry point. ip is the SMTP
// client's address, domain the domain to check (the MAIL FROM domain, or the
// HELO name for a null sender; "" takes it from sender), sender the MAIL FROM
// address ("" for the null sender: postmaster@HELO, §2.4) and helo the
// HELO/EHLO name. It never returns an error: DNS failures are temperror, bad
// records permerror, each with the reason and the deciding term.
func CheckHost(ctx context.Context, r dnscheck.Resolver, ip netip.Addr, domain, sender, helo string) Evaluation {
	m := dnscheck.NewMemo(r)
	return checkHostMemo(ctx, m, ip, domain, sender, helo, true)
}

// checkHostMemo runs check_host() on a memo; with prefetch it walks the
// tree concurrently to warm the memo.
func checkHostMemo(ctx context.Context, m *dnscheck.Memo, ip netip.Addr, domain, sender, helo string, prefetch bool) Evaluation {
	ip = ip.Unmap() // §5: an IPv4-mapped IPv6 client is an IPv4 client
	helo = strings.TrimSuffix(helo, ".")
	if sender == "" {
		sender = "postmaster@" + helo // §2.4: the null sender
	}
	local, sdom := sender, ""
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		local, sdom = sender[:i], sender[i+1:]
	} else {
		local, sdom = "postmaster", sender
	}
	if local == "" {
		local = "postmaster" // §4.3
	}
	if domain == "" {
		domain = sdom
	}
	domain = strings.TrimSuffix(domain, ".")
	ev := Evaluation{IP: ip, Sender: sender, HELO: helo, Domain: domain}
	if !ip.IsValid() {
		ev.Result, ev.Reason = PermError, "no valid client IP address"
		return ev
	}
	e := &evaluator{r: m, ip: ip}
	e.env = &macroEnv{ip: ip, sender: local + "@" + sdom, local: local, domain: sdom, helo: helo}
	e.env.validated = e.validatedName
	if prefetch {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go walkTree(pctx, m, domain, &walkOptions{env: e.env, maxNodes: 40})
	}
	out := e.checkHost(ctx, domain, 0, true)
	ev.Result, ev.Reason, ev.Term, ev.Explanation = out.result, out.reason, out.term, out.explanation
	ev.Lookups, ev.VoidLookups = e.lookups, e.void
	return ev
}

type evaluator struct {
	r       dnscheck.Resolver
	ip      netip.Addr
	env     *macroEnv
	lookups int
	void    int
}

type outcome struct {
	result      Result
	reason      string
	term        string
	explanation string
}

// termError ends the evaluation with temperror or permerror.
type termError struct {
	result Result
	reason string
}

func (e *termError) Error() string { return string(e.result) + ": " + e.reason }

func permErr(format string, a ...any) *termError {
	return &termError{PermError, fmt.Sprintf(format, a...)}
}

func tempErr(format string, a ...any) *termError {
	return &termError{TempError, fmt.Sprintf(format, a...)}
}

// lookupSPF fetches and selects the SPF record of domain (§4.4, §4.5). It
// returns the record text, or the result that ends check_host() (none,
// temperror, permerror) with the reason.
func lookupSPF(ctx context.Context, r dnscheck.Resolver, domain string) (string, dnscheck.Answer, *outcome) {
	ans := r.Lookup(ctx, dnscheck.QueryName(domain), dns.TypeTXT)
	switch {
	case ans.Failed():
		// §4.4: a DNS error is temperror, never "none".
		return "", ans, &outcome{result: TempError, reason: "the TXT lookup of " + domain + " failed: " + ans.Describe()}
	case ans.Missing():
		return "", ans, &outcome{result: None, reason: "no TXT records at " + domain + " (" + ans.Status.String() + ")"}
	}
	var recs []string
	for _, t := range dnscheck.TXTStrings(ans) {
		if IsRecord(t) {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		return "", ans, &outcome{result: None, reason: "no v=spf1 record among the TXT records of " + domain}
	case 1:
		return recs[0], ans, nil
	}
	return "", ans, &outcome{result: PermError, reason: fmt.Sprintf("%s has %d v=spf1 records; there must be one (§4.5)", domain, len(recs))}
}

// validSPFDomain reports whether a name can be an SPF <domain> (§4.3): a
// multi-label domain with labels of 1 to 63 octets.
func validSPFDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	if strings.HasPrefix(d, "[") {
		return false // a domain literal
	}
	return true
}

// checkHost evaluates the record of domain. wantExp is false inside an
// include, whose exp= must not be used (§6.2).
func (e *evaluator) checkHost(ctx context.Context, domain string, depth int, wantExp bool) outcome {
	if !validSPFDomain(domain) {
		return outcome{result: None, reason: fmt.Sprintf("%q is not a valid multi-label domain name (§4.3)", domain)}
	}
	txt, _, stop := lookupSPF(ctx, e.r, domain)
	if stop != nil {
		return *stop
	}
	rec, err := Parse(txt)
	if err != nil {
		return outcome{result: PermError, reason: "syntax error in the record of " + domain + " " + err.Error(), term: domain + ": " + txt}
	}
	for i := range rec.Terms {
		t := &rec.Terms[i]
		if t.Mechanism == "" {
			continue
		}
		where := domain + ": " + t.Raw
		if t.QueriesDNS() {
			e.lookups++
			if e.lookups > MaxLookups {
				return outcome{result: PermError, term: where,
					reason: fmt.Sprintf("more than %d DNS-querying terms (include, a, mx, ptr, exists, redirect) in one evaluation (§4.6.4)", MaxLookups)}
			}
		}
		matched, terr := e.match(ctx, t, domain, depth)
		if terr != nil {
			return outcome{result: terr.result, reason: terr.reason, term: where}
		}
		if matched {
			out := outcome{result: t.result(), term: where, reason: fmt.Sprintf("%s matched %s", t.Raw, e.ip)}
			if out.result == Fail && wantExp {
				out.explanation = e.explain(ctx, rec, domain)
			}
			return out
		}
	}
	if rec.Redirect != nil {
		t := rec.Redirect
		where := domain + ": " + t.Raw
		e.lookups++
		if e.lookups > MaxLookups {
			return outcome{result: PermError, term: where,
				reason: fmt.Sprintf("more than %d DNS-querying terms (include, a, mx, ptr, exists, redirect) in one evaluation (§4.6.4)", MaxLookups)}
		}
		target, terr := e.target(ctx, t.DomainSpec, domain)
		if terr != nil {
			return outcome{result: terr.result, reason: terr.reason, term: where}
		}
		// §6.1: the result of the target's record is the result; the
		// original record's exp= is not used, the target's is (§6.2).
		out := e.checkHost(ctx, target, depth+1, wantExp)
		if out.result == None {
			return outcome{result: PermError, term: where, reason: "the redirect target " + target + " has no SPF record: " + out.reason + " (§6.1)"}
		}
		return out
	}
	return outcome{result: Neutral, reason: "no mechanism matched and there is no redirect: the default is neutral (§4.7)"}
}

// target expands a domain-spec into the <target-name> (§4.8, §7.3). An
// empty spec is the current domain.
func (e *evaluator) target(ctx context.Context, spec, domain string) (string, *termError) {
	if spec == "" {
		return domain, nil
	}
	s, err := e.env.expand(ctx, spec, domain, false)
	if err != nil {
		return "", permErr("macro expansion of %q: %v", spec, err)
	}
	return truncateDomain(s), nil
}

// truncateDomain removes a trailing dot and, when the name is longer than
// 253 octets, removes labels from the left until it fits (§7.3).
func truncateDomain(s string) string {
	s = strings.TrimSuffix(s, ".")
	for len(s) > 253 {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return s
		}
		s = s[i+1:]
	}
	return s
}

// queryable reports whether a target name can be put in a query: RFC 1035
// labels. A name that cannot is treated as non-existent (§4.3 by analogy,
// the openspf suite's "invalid-domain" cases).
func queryable(name string) bool {
	if name == "" {
		return false
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

// voidLookup counts a lookup answered NXDOMAIN or NODATA (§4.6.4).
func (e *evaluator) voidLookup(a dnscheck.Answer) *termError {
	if !a.Missing() {
		return nil
	}
	e.void++
	if e.void > MaxVoidLookups {
		return permErr("more than %d void lookups (NXDOMAIN or no records): %s (§4.6.4)", MaxVoidLookups, a.Describe())
	}
	return nil
}

func (e *evaluator) addrType() uint16 {
	if e.ip.Is4() {
		return dns.TypeA
	}
	return dns.TypeAAAA
}

// match evaluates one mechanism (§5).
func (e *evaluator) match(ctx context.Context, t *Term, domain string, depth int) (bool, *termError) {
	switch t.Mechanism {
	case "all": // §5.1
		return true, nil
	case "ip4": // §5.6
		return e.ip.Is4() && t.Net.Contains(e.ip), nil
	case "ip6":
		return e.ip.Is6() && t.Net.Contains(e.ip), nil
	}
	target, terr := e.target(ctx, t.DomainSpec, domain)
	if terr != nil {
		return false, terr
	}
	switch t.Mechanism {
	case "include": // §5.2
		out := e.checkHost(ctx, target, depth+1, false)
		switch out.result {
		case Pass:
			return true, nil
		case Fail, SoftFail, Neutral:
			return false, nil
		case TempError:
			return false, &termError{TempError, "include:" + target + ": " + out.reason}
		case None:
			return false, permErr("include:%s: the included domain has no SPF record (%s) (§5.2)", target, out.reason)
		}
		return false, &termError{PermError, "include:" + target + ": " + out.reason}
	case "a": // §5.3
		if !queryable(target) {
			return false, nil
		}
		ans := e.r.Lookup(ctx, dnscheck.QueryName(target), e.addrType())
		if ans.Failed() {
			return false, tempErr("%s", ans.Describe())
		}
		if err := e.voidLookup(ans); err != nil {
			return false, err
		}
		return e.inAddrs(dnscheck.AddrsOf(ans), t), nil
	case "mx": // §5.4
		if !queryable(target) {
			return false, nil
		}
		ans := e.r.Lookup(ctx, dnscheck.QueryName(target), dns.TypeMX)
		if ans.Failed() {
			return false, tempErr("%s", ans.Describe())
		}
		if err := e.voidLookup(ans); err != nil {
			return false, err
		}
		hosts := mxNames(ans)
		if len(hosts) > MaxMXNames {
			return false, permErr("%s has %d MX records; an \"mx\" term may look up at most %d (§4.6.4)", target, len(hosts), MaxMXNames)
		}
		answers := make([]dnscheck.Answer, len(hosts))
		var wg sync.WaitGroup
		for i, h := range hosts {
			if !queryable(h) {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// h is already in presentation form (from the MX record).
				answers[i] = e.r.Lookup(ctx, dns.Fqdn(h), e.addrType())
			}()
		}
		wg.Wait()
		for _, a := range answers {
			if a.Failed() {
				return false, tempErr("%s", a.Describe())
			}
			if e.inAddrs(dnscheck.AddrsOf(a), t) {
				return true, nil
			}
		}
		return false, nil
	case "ptr": // §5.5
		names, rev := e.validatedNames(ctx)
		if rev.Missing() {
			if err := e.voidLookup(rev); err != nil {
				return false, err
			}
		}
		for _, n := range names {
			if strings.EqualFold(n, target) || strings.HasSuffix(strings.ToLower(n), "."+strings.ToLower(target)) {
				return true, nil
			}
		}
		return false, nil
	case "exists": // §5.7: an A query, whatever the client's address family
		if !queryable(target) {
			return false, nil
		}
		ans := e.r.Lookup(ctx, dnscheck.QueryName(target), dns.TypeA)
		if ans.Failed() {
			return false, tempErr("%s", ans.Describe())
		}
		if err := e.voidLookup(ans); err != nil {
			return false, err
		}
		return len(dnscheck.AddrsOf(ans)) > 0, nil
	}
	return false, permErr("unknown mechanism %q", t.Mechanism)
}

// inAddrs compares the client with addresses under the term's CIDR lengths.
func (e *evaluator) inAddrs(addrs []netip.Addr, t *Term) bool {
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() != e.ip.Is4() {
			continue
		}
		bits := a.BitLen()
		if a.Is4() && t.CIDR4 >= 0 {
			bits = t.CIDR4
		}
		if a.Is6() && t.CIDR6 >= 0 {
			bits = t.CIDR6
		}
		p, err := a.Prefix(bits)
		if err == nil && p.Contains(e.ip) {
			return true
		}
	}
	return false
}

func mxNames(a dnscheck.Answer) []string {
	var out []string
	for _, rr := range a.Records {
		if mx, ok := rr.(*dns.MX); ok {
			out = append(out, strings.TrimSuffix(mx.Mx, "."))
		}
	}
	return out
}

// validatedNames is §5.5's procedure: the PTR names of the client (at most
// the first 10) whose address records contain the client's address. A DNS
// error on the PTR lookup means no names; on an address lookup, that name is
// skipped.
func (e *evaluator) validatedNames(ctx context.Context) ([]string, dnscheck.Answer) {
	return spfValidatedNames(ctx, e.r, e.ip)
}

func spfValidatedNames(ctx context.Context, r dnscheck.Resolver, ip netip.Addr) ([]string, dnscheck.Answer) {
	rev, err := dns.ReverseAddr(ip.String())
	if err != nil {
		return nil, dnscheck.Answer{}
	}
	ans := r.Lookup(ctx, rev, dns.TypePTR)
	if ans.Failed() {
		return nil, ans
	}
	var names []string
	for _, rr := range ans.Records {
		if p, ok := rr.(*dns.PTR); ok {
			names = append(names, strings.TrimSuffix(p.Ptr, "."))
		}
	}
	if len(names) > MaxPTRNames {
		names = names[:MaxPTRNames] // §4.6.4: the rest MUST be ignored
	}
	qtype := dns.TypeA
	if ip.Is6() {
		qtype = dns.TypeAAAA
	}
	ok := make([]bool, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := r.Lookup(ctx, n, qtype)
			for _, x := range dnscheck.AddrsOf(a) {
				if x.Unmap() == ip {
					ok[i] = true
				}
			}
		}()
	}
	wg.Wait()
	var out []string
	for i, n := range names {
		if ok[i] {
			out = append(out, n)
		}
	}
	return out, ans
}

// validatedName is %{p} (§7.3): a validated name equal to the domain, else
// one under it, else any validated name, else "unknown".
func (e *evaluator) validatedName(ctx context.Context, domain string) string {
	names, _ := e.validatedNames(ctx)
	d := strings.ToLower(domain)
	for _, n := range names {
		if strings.ToLower(n) == d {
			return n
		}
	}
	for _, n := range names {
		if strings.HasSuffix(strings.ToLower(n), "."+d) {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return "unknown"
}

// explain computes the explanation of a fail (§6.2). Any problem (no
// record, several records, a DNS error, a syntax error) means no
// explanation; it never changes the result.
func (e *evaluator) explain(ctx context.Context, rec *Record, domain string) string {
	if rec.Exp == nil {
		return ""
	}
	target, terr := e.target(ctx, rec.Exp.DomainSpec, domain)
	if terr != nil || !queryable(target) {
		return ""
	}
	ans := e.r.Lookup(ctx, dnscheck.QueryName(target), dns.TypeTXT)
	txts := dnscheck.TXTStrings(ans)
	if !ans.Exists() || len(txts) != 1 {
		return ""
	}
	for i := 0; i < len(txts[0]); i++ {
		if txts[0][i] > 0x7e {
			return ""
		}
	}
	s, err := e.env.expand(ctx, txts[0], domain, true)
	if err != nil {
		return ""
	}
	return s
}
