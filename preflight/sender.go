package preflight

// The sender's side: the sending IPs (reverse DNS, the HELO name), SPF for
// each IP, the DKIM keys and the message's signatures, DMARC and the
// alignment of SPF and DKIM with the From domain, and the blocklists. The
// independent lookups run at once; alignment waits for what it compares.

import (
	"context"
	"net/netip"
	"strings"
	"sync"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/dnscheck/dkim"
	"github.com/mxray/mxray/dnscheck/dmarc"
	"github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/dnscheck/spf"
	"github.com/mxray/mxray/preflight/msgcheck"
)

// IPResult is one sending IP.
type IPResult struct {
	IP  netip.Addr         `json:"ip"`
	PTR dnscheck.PTRResult `json:"ptr"`
	// HELO is the lookup of the HELO name (when given) in the IP's family;
	// HELOMatches: it resolves to the IP.
	HELO        *dnscheck.HostAddrs `json:"-"`
	HELOMatches bool                `json:"helo_matches"`
	HELOStatus  string              `json:"helo_status,omitempty"`
}

// Alignment is how the From domain aligns with what SPF and DKIM
// authenticate (RFC 9989 "Identifier Alignment", RFC 7489 §3.1).
type Alignment struct {
	// SPF is one alignment per sending IP (its SPF result and domain).
	SPF []Aligned `json:"spf"`
	// DKIM is one alignment per verifying signature (d= against From).
	DKIM []Aligned `json:"dkim,omitempty"`
}

// Aligned is one identifier alignment.
type Aligned struct {
	dmarc.Alignment
	// RelaxedOnly: the DMARC record could not be looked up, so whether its
	// aspf/adkim ask for strict alignment is not known, and the domains
	// align under relaxed alignment only (Pass is the relaxed judgement):
	// the alignment is unknown, not a pass.
	RelaxedOnly bool `json:"relaxed_only,omitempty"`
}

// holds reports whether the alignment passes whatever the mode.
func (a Aligned) holds() bool { return a.Pass && !a.RelaxedOnly }

// checkSender runs everything about the sender, concurrently.
func (res *Result) checkSender(ctx context.Context, cfg Config, opt Options, msg *msgcheck.Result) {
	r := cfg.Resolver
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	checker := newChecker(cfg)
	first := make(chan *dnsbl.Report, 1)
	run(func() { first <- checker.check(ctx, res.blocklistTargets(opt, msg)) })
	run(func() { res.IPs = checkIPs(ctx, r, opt.IPs, opt.HELO) })
	run(func() { res.DMARC = dmarc.Lookup(ctx, r, res.From.Domain) })
	run(func() { res.SPF = checkSPF(ctx, r, res.SPFDomain, res.MailFrom, opt) })
	run(func() {
		if opt.Message != nil {
			res.DKIM = dkim.VerifyMessage(ctx, r, opt.Message)
		}
		res.Keys = lookupKeys(ctx, r, res.From.Domain, opt.Selectors, res.DKIM)
	})
	wg.Wait()
	res.Alignment = align(ctx, r, res)
	res.Blocklists = <-first
	if more := res.signerDomains(); len(more) > 0 {
		res.Blocklists.Merge(checker.check(ctx, more))
	}
}

// checkIPs looks up the reverse DNS of each IP (forward-confirmed) and
// whether the HELO name resolves to it.
func checkIPs(ctx context.Context, r dnscheck.Resolver, ips []netip.Addr, helo string) []IPResult {
	out := make([]IPResult, len(ips))
	var wg sync.WaitGroup
	for i, ip := range ips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = IPResult{IP: ip, PTR: dnscheck.CheckPTR(ctx, r, ip)}
			if helo != "" {
				h := dnscheck.LookupHost(ctx, r, helo)
				out[i].HELO = &h
				out[i].HELOStatus = heloStatus(h, ip)
				out[i].HELOMatches = out[i].HELOStatus == "ok"
			}
		}()
	}
	wg.Wait()
	return out
}

func heloStatus(h dnscheck.HostAddrs, ip netip.Addr) string {
	for _, a := range h.Addrs {
		if a == ip {
			return "ok"
		}
	}
	if h.Failed() {
		return "unknown"
	}
	return "mismatch"
}

// checkSPF lints the SPF tree of the checked domain and evaluates every IP
// (RFC 7208 §4): the MAIL FROM domain, or the HELO for a null MAIL FROM.
func checkSPF(ctx context.Context, r dnscheck.Resolver, domain, mailFrom string, opt Options) *spf.Check {
	c := spf.Analyze(ctx, r, domain)
	helo := opt.HELO
	if helo == "" {
		helo = domain
	}
	evs := make([]spf.Evaluation, len(opt.IPs))
	var wg sync.WaitGroup
	for i, ip := range opt.IPs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs[i] = c.Evaluate(ctx, r, ip, mailFrom, helo)
			evs[i].Subject = "sending IP"
		}()
	}
	wg.Wait()
	c.Evaluations = evs
	return c
}

// lookupKeys looks up the DKIM keys: the selectors given, at the From
// domain; else the d= and s= of every signature of the message.
func lookupKeys(ctx context.Context, r dnscheck.Resolver, fromDomain string, selectors []string, v *dkim.Verification) []*dkim.Result {
	if len(selectors) > 0 {
		return []*dkim.Result{dkim.Lookup(ctx, r, fromDomain, selectors)}
	}
	if v == nil {
		return nil
	}
	byDomain := map[string][]string{}
	var order []string
	for _, s := range v.Signatures {
		if s.Domain == "" || dkim.ValidSelector(s.Selector) != nil {
			continue
		}
		if _, ok := byDomain[s.Domain]; !ok {
			order = append(order, s.Domain)
		}
		byDomain[s.Domain] = append(byDomain[s.Domain], s.Selector)
	}
	var out []*dkim.Result
	for _, d := range order {
		out = append(out, dkim.Lookup(ctx, r, d, byDomain[d]))
	}
	return out
}

// align judges SPF (per IP) and DKIM (per verifying signature) alignment
// with the From domain, relaxed or strict as aspf and adkim say (relaxed
// when there is no DMARC record: the providers align the same way). When
// the DMARC lookup failed, the mode is not known: an alignment that holds
// only under relaxed alignment is marked RelaxedOnly.
func align(ctx context.Context, r dnscheck.Resolver, res *Result) Alignment {
	var a Alignment
	d := res.DMARC
	aspf, adkim := false, false
	if d.Record != nil {
		aspf, adkim = d.Record.ASPF == "s", d.Record.ADKIM == "s"
	}
	judge := func(authenticated, result string, strict bool) Aligned {
		x := Aligned{Alignment: dmarc.AlignSPF(ctx, r, res.From.Domain, d.OrgDomain, d.OrgKnown, authenticated, result, strict)}
		if d.Unknown() && x.Pass && !x.Strict {
			x.RelaxedOnly = !dmarc.SPFAlignment(res.From.Domain, authenticated, true, true).Aligned
		}
		return x
	}
	for _, ev := range res.SPF.Evaluations {
		a.SPF = append(a.SPF, judge(ev.Domain, string(ev.Result), aspf))
	}
	if res.DKIM == nil {
		return a
	}
	// DKIM-Authenticated Identifiers align by the same rule as SPF's
	// (RFC 9989 "Identifier Alignment"; RFC 7489 §3.1.1): the d= domain
	// against the From domain, so AlignSPF's comparison serves both.
	for _, s := range res.DKIM.Passing() {
		a.DKIM = append(a.DKIM, judge(s.Domain, string(dkim.SigPass), adkim))
	}
	return a
}

// blockChecker wraps the blocklist checker with the run's lists.
type blockChecker struct {
	c       *dnsbl.Checker
	lists   []dnsbl.List
	skipped []dnsbl.Skip
	err     error
}

func newChecker(cfg Config) *blockChecker {
	var servers []string
	if c, ok := cfg.Resolver.(interface{ Servers() []string }); ok {
		servers = c.Servers()
	}
	b := &blockChecker{c: dnsbl.NewChecker(cfg.Resolver, dnsbl.Options{Concurrency: cfg.DNSBLConcurrency, Servers: servers})}
	b.lists, b.skipped, b.err = dnsbl.Select(cfg.DNSBL)
	return b
}

func (b *blockChecker) check(ctx context.Context, targets []string) *dnsbl.Report {
	if b.err != nil {
		return &dnsbl.Report{BadTargets: []string{"blocklists not checked: " + b.err.Error()}}
	}
	rep := b.c.Check(ctx, b.lists, targets)
	rep.Skipped = append(rep.Skipped, b.skipped...)
	b.skipped = nil
	return rep
}

// blocklistTargets are the sending IPs (public ones: no list can say
// anything about a private or documentation address) and the domains of
// From, MAIL FROM, HELO and the message's links.
func (res *Result) blocklistTargets(opt Options, msg *msgcheck.Result) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.TrimSuffix(strings.ToLower(t), ".")
		if t != "" && !seen[t] && dnsbl.ValidTarget(t) == nil {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, ip := range opt.IPs {
		if dnscheck.SpecialUse(ip) == "" {
			add(ip.String())
		}
	}
	add(res.From.Domain)
	add(res.SPFDomain)
	add(opt.HELO)
	if msg != nil {
		for _, d := range msg.LinkDomains {
			add(d)
		}
	}
	return out
}

// signerDomains are the d= domains not yet checked on the blocklists.
func (res *Result) signerDomains() []string {
	if res.DKIM == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, t := range res.Blocklists.Targets {
		seen[t] = true
	}
	var out []string
	for _, s := range res.DKIM.Signatures {
		if s.Domain != "" && !seen[s.Domain] && dnsbl.ValidTarget(s.Domain) == nil {
			seen[s.Domain] = true
			out = append(out, s.Domain)
		}
	}
	return out
}
