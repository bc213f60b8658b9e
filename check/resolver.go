package check

// The resolver's own section. It is not a part (it cannot be skipped with
// --only/--skip): every part's negative answers depend on it. runParts
// wraps the resolver with dnscheck.Vetted, so every part's NXDOMAIN and
// NODATA wait for the vetting and turn unknown when the resolver lies;
// this section says why.

import (
	"context"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

// vettedResolver wraps cfg.Resolver for one domain's check with the run's
// Vetter (one per check when the caller gives none) and starts the vetting
// questions now, beside the parts' first lookups.
func vettedResolver(ctx context.Context, cfg *Config, domain string) *dnscheck.Vetter {
	v := cfg.Vetter
	if v == nil {
		v = dnscheck.NewVetter(cfg.Resolver)
	}
	cfg.Resolver = dnscheck.Vetted(cfg.Resolver, v, domain)
	v.Start(ctx, domain)
	return v
}

// resolverSections reports a resolver that could not be vetted or that lies;
// nothing when it answered the names that must exist.
func resolverSections(ctx context.Context, v *dnscheck.Vetter, domain string) []report.Section {
	sec := report.Section{ID: "resolver", Title: "The DNS resolver"}
	verdict, ok := v.Verdict(ctx, domain)
	switch {
	case !ok:
		sec.Add(report.Finding{ID: "resolver.not-vetted", Severity: report.Info,
			Summary: "the deadline came before the resolver answered for the names that must exist; its negative answers were taken as given"})
	case verdict.Trust == dnscheck.Lying:
		sec.Add(report.Finding{ID: "resolver.untrusted", Severity: report.Unknown, Subject: verdict.Server,
			Summary:    "the resolver " + verdict.Server + " cannot be trusted: it denies names that must exist (" + verdict.Denied + "), so every \"does not exist\" it answered is reported as unknown",
			Evidence:   verdict.Evidence,
			Cause:      "a resolver that answers NXDOMAIN for names that must exist (an offline sandbox, a captive portal, a broken or filtering forwarder) says nothing about the domain",
			Fix:        "run mxray on a network with working DNS, or name a working resolver with --resolver ADDR",
			References: []string{"RFC 1034 §5.3.1", "RFC 1035 §5.2", "RFC 2308 §2.1"}})
	case verdict.Trust == dnscheck.Unvetted:
		sec.Add(report.Finding{ID: "resolver.not-vetted", Severity: report.Info, Subject: verdict.Server,
			Summary:  "the resolver gave no answer for a name that must exist; its negative answers were taken as given",
			Evidence: verdict.Evidence})
	default:
		return nil
	}
	return []report.Section{sec}
}
