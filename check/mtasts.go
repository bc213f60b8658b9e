package check

// The "mta-sts" part: the _mta-sts record, the HTTPS policy and the match
// of every actual MX host against the policy's mx patterns (RFC 8461).

import (
	"context"
	"net/http"

	"github.com/mxray/mxray/dnscheck/httpsfetch"

	"github.com/mxray/mxray/dnscheck/mtasts"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func init() {
	Register(Part{ID: "mta-sts", Order: 50, Run: runMTASTS})
}

// policyHTTPClient is the client for MTA-STS and BIMI fetches: the one the
// configuration injects (tests), or the production client — certificate
// verification, no redirects, names resolved with the check's resolver.
// Body limits and deadlines are applied per fetch by httpsfetch.Get,
// so they hold for an injected client too. release closes the idle
// connections of a client built here (bulk runs must not accumulate them).
func policyHTTPClient(env *Env) (client *http.Client, release func()) {
	if env.Config.HTTPClient != nil {
		return env.Config.HTTPClient, func() {}
	}
	c := httpsfetch.NewClient(httpsfetch.Options{Resolver: env.Config.Resolver})
	return c, c.CloseIdleConnections
}

// mxHostNames are the names of the domain's mail hosts that policies apply
// to: no null MX, no IP literals. ok is false when the MX lookup did not give
// a definite answer (or the mx part did not run).
func mxHostNames(ctx context.Context, env *Env) (hosts []string, mx *dnscheck.MXResult, ok bool) {
	mx, ok = env.MX(ctx)
	if !ok || mx.Answer.Failed() {
		return nil, mx, false
	}
	for _, h := range mx.Hosts {
		if !h.IPLiteral {
			hosts = append(hosts, h.Name)
		}
	}
	return hosts, mx, true
}

func runMTASTS(ctx context.Context, env *Env) ([]report.Section, any) {
	client, release := policyHTTPClient(env)
	defer release()
	m := mtasts.Check(ctx, env.Config.Resolver, client, env.Domain)
	m.Now = env.Now()
	hosts, mx, ok := mxHostNames(ctx, env)
	var extra []report.Finding
	switch {
	case ok:
		if !mx.NullMX { // a null MX receives no mail: nothing to match
			m.MatchMX(hosts)
		}
	case m.Policy != nil && m.Policy.Mode != "none":
		ev := []string{"the mx part did not run"}
		if mx != nil {
			ev = []string{mx.Answer.Describe()}
		}
		extra = append(extra, report.Finding{ID: "mta-sts.mx-unknown", Severity: report.Unknown, Subject: env.Domain,
			Summary:  "the MX hosts are not known, so they could not be matched against the MTA-STS policy",
			Evidence: ev, References: []string{"RFC 8461 §4.1"}})
	}
	sec := report.Section{ID: "mta-sts", Title: "MTA-STS (RFC 8461)", Findings: append(m.Findings(), extra...), Detail: m}
	return []report.Section{sec}, m
}
