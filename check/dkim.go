package check

// The dkim part: the DKIM key records of the selectors given (--selector),
// or of a list of common selectors tried concurrently; finding none of the
// guessed ones proves nothing, and the report says so.

import (
	"context"

	"github.com/mxray/mxray/dnscheck/dkim"

	"github.com/mxray/mxray/report"
)

// DKIMOptions configures the dkim part of the domain check.
type DKIMOptions struct {
	// Selectors to look up (--selector, repeatable). Empty: try
	// dkim.CommonSelectors.
	Selectors []string
}

func init() {
	Register(Part{ID: "dkim", Order: 40, Run: runDKIM})
}

// runDKIM returns the "dkim" section and the *dkim.Result.
func runDKIM(ctx context.Context, env *Env) ([]report.Section, any) {
	res := dkim.Lookup(ctx, env.Config.Resolver, env.Domain, env.Config.DKIM.Selectors)
	return []report.Section{{ID: "dkim", Title: "DKIM keys (RFC 6376, RFC 8463)", Findings: res.Findings(), Detail: res}}, res
}
