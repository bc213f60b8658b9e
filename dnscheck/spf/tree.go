package spf

// The SPF record tree: a domain's record, the records it includes or
// redirects to, theirs, and so on, with the lookups of every DNS-querying
// term (RFC 7208 §4.6.4) made and counted.
//
// The tree is resolved concurrently: the children of a record and the
// lookups of its a, mx and exists terms are all started as soon as the
// record is parsed, so a tree resolves in about its depth in round trips.
// The counts are not affected by the order answers arrive in: they are
// computed from the tree once it is complete, the way sequential evaluation
// would count them if it reached every term.
//
// The same walk serves two purposes: linting (Analyze, which needs the
// whole tree even where evaluation would stop early) and prefetching for
// CheckHost (with the evaluation's macro values, so macro targets resolve
// too).

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mxray/mxray/dnscheck"

	"github.com/miekg/dns"
)

// Node is one record in the tree.
type Node struct {
	Domain string `json:"domain"`
	// Via is the parent's term that leads here ("include:_spf.example.net",
	// "redirect=example.net"); "" for the root.
	Via string `json:"via,omitempty"`
	// Status: ok, none (no SPF record), multiple, unknown (lookup failed),
	// syntax-error, loop, invalid (not a usable domain), macro (the target
	// depends on the message and cannot be resolved without one), skipped
	// (beyond the walk's bounds).
	Status   string   `json:"status"`
	Record   string   `json:"record,omitempty"`
	Records  []string `json:"records,omitempty"` // every v=spf1 record, when there are several
	Error    string   `json:"error,omitempty"`
	ErrorPos int      `json:"error_pos,omitempty"` // 1-based position of a syntax error
	// Lookups counts this record's own DNS-querying terms (a redirect next
	// to "all" is ignored, §6.1, and not counted); TotalLookups adds the
	// subtree: what evaluation counts if it reaches every term.
	Lookups      int `json:"lookups"`
	TotalLookups int `json:"total_lookups"`
	// Void counts this record's terms whose lookup found nothing (NXDOMAIN
	// or NODATA, §4.6.4); TotalVoid adds the subtree.
	Void      int         `json:"void"`
	TotalVoid int         `json:"total_void"`
	Terms     []TermCheck `json:"terms,omitempty"`
	Children  []*Node     `json:"children,omitempty"`

	TXT    dnscheck.Answer `json:"-"`
	Parsed *Record         `json:"-"`
}

// TermCheck is what the walk found for one a, mx, ptr or exists term.
type TermCheck struct {
	Term   string       `json:"term"`
	Target string       `json:"target,omitempty"`
	Status string       `json:"status"` // status of the term's lookup (ok, nxdomain, nodata, servfail, ...); "macro" when not resolvable
	Void   bool         `json:"void,omitempty"`
	Addrs  []netip.Addr `json:"addrs,omitempty"`
	// MXNames is the number of MX names of an mx term (more than 10 is a permerror).
	MXNames int    `json:"mx_names,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

type walkOptions struct {
	env      *macroEnv // nil: lint mode, no message (macro targets are not resolved)
	maxNodes int
	maxDepth int
}

type walker struct {
	r     dnscheck.Resolver
	opt   *walkOptions
	nodes atomic.Int64
}

// walkTree resolves the record tree of domain.
func walkTree(ctx context.Context, r dnscheck.Resolver, domain string, opt *walkOptions) *Node {
	if opt.maxDepth == 0 {
		opt.maxDepth = MaxLookups + 1
	}
	w := &walker{r: r, opt: opt}
	return w.node(ctx, strings.TrimSuffix(domain, "."), "", nil)
}

func (w *walker) node(ctx context.Context, domain, via string, ancestors []string) *Node {
	n := &Node{Domain: domain, Via: via}
	if int(w.nodes.Add(1)) > w.opt.maxNodes || len(ancestors) >= w.opt.maxDepth || ctx.Err() != nil {
		n.Status = "skipped"
		return n
	}
	if !validSPFDomain(domain) {
		n.Status, n.Error = "invalid", fmt.Sprintf("%q is not a valid multi-label domain name", domain)
		return n
	}
	for _, a := range ancestors {
		if strings.EqualFold(a, domain) {
			n.Status, n.Error = "loop", "the record of "+domain+" is already being evaluated higher in the tree"
			return n
		}
	}
	txt, ans, stop := lookupSPF(ctx, w.r, domain)
	n.TXT = ans
	if stop != nil {
		switch stop.result {
		case None:
			n.Status = "none"
		case TempError:
			n.Status = "unknown"
		default:
			n.Status = "multiple"
			for _, t := range dnscheck.TXTStrings(ans) {
				if IsRecord(t) {
					n.Records = append(n.Records, t)
				}
			}
		}
		n.Error = stop.reason
		return n
	}
	n.Record = txt
	rec, err := Parse(txt)
	if err != nil {
		n.Status, n.Error = "syntax-error", err.Error()
		var se *SyntaxError
		if ok := asSyntaxError(err, &se); ok {
			n.ErrorPos = se.Pos + 1
		}
		return n
	}
	n.Status, n.Parsed = "ok", rec
	hasAll := false
	for _, t := range rec.Terms {
		if t.Mechanism == "all" {
			hasAll = true
		}
	}
	path := append(append([]string(nil), ancestors...), domain)
	var wg sync.WaitGroup
	var mu sync.Mutex
	children := map[int]*Node{}
	checks := map[int]*TermCheck{}
	for i, t := range rec.Terms {
		if !t.QueriesDNS() {
			continue
		}
		if t.Modifier == "redirect" && hasAll {
			continue // §6.1: ignored when "all" is present
		}
		n.Lookups++
		target, ok := w.target(ctx, t.DomainSpec, domain)
		switch t.Mechanism {
		case "include", "":
			if !ok {
				mu.Lock()
				children[i] = &Node{Domain: t.DomainSpec, Via: t.Raw, Status: "macro",
					Error: "the target depends on the message being checked (macros); it is resolved during evaluation"}
				mu.Unlock()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := w.node(ctx, target, t.Raw, path)
				mu.Lock()
				children[i] = c
				mu.Unlock()
			}()
		default:
			tc := &TermCheck{Term: t.Raw, Target: target}
			checks[i] = tc
			if !ok {
				tc.Status = "macro"
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.termLookup(ctx, t, tc)
			}()
		}
	}
	wg.Wait()
	n.TotalLookups, n.TotalVoid = n.Lookups, 0
	for i := range rec.Terms {
		if c := children[i]; c != nil {
			n.Children = append(n.Children, c)
			n.TotalLookups += c.TotalLookups
			n.TotalVoid += c.TotalVoid
		}
		if tc := checks[i]; tc != nil {
			n.Terms = append(n.Terms, *tc)
			if tc.Void {
				n.Void++
			}
		}
	}
	n.TotalVoid += n.Void
	return n
}

func asSyntaxError(err error, se **SyntaxError) bool {
	e, ok := err.(*SyntaxError)
	if ok {
		*se = e
	}
	return ok
}

// target expands a domain-spec; ok is false when it has macros the walk
// cannot expand (lint mode, or %{p} which needs evaluation's own lookups).
func (w *walker) target(ctx context.Context, spec, domain string) (string, bool) {
	if spec == "" {
		return domain, true
	}
	if hasMacro(spec) {
		if w.opt.env == nil || strings.Contains(strings.ToLower(spec), "%{p") {
			return spec, false
		}
		s, err := w.opt.env.expand(ctx, spec, domain, false)
		if err != nil {
			return spec, false
		}
		return truncateDomain(s), true
	}
	s, err := (&macroEnv{}).expand(ctx, spec, domain, false)
	if err != nil {
		return spec, false
	}
	return truncateDomain(s), true
}

// termLookup makes the lookups of an a, mx, exists or ptr term. In lint
// mode both address families are asked, and a term is void when neither
// has an answer; with a message, only the client's family is asked.
func (w *walker) termLookup(ctx context.Context, t Term, tc *TermCheck) {
	if !queryable(tc.Target) && t.Mechanism != "ptr" {
		tc.Status = "invalid"
		return
	}
	switch t.Mechanism {
	case "a":
		a := w.addrs(ctx, dnscheck.QueryName(tc.Target))
		tc.Status, tc.Void, tc.Addrs = a.status, a.void, a.addrs
	case "exists":
		ans := w.r.Lookup(ctx, dnscheck.QueryName(tc.Target), dns.TypeA)
		tc.Status, tc.Void = ans.Status.String(), ans.Missing()
	case "mx":
		ans := w.r.Lookup(ctx, dnscheck.QueryName(tc.Target), dns.TypeMX)
		tc.Status, tc.Void = ans.Status.String(), ans.Missing()
		hosts := mxNames(ans)
		tc.MXNames = len(hosts)
		if len(hosts) > MaxMXNames {
			tc.Detail = fmt.Sprintf("%d MX names; at most %d are allowed", len(hosts), MaxMXNames)
			return
		}
		res := make([]addrLookup, len(hosts))
		var wg sync.WaitGroup
		for i, h := range hosts {
			if !queryable(h) {
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); res[i] = w.addrs(ctx, dns.Fqdn(h)) }()
		}
		wg.Wait()
		var failed []string
		for i, a := range res {
			tc.Addrs = append(tc.Addrs, a.addrs...)
			if a.status == "unknown" {
				failed = append(failed, hosts[i])
			}
		}
		if len(failed) > 0 {
			tc.Detail = "address lookup failed for " + strings.Join(failed, ", ")
		}
	case "ptr":
		if w.opt.env == nil || !w.opt.env.ip.IsValid() {
			tc.Status = "not-evaluated"
			return
		}
		_, ans := spfValidatedNames(ctx, w.r, w.opt.env.ip)
		tc.Status, tc.Void = ans.Status.String(), ans.Missing()
	}
}

type addrLookup struct {
	status string
	void   bool
	addrs  []netip.Addr
}

// addrs looks up the addresses of name, given in presentation form.
func (w *walker) addrs(ctx context.Context, name string) addrLookup {
	if w.opt.env != nil && w.opt.env.ip.IsValid() {
		qt := dns.TypeA
		if w.opt.env.ip.Is6() {
			qt = dns.TypeAAAA
		}
		a := w.r.Lookup(ctx, name, qt)
		return addrLookup{a.Status.String(), a.Missing(), dnscheck.AddrsOf(a)}
	}
	h := dnscheck.LookupHost(ctx, w.r, name)
	switch {
	case h.Failed():
		return addrLookup{"unknown", false, h.Addrs}
	case len(h.Addrs) == 0:
		st := h.A.Status.String()
		return addrLookup{st, true, nil}
	}
	return addrLookup{"ok", false, h.Addrs}
}
