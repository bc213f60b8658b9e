package check

import (
	"context"
	"net/netip"
	"strings"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// DNSBLOptions configures the dnsbl part of the domain check: which lists
// (--list, --lists, --all-lists, --dqs-key) and how many checks run at once.
type DNSBLOptions struct {
	Selection dnscheck.DNSBLSelection
	// Concurrency bounds (list, target) checks in flight; 0 takes
	// dnscheck.DefaultDNSBLConcurrency.
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
	lists, skipped, err := dnscheck.SelectDNSBLs(env.Config.DNSBL.Selection)
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
	if env.Config.SendingIP.IsValid() {
		addAddr(env.Config.SendingIP, "the sending IP")
	}
	addTarget(env.Domain)
	mx, ok := env.MX(ctx)
	if ok {
		for _, h := range mx.Hosts {
			if !h.IPLiteral && h.Name != "" && dnscheck.ValidDNSBLTarget(h.Name) == nil {
				addTarget(strings.TrimSuffix(h.Name, "."))
			}
		}
		for _, a := range mx.AllAddrs() {
			addAddr(a, "MX address")
		}
	} else {
		notes = append(notes, report.Finding{ID: "dnsbl.no-mx", Severity: report.Unknown,
			Summary: "the MX hosts are not known, so their addresses were not checked against blocklists",
			Cause:   "the MX lookup did not complete (see the MX section) or was skipped"})
	}

	var servers []string
	if c, ok := env.Config.Resolver.(interface{ Servers() []string }); ok {
		servers = c.Servers()
	}
	checker := dnscheck.NewDNSBLChecker(env.Config.Resolver, dnscheck.DNSBLOptions{
		Concurrency: env.Config.DNSBL.Concurrency, Servers: servers})
	rep := checker.Check(ctx, lists, targets)
	rep.Skipped = append(rep.Skipped, skipped...)
	sec.Add(rep.Findings()...)
	sec.Add(notes...)
	sec.Detail = rep
	return []report.Section{sec}, rep
}
