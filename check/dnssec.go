package check

// The "dnssec" part: whether the domain and its MX hosts' zones answer
// DNSSEC-authenticated, as asserted by the resolver's AD bit.

import (
	"context"

	"github.com/mxray/mxray/dnscheck/dane"

	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "dnssec", Order: 70, Run: runDNSSEC})
}

func runDNSSEC(ctx context.Context, env *Env) ([]report.Section, any) {
	// Without the MX hosts (mx part skipped or failed) the domain alone is judged.
	hosts, _, _ := mxHostNames(ctx, env)
	d := dane.CheckDNSSEC(ctx, env.Config.Resolver, env.Domain, hosts)
	sec := report.Section{ID: "dnssec", Title: "DNSSEC (resolver-asserted)", Findings: d.Findings(), Detail: d}
	return []report.Section{sec}, d
}
