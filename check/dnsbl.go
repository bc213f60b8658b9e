package check

import (
	"context"
	"net/netip"
	"strings"

	"github.com/mxray/mxray/dnscheck/dnsbl"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// DNSBLOptions configures the dnsbl part of the domain check: which lists
// (--list, --lists, --all-lists, --dqs-key) and how many checks run at once.
type DNSBLOptions struct {
	Selection dnsbl.Selection
	// Concurrency bounds (list, target) checks in flight; 0 takes
	// dnsbl.DefaultConcurrency.
	Concurrency int
}

func init() {
	Register(Part{ID: "dnsbl", Order: 90, Run: runDNSBL})
}

// runDNSBL checks every MX address, the domain and the MX host names (and
// the sending IP given with --ip) against the blocklists. Addresses in
// special-use ranges (private, loopback, documentation) are not queried:
// no public list can say anything about them.
func runDNSBL(ctx context.Context, env *Env) ([]report.Section, any) {
	sec := report.Section{ID: "dnsbl", Title: "Blocklists (DNSBL)"}
	lists, skipped, err := dnsbl.Select(env.Config.DNSBL.Selection)
	if err != nil {
		sec.Add(report.Finding{ID: "dnsbl.config", Severity: report.Unknown, Summary: "blocklists not checked: " + err.Error(),
			Fix: "correct the --list/--lists/--dqs-key options"})
		return []report.Section{sec}, nil
	}

	var targets []string
	seen := map[string]bool{}
	addTarget := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	var notes []report.Finding
	addAddr := func(a netip.Addr, what string) {
		a = a.Unmap()
		if use := dnscheck.SpecialUse(a); use != "" {
			notes = append(notes, report.Finding{ID: "dnsbl.special-address", Severity: report.Info, Subject: a.String(),
				Summary: what + " " + a.String() + " is " + use + ": not looked up on blocklists"})
			return
		}
		addTarget(a.String())
	}
	checker := dnsbl.NewChecker(env.Config.Resolver, dnsbl.Options{
		Concurrency: env.Config.DNSBL.Concurrency, Servers: serversOf(env.Config.Resolver)})

	// The domain and the sending IP need no MX: check them (and the lists'
	// health) while the MX lookup runs.
	if env.Config.SendingIP.IsValid() {
		addAddr(env.Config.SendingIP, "the sending IP")
	}
	addTarget(env.Domain)
	first := make(chan *dnsbl.Report, 1)
	go func(targets []string) { first <- checker.Check(ctx, lists, targets) }(targets)
	targets = nil

	mx, ok := env.MX(ctx)
	switch {
	case ok && mx.Answer.Failed():
		// The MX lookup failed: the mail hosts and their addresses are not
		// known, so nothing can be said about their listings.
		notes = append(notes, report.Finding{ID: "dnsbl.mx-unknown", Severity: report.Unknown, Subject: env.Domain,
			Summary:  "the MX lookup failed, so the mail hosts were not checked against blocklists",
			Evidence: []string{mx.Answer.Describe()}})
	case ok:
		for _, h := range mx.Hosts {
			if !h.IPLiteral && h.Name != "" && dnsbl.ValidTarget(h.Name) == nil {
				addTarget(strings.TrimSuffix(h.Name, "."))
			}
		}
		for _, a := range mx.AllAddrs() {
			addAddr(a, "MX address")
		}
	default:
		// The MX part was skipped (--skip mx), or the deadline came first.
		f := report.Finding{ID: "dnsbl.no-mx", Severity: report.Info,
			Summary: "the MX part was skipped, so the mail hosts were not checked against blocklists"}
		if ctx.Err() != nil {
			f.Severity = report.Unknown
			f.Summary = "the MX hosts were not known before the deadline, so they were not checked against blocklists"
		}
		notes = append(notes, f)
	}

	var second *dnsbl.Report
	if len(targets) > 0 {
		second = checker.Check(ctx, lists, targets)
	}
	rep := <-first
	rep.Merge(second)
	rep.Skipped = append(rep.Skipped, skipped...)
	sec.Add(rep.Findings()...)
	sec.Add(notes...)
	sec.Detail = rep
	return []report.Section{sec}, rep
}
