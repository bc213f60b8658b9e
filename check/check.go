// Package check assembles the report of a mail domain. A domain check is a
// graph: MX → host addresses → {PTR, SMTP session, DNSBL}, while SPF, DMARC,
// DKIM, MTA-STS, TLS-RPT, BIMI run beside it. Each part of the check is
// registered (one file per part) and runs in its own goroutine as soon as the
// check starts; a part that needs another's result (the MX hosts, the SPF
// result) waits for exactly that result, so the wall time approaches the
// critical path rather than the sum of the steps.
//
// The check lives outside report so that report stays a leaf package that
// dnscheck and probe can import.
//
// Beside the parts: resolver.go (the resolver vetted before its negative
// answers count), iplock.go (one SMTP connection per IP, shared across
// checks), and for runs over many domains runner.go (shared resolver and
// locks, a deadline per domain, reports as they finish), domainlist.go (the
// list, read as it comes; CSV per RFC 4180) and shard.go (a worker's share
// of the list).
//
// The other reports the command line and mxray serve both give are
// assembled here too, once, from the same parts: host.go (`mxray smtp`,
// one dry run), blocklist.go (`mxray blocklist`), explainreport.go
// (`mxray explain`, with the live follow-up of explain.go). cmd/mxray
// parses flags and renders; serve adds its policy and streams.
package check

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// Config is everything a domain check takes from the outside world. Tests
// swap the resolver, the dialer and the HTTP client; the code paths stay the
// ones the product runs.
type Config struct {
	Resolver dnscheck.Resolver
	// Vetter vets the resolver's negative answers (dnscheck.Vetter); checks
	// of many domains share one, so the resolver is vetted once per run.
	// nil: each check vets the resolver itself.
	Vetter *dnscheck.Vetter
	// Dial opens TCP connections (SMTP). nil: a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// HTTPClient fetches MTA-STS policies and BIMI assets. nil: a client with
	// certificate verification, no redirects and the check's deadline.
	HTTPClient *http.Client
	// Only, when not empty, limits the check to these part ids; Skip removes parts.
	Only, Skip []string
	Version    string
	Now        func() time.Time

	// SendingIP and Sender, when given (--ip, --sender), are a sending
	// source to judge: evaluated against SPF, DMARC alignment, blocklists.
	SendingIP netip.Addr
	Sender    string

	SPF   SPFOptions
	DKIM  DKIMOptions
	SMTP  SMTPOptions
	DNSBL DNSBLOptions

	// OnPartDone, when set, is called as each part finishes, with the
	// sections it produced (none for a part with nothing to say), so that
	// a caller can show the report part by part while slower parts (an
	// SMTP session waiting out its timeout) still run: mxray serve streams
	// them to the browser. Calls are serialised, in the order the parts
	// finish; the sections belong to the report Domain returns and must
	// not be modified. The report itself is the same with or without it.
	OnPartDone func(partID string, sections []report.Section)
}

// Part is one registered piece of the domain check.
type Part struct {
	ID    string // "mx", "spf", ...; also the --only/--skip name
	Order int    // position of its sections in the report
	// Run returns the part's sections and a typed result other parts may
	// await (nil if none). It must honour ctx and never panic on bad data.
	Run func(ctx context.Context, env *Env) ([]report.Section, any)
}

var (
	regMu sync.Mutex
	parts = map[string]Part{}
)

// Register adds a part; each part's file calls it from init.
func Register(p Part) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := parts[p.ID]; dup {
		panic("check: part registered twice: " + p.ID)
	}
	parts[p.ID] = p
}

// Parts lists the registered part ids in report order.
func Parts() []string {
	regMu.Lock()
	defer regMu.Unlock()
	ps := make([]Part, 0, len(parts))
	for _, p := range parts {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Order < ps[j].Order })
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

// Env is what a part sees while the check runs.
type Env struct {
	Domain string
	Config *Config

	results map[string]*partResult
}

type partResult struct {
	done     chan struct{}
	sections []report.Section
	value    any
	enabled  bool
}

// Await waits for another part's typed result. It returns false when that
// part is not part of this check (skipped) or ctx ends first.
func (e *Env) Await(ctx context.Context, id string) (any, bool) {
	r, ok := e.results[id]
	if !ok || !r.enabled {
		return nil, false
	}
	select {
	case <-r.done:
		return r.value, r.value != nil
	case <-ctx.Done():
		return nil, false
	}
}

// MX waits for the MX part's result: the domain's mail hosts and their addresses.
func (e *Env) MX(ctx context.Context) (*dnscheck.MXResult, bool) {
	v, ok := e.Await(ctx, "mx")
	if !ok {
		return nil, false
	}
	mx, ok := v.(*dnscheck.MXResult)
	return mx, ok && mx != nil
}

// Now is the check's clock.
func (e *Env) Now() time.Time {
	if e.Config.Now != nil {
		return e.Config.Now()
	}
	return time.Now()
}

// Domain runs every enabled part for domain (already normalised) and returns
// the report. ctx bounds the whole check.
func Domain(ctx context.Context, cfg Config, domain string) (*report.Report, error) {
	regMu.Lock()
	ps := make(map[string]Part, len(parts))
	for id, p := range parts {
		ps[id] = p
	}
	regMu.Unlock()
	return runParts(ctx, cfg, domain, ps)
}

// runParts runs the given parts; Domain passes the registry, tests their own.
func runParts(ctx context.Context, cfg Config, domain string, parts map[string]Part) (*report.Report, error) {
	if cfg.Resolver == nil {
		return nil, fmt.Errorf("check: no resolver")
	}
	ctx, trace := dnscheck.WithTraceLog(ctx)
	vetter := vettedResolver(ctx, &cfg, domain)
	env := &Env{Domain: domain, Config: &cfg, results: map[string]*partResult{}}
	started := env.Now()
	rep := report.New("check", domain, cfg.Version, started)

	ids := make([]string, 0, len(parts))
	for id := range parts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if parts[ids[i]].Order != parts[ids[j]].Order {
			return parts[ids[i]].Order < parts[ids[j]].Order
		}
		return ids[i] < ids[j]
	})
	enabled := selected(ids, cfg.Only, cfg.Skip)
	for _, id := range ids {
		env.results[id] = &partResult{done: make(chan struct{}), enabled: enabled[id]}
	}
	partDone := serialised(cfg.OnPartDone)
	var wg sync.WaitGroup
	for _, id := range ids {
		if !enabled[id] {
			continue
		}
		p := parts[id]
		res := env.results[id]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(res.done)
			// After the recover below has turned a panic into a section.
			defer func() { partDone(p.ID, res.sections) }()
			defer func() {
				if v := recover(); v != nil {
					res.sections = []report.Section{{ID: p.ID, Title: p.ID, Findings: []report.Finding{{
						ID: p.ID + ".internal-error", Severity: report.Unknown,
						Summary: fmt.Sprintf("the %s check stopped on an internal error: %v", p.ID, v),
						Fix:     "this is a bug in mxray; please report it with --trace output"}}}}
				}
			}()
			res.sections, res.value = p.Run(ctx, env)
		}()
	}
	wg.Wait()
	rep.Sections = append(rep.Sections, resolverSections(ctx, vetter, domain)...)
	for _, id := range ids {
		if r := env.results[id]; r.enabled {
			rep.Sections = append(rep.Sections, r.sections...)
		}
	}
	// A Spamhaus DQS key is a secret; it is part of the query names.
	rep.Trace = redactDQS(trace.Queries(), cfg.DNSBL.Selection.DQSKey)
	rep.Finish(env.Now())
	return rep, nil
}

// serialised wraps an OnPartDone callback so that calls never overlap; a
// nil callback becomes a no-op.
func serialised(fn func(string, []report.Section)) func(string, []report.Section) {
	if fn == nil {
		return func(string, []report.Section) {}
	}
	var mu sync.Mutex
	return func(id string, secs []report.Section) {
		mu.Lock()
		defer mu.Unlock()
		fn(id, secs)
	}
}

// EnabledParts lists, in report order, the parts a check with cfg's
// Only and Skip runs: what a caller streaming the report (OnPartDone)
// should wait for.
func EnabledParts(cfg Config) []string {
	ids := Parts()
	en := selected(ids, cfg.Only, cfg.Skip)
	out := ids[:0]
	for _, id := range ids {
		if en[id] {
			out = append(out, id)
		}
	}
	return out
}

func selected(ids, only, skip []string) map[string]bool {
	en := map[string]bool{}
	for _, id := range ids {
		en[id] = len(only) == 0
	}
	for _, id := range only {
		en[id] = true
	}
	for _, id := range skip {
		en[id] = false
	}
	// Everything depends on the MX hosts; keep the MX part when anything runs.
	for _, id := range ids {
		if en[id] {
			if _, ok := en["mx"]; ok && !contains(skip, "mx") {
				en["mx"] = true
			}
			break
		}
	}
	return en
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ValidatePartIDs checks --only/--skip names.
func ValidatePartIDs(names []string) error {
	known := map[string]bool{}
	for _, id := range Parts() {
		known[id] = true
	}
	for _, n := range names {
		if !known[n] {
			return fmt.Errorf("unknown check %q (known: %v)", n, Parts())
		}
	}
	return nil
}
