package check

// The "tls-rpt" part: the _smtp._tls reporting record (RFC 8460). A missing
// record weighs more when the domain uses MTA-STS or DANE, so the part
// waits for those parts' results when they run.

import (
	"context"

	"github.com/mxray/mxray/dnscheck/mtasts"

	"github.com/mxray/mxray/dnscheck/dane"

	"github.com/mxray/mxray/dnscheck/tlsrpt"

	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "tls-rpt", Order: 55, Run: runTLSRPT})
}

func runTLSRPT(ctx context.Context, env *Env) ([]report.Section, any) {
	t := tlsrpt.Lookup(ctx, env.Config.Resolver, env.Domain)
	if !t.TXT.Exists() && !t.TXT.Failed() {
		if v, ok := env.Await(ctx, "mta-sts"); ok {
			if m, ok := v.(*mtasts.Result); ok && m.Active() {
				t.UsesTLSPolicy = "MTA-STS"
			}
		}
		if v, ok := env.Await(ctx, "dane"); ok && t.UsesTLSPolicy == "" {
			if d, ok := v.(*dane.Result); ok {
				for _, h := range d.Hosts {
					if h.Status == dane.StatusOK {
						t.UsesTLSPolicy = "DANE"
						break
					}
				}
			}
		}
	}
	sec := report.Section{ID: "tls-rpt", Title: "SMTP TLS reporting (RFC 8460)", Findings: t.Findings(), Detail: t}
	return []report.Section{sec}, t
}
