package check

// The "dane" part: TLSA records of every MX host at _25._tcp.HOST (RFC
// 7672) and whether the answers were DNSSEC-authenticated (the resolver's
// AD bit). Its value, *dane.Result, is what the smtp part awaits to
// match the certificates it sees against the records (dnscheck.MatchTLSA).

import (
	"context"

	"github.com/mxray/mxray/dnscheck/dane"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "dane", Order: 65, Run: runDANE})
}

func runDANE(ctx context.Context, env *Env) ([]report.Section, any) {
	sec := report.Section{ID: "dane", Title: "DANE TLSA records (RFC 7672)"}
	res := &dane.Result{}
	hosts, mx, ok := mxHostNames(ctx, env)
	switch {
	case !ok:
		ev := []string{"the mx part did not run"}
		if mx != nil {
			ev = []string{mx.Answer.Describe()}
		}
		sec.Add(report.Finding{ID: "dane.mx-unknown", Severity: report.Unknown, Subject: env.Domain,
			Summary: "the MX hosts are not known, so their TLSA records could not be looked up", Evidence: ev})
	case mx.NullMX || len(hosts) == 0:
		sec.Add(report.Finding{ID: "dane.not-applicable", Severity: report.Info, Subject: env.Domain,
			Summary: "no MX host to look up TLSA records for"})
	default:
		res = dane.Lookup(ctx, env.Config.Resolver, hosts)
		// RFC 7672 §2.2.2: DANE applies to hosts whose address records are
		// secure; the MX part's address lookups carry that AD bit.
		for i := range res.Hosts {
			for _, h := range mx.Hosts {
				if h.Name != res.Hosts[i].Host || len(h.Addrs) == 0 {
					continue
				}
				ad := true
				for _, a := range []dnscheck.Answer{h.Lookup.A, h.Lookup.AAAA} {
					if a.Exists() && !a.AD {
						ad = false
					}
				}
				res.Hosts[i].AddrAuthenticated = &ad
			}
		}
		sec.Add(res.Findings()...)
	}
	sec.Detail = res
	return []report.Section{sec}, res
}
