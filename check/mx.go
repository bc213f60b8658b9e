package check

import (
	"context"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "mx", Order: 10, Run: runMX})
}

// runMX looks up the MX hosts, their addresses and reverse DNS. Its result,
// *dnscheck.MXResult, is what most other parts await.
func runMX(ctx context.Context, env *Env) ([]report.Section, any) {
	mx := dnscheck.LookupMX(ctx, env.Config.Resolver, env.Domain)
	sections := []report.Section{{ID: "mx", Title: "MX and mail hosts", Findings: mx.Findings(), Detail: mx}}
	if ptr := mx.PTRFindings(); len(ptr) > 0 {
		sections = append(sections, report.Section{ID: "rdns", Title: "Reverse DNS of the mail hosts", Findings: ptr})
	}
	return sections, mx
}
