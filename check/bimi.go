package check

// The "bimi" part: the default._bimi record, the logo and mark certificate
// fetched over HTTPS, and whether DMARC is at enforcement (without which
// receivers show no logo). The DMARC note comes from a minimal p= read in
// bimi.Check rather than from the dmarc part, whose result type is
// its own business.

import (
	"context"

	"github.com/mxray/mxray/dnscheck/bimi"

	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "bimi", Order: 60, Run: runBIMI})
}

func runBIMI(ctx context.Context, env *Env) ([]report.Section, any) {
	client, release := policyHTTPClient(env)
	defer release()
	b := bimi.Check(ctx, env.Config.Resolver, client, env.Domain, env.Now())
	sec := report.Section{ID: "bimi", Title: "BIMI brand logo", Findings: b.Findings(), Detail: b}
	return []report.Section{sec}, b
}
