package check

import (
	"context"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "mx", Order: 10, Run: runMX})
	Register(Part{ID: "rdns", Order: 12, Run: runRDNS})
}

// runMX looks up the MX hosts and their addresses. Its result,
// *dnscheck.MXResult, is what most other parts await.
func runMX(ctx context.Context, env *Env) ([]report.Section, any) {
	mx := dnscheck.LookupMX(ctx, env.Config.Resolver, env.Domain)
	return []report.Section{{ID: "mx", Title: "MX and mail hosts", Findings: mx.Findings(), Detail: mx}}, mx
}

// runRDNS checks the reverse DNS of every mail host address. Its result is
// *dnscheck.RDNSResult (the SMTP banner check compares it with the banner).
func runRDNS(ctx context.Context, env *Env) ([]report.Section, any) {
	mx, ok := env.MX(ctx)
	if !ok {
		return nil, nil
	}
	rd := dnscheck.LookupRDNS(ctx, env.Config.Resolver, mx)
	fs := rd.Findings(mx)
	if len(fs) == 0 {
		return nil, rd
	}
	return []report.Section{{ID: "rdns", Title: "Reverse DNS of the mail hosts", Findings: fs, Detail: rd}}, rd
}

// RDNS waits for the reverse-DNS part's result.
func (e *Env) RDNS(ctx context.Context) (*dnscheck.RDNSResult, bool) {
	v, ok := e.Await(ctx, "rdns")
	if !ok {
		return nil, false
	}
	rd, ok := v.(*dnscheck.RDNSResult)
	return rd, ok && rd != nil
}
